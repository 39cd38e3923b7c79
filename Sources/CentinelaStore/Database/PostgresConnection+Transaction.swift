import Logging
import PostgresNIO

/// Transactions on a single connection (the command line's, the rescorer's), each entering its
/// scope first, always ended: committed, or rolled back even after a cancellation.
extension PostgresConnection {
    /// The operator's command-line work: one transaction, as the connecting (owner) role, in admin
    /// scope, so that it sees every facility whether or not that role bypasses row-level security.
    public func operatorTransaction<Result: Sendable>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await transaction(entering: "SELECT set_config('centinela.role', 'admin', true)", logger: logger, body)
    }

    /// One transaction in the system scope: the service role, allowed to read every facility's
    /// reports and to write scores, and nothing else (Schema/0003_risk.sql). Without JIT: the
    /// row-level-security predicates inflate cost estimates past its threshold, and compiling
    /// costs more than it saves on the worker's small reads.
    public func systemTransaction<Result: Sendable>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await transaction(
            entering: """
                SELECT set_config('role', 'centinela_service', true), set_config('centinela.role', 'system', true),
                       set_config('jit', 'off', true)
                """,
            logger: logger, body)
    }

    private func transaction<Result: Sendable>(
        entering scope: PostgresQuery, logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await query("BEGIN", logger: logger)
        do {
            try await run(scope, logger: logger)
            let result = try await body()
            try await query("COMMIT", logger: logger)
            return result
        } catch {
            await abandonTransaction(logger: logger)
            throw error
        }
    }

    /// Rolls back after a failure, even when the failure is the task's cancellation (a query in a
    /// cancelled task may never be sent). A connection that cannot be rolled back is closed, so a
    /// pool never hands out a connection stuck in a failed transaction.
    func abandonTransaction(logger: Logger) async {
        let connection = self
        let rolledBack = await Task { () -> Bool in
            do {
                try await connection.query("ROLLBACK", logger: logger)
                return true
            } catch {
                return false
            }
        }.value
        if !rolledBack { try? await Task { try await connection.close() }.value }
    }

    /// Runs a statement whose rows are not needed, reading them all so that an error raised while
    /// it executes (inside a function, say) is thrown here rather than lost.
    public func run(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}

extension PostgresConnection {
    /// Runs `body` in one operator transaction holding the transaction advisory lock `key`, or
    /// answers nil at once when another session holds it: how a sequencer (the audit log's, the
    /// live stream's) makes sure it is the only one extending what it orders.
    func leadingTransaction<Result: Sendable>(
        _ key: Int64, logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result? {
        try await operatorTransaction(logger: logger) {
            var leading = false
            for try await value in try await query("SELECT pg_try_advisory_xact_lock(\(key))", logger: logger).decode(Bool.self) {
                leading = value
            }
            return leading ? try await body() : nil
        }
    }

    /// How a command settles what a sequencer has queued (the audit log's, the live stream's):
    /// runs `round` — which leads, or leaves the work to the sequencer that does — until
    /// `stillQueued` answers that nothing it waits for is left (true), or `patience` passes (false).
    func settle(
        patience: Duration, isolation: isolated (any Actor)? = #isolation, round: () async throws -> Void,
        stillQueued: () async throws -> Bool
    ) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + patience
        while true {
            try await round()
            if try await !stillQueued() { return true }
            guard clock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `body` holding the session advisory lock `key`, released afterwards whatever happens
    /// (closing the session would release it too; unlocking keeps the connection reusable). With
    /// `wait`, waits for the lock; otherwise answers nil at once when another session holds it.
    func withAdvisoryLock<Result: Sendable>(
        _ key: Int64, wait: Bool, logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result? {
        if wait {
            try await run("SELECT pg_advisory_lock(\(key))", logger: logger)
        } else {
            var acquired = false
            for try await value in try await query("SELECT pg_try_advisory_lock(\(key))", logger: logger).decode(Bool.self) {
                acquired = value
            }
            guard acquired else { return nil }
        }
        do {
            let result = try await body()
            try await run("SELECT pg_advisory_unlock(\(key))", logger: logger)
            return result
        } catch {
            _ = try? await run("SELECT pg_advisory_unlock(\(key))", logger: logger)
            throw error
        }
    }
}

extension PostgresConnection {
    /// How many rows `query` (a list's own query, with no cursor and `LIMIT NULL`) returns: a
    /// list's total counts exactly what the list would show, filters and row-level security alike.
    public func count(of query: PostgresQuery, logger: Logger) async throws -> Int {
        var total = 0
        for try await value in try await self.query(
            PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM (\n" + query.sql + "\n) listed", binds: query.binds), logger: logger
        ).decode(Int.self) { total = value }
        return total
    }
}
