import Foundation
import Synchronization

/// How much of the connection pool the service's work holds: PostgresNIO keeps its pool's
/// figures to itself, so the service counts around its own uses of it (requests, the rescoring
/// worker, webhook deliveries). Read by `/metrics`.
public final class DatabaseUsage: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Units of work holding a connection now.
        public var inUse: Int
        /// The most held at once since the previous snapshot (a scrape samples one instant; this
        /// sees the bursts between scrapes).
        public var peakSinceLastSnapshot: Int
        /// Units of work ever started, and the seconds they held a connection in all: the rate of
        /// the second over time is the mean number of connections in use (Little's law).
        public var acquisitions: Int
        public var heldSeconds: Double

        public init(inUse: Int, peakSinceLastSnapshot: Int, acquisitions: Int, heldSeconds: Double) {
            self.inUse = inUse
            self.peakSinceLastSnapshot = peakSinceLastSnapshot
            self.acquisitions = acquisitions
            self.heldSeconds = heldSeconds
        }
    }

    private struct State {
        var inUse = 0
        var peak = 0
        var acquisitions = 0
        var heldSeconds = 0.0
    }

    private let state = Mutex(State())
    /// The pool's configured maximum.
    public let maximum: Int

    public init(maximum: Int) {
        self.maximum = maximum
    }

    /// Runs `body`, which holds one pooled connection, counted while it runs.
    public func track<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        let start = ContinuousClock.now
        state.withLock {
            $0.inUse += 1
            $0.acquisitions += 1
            $0.peak = max($0.peak, $0.inUse)
        }
        defer {
            let held = ContinuousClock.now - start
            let seconds = Double(held.components.seconds) + Double(held.components.attoseconds) / 1e18
            state.withLock {
                $0.inUse -= 1
                $0.heldSeconds += seconds
            }
        }
        return try await body()
    }

    /// The figures now; the peak starts again from the current use.
    public func snapshot() -> Snapshot {
        state.withLock {
            let snapshot = Snapshot(
                inUse: $0.inUse, peakSinceLastSnapshot: $0.peak, acquisitions: $0.acquisitions, heldSeconds: $0.heldSeconds)
            $0.peak = $0.inUse
            return snapshot
        }
    }
}
