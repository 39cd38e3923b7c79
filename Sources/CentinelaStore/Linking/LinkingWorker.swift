import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

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
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let notified = NotifiedFlag()
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask {
                await withDiscardingTaskGroup { group in
                    group.addTask { await listen(wake: wake, notified: notified) }
                    group.addTask {
                        while !Task.isCancelled {
                            wake.yield()
                            try? await Task.sleep(for: pollInterval)
                        }
                    }
                    for await _ in wakes { await apply(notified: notified.take()) }
                    group.cancelAll()
                }
            }
            outer.addTask {
                try? await gracefulShutdown()
                wake.finish()
                try? await Task.sleep(for: shutdownGrace)
            }
            await outer.next()
            outer.cancelAll()
        }
    }

    func listen(wake: AsyncStream<Void>.Continuation, notified: NotifiedFlag) async {
        while !Task.isCancelled {
            do {
                try await database.withConnection(logger: logger) { connection in
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: "centinela_link_decided") { notifications in
                            for try await _ in notifications {
                                notified.raise()
                                wake.yield()
                            }
                        }
                    } onCancel: {
                        let closing: EventLoopFuture<Void> = connection.close()
                        _ = closing
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("link decision listener lost its connection; retrying", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
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

/// Whether a decision's notification arrived since the worker last looked.
final class NotifiedFlag: Sendable {
    private let raised = Mutex(false)

    func raise() { raised.withLock { $0 = true } }

    /// The flag, lowered.
    func take() -> Bool { raised.withLock { flag in defer { flag = false }; return flag } }
}
