import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Gives alert and case events their positions in the live stream (decision 46, Schema/0033).
///
/// Writers of events take no lock: an event is queued in `stream_pending` as it is inserted, and
/// the sequencer moves the queued events into `stream_events`, numbered after the last position,
/// one batch per transaction. Only one sequencer places events at a time (the advisory lock
/// `leaderKey`, per transaction), so positions become visible in order: a stream that has read up
/// to position N never later finds an event below N, however late its writer committed. Each
/// batch announces the newest position on `channel` at its commit.
public struct StreamSequencer: Sendable {
    /// 'centstrm' in ASCII.
    public static let leaderKey: Int64 = 0x6365_6e74_7374_726d
    /// Announces, at the commit of a batch, that the stream has new positions (what live streams
    /// and webhook delivery wait for).
    public static let channel = "centinela_stream"
    /// Announced at the commit of every alert or case event: what wakes the sequencer.
    public static let appendedChannel = "centinela_alert_event"
    /// Events per transaction: a backlog clears in a few rounds, and a round stays short.
    public var batchSize: Int
    let logger: Logger

    public init(batchSize: Int = 5_000, logger: Logger) {
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Places every event queued now; nil when another sequencer is in a round. Answers how many
    /// events were placed.
    public func round(on connection: PostgresConnection) async throws -> Int? {
        // Most rounds find nothing: one query says so, without a transaction or the lock.
        var idle = false
        for try await value in try await connection.query("SELECT NOT EXISTS (SELECT 1 FROM stream_pending)", logger: logger)
            .decode(Bool.self)
        { idle = value }
        if idle { return 0 }
        var placed = 0
        while true {
            let batch = try await connection.leadingTransaction(Self.leaderKey, logger: logger) {
                try await placeBatch(on: connection)
            }
            guard let batch else { return placed == 0 ? nil : placed }
            placed += batch
            if batch < batchSize { return placed }
        }
    }

    /// One transaction's worth, oldest queued first; numbered within the batch in event-id order
    /// (alert and case events draw their ids from one sequence), the order the writers began in.
    private func placeBatch(on connection: PostgresConnection) async throws -> Int {
        var placed = (count: 0, newest: Int64?.none)
        for try await row in try await connection.query(
            """
            WITH taken AS (
                DELETE FROM stream_pending WHERE seq IN (SELECT seq FROM stream_pending ORDER BY seq LIMIT \(batchSize))
                RETURNING alert_event_id, case_event_id),
            placed AS (
                INSERT INTO stream_events (position, alert_event_id, case_event_id)
                SELECT (SELECT coalesce(max(position), 0) FROM stream_events)
                           + row_number() OVER (ORDER BY coalesce(alert_event_id, case_event_id)),
                       alert_event_id, case_event_id
                FROM taken
                RETURNING position)
            SELECT count(*)::int, max(position) FROM placed
            """, logger: logger
        ).decode((Int, Int64?).self) { placed = row }
        if let newest = placed.newest {
            try await connection.run("SELECT pg_notify(\(Self.channel), \(String(newest)))", logger: logger)
        }
        return placed.count
    }

    /// Places every event queued at the call, or waits (at most `patience`) while another
    /// sequencer does: for the command line, whose events must reach the stream even when no
    /// server runs, and for tests. Answers whether every event queued at the call is placed.
    @discardableResult
    public func settle(on connection: PostgresConnection, patience: Duration = .seconds(10)) async throws -> Bool {
        var mark: Int64?
        for try await value in try await connection.query("SELECT max(seq) FROM stream_pending", logger: logger)
            .decode(Int64?.self)
        { mark = value }
        guard let mark else { return true }
        return try await connection.settle(patience: patience) {
            _ = try await round(on: connection)
        } stillQueued: {
            var waiting = true
            for try await value in try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM stream_pending WHERE seq <= \(mark))", logger: logger
            ).decode(Bool.self) { waiting = value }
            return waiting
        }
    }
}

/// The stream sequencer inside `centinela serve`: a round at every event's notification (an
/// alert reaches open streams within milliseconds of its commit), and every `pollInterval` in
/// case a notification was lost while the listener reconnected. When another server's sequencer
/// leads, its rounds place this server's events too. On graceful shutdown (after the writers
/// listed after it have stopped) one last round places what they appended.
public struct StreamSequencerService: Service {
    let client: PostgresClient
    let database: DatabaseConfiguration
    let sequencer: StreamSequencer
    let pollInterval: Duration
    let logger: Logger

    public init(
        client: PostgresClient, database: DatabaseConfiguration, sequencer: StreamSequencer, pollInterval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.client = client
        self.database = database
        self.sequencer = sequencer
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        let failing = Mutex(false)
        @Sendable func round() async {
            do {
                // Bounded, so that a pool waiting for a database that has gone away never holds
                // the loop (or the stop); the queue stays for the next round.
                _ = try await withTimeout(.seconds(30)) { [client, sequencer] in
                    try await client.withConnection { try await sequencer.round(on: $0) }
                }
                if failing.withLock({ $0 }) { logger.notice("the stream sequencer reaches the database again") }
                failing.withLock { $0 = false }
            } catch {
                guard !Task.isCancelled, !failing.withLock({ $0 }) else { return }
                failing.withLock { $0 = true }
                logger.error(
                    "the stream sequencer cannot place events; writers go on appending and it retries",
                    metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
        }
        await WakeLoop(
            database: database, channel: StreamSequencer.appendedChannel, pollInterval: pollInterval, shutdownGrace: .seconds(5),
            logger: logger
        )
        .run { _ in await round() }
        if Task.isShuttingDownGracefully && !Task.isCancelled { await round() }
    }
}
