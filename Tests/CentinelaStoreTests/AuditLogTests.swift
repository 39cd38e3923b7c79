import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

/// The audit log of decision 43 against a real database: writers append without waiting on one
/// another, one sequencer chains, and a signed checkpoint kept outside the database shows every
/// way its owner could rewrite the trail.
@Suite struct AuditLogTests {
    let logger = TestDatabase.logger
    let key = AuditSigningKey.generated(name: "test.centinela/audit")

    func append(_ count: Int, on connection: PostgresConnection, from first: Int = 1) async throws {
        for index in first..<(first + count) {
            try await connection.query("BEGIN", logger: logger)
            try await AuditLog.append(
                .system(action: "report.read", objectType: "report", objectID: "r\(index)", details: ["n": "\(index)", "ñ": "sí"]),
                on: connection, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        }
    }

    /// Signs a checkpoint of the log as it stands, as the server does, and reads it back from
    /// its note with the verifier key alone, as a regulator would.
    func checkpoint(on connection: PostgresConnection) async throws -> AuditCheckpoint {
        let sequencer = AuditSequencer(checkpoints: AuditCheckpointing(key: key, folder: nil), logger: logger)
        let note = try #require(try await sequencer.round(on: connection, sign: true)?.checkpoint)
        return try AuditSigningKey.verifier(key.verifierKey).checkpoint(note)
    }

    func verify(_ connection: PostgresConnection, against checkpoints: [AuditCheckpoint]) async throws -> AuditVerification {
        try await AuditVerifier.verify(on: connection, checkpoints: checkpoints, logger: logger)
    }

    enum Tampering: String, CaseIterable {
        case removeNewest, truncateAll, editAndRehash, replaceFunctionAndEdit
    }

    /// What the owner of the database can do to the trail, each caught given a checkpoint signed
    /// before it (issue 24's list; report contents have their own test).
    @Test(arguments: Tampering.allCases)
    func aCheckpointTakenBeforeShowsTampering(_ tampering: Tampering) async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                try await append(8, on: connection)
                let before = try await checkpoint(on: connection)
                #expect(before.size == 8)
                try await append(2, on: connection, from: 9)
                try await TestDatabase.chainAuditEvents(on: connection)
                #expect(
                    try await verify(connection, against: [before])
                        == AuditVerification(rowsChecked: 10, checkpointsHeld: 1, firstBreak: nil))

                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", logger: logger)
                switch tampering {
                case .removeNewest:
                    try await connection.query("DELETE FROM audit_events WHERE position > 5", logger: logger)
                    #expect(try await verify(connection, against: []).isIntact, "the chain alone cannot tell")
                    #expect(try await verify(connection, against: [before]).firstBreak == .truncated(checkpoint: before, logSize: 5))
                case .truncateAll:
                    try await connection.query("TRUNCATE audit_events", logger: logger)
                    #expect(try await verify(connection, against: []) == AuditVerification(rowsChecked: 0, firstBreak: nil))
                    #expect(try await verify(connection, against: [before]).firstBreak == .truncated(checkpoint: before, logSize: 0))
                case .editAndRehash:
                    // Edit event 3, then re-hash it and every event after it, as the chain's own
                    // function would: the chain is whole again.
                    try await connection.query("UPDATE audit_events SET outcome = 'denied' WHERE position = 3", logger: logger)
                    try await connection.query(
                        """
                        DO $$
                        DECLARE p bigint;
                        BEGIN
                            FOR p IN SELECT position FROM audit_events WHERE position >= 3 ORDER BY position LOOP
                                UPDATE audit_events e SET prev_hash = (SELECT hash FROM audit_events WHERE position = p - 1) WHERE position = p;
                                UPDATE audit_events e SET hash = audit_event_digest(e) WHERE position = p;
                            END LOOP;
                        END $$
                        """, logger: logger)
                    #expect(try await verify(connection, against: []).isIntact, "the chain alone cannot tell")
                    #expect(try await verify(connection, against: [before]).firstBreak == .rewritten(checkpoint: before))
                case .replaceFunctionAndEdit:
                    try await connection.query(
                        """
                        CREATE OR REPLACE FUNCTION audit_event_digest(e audit_events) RETURNS bytea
                        LANGUAGE sql IMMUTABLE AS $$ SELECT e.hash $$
                        """, logger: logger)
                    try await connection.query("UPDATE audit_events SET object_id = 'other' WHERE position = 4", logger: logger)
                    #expect(try await verify(connection, against: [before]).firstBreak == .alteredRow(position: 4))
                }
            }
        }
    }

    /// A writer holding its transaction open does not hold up another: each appends to
    /// `audit_pending` and nothing else (the old chain took one lock to commit).
    @Test func writersNeverWaitOnOneAnother() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { first in
                try await database.withConnection(logger: logger) { second in
                    try await first.query("BEGIN", logger: logger)
                    try await AuditLog.append(
                        .system(action: "report.create", objectType: "report", objectID: "a"), on: first, logger: logger)
                    // Would wait for `first` to commit, and fail after a second, if appending locked.
                    try await second.query("SET statement_timeout = '1s'", logger: logger)
                    for index in 1...3 {
                        try await second.query("BEGIN", logger: logger)
                        try await AuditLog.append(
                            .system(action: "report.create", objectType: "report", objectID: "b\(index)"), on: second, logger: logger)
                        try await second.query("COMMIT", logger: logger)
                    }
                    try await TestDatabase.chainAuditEvents(on: second)
                    try await first.query("COMMIT", logger: logger)
                    try await TestDatabase.chainAuditEvents(on: second)
                    var order: [String] = []
                    for try await id in try await second.query("SELECT object_id FROM audit_events ORDER BY position", logger: logger)
                        .decode(String.self)
                    { order.append(id) }
                    #expect(order == ["b1", "b2", "b3", "a"], "the log's order is the sequencer's, by commit")
                    #expect(try await verify(second, against: []).isIntact)
                }
            }
        }
    }

    /// The service may append and nothing more: it cannot read or remove what is pending, nor
    /// write into the chain itself.
    @Test func theServiceOnlyAppends() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                for statement: PostgresQuery in [
                    "SELECT count(*) FROM audit_pending", "DELETE FROM audit_pending",
                    """
                    INSERT INTO audit_events (position, request_id, action, object_type, outcome, prev_hash, hash)
                    VALUES (1, 'x', 'report.read', 'report', 'ok', '\\x00', '\\x00')
                    """,
                    "UPDATE audit_log_head SET size = 0",
                ] {
                    try await connection.query("BEGIN", logger: logger)
                    try await connection.query("SET LOCAL ROLE centinela_service", logger: logger)
                    await #expect(throws: PSQLError.self, "\(statement.sql)") { try await connection.query(statement, logger: logger) }
                    try await connection.query("ROLLBACK", logger: logger)
                }
            }
        }
    }

    /// A sequencer never integrates while another is in a round: it leaves the round to it.
    @Test func aSequencerLeavesTheRoundToTheOneInIt() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { other in
                try await database.withConnection(logger: logger) { connection in
                    try await append(3, on: connection)
                    try await other.query("BEGIN", logger: logger)
                    try await other.query("SELECT pg_advisory_xact_lock(\(AuditSequencer.leaderKey))", logger: logger)
                    let sequencer = AuditSequencer(logger: logger)
                    #expect(try await sequencer.round(on: connection, sign: false) == nil)
                    #expect(try await sequencer.settle(on: connection, patience: .milliseconds(200)) == false)
                    #expect(try await pendingCount(connection) == 3)
                    try await other.query("COMMIT", logger: logger)
                    #expect(try await sequencer.round(on: connection, sign: false)?.integrated == 3)
                }
            }
        }
    }

    /// Three sequencers and four writers at once, in small batches: every event is chained
    /// exactly once, in one unbroken log, and every checkpoint any of them signed holds.
    @Test func concurrentSequencersChainEveryEventOnce() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let sequencer = AuditSequencer(batchSize: 7, checkpoints: AuditCheckpointing(key: key, folder: nil), logger: logger)
            let writing = Task {
                try await withThrowingTaskGroup(of: Void.self) { writers in
                    for writer in 0..<4 {
                        writers.addTask {
                            try await database.withConnection(logger: logger) { connection in
                                try await append(25, on: connection, from: writer * 100)
                            }
                        }
                    }
                    try await writers.waitForAll()
                }
            }
            try await withThrowingTaskGroup(of: Int.self) { sequencers in
                for _ in 0..<3 {
                    sequencers.addTask {
                        try await database.withConnection(logger: logger) { connection in
                            var (rounds, tries) = (0, 0)
                            while !Task.isCancelled {
                                tries += 1
                                do {
                                    // Signing every fourth try: checkpoints of sizes along the way.
                                    if try await sequencer.round(on: connection, sign: tries % 4 == 0) != nil { rounds += 1 }
                                } catch  where Task.isCancelled {
                                    break
                                }
                                try? await Task.sleep(for: .milliseconds(20))
                            }
                            return rounds
                        }
                    }
                }
                try await writing.value
                try await database.withConnection(logger: logger) { watcher in
                    try await waitUntil { try await pendingCount(watcher) == 0 }
                }
                sequencers.cancelAll()
                var rounds = 0
                for try await led in sequencers { rounds += led }
                #expect(rounds > 0)
            }
            try await database.withConnection(logger: logger) { watcher in
                // Signs the final size, whichever checkpoints the three signed on the way.
                #expect(try await sequencer.settle(on: watcher))
                var objects: [String] = []
                for try await id in try await watcher.query("SELECT object_id FROM audit_events ORDER BY position", logger: logger)
                    .decode(String.self)
                { objects.append(id) }
                #expect(objects.count == 100 && Set(objects).count == 100)
                let signed = try await verifiedCheckpoints(watcher)
                #expect(signed.last?.size == 100)
                #expect(
                    try await verify(watcher, against: signed)
                        == AuditVerification(rowsChecked: 100, checkpointsHeld: signed.count, firstBreak: nil))
            }
        }
    }

    /// A server that stops chains what it acknowledged before it goes, and signs the log's last
    /// state: its last round runs when the stop begins, not at its next poll.
    @Test func aStoppingServerChainsAndSignsWhatItAcknowledged() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let client = PostgresClient(configuration: try database.clientConfiguration(), backgroundLogger: logger)
            let service = AuditSequencerService(
                client: client, sequencer: AuditSequencer(checkpoints: AuditCheckpointing(key: key, folder: nil), logger: logger),
                pollInterval: .seconds(30), logger: logger)
            let group = ServiceGroup(configuration: .init(services: [client, service], logger: logger))
            try await database.withConnection(logger: logger) { connection in
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    // The first round (nothing yet) signs the empty log; the next poll is 30 s away.
                    try await waitUntil { try await verifiedCheckpoints(connection).count == 1 }
                    try await append(3, on: connection)
                    let stopping = ContinuousClock.now
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                    #expect(ContinuousClock.now - stopping < .seconds(25), "the stop does not wait for the next poll (30 s, idle: 120 s)")
                }
                #expect(try await pendingCount(connection) == 0)
                let signed = try await verifiedCheckpoints(connection)
                #expect(signed.map(\.size) == [0, 3])
                #expect(
                    try await verify(connection, against: signed) == AuditVerification(rowsChecked: 3, checkpointsHeld: 2, firstBreak: nil))
            }
        }
    }

    /// The log carries the chain written before the sequencer (Schema/0002's rows) as its first
    /// entries: a database migrated with events in it verifies across the boundary.
    @Test func theChainBeforeTheSequencerIsTheLogsBeginning() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                // Rows as Schema/0002's trigger wrote them, hashed by its function.
                for index in 1...3 {
                    try await connection.query(
                        """
                        WITH previous AS (SELECT coalesce((SELECT hash FROM audit_events ORDER BY position DESC LIMIT 1), '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) AS hash),
                        row AS (
                            SELECT \(Int64(index))::bigint AS position, date_trunc('microseconds', clock_timestamp()) AS occurred_at,
                                   'old'::text AS request_id, NULL::uuid AS actor_token, 'system'::text AS actor_role,
                                   'token.issue'::text AS action, 'token'::text AS object_type, \("t\(index)")::text AS object_id,
                                   'ok'::text AS outcome, '{}'::jsonb AS details, previous.hash AS prev_hash, previous.hash AS hash
                            FROM previous)
                        INSERT INTO audit_events SELECT r.position, r.occurred_at, r.request_id, r.actor_token, r.actor_role, r.action,
                               r.object_type, r.object_id, r.outcome, r.details, r.prev_hash,
                               audit_event_digest(ROW(r.position, r.occurred_at, r.request_id, r.actor_token, r.actor_role, r.action,
                                   r.object_type, r.object_id, r.outcome, r.details, r.prev_hash, r.hash)::audit_events)
                        FROM row r
                        """, logger: logger)
                }
                try await append(2, on: connection)
                let after = try await checkpoint(on: connection)
                #expect(after.size == 5)
                #expect(
                    try await verify(connection, against: [after]) == AuditVerification(rowsChecked: 5, checkpointsHeld: 1, firstBreak: nil)
                )
            }
        }
    }

    func pendingCount(_ connection: PostgresConnection) async throws -> Int {
        var count = 0
        for try await n in try await connection.query("SELECT count(*)::int FROM audit_pending", logger: logger).decode(Int.self) {
            count = n
        }
        return count
    }

    func verifiedCheckpoints(_ connection: PostgresConnection) async throws -> [AuditCheckpoint] {
        let verifier = try AuditSigningKey.verifier(key.verifierKey)
        var checkpoints: [AuditCheckpoint] = []
        for try await note in try await connection.query("SELECT note FROM audit_checkpoints ORDER BY size", logger: logger).decode(
            String.self)
        {
            checkpoints.append(try verifier.checkpoint(note))
        }
        return checkpoints
    }

    func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the condition did not hold within 10 s")
    }
}
