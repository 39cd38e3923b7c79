import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The live stream's order without a lock (decision 46): writers of alert events never wait on
/// one another, an event committed late is placed after what a stream has already read, one
/// sequencer places events at a time, and the events recorded before the change keep their id as
/// their position.
@Suite struct StreamSequencerTests {
    let logger = TestDatabase.logger

    func one<Value: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as: Value.Type = Int64.self, on connection: PostgresConnection
    ) async throws -> Value {
        var value: Value?
        for try await found in try await connection.query(query, logger: logger).decode(Value.self) { value = found }
        return try #require(value)
    }

    func openAlert(at facility: UUID, on connection: PostgresConnection) async throws -> UUID {
        let alert = UUID()
        try await connection.run(
            """
            INSERT INTO alerts (id, rule, facility_id, jurisdiction_id, severity, score, band)
            SELECT \(alert), 'filming', f.id, f.jurisdiction_id, 'critical', 70, 'high' FROM facilities f WHERE f.id = \(facility)
            """, logger: logger)
        return alert
    }

    func appendEvent(to alert: UUID, on connection: PostgresConnection) async throws -> Int64 {
        try await one(
            "INSERT INTO alert_events (alert_id, kind, actor) VALUES (\(alert), 'comment', 'centinela') RETURNING id", on: connection)
    }

    /// Each alert event's position, by event id (absent while not placed).
    func positions(on connection: PostgresConnection) async throws -> [Int64: Int64] {
        var found: [Int64: Int64] = [:]
        for try await (position, event) in try await connection.query(
            "SELECT position, alert_event_id FROM stream_events WHERE alert_event_id IS NOT NULL", logger: logger
        ).decode((Int64, Int64).self) { found[event] = position }
        return found
    }

    @Test func writersNeverWaitAndALateCommitIsPlacedAfterWhatWasRead() async throws {
        try await World.with { world in
            let sequencer = StreamSequencer(logger: logger)
            try await world.database.withConnection(logger: logger) { first in
                try await world.database.withConnection(logger: logger) { second in
                    let alert = try await openAlert(at: world.nuevoLeon.id, on: second)
                    try await first.run("BEGIN", logger: logger)
                    let early = try await appendEvent(to: alert, on: first)
                    // While the first writer's transaction is open, a second appends and commits: a
                    // lock shared by writers would make it wait, and the timeout fail it.
                    try await second.run("SET lock_timeout = '2s'", logger: logger)
                    let late = try await appendEvent(to: alert, on: second)
                    #expect(late > early)
                    #expect(try await sequencer.round(on: second) == 1)
                    let read = try await positions(on: second)
                    #expect(read[early] == nil)
                    let seen = try #require(read[late])
                    // The lower id commits after a stream has read past the later one's position.
                    try await first.run("COMMIT", logger: logger)
                    #expect(try await sequencer.round(on: second) == 1)
                    let placed = try await positions(on: second)
                    #expect(try #require(placed[early]) > seen)
                    #expect(try await sequencer.round(on: second) == 0)
                    #expect(try await one("SELECT count(*) FROM stream_pending", on: second) == 0)
                }
            }
        }
    }

    @Test func oneSequencerPlacesEventsAtATime() async throws {
        try await World.with { world in
            let sequencer = StreamSequencer(logger: logger)
            try await world.database.withConnection(logger: logger) { other in
                try await world.database.withConnection(logger: logger) { connection in
                    let alert = try await openAlert(at: world.nuevoLeon.id, on: connection)
                    let event = try await appendEvent(to: alert, on: connection)
                    // Another sequencer leads: this one places nothing, and settling waits for it.
                    try await other.run("SELECT pg_advisory_lock(\(StreamSequencer.leaderKey))", logger: logger)
                    #expect(try await sequencer.round(on: connection) == nil)
                    #expect(try await !sequencer.settle(on: connection, patience: .milliseconds(300)))
                    #expect(try await positions(on: connection)[event] == nil)
                    // An operator sees the backlog (/metrics), and that it empties.
                    let waiting = try await ServiceFiguresReader(logger: logger).read(on: connection)
                    #expect(waiting.sequencerBacklog[.stream]?.pending == 1)
                    #expect((waiting.sequencerBacklog[.stream]?.oldestSeconds ?? 0) > 0)
                    try await other.run("SELECT pg_advisory_unlock(\(StreamSequencer.leaderKey))", logger: logger)
                    #expect(try await sequencer.settle(on: connection))
                    #expect(try await positions(on: connection)[event] != nil)
                    let placed = try await ServiceFiguresReader(logger: logger).read(on: connection)
                    #expect(placed.sequencerBacklog[.stream] == .init(pending: 0, oldestSeconds: 0))
                    // Positions are consecutive after those of the events placed before.
                    let count = try await one("SELECT count(*) FROM stream_events", on: connection)
                    #expect(try await one("SELECT max(position) - min(position) + 1 FROM stream_events", on: connection) == count)
                }
            }
        }
    }

    @Test func eventsRecordedBeforeKeepTheirIdAsTheirPosition() async throws {
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let all = try TestDatabase.migrations()
                try await Migrator(migrations: try MigrationSet(all.migrations.filter { $0.version < 33 }), logger: logger)
                    .migrate(on: connection)
                let jurisdiction = try await one(
                    "INSERT INTO jurisdictions (code, name, level) VALUES ('MX', 'México', 'country') RETURNING id", as: UUID.self,
                    on: connection)
                let facility = try await one(
                    """
                    INSERT INTO facilities (external_code, name, kind, jurisdiction_id, enrolment)
                    VALUES ('NL001', 'Jardín', 'preschool', \(jurisdiction), 50) RETURNING id
                    """, as: UUID.self, on: connection)
                let alert = try await openAlert(at: facility, on: connection)
                // A rolled-back event leaves a gap in the ids; positions keep it.
                let before = [try await appendEvent(to: alert, on: connection)]
                try await connection.run("BEGIN", logger: logger)
                _ = try await appendEvent(to: alert, on: connection)
                try await connection.run("ROLLBACK", logger: logger)
                let kept = before + [try await appendEvent(to: alert, on: connection)]
                try await Migrator(migrations: all, logger: logger).migrate(on: connection)
                let placed = try await positions(on: connection)
                #expect(placed == Dictionary(uniqueKeysWithValues: kept.map { ($0, $0) }))
                // The next event is placed after them.
                let next = try await appendEvent(to: alert, on: connection)
                #expect(try await StreamSequencer(logger: logger).settle(on: connection))
                #expect(try #require(try await positions(on: connection)[next]) > kept.max()!)
            }
        }
    }
}
