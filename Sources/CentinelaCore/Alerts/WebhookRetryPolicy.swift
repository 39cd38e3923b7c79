import Foundation

/// When a failed webhook delivery is tried again, and when it is given up (dead-lettered).
/// Exponential backoff with jitter, bounded in time and in attempts, so that a receiver that is
/// down for an afternoon still gets everything, and one that is gone stops costing anything.
public struct WebhookRetryPolicy: Hashable, Sendable {
    /// Seconds before the second attempt; doubled for each further one...
    public var firstDelay: Double
    /// ...up to this.
    public var maximumDelay: Double
    /// Each delay is moved at random by up to this fraction, so that deliveries that failed
    /// together do not retry together.
    public var jitter: Double
    /// No attempt is made later than this many seconds after the delivery was queued...
    public var giveUpAfter: Double
    /// ...nor more attempts than this.
    public var maximumAttempts: Int

    public init(
        firstDelay: Double = 5, maximumDelay: Double = 3600, jitter: Double = 0.2, giveUpAfter: Double = 3 * 86_400,
        maximumAttempts: Int = 20
    ) {
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.giveUpAfter = giveUpAfter
        self.maximumAttempts = maximumAttempts
    }

    /// Seconds to wait after failed attempt number `attempt` (1 for the first), for a `random`
    /// number in 0..<1.
    public func delay(afterAttempt attempt: Int, random: Double) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 40)))
        let base = min(maximumDelay, firstDelay * pow(2, exponent))
        return max(0, base * (1 + jitter * (2 * random - 1)))
    }

    /// What to do after failed attempt number `attempt` of a delivery queued at `queuedAt`: the
    /// time of the next attempt, or nil to give up.
    public func nextAttempt(afterAttempt attempt: Int, queuedAt: Date, now: Date, random: Double) -> Date? {
        guard attempt < maximumAttempts else { return nil }
        let next = now.addingTimeInterval(delay(afterAttempt: attempt, random: random))
        return next.timeIntervalSince(queuedAt) <= giveUpAfter ? next : nil
    }
}
