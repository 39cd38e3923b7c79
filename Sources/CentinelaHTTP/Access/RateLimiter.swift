import Synchronization

/// Token buckets by key (a token's id, a client address): each holds up to `burst` requests and
/// refills at `rate` a second. A bucket that is empty says how long until the next request may
/// come, for `Retry-After`.
final class RateLimiter: Sendable {
    struct Bucket: Sendable, Equatable {
        var tokens: Double
        var updated: ContinuousClock.Instant

        /// The bucket as it stands at `now`, refilled since it was last touched.
        func refilled(rate: Double, burst: Double, now: ContinuousClock.Instant) -> Bucket {
            let elapsed = now - updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            return Bucket(tokens: min(burst, tokens + max(0, seconds) * rate), updated: now)
        }
    }

    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Buckets kept at most; full ones (callers who went quiet) are forgotten first.
    private let capacity: Int

    init(rate: Double, burst: Double, capacity: Int = 50_000) {
        precondition(rate > 0 && burst >= 1)
        self.rate = rate
        self.burst = burst
        self.capacity = capacity
    }

    /// The limit on failed authentications from one address (`HTTPConfiguration`): a burst, then
    /// one attempt every `failedAuthenticationEvery`. The API and the console's sign-in use it.
    static func failedAuthentications(_ limits: HTTPConfiguration) -> RateLimiter {
        RateLimiter(rate: 1 / (limits.failedAuthenticationEvery / .seconds(1)), burst: Double(max(1, limits.failedAuthenticationBurst)))
    }

    /// Takes one request from `key`'s bucket: nil when there was one, else how long to wait.
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = (buckets[key] ?? Bucket(tokens: burst, updated: now)).refilled(rate: rate, burst: burst, now: now)
            defer {
                buckets[key] = bucket
                if buckets.count > capacity { forgetFull(&buckets, now: now) }
            }
            guard bucket.tokens >= 1 else { return wait(for: bucket) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// How long until `key` may make a request, without taking one: nil when it may now.
    func check(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            guard let bucket = buckets[key]?.refilled(rate: rate, burst: burst, now: now), bucket.tokens < 1 else { return nil }
            return wait(for: bucket)
        }
    }

    private func wait(for bucket: Bucket) -> Duration {
        .milliseconds(Int64(((1 - bucket.tokens) / rate * 1000).rounded(.up)))
    }

    private func forgetFull(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { $0.value.refilled(rate: rate, burst: burst, now: now).tokens < burst }
    }
}

extension Duration {
    /// Whole seconds, rounded up, at least 1: what `Retry-After` carries.
    var retryAfterSeconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}
