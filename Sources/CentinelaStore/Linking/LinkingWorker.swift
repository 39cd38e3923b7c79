import Logging
import PostgresNIO
import ServiceLifecycle

/// Applies regulators' decisions on proposed adult links inside `serve`: woken by the
/// `centinela_link_decided` notification each decision sends at commit (and polling as a
/// fallback), it runs a linking update (LinkingRebuilder+Update.swift), which resolves the decided
/// pairs' persons again and marks the facilities whose ties changed; the rescoring worker then
/// rescores them within seconds.
public struct LinkingWorker: Service {
    let client: PostgresClient
    let database: DatabaseConfiguration
    let pollInterval: Duration
    let usage: DatabaseUsage
    let logger: Logger
    let shutdownGrace: Duration = .seconds(5)

    public init(
        client: PostgresClient, database: DatabaseConfiguration, pollInterval: Duration = .seconds(60), usage: DatabaseUsage, logger: Logger
    ) {
        self.client = client
        self.database = database
        self.pollInterval = pollInterval
        self.usage = usage
        self.logger = logger
    }

    public func run() async throws {
        await WakeLoop(
            database: database, channel: "centinela_link_decided", pollInterval: pollInterval, shutdownGrace: shutdownGrace, logger: logger
        )
        .run { notified in await apply(notified: notified) }
    }

    /// One linking update, when a decision was notified or one is waiting. A notified decision
    /// always runs one: its transaction may have begun before the last run started and committed
    /// after, and an update re-applies the decisions of the minutes before its start. Another run
    /// holding the lock (the nightly `rescore`, a rebuild) applies them itself.
    func apply(notified: Bool) async {
        let rebuilder = LinkingRebuilder(logger: logger)
        do {
            // Abandoned, not awaited, when the worker is cancelled: a pool asked for a connection to
            // a database that has gone away may never answer, and must not hold shutdown hostage
            // (as in RescoreWorker). The bound itself is far above any update's length.
            try await withTimeout(.seconds(3600)) { [client, usage] in
                try await usage.track {
                    try await client.withConnection { reader in
                        let waiting = try await rebuilder.hasUnappliedDecisions(on: reader)
                        guard notified || waiting else { return }
                        try await client.withConnection { writer in
                            _ = try await rebuilder.update(reader: reader, writer: writer)
                        }
                    }
                }
            }
        } catch LinkingRebuilder.Failure.alreadyRunning {
            logger.debug("a linking run holds the lock; decisions wait for it or the next wake")
        } catch {
            if !Task.isCancelled {
                logger.error("applying link decisions failed; will retry", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
        }
    }
}
