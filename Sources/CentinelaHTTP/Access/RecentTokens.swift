import Foundation
import Synchronization

/// Tokens that authenticated lately, by the SHA-256 of their secret. An address throttled for its
/// failed authentications still lets these through (each is then looked up in the database as
/// always: a revoked one is refused at once), so that one misbehaving client behind a shared
/// address — a school's or a regulator's office, a NAT — does not lock out everyone else behind it.
/// A flood of made-up tokens is never among them, so it still costs the database nothing.
final class RecentTokens: Sendable {
    private let seen = Mutex<[[UInt8]: ContinuousClock.Instant]>([:])
    /// How long a successful authentication vouches for its token.
    let window: Duration
    /// Tokens remembered at most; beyond it the oldest are forgotten (they are throttled like
    /// any other until they next authenticate from an address that is not).
    let capacity: Int

    init(window: Duration = .seconds(600), capacity: Int = 10_000) {
        self.window = window
        self.capacity = capacity
    }

    func remember(_ hash: [UInt8], now: ContinuousClock.Instant = .now) {
        seen.withLock { seen in
            seen[hash] = now
            guard seen.count > capacity else { return }
            seen = seen.filter { now - $0.value < window }
            if seen.count > capacity {
                // Still full of recent ones: keep the newest three quarters.
                let kept = seen.sorted { $0.value > $1.value }.prefix(capacity * 3 / 4)
                seen = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
            }
        }
    }

    func contains(_ hash: [UInt8], now: ContinuousClock.Instant = .now) -> Bool {
        seen.withLock { seen in seen[hash].map { now - $0 < window } ?? false }
    }
}
