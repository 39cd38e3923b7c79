import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Tells live alert streams when to look for new events, inside `serve`.
///
/// One connection listens on `StreamSequencer.channel` (sent when events take their place in the
/// stream, at the commit of the sequencer's batch) for
/// the whole process, however many streams are open; each stream then reads the events it may see
/// in its caller's scope. A heartbeat goes to every stream at a fixed interval: streams write it to
/// keep proxies from closing idle connections, and look for events once more in case a
/// notification was lost while the listener reconnected.
public final class AlertFeed: Service, Sendable {
    public enum Signal: Sendable {
        case events
        case heartbeat
        /// Time for a stream to check that its token still holds (every `tokenCheck`).
        case tokenCheck
    }

    private let database: DatabaseConfiguration
    private let logger: Logger
    public let heartbeat: Duration
    public let tokenCheck: Duration
    private let subscribers = Mutex<[UUID: AsyncStream<Signal>.Continuation]>([:])

    public init(database: DatabaseConfiguration, heartbeat: Duration = .seconds(15), tokenCheck: Duration = .seconds(5), logger: Logger) {
        self.database = database
        self.heartbeat = heartbeat
        self.tokenCheck = tokenCheck
        self.logger = logger
    }

    /// A stream of signals for one live stream; it ends when the feed stops. Call `unsubscribe`
    /// with the id when the stream's client goes away.
    public func subscribe() -> (id: UUID, signals: AsyncStream<Signal>) {
        let (signals, continuation) = AsyncStream.makeStream(of: Signal.self, bufferingPolicy: .bufferingNewest(2))
        let id = UUID()
        subscribers.withLock { $0[id] = continuation }
        return (id, signals)
    }

    public func unsubscribe(_ id: UUID) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.finish()
    }

    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    private func broadcast(_ signal: Signal) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(signal) }
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen() }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.heartbeat)
                    self.broadcast(.heartbeat)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.tokenCheck)
                    self.broadcast(.tokenCheck)
                }
            }
            group.addTask { try? await gracefulShutdown() }
            await group.next()
            group.cancelAll()
        }
        // Streams end with the service: their clients reconnect (with Last-Event-ID) elsewhere.
        for continuation in subscribers.withLock({ state in
            defer { state.removeAll() }
            return Array(state.values)
        }) { continuation.finish() }
    }

    /// Listens on a connection of its own, reconnecting after a second when it is lost.
    private func listen() async {
        // Whatever was appended while not listening, then each new event.
        await database.listen(on: StreamSequencer.channel, as: "alert feed", logger: logger) {
            self.broadcast(.events)
        } notified: {
            self.broadcast(.events)
        }
    }
}
