import CentinelaCore
import Synchronization

/// Presented tokens looked up together: every request is authenticated against the database, but
/// the requests that arrive while a lookup is under way share the next one, a single statement for
/// all their tokens. Under load (a school's intake clerks, a state's import, 32 clients of the
/// ingest bench) that is one statement for tens of requests instead of one each, which was about a
/// third of the statements the service sent.
///
/// Nothing is remembered between lookups: a request is only ever answered by a lookup sent after it
/// arrived, so a token revoked or expired before a request reaches the service is refused, exactly
/// as when each request looked its own token up.
final class TokenLookups: Sendable {
    typealias LookUp = @Sendable ([[UInt8]]) async throws -> [[UInt8]: Principal]

    private struct State {
        /// The requests waiting for the next lookup, by their token's SHA-256.
        var waiting: [[UInt8]: [CheckedContinuation<Principal?, any Error>]] = [:]
        /// Whether a lookup is under way (then the waiting ones go in the one after it).
        var running = false
    }

    private let state = Mutex(State())

    init() {}

    /// The principal of the token whose SHA-256 is `hash`, or nil for an unknown, expired or
    /// revoked one; throws what the lookup threw. `lookUp` resolves a set of hashes in one
    /// statement (the first waiting request's is used for the whole run of lookups).
    func principal(for hash: [UInt8], lookUp: @escaping LookUp) async throws -> Principal? {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state in
                state.waiting[hash, default: []].append(continuation)
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if start { Task { await self.drain(lookUp) } }
        }
    }

    /// Looks up what is waiting, then what arrived meanwhile, until nothing is left.
    private func drain(_ lookUp: LookUp) async {
        while true {
            let batch = state.withLock { state -> [[UInt8]: [CheckedContinuation<Principal?, any Error>]]? in
                guard !state.waiting.isEmpty else {
                    state.running = false
                    return nil
                }
                defer { state.waiting = [:] }
                return state.waiting
            }
            guard let batch else { return }
            do {
                let principals = try await lookUp(Array(batch.keys))
                for (hash, continuations) in batch {
                    for continuation in continuations { continuation.resume(returning: principals[hash]) }
                }
            } catch {
                for continuation in batch.values.joined() { continuation.resume(throwing: error) }
            }
        }
    }
}
