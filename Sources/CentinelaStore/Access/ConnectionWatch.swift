import PostgresNIO
import Synchronization

/// Work on a connection that is answered even when the connection closes under it.
///
/// PostgresNIO (1.33) writes each statement to its channel without a promise, so a statement
/// written just after the connection closed is dropped without its query ever failing, and
/// whatever awaits it waits for ever (vapor/postgres-nio#487, reverted in #501). A request that
/// had its connection when the database went away was then never answered (issue 21, item 1).
/// The work runs in a task of its own; the caller takes its result or, once the connection has been
/// closed for `grace` (a statement that was in flight fails by itself at once), gives it up with
/// ``DatabaseError/connectionLost(database:)``. An abandoned task stays suspended on its lost
/// statement; it holds nothing else, and the connection goes back to the pool, which drops it.
enum ConnectionWatch {
    static func run<Result: Sendable>(
        on connection: PostgresConnection, database: String, checkEvery interval: Duration = .milliseconds(200),
        grace: Duration = .seconds(1), _ work: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let outcome = Outcome<Result>()
        let worker = Task {
            do { outcome.settle(.success(try await work())) } catch { outcome.settle(.failure(error)) }
        }
        let watcher = Task {
            while !connection.isClosed {
                guard (try? await Task.sleep(for: interval)) != nil else { return }
            }
            guard (try? await Task.sleep(for: grace)) != nil else { return }
            outcome.settle(.failure(DatabaseError.connectionLost(database: database)))
        }
        defer { watcher.cancel() }
        return try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            worker.cancel()
        }
    }
}

/// A result settled once, by whichever comes first, and awaited once.
private final class Outcome<Value: Sendable>: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<Value, any Error>)
        case settled(Result<Value, any Error>)
        case delivered
    }
    private let state = Mutex(State.pending)

    func settle(_ result: Result<Value, any Error>) {
        let waiter: CheckedContinuation<Value, any Error>? = state.withLock { state in
            switch state {
            case .pending:
                state = .settled(result)
                return nil
            case .waiting(let continuation):
                state = .delivered
                return continuation
            case .settled, .delivered:
                return nil
            }
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Value, any Error>? = state.withLock { state in
                switch state {
                case .pending:
                    state = .waiting(continuation)
                    return nil
                case .settled(let result):
                    state = .delivered
                    return result
                case .waiting, .delivered:
                    preconditionFailure("an outcome is awaited once")
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
