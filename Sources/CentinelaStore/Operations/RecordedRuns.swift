import Foundation
import Logging
import PostgresNIO

/// Runs recorded in a table (`rescore_runs`, `linking_runs`) are 'running' until they say how they
/// ended, and a process killed mid-run cannot say. So each run holds a session advisory lock on its
/// own id from before its row is visible to anyone (taken in the transaction that inserts it) until
/// it has recorded its end; the session's end releases it too. A row still 'running' whose lock
/// can be taken belongs to a run that is gone: the next run records it as failed.
public enum RecordedRuns: String, Sendable {
    case rescore = "rescore_runs"
    case linking = "linking_runs"

    /// The advisory lock space of run ids: the first key of the two-key form ('runs' in ASCII),
    /// apart from the one-key locks of Rescorer, LinkingRebuilder and Migrator.
    package static let lockClass: Int32 = 0x7275_6e73

    static let abandonedReason = "ended without recording its end: its process was stopped or lost the database (recorded by a later run)"

    /// Inside the transaction that inserted run `id`, before it commits.
    static func hold(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("SELECT pg_advisory_lock(\(lockClass), hashtext(\(id)::text))", logger: logger)
    }

    /// Once the run's end is recorded (or could not be: then the row is left to a later run).
    static func release(_ id: UUID, on connection: PostgresConnection, logger: Logger) async {
        _ = try? await connection.run("SELECT pg_advisory_unlock(\(lockClass), hashtext(\(id)::text))", logger: logger)
    }

    /// Records every run of this table still 'running' whose lock is free as failed; answers how
    /// many. Called by a run before it holds its own lock: session advisory locks are re-entrant,
    /// so its own would look free. A lock taken here to test a row is released at once.
    func failAbandoned(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var abandoned: [UUID] = []
        try await connection.systemTransaction(logger: logger) {
            for try await id in try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH running AS (
                            -- OFFSET 0 keeps the lock test on the running rows only (the planner may
                            -- otherwise try it on any row and leave finished runs' locks taken).
                            SELECT id FROM \(rawValue) WHERE outcome = 'running' OFFSET 0
                        ), abandoned AS (
                            SELECT id FROM running WHERE pg_try_advisory_lock(\(Self.lockClass), hashtext(id::text))
                        )
                        UPDATE \(rawValue) r SET outcome = 'failed', finished_at = clock_timestamp(), error = $1
                        FROM abandoned a WHERE r.id = a.id
                        RETURNING r.id
                        """,
                    binds: {
                        var binds = PostgresBindings()
                        binds.append(Self.abandonedReason)
                        return binds
                    }()),
                logger: logger
            ).decode(UUID.self) { abandoned.append(id) }
        }
        for id in abandoned { await Self.release(id, on: connection, logger: logger) }
        if !abandoned.isEmpty {
            logger.warning(
                "a run that ended without recording its end is now recorded as failed",
                metadata: ["table": "\(rawValue)", "runs": "\(abandoned.map { $0.uuidString.lowercased() }.joined(separator: ","))"])
        }
        return abandoned.count
    }
}
