import CentinelaTestSupport
import Foundation
import PostgresNIO
import Testing

@testable import CentinelaStore

/// Work on a connection is answered even when the connection closes under it (issue 21, item 1).
@Suite struct ConnectionWatchTests {
    let logger = TestDatabase.logger

    @Test func workOnAnOpenConnectionGivesItsOwnResultOrError() async throws {
        let database = try await TestDatabase.server()
        try await database.withConnection(logger: logger) { connection in
            let value = try await ConnectionWatch.run(on: connection, database: "test") {
                var found = 0
                for try await n in try await connection.query("SELECT 41 + 1", logger: logger).decode(Int.self) { found = n }
                return found
            }
            #expect(value == 42)
            // A statement that fails is the work's own failure, passed on as it is.
            await #expect {
                try await ConnectionWatch.run(on: connection, database: "test") {
                    try await connection.query("SELECT 1/0", logger: logger)
                }
            } throws: { error in
                !DatabaseError.isUnavailable(error) && !(error is DatabaseError)
            }
            // Outlasting the watch's checks changes nothing while the connection is open.
            let slept = try await ConnectionWatch.run(on: connection, database: "test", checkEvery: .milliseconds(20)) {
                try await connection.query("SELECT pg_sleep(0.3)", logger: logger)
                return true
            }
            #expect(slept)
        }
    }

    /// A statement written to a connection that has closed is dropped by PostgresNIO without its
    /// query ever failing; the watch answers for it, as the database being unavailable.
    @Test func aStatementOnAClosedConnectionIsAnsweredAsUnavailable() async throws {
        let database = try await TestDatabase.server()
        let connection = try await PostgresConnection.connect(configuration: try database.connectionConfiguration(), id: 7, logger: logger)
        try await connection.close()
        let started = ContinuousClock.now
        await #expect {
            try await ConnectionWatch.run(on: connection, database: "test", grace: .milliseconds(200)) {
                try await connection.query("SELECT 1", logger: logger)
            }
        } throws: { error in
            DatabaseError.isUnavailable(error)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
