import CentinelaStore
import Foundation
import PostgresNIO
import CentinelaTestSupport
import Testing
import _ConnectionPoolModule

/// Which failures mean "the database is not there" (503, retry later) rather than a bad request.
@Suite struct DatabaseErrorTests {
    @Test func anUnreachableDatabaseIsUnavailableAndABadQueryIsNot() async throws {
        #expect(DatabaseError.isUnavailable(ConnectionPoolError.connectionCreationCircuitBreakerTripped))
        #expect(DatabaseError.isUnavailable(ConnectionPoolError.poolShutdown))
        #expect(!DatabaseError.isUnavailable(ConnectionPoolError.requestCancelled))
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
}
