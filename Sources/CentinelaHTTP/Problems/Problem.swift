import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem document: every error the API returns has this shape and
/// `Content-Type: application/problem+json`.
///
/// `type` is a stable identifier per kind of error that clients can branch on; `detail` is for
/// people; `errors` lists every invalid field of a request at once.
public struct Problem: Error, Sendable, Equatable, Codable, HTTPResponseError {
    public static func == (a: Problem, b: Problem) -> Bool {
        a.type == b.type && a.title == b.title && a.statusCode == b.statusCode && a.detail == b.detail && a.errors == b.errors
            && a.instance == b.instance && a.extraHeaders == b.extraHeaders
    }

    public struct FieldError: Sendable, Equatable, Codable {
        /// A JSON pointer or parameter name, e.g. `/children/0/age` or `cursor`; for CSV, the column.
        public var field: String
        public var message: String
        /// For CSV uploads: the line of the file.
        public var line: Int?

        public init(field: String, message: String, line: Int? = nil) {
            self.field = field
            self.message = message
            self.line = line
        }
    }

    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    public var errors: [FieldError]?
    /// This occurrence: the path of the request it answers (RFC 9457, § 3.1.5), so that a
    /// problem a user quotes leads to the request; its id is in `X-Request-Id`.
    public var instance: String?
    /// Extra headers to send (e.g. `Allow` with a 405).
    public var extraHeaders: [String: String] = [:]
    /// The detail as a message of the catalog with its values, when it is built from values
    /// (`This resource accepts {methods}.`); otherwise the English detail is its own message id.
    var message: (id: String, values: [String: String])?

    enum CodingKeys: String, CodingKey {
        case type, title
        case statusCode = "status"
        case detail, errors, instance
    }

    public init(
        type: String, title: String, status: HTTPResponse.Status, detail: String? = nil, errors: [FieldError]? = nil
    ) {
        self.type = type
        self.title = title
        self.statusCode = status.code
        self.detail = detail
        self.errors = errors
    }

    public var status: HTTPResponse.Status { .init(code: statusCode) }

    /// Where problem types live unless the operator names their own documentation
    /// (`CENTINELA_PROBLEM_TYPE_BASE`): `type` is this base and a stable slug (`not-found`).
    public static let typeBase = "https://centinela.example/problems/"

    /// The problem as sent: its type under `base` instead of the default one, its `instance` the
    /// request's path unless it names one already, and its title and detail in `language` where
    /// the catalog has them (English, the messages' own language, otherwise).
    func sent(for request: Request, typeBase base: String, language: ConsoleLanguage? = nil) -> Problem {
        var problem = self
        if let language, language != .english, let catalog = try? ConsoleRenderer.shared.get().catalog {
            problem.title = catalog.problemTitle(title, language)
            if let message {
                problem.detail = catalog.problemDetail(message.id, values: message.values, language)
            } else if let detail {
                problem.detail = catalog.problemDetail(detail, values: [:], language)
            }
            problem.errors = errors?.map { error in
                var said = error
                said.message = catalog.fieldMessage(error.message, language)
                return said
            }
        }
        if base != Self.typeBase, problem.type.hasPrefix(Self.typeBase) {
            problem.type = base + problem.type.dropFirst(Self.typeBase.count)
        }
        if problem.instance == nil { problem.instance = request.uri.path }
        return problem
    }

    public static func unauthorized(_ detail: String) -> Problem {
        var problem = Problem(type: typeBase + "unauthorized", title: "Unauthorized", status: .unauthorized, detail: detail)
        problem.extraHeaders["WWW-Authenticate"] = "Bearer"
        return problem
    }

    /// The caller's role may not use this endpoint at all. (Objects outside the caller's scope are
    /// answered 404 instead, so that their existence is not revealed.)
    public static func forbidden(_ detail: String) -> Problem {
        Problem(type: typeBase + "forbidden", title: "Forbidden", status: .forbidden, detail: detail)
    }

    public static func conflict(_ detail: String) -> Problem {
        Problem(type: typeBase + "conflict", title: "Conflict", status: .conflict, detail: detail)
    }

    public static func notFound(_ detail: String = "No resource at this address.") -> Problem {
        Problem(type: typeBase + "not-found", title: "Not found", status: .notFound, detail: detail)
    }

    public static func methodNotAllowed(allowed: [HTTPRequest.Method]) -> Problem {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        var problem = Problem(
            type: typeBase + "method-not-allowed", title: "Method not allowed", status: .methodNotAllowed,
            detail: "This resource accepts \(list).")
        problem.message = ("This resource accepts {methods}.", ["methods": list])
        problem.extraHeaders["Allow"] = list
        return problem
    }

    public static func badRequest(_ detail: String, errors: [FieldError]? = nil) -> Problem {
        Problem(type: typeBase + "bad-request", title: "Bad request", status: .badRequest, detail: detail, errors: errors)
    }

    public static func unsupportedMediaType(_ expected: String) -> Problem {
        var problem = Problem(
            type: typeBase + "unsupported-media-type", title: "Unsupported media type", status: .unsupportedMediaType,
            detail: "Send the body as \(expected).")
        problem.message = ("Send the body as {expected}.", ["expected": expected])
        return problem
    }

    public static func payloadTooLarge(limit: Int) -> Problem {
        var problem = Problem(
            type: typeBase + "payload-too-large", title: "Request body too large", status: .contentTooLarge,
            detail: "Request bodies may be at most \(limit) bytes.")
        problem.message = ("Request bodies may be at most {limit} bytes.", ["limit": "\(limit)"])
        return problem
    }

    /// Too many requests: `Retry-After` says when to come back.
    public static func tooManyRequests(_ detail: String, retryAfter: Duration) -> Problem {
        var problem = Problem(type: typeBase + "too-many-requests", title: "Too many requests", status: .tooManyRequests, detail: detail)
        problem.extraHeaders["Retry-After"] = String(retryAfter.retryAfterSeconds)
        return problem
    }

    /// A true bug: the detail names the request id to quote to the operator, nothing else.
    public static func internalError(requestID: String) -> Problem {
        var problem = Problem(
            type: typeBase + "internal-error", title: "Internal error", status: .internalServerError,
            detail: "The request failed on the server. Quote request id \(requestID) to the operator.")
        problem.message = ("The request failed on the server. Quote request id {id} to the operator.", ["id": requestID])
        return problem
    }

    /// A problem whose detail is a catalog message with values, so that it can be said in the
    /// caller's language: `detail` is the English text.
    func saying(_ id: String, _ values: [String: String]) -> Problem {
        var problem = self
        problem.message = (id, values)
        return problem
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in extraHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let body = try encoder.encode(self)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
