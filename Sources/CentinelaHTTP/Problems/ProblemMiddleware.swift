import CentinelaStore
import HTTPTypes
import Hummingbird
import Logging

/// Maps every error that leaves a handler to a problem document, in one place.
///
/// Domain errors arrive as ``Problem`` already; Hummingbird's own `HTTPError`s (unknown route,
/// undecodable body, oversized body) are rewritten into problem documents with a stable type;
/// anything else is a bug: it is logged with the request id and answered 500 without details.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The base of every problem `type` (HTTPConfiguration.problemTypeBase).
    var typeBase = Problem.typeBase

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(describing: error, request: request, context: context)
            // Title and detail follow Accept-Language when it names a language the catalogs
            // speak (issue 23); `type`, `status` and field names stay as they are.
            let language = ConsoleLanguage.preferred(acceptLanguage: request.headers[.acceptLanguage])
            var response = try problem.sent(for: request, typeBase: typeBase, language: language).response(
                from: request, context: context)
            response.headers[.contentLanguage] = (language ?? .english).tag
            response.headers[.vary] = "Accept-Language"
            return response
        }
    }

    /// The problem an error that left a handler stands for: the one place errors become HTTP
    /// (the console renders the same problem as a page). Anything unexpected is logged here.
    static func problem(describing error: any Error, request: Request, context: Context) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as any ProblemConvertible:
            return error.problem
        case let error as HTTPError:
            return Self.problem(for: error)
        case let error as any HTTPResponseError:
            let status = error.status
            return Problem(type: Problem.typeBase + "http-\(status.code)", title: status.reasonPhrase, status: status)
        case let error where DatabaseError.isUnavailable(error):
            context.logger.error("database unavailable", metadata: ["reason": "\(DatabaseError.reason(for: error))"])
            var problem = Problem(
                type: Problem.typeBase + "unavailable", title: "Service unavailable", status: .serviceUnavailable,
                detail: "The database cannot be reached; nothing was changed. Retry later.")
            problem.extraHeaders["Retry-After"] = "5"
            return problem
        default:
            context.logger.error(
                "unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return Problem.internalError(requestID: context.id)
        }
    }

    static func problem(for error: HTTPError) -> Problem {
        switch error.status {
        case .notFound:
            return .notFound()
        case .contentTooLarge:
            return Problem(
                type: Problem.typeBase + "payload-too-large", title: "Request body too large",
                status: .contentTooLarge, detail: error.body)
        case .badRequest:
            return .badRequest(error.body ?? "The request could not be understood.")
        default:
            return Problem(
                type: Problem.typeBase + "http-\(error.status.code)", title: error.status.reasonPhrase,
                status: error.status, detail: error.body)
        }
    }
}

/// A domain error that knows its HTTP form. Conformances live in this module, beside the routes,
/// so that the domain modules know nothing of HTTP.
protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

/// Echoes a request id on every response so that a caller can quote it and the operator find it in
/// the logs: the caller's `X-Request-Id` when it is a sane token, otherwise the server's own.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        var context = context
        let supplied = request.headers[.requestID].flatMap { value -> String? in
            let valid =
                value.utf8.count <= 128
                && value.unicodeScalars.allSatisfy {
                    ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) || "-_.:".unicodeScalars.contains($0)
                }
            return valid && !value.isEmpty ? value : nil
        }
        let id = supplied ?? context.id
        if supplied != nil {
            context.logger[metadataKey: "request_id"] = .string(id)
        }
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}
