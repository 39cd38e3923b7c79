import CentinelaStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `GET /metrics`: Prometheus' text format. Outside /v1 and its API tokens (a scraper is not a
/// school or a regulator); protected by its own bearer token when one is configured
/// (`CENTINELA_METRICS_TOKEN`), open otherwise, for a scraper on a private network.
struct MetricsController {
    let metrics: ServiceMetrics
    let database: ServiceDatabase
    /// SHA-256 of the configured token: compared digest to digest, in constant time.
    let tokenDigest: [UInt8]?
    let logger: Logger

    init(metrics: ServiceMetrics, database: ServiceDatabase, token: String?, logger: Logger) {
        self.metrics = metrics
        self.database = database
        self.tokenDigest = token.map { Array(SHA256.hash(data: Data($0.utf8))) }
        self.logger = logger
    }

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func scrape(_ request: Request, context: some RequestContext) async throws -> Response {
        try authorize(request)
        // The pool's use first, so the scrape's own connection is not counted in it.
        metrics.record(database.usage.snapshot(), maximum: database.usage.maximum)
        do {
            let figures = try await withTimeout(.seconds(5)) { [database] in try await database.serviceFigures() }
            metrics.record(figures, databaseReachable: true)
        } catch {
            // The process's own metrics are still worth having when the database is not.
            logger.warning("metrics: database figures unavailable", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            metrics.record(ServiceFigures(), databaseReachable: false)
        }
        return Response(
            status: .ok, headers: [.contentType: Self.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    private func authorize(_ request: Request) throws(Problem) {
        guard let tokenDigest else { return }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Problem.unauthorized("Send the metrics token as Authorization: Bearer <token>.")
        }
        let presented = Array(SHA256.hash(data: Data(header.dropFirst("bearer ".count).utf8)))
        guard zip(presented, tokenDigest).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw Problem.unauthorized("The metrics token is not the configured one.")
        }
    }
}
