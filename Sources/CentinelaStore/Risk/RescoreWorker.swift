import CentinelaCore
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// Rescores facilities marked stale by new reports, decisions and corrections, inside `serve`.
///
/// Woken by the `centinela_rescore` notification each mark sends at commit, and polling every
/// `pollInterval` as a fallback (a notification sent while the listener reconnects is lost; the
/// mark is not). Marks live in the database, so nothing is lost if the process dies.
public struct RescoreWorker: Service {
    let client: PostgresClient
    let database: DatabaseConfiguration
    let rescorer: Rescorer
    let pollInterval: Duration
    let usage: DatabaseUsage
    let shutdownGrace: Duration = .seconds(5)

    public init(
        client: PostgresClient, database: DatabaseConfiguration, rescorer: Rescorer, pollInterval: Duration = .seconds(5),
        usage: DatabaseUsage = DatabaseUsage(maximum: 10)
    ) {
        self.client = client
        self.database = database
        self.rescorer = rescorer
        self.pollInterval = pollInterval
        self.usage = usage
    }

    public func run() async throws {
        let logger = rescorer.logger
        await WakeLoop(
            database: database, channel: "centinela_rescore", pollInterval: pollInterval, shutdownGrace: shutdownGrace, logger: logger
        )
        .run { _ in await drain(logger: logger) }
    }

    /// Between two rounds that both found work: a stream of reports into one facility would
    /// otherwise have its whole evidence read again after every few reports (a third of the
    /// server's CPU under the ingest bench, docs/performance.md, session 19). The first round
    /// after a quiet spell is never delayed: a facility's first report is scored at once.
    static let busyPace: Duration = .milliseconds(250)
    /// And at least this many times as long as the busy round took: a facility whose evidence
    /// takes 200 ms to read and score again is rescored every second while its reports keep
    /// coming, and the worker takes at most a fifth of a core from the reports' intake...
    static let busyRest = 4
    /// ...but never more than this: on a loaded machine a round of many facilities can take
    /// seconds, and a report must still be scored within seconds of it (a rest of 4× a 7 s round
    /// left a facility unscored for half a minute under the test suite's load).
    static let longestRest: Duration = .seconds(2)

    /// Rescores until no mark is left.
    func drain(logger: Logger) async {
        var busy = false
        do {
            while !Task.isCancelled {
                let started = ContinuousClock.now
                // Bounded, so that a pool waiting for a database that has gone away never holds
                // the worker (or its shutdown) hostage; the marks stay for the next round.
                let rescored = try await withTimeout(.seconds(60)) { [client, rescorer, usage] in
                    try await usage.track { try await client.withConnection { try await rescorer.rescoreMarked(on: $0) } }
                }
                if rescored == 0 { return }
                if busy {
                    try await Task.sleep(for: min(Self.longestRest, max(Self.busyPace, (ContinuousClock.now - started) * Self.busyRest)))
                }
                busy = true
            }
        } catch {
            if !Task.isCancelled {
                logger.error("rescoring marked facilities failed; will retry", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
        }
    }
}
