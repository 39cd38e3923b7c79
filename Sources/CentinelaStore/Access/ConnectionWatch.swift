import PostgresNIO

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
        let race = FirstAnswer<Result>()
        let worker = Task {
            do { race.finish(.success(try await work())) } catch { race.finish(.failure(error)) }
        }
        let watcher = Task {
            while !connection.isClosed {
                guard (try? await Task.sleep(for: interval)) != nil else { return }
            }
            guard (try? await Task.sleep(for: grace)) != nil else { return }
            race.finish(.failure(DatabaseError.connectionLost(database: database)))
        }
        // A cancelled caller cancels the work and still waits for it: the connection must not go
        // back to the pool while the work may use it (unless the connection closed under it).
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { race.start($0, work: worker, watch: watcher) }
        } onCancel: {
            worker.cancel()
        }
    }
}
