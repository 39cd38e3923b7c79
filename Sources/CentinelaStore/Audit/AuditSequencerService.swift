import CentinelaCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The sequencer inside `centinela serve` (decision 43): every `pollInterval` it runs a round on
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
        func round(final: Bool) async {
            let due =
                sequencer.checkpoints.map { checkpoints in
                    final || lastCheckpoint.map { clock.now - $0 >= checkpoints.interval } ?? true
                } ?? false
            do {
                // Bounded and abandoned, not awaited, when cancelled: a pool asked for a connection to
                // a database that has gone away may never answer (as in RescoreWorker).
                let round = try await withTimeout(.seconds(60)) { [client, sequencer] in
                    try await client.withConnection { connection in try await sequencer.round(on: connection, sign: due) }
                }
                if due, round != nil { lastCheckpoint = clock.now }
                if failing { logger.notice("the audit sequencer reaches the database again") }
                failing = false
            } catch {
                guard !Task.isCancelled, !failing else { return }
                failing = true
                logger.error(
                    "the audit sequencer cannot chain events; writers go on appending and it retries",
                    metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await round(final: false)
            try? await Task.sleep(for: pollInterval)
        }
        if Task.isShuttingDownGracefully { await round(final: true) }
    }
}
