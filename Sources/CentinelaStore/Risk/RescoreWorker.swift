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
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask {
                await withDiscardingTaskGroup { group in
                    group.addTask { await listen(wake: wake, logger: logger) }
                    group.addTask {
                        while !Task.isCancelled {
                            wake.yield()
                            try? await Task.sleep(for: pollInterval)
                        }
                    }
                    for await _ in wakes {
                        await drain(logger: logger)
                    }
                    group.cancelAll()
                }
            }
            outer.addTask {
                // On graceful shutdown no new round starts and the one in progress may finish;
                // one that cannot (the database is gone) is cancelled after a short grace.
                try? await gracefulShutdown()
                wake.finish()
                try? await Task.sleep(for: shutdownGrace)
            }
            await outer.next()
            outer.cancelAll()
        }
    }

    /// Listens on a connection of its own, not one of the pool's: it is held for as long as the
    /// service runs and closed the moment the service stops, whatever state the server is in.
    func listen(wake: AsyncStream<Void>.Continuation, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await database.withConnection(logger: logger) { connection in
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: "centinela_rescore") { notifications in
                            wake.yield()  // catch up on anything marked before listening
                            for try await _ in notifications { wake.yield() }
                        }
                    } onCancel: {
                        let closing: EventLoopFuture<Void> = connection.close()
                        _ = closing
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("rescore listener lost its connection; retrying", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Rescores until no mark is left.
    func drain(logger: Logger) async {
        do {
            while !Task.isCancelled {
                // Bounded, so that a pool waiting for a database that has gone away never holds
                // the worker (or its shutdown) hostage; the marks stay for the next round.
                let rescored = try await withTimeout(.seconds(60)) { [client, rescorer, usage] in
                    try await usage.track { try await client.withConnection { try await rescorer.rescoreMarked(on: $0) } }
                }
                if rescored == 0 { return }
            }
        } catch {
            if !Task.isCancelled {
                logger.error("rescoring marked facilities failed; will retry", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
        }
    }
}
