import CentinelaCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The sequencer inside `centinela serve` (decision 43): every `pollInterval` (up to four times
/// that while idle) it runs a round on
/// one of the pool's connections — integrating what writers appended, and signing a checkpoint
/// at most every `checkpoints.interval` while the log grows — unless another server's sequencer
/// is in a round (the advisory lock `AuditSequencer.leaderKey`, taken per transaction). On
/// graceful shutdown it runs a last round and signs, so that what was acknowledged before the
/// stop is chained and vouched for.
public struct AuditSequencerService: Service {
    let client: PostgresClient
    let sequencer: AuditSequencer
    let pollInterval: Duration
    let logger: Logger

    public init(client: PostgresClient, sequencer: AuditSequencer, pollInterval: Duration = .milliseconds(200), logger: Logger) {
        self.client = client
        self.sequencer = sequencer
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var lastCheckpoint: ContinuousClock.Instant?
        var failing = false
        /// Whether the round chained anything.
        @discardableResult
        func round(final: Bool) async -> Bool {
            let due =
                sequencer.checkpoints.map { checkpoints in
                    final || lastCheckpoint.map { clock.now - $0 >= checkpoints.interval } ?? true
                } ?? false
            do {
                // Bounded and abandoned, not awaited, when cancelled: a pool asked for a connection to
                // a database that has gone away may never answer (as in RescoreWorker).
                let work = { @Sendable [client, sequencer] in
                    try await withTimeout(.seconds(30)) {
                        try await client.withConnection { connection in try await sequencer.round(on: connection, sign: due) }
                    }
                }
                // A round under way when a stop begins is given up (a database that has gone away
                // must not hold the stop); the last round then has what is left of the stop's drain time
                // (`serve` cancels what still runs after 10 s: docs/operations.md, "Stopping the service").
                let round = try await final ? work() : cancelWhenGracefulShutdown(work)
                if due, round != nil { lastCheckpoint = clock.now }
                if failing { logger.notice("the audit sequencer reaches the database again") }
                failing = false
                return (round?.integrated ?? 0) > 0
            } catch {
                // A round a stop gave up (above) is not a failure: the last round follows.
                guard final || !Task.isShuttingDownGracefully else { return false }
                guard !Task.isCancelled, !failing else { return false }
                failing = true
                logger.error(
                    "the audit sequencer cannot chain events; writers go on appending and it retries",
                    metadata: ["error": "\(DatabaseError.reason(for: error))"])
                return false
            }
        }
        // Every `pollInterval` while there is work; an idle server backs off to four times that,
        // so a hundred idle servers (or test applications) do not poll a database for nothing.
        var wait = pollInterval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let worked = await round(final: false)
            wait = worked ? pollInterval : min(wait * 2, pollInterval * 4)
            // Woken by a stop, for the last round at once.
            try? await cancelWhenGracefulShutdown { [wait] in try await Task.sleep(for: wait) }
        }
        if Task.isShuttingDownGracefully { await round(final: true) }
    }
}
