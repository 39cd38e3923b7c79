import Logging
import PostgresNIO
import Synchronization

/// What `/readyz` needs to know about the database.
public enum DatabaseHealth: Sendable, Equatable {
    /// Reachable, and the schema matches this build.
    case ready(SchemaStatus)
    /// Reachable, but migrations are pending.
    case schemaBehind(SchemaStatus)
    /// Reachable, but the schema does not match this build (edited or unknown migrations).
    case schemaInvalid(reason: String)
    /// Not reachable, or did not answer in time.
    case unreachable(reason: String)
}

/// Checks the database on behalf of the health endpoints.
public protocol DatabaseHealthChecking: Sendable {
    func check() async -> DatabaseHealth
}

/// The real check: one pooled connection, the migrations table read, all within a time limit so a
/// hung database makes `/readyz` fail fast instead of hanging the probe.
public struct PostgresHealthCheck: DatabaseHealthChecking {
    let client: PostgresClient
    let migrator: Migrator
    let timeout: Duration

    public init(client: PostgresClient, migrations: MigrationSet, timeout: Duration = .seconds(2), logger: Logger) {
        self.client = client
        self.migrator = Migrator(migrations: migrations, logger: logger)
        self.timeout = timeout
    }

    public func check() async -> DatabaseHealth {
        do {
            let status = try await withTimeout(timeout) { [client, migrator] in
                try await client.withConnection { connection in
                    try await migrator.status(on: connection)
                }
            }
            return status.isCurrent ? .ready(status) : .schemaBehind(status)
        } catch let error as MigrationError {
            return .schemaInvalid(reason: error.description)
        } catch is TimeoutError {
            return .unreachable(reason: "the database did not answer within \(timeout.components.seconds) s")
        } catch {
            return .unreachable(reason: DatabaseError.reason(for: error))
        }
    }
}

/// Thrown by ``withTimeout(_:operation:)`` when the operation takes longer than allowed.
public struct TimeoutError: Error, CustomStringConvertible {
    public var description: String { "timed out" }
}

/// Runs `operation`, cancelling it and throwing ``TimeoutError`` if it outlasts `limit`, or
/// `CancellationError` as soon as the caller is cancelled.
///
/// The caller never waits for `operation` to acknowledge its cancellation: a connection-pool
/// request for a database that has gone away may not, and a health probe or a shutdown must not
/// hang on it. The abandoned operation finishes on its own later and its result is dropped.
public func withTimeout<Result: Sendable>(
    _ limit: Duration,
    operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let race = FirstAnswer<Result>()
    @Sendable func finish(_ outcome: Swift.Result<Result, any Error>) { race.finish(outcome) }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(
                continuation,
                work: Task {
                    do { finish(.success(try await operation())) } catch { finish(.failure(error)) }
                },
                watch: Task {
                    guard (try? await Task.sleep(for: limit)) != nil else { return }
                    finish(.failure(TimeoutError()))
                })
        }
    } onCancel: {
        finish(.failure(CancellationError()))
    }
}

/// Who answers first: the work, or what gives up on it (a timer in ``withTimeout(_:operation:)``,
/// a closed connection in `ConnectionWatch`), or a cancellation. The first answer is delivered
/// once; both tasks are then cancelled.
final class FirstAnswer<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var tasks: [Task<Void, Never>] = []
        var outcome: Swift.Result<Result, any Error>?
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Result, any Error>, work: Task<Void, Never>, watch: Task<Void, Never>) {
        let early = state.withLock { state -> Swift.Result<Result, any Error>? in
            if let outcome = state.outcome { return outcome }  // cancelled before starting
            state.continuation = continuation
            state.tasks = [work, watch]
            return nil
        }
        if let early {
            work.cancel()
            watch.cancel()
            continuation.resume(with: early)
        }
    }

    func finish(_ outcome: Swift.Result<Result, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<Result, any Error>?, [Task<Void, Never>]) in
            guard state.outcome == nil else { return (nil, []) }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: outcome)
    }
}
