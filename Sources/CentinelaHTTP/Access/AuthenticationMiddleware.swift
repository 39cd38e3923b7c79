import CentinelaCore
import CentinelaStore
import HTTPTypes
import Hummingbird
import Logging

/// Resolves `Authorization: Bearer <token>` on every request under /v1, so that a revoked or
/// expired token stops working at once. Anything else is 401, with one message for every kind of
/// bad token (not revealing whether a token exists).
///
/// Limits (429 with Retry-After, `HTTPConfiguration`): an address whose authentications fail more
/// than `failedAuthenticationBurst` times is let try again once every `failedAuthenticationEvery`
/// only, without a database lookup, so that a flood of bad tokens costs the database nothing —
/// except with a token that authenticated in the last ten minutes (`RecentTokens`), so that the
/// others behind a shared address keep working; a token makes at most
/// `requestsPerSecondPerToken` requests a second, sustained, with bursts of ten seconds' worth.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: ServiceDatabase
    let refusals: RefusalAudit
    let failures: RateLimiter
    let requests: RateLimiter?
    let recent = RecentTokens()

    init(database: ServiceDatabase, limits: HTTPConfiguration) {
        self.database = database
        self.refusals = RefusalAudit(database: database)
        self.failures = RateLimiter.failedAuthentications(limits)
        self.requests = limits.requestsPerSecondPerToken.map { RateLimiter(rate: $0, burst: max(1, 10 * $0)) }
    }

    /// Every refusal is audited (rate-limited, `RefusalAudit`): a 401 with the token's display
    /// prefix when one was presented, a 403 with the caller.
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let address = context.clientAddress ?? "unknown"
        let presented = Self.presentedSecret(request)
        let presentedHash = presented?.sha256
        if let wait = failures.check(address), !(presentedHash.map { recent.contains($0) } ?? false) {
            throw Problem.tooManyRequests(
                "Too many failed authentications from this address; try again later with a valid token.", retryAfter: wait)
        }
        let principal: Principal
        do {
            principal = try await authenticate(presented, header: request.headers[.authorization])
            if let presentedHash { recent.remember(presentedHash) }
        } catch let problem as Problem where problem.status == .unauthorized {
            _ = failures.take(address)
            let shown = request.headers[.authorization]?.split(separator: " ", maxSplits: 1).last.map { String($0.prefix(12)) }
            let caller = shown.flatMap { $0.hasPrefix("cen_") ? $0 : nil } ?? "anonymous"
            await refusals.record(
                status: 401, caller: caller, principal: nil, method: request.method.rawValue, path: request.uri.path,
                requestID: context.id, logger: context.logger)
            throw problem
        }
        if let wait = requests?.take(principal.id.description) {
            throw Problem.tooManyRequests("This token has made too many requests; slow down.", retryAfter: wait)
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "token_id"] = .string(principal.id.description)
        context.logger[metadataKey: "role"] = .string(principal.role.rawValue)
        do {
            return try await next(request, context)
        } catch let problem as Problem where problem.status == .forbidden {
            await refusals.record(
                status: 403, caller: principal.id.description, principal: principal, method: request.method.rawValue,
                path: request.uri.path, requestID: context.id, logger: context.logger)
            throw problem
        }
    }

    /// The token of `Authorization: Bearer <token>`, when the header holds one of a token's shape.
    private static func presentedSecret(_ request: Request) -> TokenSecret? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return TokenSecret(presented: String(parts[1]))
    }

    private func authenticate(_ secret: TokenSecret?, header: String?) async throws -> Principal {
        guard header != nil else {
            throw Problem.unauthorized("Send an API token as Authorization: Bearer <token>.")
        }
        guard let secret else {
            throw Problem.unauthorized("The Authorization header must be Bearer followed by a Centinela token (cen_…).")
        }
        guard let principal = try await database.authenticate(secret) else {
            throw Problem.unauthorized("The token is unknown, expired or revoked.")
        }
        return principal
    }
}
