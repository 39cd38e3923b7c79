import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One request to the console: the language it is answered in and, once signed in, the session.
struct ConsoleVisit: Sendable {
    var language: ConsoleLanguage
    var session: ConsoleSession?
    /// Before sign-in: the anti-forgery value of the sign-in form (double-submitted as a cookie).
    var signInToken: String?
    /// Whether the browser reached us over TLS (directly or through a proxy that says so): the
    /// cookies are then `Secure`.
    var overTLS: Bool

    static let sessionCookie = "centinela_session"
    static let signInCookie = "centinela_signin"
}

/// Around every console route: picks the language, resumes the session from its cookie (the
/// principal is then the session's token's, with the same checks and row-level security as the
/// API), checks the anti-forgery token of every form, answers errors as pages in the person's
/// language, and sets the console's security headers on everything it sends.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sessions: ConsoleSessions

    /// No script or style but ours, no framing, no third party (deployments may be offline).
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let cookies = request.cookies
        let forwarded = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased()
        var visit = ConsoleVisit(
            language: ConsoleLanguage.negotiate(
                choice: cookies[ConsoleLanguage.cookieName]?.value, acceptLanguage: request.headers[.acceptLanguage]),
            session: nil, signInToken: cookies[ConsoleVisit.signInCookie]?.value, overTLS: forwarded == "https")
        var response: Response
        do {
            if let cookie = cookies[ConsoleVisit.sessionCookie]?.value, let session = try await sessions.resume(cookie) {
                visit.session = session
                context.principal = session.principal
                context.logger[metadataKey: "token_id"] = .string(session.principal.id.description)
                context.logger[metadataKey: "role"] = .string(session.principal.role.rawValue)
            }
            context.consoleVisit = visit
            response = try await next(request, context)
        } catch let error as ConsoleRedirect {
            response = error.response
        } catch {
            let problem = ProblemMiddleware<Context>.problem(describing: error, request: request, context: context)
            if problem.status == .unauthorized, request.method == .get || request.method == .head {
                response = ConsoleRedirect.to("/console/sign-in").response
            } else {
                response = Self.errorPage(problem, visit: visit, request: request)
            }
        }
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=()"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    /// A problem as a page: its status, a title and a sentence in the person's language; the
    /// request id to quote to the operator.
    static func errorPage(_ problem: Problem, visit: ConsoleVisit, request: Request) -> Response {
        guard let renderer = try? ConsoleRenderer.shared.get() else {
            return Response(status: .internalServerError, headers: [.contentType: "text/plain; charset=utf-8"])
        }
        let key =
            switch problem.status.code {
            case 400, 413, 415, 422: "error.bad_request"
            case 403: "error.forbidden"
            case 404, 405: "error.not_found"
            case 429: "error.too_many"
            case 503: "error.unavailable"
            default: "error.internal"
            }
        struct ErrorPage {
            var heading: String
            var message: String
            var status: Int
        }
        var response = renderer.response(
            "error", title: renderer.text(key + ".title", visit), visit: visit, request: request,
            page: ErrorPage(
                heading: renderer.text(key + ".title", visit), message: renderer.text(key + ".message", visit),
                status: problem.status.code),
            status: problem.status)
        for (name, value) in problem.extraHeaders {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        return response
    }
}

/// Thrown by a console handler to send the browser elsewhere (303: the next request is a GET).
struct ConsoleRedirect: Error {
    var location: String
    var cookies: [Cookie] = []

    static func to(_ location: String) -> ConsoleRedirect { ConsoleRedirect(location: location) }

    var response: Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}

extension AppRequestContext {
    /// The console visit; every console route runs behind ``ConsoleMiddleware``.
    func visit() -> ConsoleVisit {
        consoleVisit ?? ConsoleVisit(language: .spanish, session: nil, signInToken: nil, overTLS: false)
    }

    /// The signed-in person, or the sign-in page.
    func consoleSession() throws -> ConsoleSession {
        guard let session = consoleVisit?.session else { throw ConsoleRedirect.to("/console/sign-in") }
        return session
    }

    /// The signed-in person when their role may open this page; anyone else is told there is no
    /// such page (404), as the API answers for what is outside a caller's scope.
    func consoleSession(for roles: Set<Principal.Role>) throws -> ConsoleSession {
        let session = try consoleSession()
        guard roles.contains(session.principal.role) else { throw Problem.notFound() }
        return session
    }
}
