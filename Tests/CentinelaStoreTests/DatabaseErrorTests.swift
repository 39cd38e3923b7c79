import CentinelaStore
import CentinelaTestSupport
import Foundation
import PostgresNIO
import Testing

/// Which failures mean "the database is not there" (503, retry later) rather than a bad request.
@Suite struct DatabaseErrorTests {
    @Test func anUnreachableDatabaseIsUnavailableAndABadQueryIsNot() async throws {
        #expect(DatabaseError.isUnavailable(DatabaseError.unreachable(database: "x", reason: "refused")))
        #expect(!DatabaseError.isUnavailable(DatabaseError.queryFailed(reason: "syntax")))
        #expect(!DatabaseError.isUnavailable(CancellationError()))
        // A query that fails is the request's failure, not the database's absence.
        let database = try await TestDatabase.server()
        try await database.withConnection(logger: TestDatabase.logger) { connection in
            await #expect(throws: (any Error).self) {
                do {
                    for try await _ in try await connection.query("SELECT 1/0", logger: TestDatabase.logger) {}
                } catch {
                    #expect(!DatabaseError.isUnavailable(error))
                    throw error
                }
            }
        }
    }

    /// PostgresNIO's pool throws its own `ConnectionPoolError` (in an underscored module, known
    /// by name): a pool that has shut down is the database's absence.
    @Test func aPoolThatHasShutDownIsUnavailable() async throws {
        let server = try await TestDatabase.server()
        let client = PostgresClient(configuration: try server.clientConfiguration(), backgroundLogger: TestDatabase.logger)
        let running = Task { await client.run() }
        try await client.withConnection { connection in
            for try await _ in try await connection.query("SELECT 1", logger: TestDatabase.logger) {}
        }
        running.cancel()
        await running.value
        do {
            try await client.withConnection { _ in }
            Issue.record("a pool that has shut down lent a connection")
        } catch {
            #expect(String(reflecting: type(of: error)).hasSuffix("ConnectionPoolError"), "\(String(reflecting: error))")
            #expect(DatabaseError.isUnavailable(error), "\(String(reflecting: error))")
        }
    }
}
