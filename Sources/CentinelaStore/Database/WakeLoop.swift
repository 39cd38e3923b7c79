import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// How the service's background workers run: one round at a time, woken by a PostgreSQL
/// notification sent at commit and by polling as a fallback (a notification sent while the
/// listener reconnects is lost; the work it announces is in the database, and the next poll finds
/// it). On graceful shutdown no new round starts, and the one in progress has `shutdownGrace` to
/// finish before it is cancelled.
struct WakeLoop: Sendable {
    let database: DatabaseConfiguration
    /// The notification channel that announces work.
    let channel: String
    let pollInterval: Duration
    let shutdownGrace: Duration
    let logger: Logger

    /// Runs `round` until graceful shutdown; `notified` says whether a notification arrived since
    /// the last round (rather than only the poll).
    func run(_ round: @escaping @Sendable (_ notified: Bool) async -> Void) async {
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
                    for await _ in wakes { await round(notified.take()) }
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

    private func listen(wake: AsyncStream<Void>.Continuation, notified: NotifiedFlag) async {
        await database.listen(on: channel, as: "\(channel) listener", logger: logger) {
            wake.yield()  // catch up on anything announced before listening
        } notified: {
            notified.raise()
            wake.yield()
        }
    }
}

extension DatabaseConfiguration {
    /// Listens on `channel` until cancelled, on a connection of its own, not one of the pool's: it
    /// is held for as long as the listener runs and closed the moment it stops, whatever state the
    /// server is in. A lost connection is logged (as `name`) and made again a second later;
    /// `listening` runs each time listening (re)starts, `notified` at each notification.
    func listen(
        on channel: String, as name: String, logger: Logger,
        listening: @escaping @Sendable () -> Void, notified: @escaping @Sendable () -> Void
    ) async {
        while !Task.isCancelled {
            do {
                try await withConnection(logger: logger) { connection in
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: channel) { notifications in
                            listening()
                            for try await _ in notifications { notified() }
                        }
                    } onCancel: {
                        let closing: EventLoopFuture<Void> = connection.close()
                        _ = closing
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("\(name) lost its connection; retrying", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// Whether a notification arrived since the worker last looked.
final class NotifiedFlag: Sendable {
    private let raised = Mutex(false)

    func raise() { raised.withLock { $0 = true } }

    /// The flag, lowered.
    func take() -> Bool {
        raised.withLock { flag in
            defer { flag = false }
            return flag
        }
    }
}
