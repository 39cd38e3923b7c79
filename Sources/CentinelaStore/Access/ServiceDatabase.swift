import CentinelaCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The service's way into PostgreSQL: every unit of work is one transaction run as the
/// `centinela_service` role with the caller's scope set, so that row-level security filters every
/// statement even if a query forgets a condition.
public struct ServiceDatabase: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// Counts the connections this work holds, for `/metrics`.
    public let usage: DatabaseUsage
    /// How long a request waits for a connection before it is refused as unavailable (503). With
    /// the database away the pool keeps trying to connect and a lease would wait for as long as
    /// that takes (PostgresNIO has no lease timeout); requests must be answered within a bounded
    /// time instead (issue 21). Work that has its connection is never cut short.
    public let leaseTimeout: Duration

    public init(
        client: PostgresClient, logger: Logger, usage: DatabaseUsage = DatabaseUsage(maximum: 10), leaseTimeout: Duration = .seconds(2)
    ) {
        self.client = client
        self.logger = logger
        self.usage = usage
        self.leaseTimeout = leaseTimeout
    }

    /// Resolves a presented token to its principal, or nil for an unknown, expired or revoked one.
    /// One statement outside any transaction: the lookup function runs with its owner's rights,
    /// so the caller needs no role switch to use it.
    public func authenticate(_ secret: TokenSecret) async throws -> Principal? {
        try await usage.track {
            try await withLease { connection in try await lookUp(secret, on: connection) }
        }
    }

    /// Appends an event about a refused request (no scope to enter: the caller was not let in) in a
    /// transaction of its own, in the system scope.
    public func auditRefusal(_ event: AuditEvent) async throws {
        try await usage.track {
            try await withLease { connection in
                try await connection.systemTransaction(logger: logger) {
                    try await AuditLog.append(event, on: connection, logger: logger)
                }
            }
        }
    }

    /// Whether `principal`'s token still holds: not revoked, not expired. For responses that
    /// outlive the request's authentication (the live alert stream), through the same function
    /// webhook delivery asks (Schema/0006_webhooks.sql).
    public func isStillValid(_ principal: Principal) async throws -> Bool {
        try await usage.track {
            try await withLease { connection in
                var valid = false
                for try await value in try await connection.query(
                    "SELECT centinela_token_is_active(\(principal.id.rawValue))", logger: logger
                ).decode(Bool.self) { valid = value }
                return valid
            }
        }
    }

    /// Runs `work` on a connection from the pool, or throws ``DatabaseError/timedOut(database:after:)``
    /// (503 with Retry-After) when none was handed out within `leaseTimeout`; the request for one
    /// is then withdrawn.
    func withLease<Result: Sendable>(_ work: (PostgresConnection) async throws -> Result) async throws -> Result {
        let leased = LeaseFlag()
        let (client, limit) = (client, leaseTimeout)
        return try await withoutActuallyEscaping(work) { work in
            // The caller waits for the group, so `work` never runs beside it.
            nonisolated(unsafe) let work = work
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.raise()
                        return try await work(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    guard leased.isRaised else { throw DatabaseError.timedOut(database: "the service's connection pool", after: limit) }
                    return nil
                }
                while let outcome = try await group.next() {
                    guard let result = outcome else { continue }
                    group.cancelAll()
                    return result
                }
                throw CancellationError()
            }
        }
    }

    private func lookUp(_ secret: TokenSecret, on connection: PostgresConnection) async throws -> Principal? {
        let rows = try await connection.query(
            """
            SELECT token_id, holder, role, facility_ids, jurisdiction_ids
            FROM centinela_authenticate(\(Data(secret.sha256)))
            """, logger: logger)
        var principal: Principal?
        for try await (id, holder, role, facilities, jurisdictions)
            in rows.decode((UUID, String, String, [UUID], [UUID]).self)
        {
            guard let role = Principal.Role(rawValue: role) else { continue }
            principal = Principal(
                id: .init(id), holder: holder, role: role,
                facilityIDs: Set(facilities.map(Facility.ID.init)),
                jurisdictionIDs: Set(jurisdictions.map(Jurisdiction.ID.init)))
        }
        return principal
    }

    /// Runs `body` in one transaction as `centinela_service`, scoped to `principal`.
    public func withScope<Result: Sendable>(
        _ principal: Principal,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await usage.track {
            try await withLease { connection in
                try await connection.inTransaction(logger: logger) { connection in
                    try await Self.enterScope(principal, on: connection, logger: logger)
                    return try await body(connection)
                }
            }
        }
    }

    /// Appends an audit event to the current transaction; call it last, just before commit.
    public func audit(_ event: AuditEvent, on connection: PostgresConnection) async throws {
        try await AuditLog.append(event, on: connection, logger: logger)
    }

    /// Switches the current transaction to the service role and the principal's scope.
    public static func enterScope(_ principal: Principal, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        // One round trip: set_config('role', …, true) is SET LOCAL ROLE.
        try await connection.query(
            """
            SELECT set_config('role', 'centinela_service', true),
                   set_config('centinela.role', \(principal.role.rawValue), true),
                   set_config('centinela.token', \(principal.id.description), true),
                   set_config('centinela.facilities', \(arrayLiteral(principal.facilityIDs.map(\.rawValue))), true),
                   set_config('centinela.jurisdictions', \(arrayLiteral(principal.jurisdictionIDs.map(\.rawValue))), true)
            """, logger: logger)
    }

    /// A PostgreSQL array literal of UUIDs, `{a,b}`: UUIDs need no quoting.
    static func arrayLiteral(_ ids: [UUID]) -> String {
        "{" + ids.map { $0.uuidString.lowercased() }.sorted().joined(separator: ",") + "}"
    }
}

extension PostgresConnection {
    /// `withTransaction` that reports the error of the work itself, not PostgresNIO's wrapper.
    func inTransaction<Result: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger, isolation: #isolation) { connection in
                try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }
}

/// Whether the pool has handed out the connection a request waits for.
final class LeaseFlag: Sendable {
    private let raised = Mutex(false)
    func raise() { raised.withLock { $0 = true } }
    var isRaised: Bool { raised.withLock { $0 } }
}
