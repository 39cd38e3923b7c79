import CentinelaCore
import CentinelaStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The web console at /console/ (issue 23): server-rendered pages for regulators and schools over
/// the same use cases, checks and row-level security as the API. This part: sign-in and sign-out,
/// the language switch, the landing page for each role, and the console's own style and script.
struct ConsoleController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    let sessions: ConsoleSessions
    let failures: RateLimiter
    let refusals: RefusalAudit

    init(database: ServiceDatabase, limits: HTTPConfiguration) {
        self.database = database
        self.limits = limits
        self.sessions = ConsoleSessions(database: database, limits: limits.consoleSessions)
        self.failures = RateLimiter.failedAuthentications(limits)
        self.refusals = RefusalAudit(database: database)
    }

    var renderer: ConsoleRenderer {
        get throws { try ConsoleRenderer.shared.get() }
    }

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("", use: home)
        routes.get("sign-in", use: signInPage)
        routes.post("sign-in", use: signIn)
        routes.post("sign-out", use: signOut)
        routes.post("language", use: chooseLanguage)
        return routes
    }

    /// The style sheet and script, under /console/static: registered apart from the pages, since
    /// they need no session (reading one costs a database round trip and write per file).
    var assetRoutes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("console.css") { _, _ in try asset(renderer.styleSheet, type: "text/css; charset=utf-8") }
        routes.get("console.js") { _, _ in try asset(renderer.script, type: "text/javascript; charset=utf-8") }
        return routes
    }

    private func asset(_ buffer: ByteBuffer, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "public, max-age=300", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: buffer))
    }

    /// Where a signed-in person starts: a regulator's inbox, a school's reports.
    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession()
        throw ConsoleRedirect.to(Self.start(for: session.principal.role))
    }

    static func start(for role: Principal.Role) -> String {
        role == .regulator ? "/console/cases" : "/console/reports"
    }

    // MARK: Sign-in

    struct SignInPage {
        var error: String?
        /// How long a session lasts, from the service's settings.
        var privacy: String
    }

    func signInPage(error: String? = nil, renderer: ConsoleRenderer, visit: ConsoleVisit) -> SignInPage {
        SignInPage(
            error: error,
            privacy: renderer.text(
                "sign_in.privacy", visit,
                [
                    "idle": "\(sessions.limits.idle.components.seconds / 60)",
                    "absolute": "\(sessions.limits.absolute.components.seconds / 3600)",
                ]))
    }

    @Sendable func signInPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        var visit = context.visit()
        if let session = visit.session { throw ConsoleRedirect.to(Self.start(for: session.principal.role)) }
        let token = visit.signInToken.flatMap { RandomToken.isWellFormed($0) ? $0 : nil } ?? RandomToken.generate()
        visit.signInToken = token
        var response = try renderer.response(
            "sign-in", title: renderer.text("sign_in.title", visit), visit: visit, request: request,
            page: signInPage(renderer: renderer, visit: visit))
        response.setCookie(Self.cookie(ConsoleVisit.signInCookie, token, visit: visit))
        return response
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let visit = context.visit()
        let form = try await checkedForm(request, context: context)
        let address = context.clientAddress ?? "unknown"
        func refuse(_ key: String, status: HTTPResponse.Status) throws -> Response {
            try renderer.response(
                "sign-in", title: renderer.text("sign_in.title", visit), visit: visit, request: request,
                page: signInPage(error: renderer.text(key, visit), renderer: renderer, visit: visit), status: status)
        }
        if failures.check(address) != nil { return try refuse("sign_in.too_many", status: .tooManyRequests) }
        guard let secret = form.value("token").flatMap(TokenSecret.init(presented:)),
            let principal = try await database.authenticate(secret)
        else {
            _ = failures.take(address)
            let shown = form.value("token").map { String($0.prefix(12)) }.flatMap { $0.hasPrefix("cen_") ? $0 : nil } ?? "anonymous"
            await refusals.record(
                status: 401, caller: shown, principal: nil, method: "POST", path: request.uri.path, requestID: context.id,
                logger: context.logger)
            return try refuse("sign_in.unknown_token", status: .unauthorized)
        }
        guard principal.role != .admin else { return try refuse("sign_in.operator", status: .forbidden) }
        guard let (cookie, _) = try await sessions.begin(with: secret, requestID: context.id) else {
            return try refuse("sign_in.unknown_token", status: .unauthorized)
        }
        var redirect = ConsoleRedirect.to(Self.start(for: principal.role))
        redirect.cookies = [
            Self.cookie(ConsoleVisit.sessionCookie, cookie, visit: visit),
            Self.cookie(ConsoleVisit.signInCookie, "", visit: visit, maxAge: 0),
        ]
        return redirect.response
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let visit = context.visit()
        _ = try await checkedForm(request, context: context)
        if let session = visit.session, let cookie = request.cookies[ConsoleVisit.sessionCookie]?.value {
            try await sessions.end(cookie, caller: context.caller(session.principal))
        }
        var redirect = ConsoleRedirect.to("/console/sign-in")
        redirect.cookies = [Self.cookie(ConsoleVisit.sessionCookie, "", visit: visit, maxAge: 0)]
        return redirect.response
    }

    /// The language switch: remembered in a cookie for a year; back to the page it was used on.
    @Sendable func chooseLanguage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let visit = context.visit()
        // No anti-forgery check: a forged switch changes only the language pages are shown in.
        let form = try await ConsoleForm.read(request, limit: limits.maximumBodySize)
        guard let language = form.value("lang").flatMap(ConsoleLanguage.init(code:)) else {
            throw Problem.badRequest("Choose es-MX or en.")
        }
        var redirect = ConsoleRedirect.to(Self.localPath(form.value("return")) ?? "/console/")
        redirect.cookies = [
            Cookie(
                name: ConsoleLanguage.cookieName, value: language.tag, maxAge: 365 * 24 * 3600, path: "/console", secure: visit.overTLS,
                httpOnly: true, sameSite: .strict)
        ]
        return redirect.response
    }

    /// A path inside the console to go back to; anything else (another site, a scheme-relative
    /// `//host`) is ignored, so that the switch cannot be made to send people elsewhere.
    static func localPath(_ text: String?) -> String? {
        guard let text, text.hasPrefix("/console"), !text.hasPrefix("//"), !text.contains("\\"),
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        return text
    }

    /// The console's cookies: HttpOnly, SameSite=Strict, for /console only; `Secure` over TLS; a
    /// session cookie (gone when the browser closes) unless `maxAge` says otherwise.
    static func cookie(_ name: String, _ value: String, visit: ConsoleVisit, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/console", secure: visit.overTLS, httpOnly: true, sameSite: .strict)
    }
}

extension ConsoleController {
    /// A form whose anti-forgery field matches the session's (or, before sign-in, the sign-in
    /// cookie's): anything else is refused (403) and changes nothing.
    func checkedForm(_ request: Request, context: AppRequestContext) async throws -> ConsoleForm {
        try await Self.checkedForm(request, context: context, limit: limits.maximumBodySize)
    }

    static func checkedForm(_ request: Request, context: AppRequestContext, limit: Int) async throws -> ConsoleForm {
        let form = try await ConsoleForm.read(request, limit: limit)
        let visit = context.visit()
        guard let expected = visit.session?.csrfToken ?? visit.signInToken, let sent = form.value("csrf"),
            sent.utf8.count == expected.utf8.count,
            zip(sent.utf8, expected.utf8).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
        else { throw Problem.forbidden("The form has expired; load the page again.") }
        return form
    }
}
