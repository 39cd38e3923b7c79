import Logging
import PostgresNIO

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

/// Runs `operation`, cancelling it and throwing ``TimeoutError`` if it outlasts `limit`.
public func withTimeout<Result: Sendable>(
    _ limit: Duration,
    operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else { throw TimeoutError() }
        return result
    }
}
