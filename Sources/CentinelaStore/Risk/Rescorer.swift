import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// Keeps scores current: full runs for cron, one facility on demand, back-tests as of a past
/// instant, and the facilities marked stale by new reports (the worker in `serve`).
public struct Rescorer: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Every facility, as of now.
        case full
        /// One facility, as of now.
        case facility(Facility.ID)
        /// Every facility as of a past instant, into a separate back-test result.
        case backtest(asOf: Date)

        var code: String {
            switch self {
            case .full: "full"
            case .facility: "facility"
            case .backtest: "backtest"
            }
        }
    }

    /// What a run did.
    public struct Run: Sendable, Equatable {
        public var id: UUID
        public var kind: String
        public var asOf: Date
        public var modelID: String
        public var scored = 0
        public var changed = 0
        public var failures = 0
        public var seconds = 0.0
    }

    public enum Outcome: Sendable, Equatable {
        case completed(Run)
        /// Another run holds the rescoring lock.
        case lockHeld
    }

    /// Progress of a run: facilities scored so far, of how many.
    public typealias Progress = @Sendable (_ scored: Int, _ of: Int) -> Void

    public let model: RiskModel
    public let logger: Logger
    /// Facilities per write transaction.
    public var batchSize = 1000

    public init(model: RiskModel, logger: Logger) {
        self.model = model
        self.logger = logger
    }

    /// Session advisory lock held by full runs and back-tests ('centinela rescore').
    static let lockKey: Int64 = 7_306_086_629_160_088_182

    /// Runs `kind` reading on `reader` and writing on `writer` (two connections, so that batches
    /// are written while the one long read streams). With `wait`, waits for a concurrent run to end
    /// instead of returning `.lockHeld`.
    public func run(
        _ kind: Kind, reader: PostgresConnection, writer: PostgresConnection, wait: Bool = false,
        progress: Progress? = nil
    ) async throws -> Outcome {
        // One facility is quick and safe beside a full run (newer scores are never overwritten by
        // older ones); full runs and back-tests exclude each other.
        let locks: Bool = if case .facility = kind { false } else { true }
        if locks {
            let acquired: Bool
            if wait {
                try await writer.run("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
                acquired = true
            } else {
                var got = false
                for try await value in try await writer.query("SELECT pg_try_advisory_lock(\(Self.lockKey))", logger: logger)
                    .decode(Bool.self) { got = value }
                acquired = got
            }
            guard acquired else { return .lockHeld }
        }
        do {
            let run = try await runLocked(kind, reader: reader, writer: writer, progress: progress)
            if locks { try await writer.run("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger) }
            return .completed(run)
        } catch {
            if locks { _ = try? await writer.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger) }
            throw error
        }
    }

    private func runLocked(_ kind: Kind, reader: PostgresConnection, writer: PostgresConnection, progress: Progress?)
        async throws -> Run
    {
        let store = ScoreStore(logger: logger)
        let started = ContinuousClock.now
        let asOf: Date
        switch kind {
        case .backtest(let instant): asOf = instant
        default: asOf = try await databaseNow(on: writer)
        }
        let selection: RiskEvidenceReader.Selection = if case .facility(let id) = kind { .facilities([id]) } else { .all }
        var run = try await writer.systemTransaction(logger: logger) {
            try await startRun(kind, asOf: asOf, on: writer)
        }
        logger.info("rescoring started", metadata: ["run": "\(run.id)", "kind": "\(kind.code)", "as_of": "\(asOf)", "model": "\(model.id)"])
        do {
            let total = try await reader.systemTransaction(logger: logger) {
                try await count(selection, on: reader)
            }
            let baselines: PeerBaselines? = if case .backtest = kind { nil } else {
                try await writer.systemTransaction(logger: logger) {
                    try await store.baselines(for: nil, on: writer)
                }
            }
            var batch: [ScoredFacility] = []
            batch.reserveCapacity(batchSize)
            let flush: (inout Run, [ScoredFacility]) async -> Void = { run, batch in
                do {
                    let changed = try await writer.systemTransaction(logger: logger) {
                        if case .backtest = kind {
                            try await store.writeBacktest(batch, run: run.id, on: writer)
                            return batch.count
                        }
                        return try await store.writeLive(batch, on: writer)
                    }
                    run.changed += changed
                } catch {
                    run.failures += batch.count
                    logger.error("a batch of scores was not written", metadata: ["run": "\(run.id)", "error": "\(DatabaseError.reason(for: error))"])
                }
                run.scored += batch.count
                progress?(run.scored, total)
            }
            try await reader.systemTransaction(logger: logger) {
                // Sorting and hashing a country's reports fits in memory on the server side.
                try await reader.run("SET LOCAL work_mem = '256MB'", logger: logger)
                try await RiskEvidenceReader(logger: logger).read(selection, asOf: asOf, baselines: baselines, on: reader) { subject in
                    batch.append(ScoredFacility(subject: subject, assessment: model.assess(subject.evidence, asOf: asOf)))
                    if batch.count >= batchSize {
                        await flush(&run, batch)
                        batch.removeAll(keepingCapacity: true)
                        if run.failures > 0 && run.failures >= run.scored / 2 + batchSize {
                            throw DatabaseError.queryFailed(reason: "most score batches failed; stopping")
                        }
                    }
                }
            }
            if !batch.isEmpty { await flush(&run, batch) }
            if kind == .full {
                try await writer.systemTransaction(logger: logger) {
                    try await store.publishBaselines(computedAt: asOf, on: writer)
                }
            }
            run.seconds = (ContinuousClock.now - started).seconds
            try await writer.systemTransaction(logger: logger) {
                try await finishRun(run, error: nil, on: writer)
            }
        } catch {
            run.seconds = (ContinuousClock.now - started).seconds
            _ = try? await writer.systemTransaction(logger: logger) {
                try await finishRun(run, error: DatabaseError.reason(for: error), on: writer)
            }
            throw error
        }
        logger.info(
            "rescoring finished",
            metadata: ["run": "\(run.id)", "scored": "\(run.scored)", "changed": "\(run.changed)", "failures": "\(run.failures)",
                       "seconds": "\(String(format: "%.1f", run.seconds))"])
        return run
    }

    /// Rescores the facilities marked stale, at most `limit` of them, in one transaction; a mark is
    /// cleared only if no newer report renewed it meanwhile. Returns how many were rescored.
    public func rescoreMarked(on connection: PostgresConnection, limit: Int = 200) async throws -> Int {
        let store = ScoreStore(logger: logger)
        return try await connection.systemTransaction(logger: logger) {
            var marks: [(UUID, Int64)] = []
            for try await mark in try await connection.query("SELECT facility_id, generation FROM centinela_pending_rescores(\(limit)::int)", logger: logger)
                .decode((UUID, Int64).self) { marks.append(mark) }
            guard !marks.isEmpty else { return 0 }
            let ids = marks.map { Facility.ID($0.0) }
            let asOf = try await databaseNow(on: connection)
            let baselines = try await store.baselines(for: ids, on: connection)
            var scored: [ScoredFacility] = []
            try await RiskEvidenceReader(logger: logger).read(.facilities(ids), asOf: asOf, baselines: baselines, on: connection) { subject in
                scored.append(ScoredFacility(subject: subject, assessment: model.assess(subject.evidence, asOf: asOf)))
            }
            let changed = try await store.writeLive(scored, on: connection)
            try await connection.run(
                "SELECT centinela_clear_rescores(\(marks.map(\.0))::uuid[], \(marks.map(\.1))::bigint[])", logger: logger)
            // Delivered at commit, to whoever waits for fresh scores (alerting, tests).
            try await connection.run(
                "SELECT pg_notify('centinela_rescored', id::text) FROM unnest(\(marks.map(\.0))::uuid[]) AS id", logger: logger)
            logger.debug("rescored marked facilities", metadata: ["facilities": "\(marks.count)", "changed": "\(changed)"])
            return marks.count
        }
    }

    /// How many facilities are waiting to be rescored.
    public func pendingCount(on connection: PostgresConnection) async throws -> Int {
        try await connection.systemTransaction(logger: logger) {
            var count = 0
            for try await value in try await connection.query("SELECT count(*)::int FROM centinela_pending_rescores(2147483647)", logger: logger)
                .decode(Int.self) { count = value }
            return count
        }
    }

    // MARK: Runs

    private func startRun(_ kind: Kind, asOf: Date, on connection: PostgresConnection) async throws -> Run {
        let facility: UUID? = if case .facility(let id) = kind { id.rawValue } else { nil }
        for try await id in try await connection.query(
            """
            INSERT INTO rescore_runs (kind, as_of, model_id, facility_id)
            VALUES (\(kind.code), \(asOf), \(model.id), \(facility)) RETURNING id
            """, logger: logger
        ).decode(UUID.self) {
            return Run(id: id, kind: kind.code, asOf: asOf, modelID: model.id)
        }
        throw DatabaseError.queryFailed(reason: "the run was not recorded")
    }

    private func finishRun(_ run: Run, error: String?, on connection: PostgresConnection) async throws {
        try await connection.run(
            """
            UPDATE rescore_runs
            SET finished_at = clock_timestamp(), outcome = \(error == nil ? "succeeded" : "failed"),
                facilities_scored = \(run.scored), facilities_changed = \(run.changed), failures = \(run.failures),
                error = left(\(error), 2000)
            WHERE id = \(run.id)
            """, logger: logger)
    }

    private func count(_ selection: RiskEvidenceReader.Selection, on connection: PostgresConnection) async throws -> Int {
        let only: [UUID]? = if case .facilities(let ids) = selection { ids.map(\.rawValue) } else { nil }
        var total = 0
        for try await value in try await connection.query(
            "SELECT count(*)::int FROM facilities WHERE \(only)::uuid[] IS NULL OR id = ANY(\(only)::uuid[])", logger: logger
        ).decode(Int.self) { total = value }
        return total
    }

    /// The database's clock: reports are stamped by it, so "now" must come from it too.
    private func databaseNow(on connection: PostgresConnection) async throws -> Date {
        for try await now in try await connection.query("SELECT clock_timestamp()", logger: logger).decode(Date.self) {
            return now
        }
        throw DatabaseError.queryFailed(reason: "no clock")
    }
}

extension PostgresConnection {
    /// One transaction in the system scope: the service role, allowed to read every facility's
    /// reports and to write scores, and nothing else (Schema/0003_risk.sql).
    public func systemTransaction<Result: Sendable>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await query("BEGIN", logger: logger)
        do {
            try await run(
                "SELECT set_config('role', 'centinela_service', true), set_config('centinela.role', 'system', true)",
                logger: logger)
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
}

extension PostgresConnection {
    /// Runs a statement whose rows are not needed, reading them all so that an error raised while
    /// it executes (inside a function, say) is thrown here rather than lost.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
