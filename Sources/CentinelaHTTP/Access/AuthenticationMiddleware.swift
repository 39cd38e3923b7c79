import CentinelaCore
import CentinelaStore
import HTTPTypes
import Hummingbird
import Logging

/// Resolves `Authorization: Bearer <token>` on every request under /v1, so that a revoked or
/// expired token stops working at once. Anything else is 401, with one message for every kind of
/// bad token (not revealing whether a token exists).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: ServiceDatabase

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization] else {
            throw Problem.unauthorized("Send an API token as Authorization: Bearer <token>.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
            let secret = TokenSecret(presented: String(parts[1]))
        else {
            throw Problem.unauthorized("The Authorization header must be Bearer followed by a Centinela token (cen_…).")
        }
        guard let principal = try await database.authenticate(secret) else {
            throw Problem.unauthorized("The token is unknown, expired or revoked.")
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "token_id"] = .string(principal.id.description)
        context.logger[metadataKey: "role"] = .string(principal.role.rawValue)
        return try await next(request, context)
    }
}
