import CentinelaStore
import HTTPTypes
import Hummingbird

/// Liveness and readiness for load balancers, orchestrators and `make run`.
///
/// `/healthz` answers as long as the process serves HTTP: it never touches the database, so a
/// database outage does not get healthy processes restarted. `/readyz` answers 200 only when the
/// database is reachable and its schema is the one this build expects, 503 with the reason otherwise.
struct HealthController<Context: RequestContext> {
    let database: any DatabaseHealthChecking

    struct Liveness: Codable, Sendable {
        var status: String
    }

    struct Readiness: Codable, Sendable {
        struct Checks: Codable, Sendable {
            var database: String
            var schema: String
        }
        struct Schema: Codable, Sendable {
            var applied: Int
            var pending: [String]
        }
        var status: String
        var checks: Checks
        var schema: Schema?
        var reason: String?
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("healthz") { _, _ in JSONResponse(body: Liveness(status: "ok")) }
        routes.get("readyz") { _, _ in await readiness() }
        return routes
    }

    func readiness() async -> JSONResponse<Readiness> {
        switch await database.check() {
        case .ready(let status):
            return JSONResponse(
                body: Readiness(
                    status: "ready", checks: .init(database: "ok", schema: "current"),
                    schema: .init(applied: status.applied.count, pending: [])))
        case .schemaBehind(let status):
            return JSONResponse(
                status: .serviceUnavailable,
                body: Readiness(
                    status: "unavailable", checks: .init(database: "ok", schema: "behind"),
                    schema: .init(applied: status.applied.count, pending: status.pending),
                    reason: "the database schema is behind this build; run `centinela migrate`"))
        case .schemaInvalid(let reason):
            return JSONResponse(
                status: .serviceUnavailable,
                body: Readiness(
                    status: "unavailable", checks: .init(database: "ok", schema: "invalid"), reason: reason))
        case .unreachable(let reason):
            return JSONResponse(
                status: .serviceUnavailable,
                body: Readiness(
                    status: "unavailable", checks: .init(database: "unreachable", schema: "unknown"),
                    reason: "database unreachable: \(reason)"))
        }
    }
}
