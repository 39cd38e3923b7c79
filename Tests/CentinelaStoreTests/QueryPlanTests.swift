import CentinelaTestSupport
import Logging
import PostgresNIO
import Testing

@testable import CentinelaStore

/// Indexes that exist for one query's sake stay that query's: the plan is asked for with table
/// scans priced out, so only a usable index keeps them out of it.
@Suite struct QueryPlanTests {
    let logger = TestDatabase.logger

    func plan(_ sql: String, on connection: PostgresConnection) async throws -> String {
        var lines: [String] = []
        try await connection.query("BEGIN", logger: logger)
        try await connection.query("SET LOCAL enable_seqscan = off", logger: logger)
        for try await line in try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + sql), logger: logger).decode(String.self) {
            lines.append(line)
        }
        try await connection.query("ROLLBACK", logger: logger)
        return lines.joined(separator: "\n")
    }

    /// Schema/0026's partial index repeats the review queue's condition: a change to one alone
    /// would leave the queue checking every pair's row-level policy again.
    @Test func theReviewQueueIsFoundThroughItsOwnIndex() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let plan = try await plan(
                    "SELECT l.record_a FROM adult_links l WHERE \(LinkReviewStore.open) ORDER BY l.score DESC LIMIT 50", on: connection)
                #expect(plan.contains("adult_links_queue_idx"), "\(plan)")
            }
        }
    }
}
