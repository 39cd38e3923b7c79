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
    private let tokenLookups = TokenLookups()

    public init(
        client: PostgresClient, logger: Logger, usage: DatabaseUsage = DatabaseUsage(maximum: 10),
        leaseTimeout: Duration = DatabaseConfiguration.defaultConnectionWait
    ) {
        self.client = client
        self.logger = logger
        self.usage = usage
        self.leaseTimeout = leaseTimeout
    }

    /// Resolves a presented token to its principal, or nil for an unknown, expired or revoked one.
    /// One statement outside any transaction: the lookup function runs with its owner's rights,
    /// so the caller needs no role switch to use it.
    /// Requests arriving together share one lookup (``TokenLookups``).
    public func authenticate(_ secret: TokenSecret) async throws -> Principal? {
        try await tokenLookups.principal(for: secret.sha256) { [self] hashes in
            try await usage.track {
                try await withLease { connection in try await lookUp(hashes, on: connection) }
            }
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
    /// (503 with Retry-After) when none was handed out within `leaseTimeout`.
    ///
    /// The connection is leased by a task of its own that hands it over and holds it until `work`
    /// is done. The caller never waits on the pool itself: a pool asked for a connection to a
    /// database that has gone away may not answer even a cancellation, and a request (or a
    /// shutdown) must not wait for it. A connection handed over after the caller gave up goes
    /// straight back to the pool.
    ///
    /// The work runs watched (``ConnectionWatch``): if the connection closes under it, the caller
    /// is answered (503) even when PostgresNIO has dropped the statement the work was waiting on.
    func withLease<Result: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let handoff = LeaseHandoff()
        let lease = Task { [client] in
            do {
                try await client.withConnection { connection in
                    guard handoff.offer(connection) else { return }
                    await handoff.waitUntilReturned()
                }
            } catch {
                handoff.fail(error)
            }
        }
        let connection: PostgresConnection
        do {
            connection = try await handoff.take(within: leaseTimeout)
        } catch {
            lease.cancel()  // withdraws the request, if the pool listens
            throw error
        }
        defer { handoff.giveBack() }
        return try await ConnectionWatch.run(on: connection, database: "the service's connection pool") { try await work(connection) }
    }

    private func lookUp(_ hashes: [[UInt8]], on connection: PostgresConnection) async throws -> [[UInt8]: Principal] {
        let hexes = Dictionary(hashes.map { ($0.lowercaseHex, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = try await connection.query(
            """
            SELECT h, a.token_id, a.holder, a.role, a.facility_ids, a.jurisdiction_ids
            FROM unnest(\(Array(hexes.keys))::text[]) AS h, LATERAL centinela_authenticate(decode(h, 'hex')) a
            """, logger: logger)
        var principals: [[UInt8]: Principal] = [:]
        for try await (hex, id, holder, role, facilities, jurisdictions) in rows.decode((String, UUID, String, String, [UUID], [UUID]).self)
        {
            guard let hash = hexes[hex] else { continue }
            principals[hash] = Self.principal((id, holder, role, facilities, jurisdictions))
        }
        return principals
    }

    /// A token's principal from the columns `centinela_authenticate` (and the console's
    /// `centinela_console_resume`) return: token id, holder, role, facilities, jurisdictions.
    static func principal(_ row: (UUID, String, String, [UUID], [UUID])) -> Principal? {
        let (id, holder, role, facilities, jurisdictions) = row
        guard let role = Principal.Role(rawValue: role) else { return nil }
        return Principal(
            id: .init(id), holder: holder, role: role, facilityIDs: Set(facilities.map(Facility.ID.init)),
            jurisdictionIDs: Set(jurisdictions.map(Jurisdiction.ID.init)))
    }

    /// Runs `body` in one transaction as `centinela_service`, scoped to `principal`.
    public func withScope<Result: Sendable>(
        _ principal: Principal,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await inScope(principal, snapshot: false, body)
    }

    /// Runs `body` as ``withScope(_:_:)`` does, read only, with every statement seeing one
    /// snapshot (REPEATABLE READ). Under READ COMMITTED each statement sees what is committed when
    /// it starts: the live stream read alert events and then case events, and a report's alerts
    /// committed between the two reads were skipped for good while their case events were sent.
    public func withSnapshot<Result: Sendable>(
        _ principal: Principal,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await inScope(principal, snapshot: true, body)
    }

    private func inScope<Result: Sendable>(
        _ principal: Principal, snapshot: Bool,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await usage.track {
            try await withLease { [logger] connection in
                try await connection.inTransaction(logger: logger) { connection in
                    // Before any other statement of the transaction, as PostgreSQL requires.
                    if snapshot { try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger) }
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
    public static func enterScope(
        _ principal: Principal, on connection: PostgresConnection, logger: Logger
    )
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

/// One lease handed from the task that holds it to the request that uses it.
final class LeaseHandoff: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<PostgresConnection, any Error>)
        case offered(PostgresConnection)
        case taken
        case failed(any Error)
        /// The request gave up (deadline, cancellation): a connection offered now is refused.
        case abandoned
    }

    private let state = Mutex(State.pending)
    /// Whether the request is done with the connection, and the lease task waiting to hear it.
    private let returned = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Lease side: hands the connection over; false when the request has already gone.
    func offer(_ connection: PostgresConnection) -> Bool {
        let waiter: CheckedContinuation<PostgresConnection, any Error>? = state.withLock { state in
            switch state {
            case .pending:
                state = .offered(connection)
                return nil
            case .waiting(let continuation):
                state = .taken
                return continuation
            case .offered, .taken, .failed, .abandoned:
                return nil
            }
        }
        waiter?.resume(returning: connection)
        return state.withLock { if case .abandoned = $0 { false } else { true } }
    }

    /// Lease side: no connection could be had.
    func fail(_ error: any Error) {
        let waiter: CheckedContinuation<PostgresConnection, any Error>? = state.withLock { state in
            switch state {
            case .pending:
                state = .failed(error)
                return nil
            case .waiting(let continuation):
                state = .failed(error)
                return continuation
            case .offered, .taken, .failed, .abandoned:
                return nil
            }
        }
        waiter?.resume(throwing: error)
    }

    /// Lease side: holds the connection until the request gives it back.
    func waitUntilReturned() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = returned.withLock { returned in
                if returned.done { return true }
                returned.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Request side: the connection, once offered; throws when the lease failed, when `limit`
    /// passes first (503), or when the request is cancelled.
    func take(within limit: Duration) async throws -> PostgresConnection {
        let timer = Task { [self] in
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            abandon(DatabaseError.timedOut(database: "the service's connection pool", after: limit))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PostgresConnection, any Error>) in
                let outcome: Swift.Result<PostgresConnection, any Error>? = state.withLock { state in
                    switch state {
                    case .pending:
                        state = .waiting(continuation)
                        return nil
                    case .offered(let connection):
                        state = .taken
                        return .success(connection)
                    case .failed(let error):
                        return .failure(error)
                    case .abandoned:
                        return .failure(CancellationError())
                    case .waiting, .taken:
                        return .failure(CancellationError())
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            abandon(CancellationError())
        }
    }

    /// Request side: gives up waiting; a connection already offered (not yet taken) is given back.
    private func abandon(_ error: any Error) {
        let (waiter, release): (CheckedContinuation<PostgresConnection, any Error>?, Bool) = state.withLock { state in
            switch state {
            case .pending:
                state = .abandoned
                return (nil, false)
            case .waiting(let continuation):
                state = .abandoned
                return (continuation, false)
            case .offered:
                state = .abandoned
                return (nil, true)
            case .taken, .failed, .abandoned:
                return (nil, false)
            }
        }
        waiter?.resume(throwing: error)
        if release { giveBack() }
    }

    /// Request side: done with the connection (or never took it); the lease task lets it go.
    func giveBack() {
        let waiter = returned.withLock { returned in
            returned.done = true
            defer { returned.waiter = nil }
            return returned.waiter
        }
        waiter?.resume()
    }
}
