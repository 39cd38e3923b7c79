import CentinelaCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

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
    /// Live runs evaluate the alert rules on every facility they write, in the same transaction.
    public let alertRules: AlertRules
    public let logger: Logger
    /// Facilities per write transaction.
    public var batchSize = 1000

    public init(model: RiskModel, alertRules: AlertRules = .v1, logger: Logger) {
        self.model = model
        self.alertRules = alertRules
        self.logger = logger
    }

    /// Session advisory lock held by full runs and back-tests ('centinela rescore').
    static let lockKey: Int64 = 7_306_086_629_160_088_182

    /// A pair of connections: one streams reads, the other writes.
    public struct Lane: Sendable {
        public var reader: PostgresConnection
        public var writer: PostgresConnection

        public init(reader: PostgresConnection, writer: PostgresConnection) {
            self.reader = reader
            self.writer = writer
        }
    }

    /// Runs `kind` reading on `reader` and writing on `writer`. With `wait`, waits for a
    /// concurrent run to end instead of returning `.lockHeld`.
    public func run(
        _ kind: Kind, reader: PostgresConnection, writer: PostgresConnection, wait: Bool = false,
        progress: Progress? = nil
    ) async throws -> Outcome {
        try await run(kind, lanes: [Lane(reader: reader, writer: writer)], wait: wait, progress: progress)
    }

    /// Runs `kind` on one or more lanes: a full run or back-test splits the facilities among them,
    /// so that several database backends (and cores) share the work.
    public func run(_ kind: Kind, lanes: [Lane], wait: Bool = false, progress: Progress? = nil) async throws -> Outcome {
        precondition(!lanes.isEmpty, "a run needs at least one pair of connections")
        let writer = lanes[0].writer
        // One facility is quick and safe beside a full run (newer scores are never overwritten by
        // older ones); full runs and back-tests exclude each other.
        if case .facility = kind { return .completed(try await runLocked(kind, lanes: lanes, progress: progress)) }
        let run = try await writer.withAdvisoryLock(Self.lockKey, wait: wait, logger: logger) {
            try await runLocked(kind, lanes: lanes, progress: progress)
        }
        return run.map(Outcome.completed) ?? .lockHeld
    }

    private func runLocked(_ kind: Kind, lanes: [Lane], progress: Progress?) async throws -> Run {
        let store = ScoreStore(logger: logger)
        let started = ContinuousClock.now
        let main = lanes[0]
        let asOf: Date
        switch kind {
        case .backtest(let instant): asOf = instant
        default: asOf = try await databaseNow(on: main.writer)
        }
        _ = try await RecordedRuns.rescore.failAbandoned(on: main.writer, logger: logger)
        var run = try await main.writer.systemTransaction(logger: logger) {
            try await startRun(kind, asOf: asOf, on: main.writer)
        }
        logger.info(
            "rescoring started", metadata: ["run": "\(run.id)", "kind": "\(kind.code)", "as_of": "\(asOf)", "model": "\(model.id)"])
        do {
            // One facility takes one lane; a full run splits the facilities by id, one range per lane.
            let selections: [RiskEvidenceReader.Selection] =
                if case .facility(let id) = kind { [.facilities([id])] } else { Self.ranges(lanes.count) }
            let total = try await main.reader.systemTransaction(logger: logger) {
                try await count(selections.count == 1 ? selections[0] : .all, on: main.reader)
            }
            // Back-tests compare reports with the peers' shares as last published (features of the
            // background change slowly), never with loads computed after their instant.
            let isBacktest: Bool = if case .backtest = kind { true } else { false }
            let baselines = try await main.writer.systemTransaction(logger: logger) {
                try await store.baselines(for: nil, model: model, loads: !isBacktest, on: main.writer)
            }
            // Facilities whose band alert's quiet clock runs: looked at even when their score is unchanged.
            let watched: Set<Facility.ID> =
                if case .backtest = kind { [] } else {
                    try await main.writer.systemTransaction(logger: logger) {
                        try await AlertStore(logger: logger).facilitiesWithOpenBandAlerts(on: main.writer)
                    }
                }
            let counter = ProgressCounter(total: total, report: progress)
            let runID = run.id
            let outcomes = try await withThrowingTaskGroup(of: PartitionTotals.self) { group in
                for (lane, selection) in zip(lanes, selections) {
                    group.addTask {
                        try await scorePartition(
                            selection, kind: kind, runID: runID, asOf: asOf, baselines: baselines, watched: watched, lane: lane,
                            counter: counter)
                    }
                }
                var all: [PartitionTotals] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            var alertRows = 0
            var shares: [PeerBaselines.Group: ReportShares] = [:]
            for outcome in outcomes {
                run.scored += outcome.scored
                run.changed += outcome.changed
                run.failures += outcome.failed
                alertRows += outcome.alertRows
                shares.merge(outcome.shares) {
                    var merged = $0
                    merged.merge($1)
                    return merged
                }
            }
            if kind == .full {
                try await main.writer.systemTransaction(logger: logger) {
                    try await store.publishBaselines(computedAt: asOf, on: main.writer)
                    try await store.publishShares(shares, computedAt: asOf, on: main.writer)
                    try await store.publishDistribution(modelID: model.id, computedAt: asOf, on: main.writer)
                }
                try await refreshStatistics(
                    written: [
                        "risk_scores": run.changed, "risk_score_history": run.changed, "alerts": alertRows, "alert_events": alertRows,
                    ],
                    on: lanes.map(\.writer))
            }
            run.seconds = (ContinuousClock.now - started).seconds
            try await main.writer.systemTransaction(logger: logger) {
                try await finishRun(run, error: nil, on: main.writer)
            }
            await RecordedRuns.release(run.id, on: main.writer, logger: logger)
        } catch {
            run.seconds = (ContinuousClock.now - started).seconds
            _ = try? await main.writer.systemTransaction(logger: logger) {
                try await finishRun(run, error: DatabaseError.reason(for: error), on: main.writer)
            }
            await RecordedRuns.release(run.id, on: main.writer, logger: logger)
            throw error
        }
        logger.info(
            "rescoring finished",
            metadata: [
                "run": "\(run.id)", "scored": "\(run.scored)", "changed": "\(run.changed)", "failures": "\(run.failures)",
                "seconds": "\(String(format: "%.1f", run.seconds))",
            ])
        return run
    }

    /// `count` ranges of facility ids covering them all (ids are random, so the ranges are even).
    static func ranges(_ count: Int) -> [RiskEvidenceReader.Selection] {
        guard count > 1 else { return [.all] }
        let bounds: [UUID?] =
            [nil]
            + (1..<count).map { index in
                let byte = UInt8(index * 256 / count)
                return UUID(uuid: (byte, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            } + [nil]
        return (0..<count).map { .range(from: bounds[$0], upTo: bounds[$0 + 1]) }
    }

    /// Reads, scores and writes one range of facilities on one lane. One batch is written (on the
    /// lane's writer) while the next is read and scored (on its reader), so both backends and this
    /// process work at the same time. A live run sends only the facilities whose score changed.
    private func scorePartition(
        _ selection: RiskEvidenceReader.Selection, kind: Kind, runID: UUID, asOf: Date, baselines: PeerBaselines?,
        watched: Set<Facility.ID>, lane: Lane, counter: ProgressCounter
    ) async throws -> PartitionTotals {
        let store = ScoreStore(logger: logger)
        let (reader, writer) = (lane.reader, lane.writer)
        let logger = logger
        let isBacktest: Bool = if case .backtest = kind { true } else { false }
        let isFull = kind == .full
        @Sendable func write(_ batch: [ScoredFacility]) async -> PartitionTotals {
            do {
                return try await writer.systemTransaction(logger: logger) {
                    if isBacktest {
                        try await store.writeBacktest(batch, run: runID, on: writer)
                        return PartitionTotals(changed: batch.count)
                    }
                    let changed = try await store.writeLive(batch, on: writer)
                    let alerts = try await recordAlerts(batch, asOf: asOf, on: writer)
                    return PartitionTotals(changed: changed, alertRows: alerts.opened + alerts.events)
                }
            } catch {
                logger.error(
                    "a batch of scores was not written", metadata: ["run": "\(runID)", "error": "\(DatabaseError.reason(for: error))"])
                return PartitionTotals(failed: batch.count)
            }
        }
        var totals = PartitionTotals()
        var unreported = 0
        var batch: [ScoredFacility] = []
        batch.reserveCapacity(batchSize)
        var inFlight: Task<PartitionTotals, Never>?
        func settle() async {
            guard let done = await inFlight?.value else { return }
            inFlight = nil
            totals.changed += done.changed
            totals.failed += done.failed
            totals.alertRows += done.alertRows
        }
        func flush() async throws {
            await settle()
            if totals.failed > 0 && totals.failed >= totals.scored / 2 + batchSize {
                throw DatabaseError.queryFailed(reason: "most score batches failed; stopping")
            }
            guard !batch.isEmpty else { return }
            let full = batch
            inFlight = Task { await write(full) }
            batch.removeAll(keepingCapacity: true)
        }
        let source: RiskEvidenceReader.Source = isBacktest ? .history : .current
        func readAndScore() async throws {
            try await reader.systemTransaction(logger: logger) {
                // Sorting and hashing a country's reports fits in memory on the server side.
                try await reader.run("SET LOCAL work_mem = '256MB'", logger: logger)
                try await RiskEvidenceReader(logger: logger).read(
                    selection, from: source, asOf: asOf, baselines: baselines, on: reader
                ) { subject in
                    let scored = ScoredFacility(subject: subject, assessment: model.assess(subject.evidence, asOf: asOf))
                    if isFull {
                        model.countShares(
                            subject.evidence, asOf: asOf,
                            into: &totals.shares[PeerBaselines.Group(subject.kind, subject.jurisdictionID), default: .init()])
                    }
                    totals.scored += 1
                    unreported += 1
                    if isBacktest || !scored.isUnchanged || watched.contains(subject.facilityID) { batch.append(scored) }
                    if batch.count >= batchSize { try await flush() }
                    if unreported >= batchSize {
                        counter.add(unreported)
                        unreported = 0
                    }
                }
            }
        }
        do {
            try await readAndScore()
        } catch {
            await settle()  // never leave a write running on `writer` while the failure is recorded there
            throw error
        }
        try await flush()
        await settle()
        counter.add(unreported)
        return totals
    }

    /// The facilities' assessments as of a past instant, as a back-test computes them (reports as
    /// they stood then, the peers' shares as last published, no linking), written nowhere: for
    /// evaluating how soon a model flags what it should. In the caller's system transaction.
    public func assessments(of facilities: [Facility.ID], asOf: Date, on connection: PostgresConnection) async throws -> [RiskAssessment] {
        let baselines = try await ScoreStore(logger: logger).baselines(for: facilities, model: model, loads: false, on: connection)
        var result: [RiskAssessment] = []
        try await RiskEvidenceReader(logger: logger).read(
            .facilities(facilities), from: .history, asOf: asOf, baselines: baselines, on: connection
        ) { subject in
            result.append(model.assess(subject.evidence, asOf: asOf))
        }
        return result
    }

    /// Rescores the facilities marked stale, at most `limit` of them, in one transaction; a mark is
    /// cleared only if no newer report renewed it meanwhile. Returns how many were rescored.
    public func rescoreMarked(on connection: PostgresConnection, limit: Int = 200) async throws -> Int {
        let store = ScoreStore(logger: logger)
        return try await connection.systemTransaction(logger: logger) {
            var marks: [(UUID, Int64)] = []
            for try await mark in try await connection.query(
                "SELECT facility_id, generation FROM centinela_pending_rescores(\(limit)::int)", logger: logger
            )
            .decode((UUID, Int64).self) { marks.append(mark) }
            guard !marks.isEmpty else { return 0 }
            let ids = marks.map { Facility.ID($0.0) }
            let asOf = try await databaseNow(on: connection)
            let baselines = try await store.baselines(for: ids, model: model, on: connection)
            var scored: [ScoredFacility] = []
            try await RiskEvidenceReader(logger: logger).read(
                .facilities(ids), from: .current, asOf: asOf, baselines: baselines, on: connection
            ) { subject in
                scored.append(ScoredFacility(subject: subject, assessment: model.assess(subject.evidence, asOf: asOf)))
            }
            let changed = try await store.writeLive(scored, on: connection)
            // Every marked facility, changed score or not: a new report may fire a rule without
            // moving a score that is already at its caps.
            try await recordAlerts(scored, asOf: asOf, on: connection)
            try await connection.run(
                "SELECT centinela_clear_rescores(\(marks.map(\.0))::uuid[], \(marks.map(\.1))::bigint[])", logger: logger)
            // Delivered at commit, to whoever waits for fresh scores (alerting, tests).
            try await connection.run(
                "SELECT pg_notify('centinela_rescored', id::text) FROM unnest(\(marks.map(\.0))::uuid[]) AS id", logger: logger)
            logger.debug("rescored marked facilities", metadata: ["facilities": "\(marks.count)", "changed": "\(changed)"])
            return marks.count
        }
    }

    /// Evaluates the alert rules for freshly scored facilities and records what they decide, in
    /// the caller's (system) transaction. Returns how many alerts were opened and events appended.
    @discardableResult
    private func recordAlerts(
        _ scored: [ScoredFacility], asOf: Date, on connection: PostgresConnection
    ) async throws -> (opened: Int, events: Int) {
        guard !scored.isEmpty else { return (0, 0) }
        let alerts = AlertStore(logger: logger)
        let states = try await alerts.states(for: scored.map(\.subject.facilityID), on: connection)
        let decisions = scored.compactMap { item -> (scored: ScoredFacility, decisions: [AlertDecision])? in
            let findings = alertRules.findings(for: item.subject.evidence, assessment: item.assessment, model: model, asOf: asOf)
            let decided = alertRules.decide(
                findings, existing: states[item.subject.facilityID] ?? [], score: item.assessment.score, asOf: asOf)
            return decided.isEmpty ? nil : (item, decided)
        }
        guard !decisions.isEmpty else { return (0, 0) }
        let recorded = try await alerts.record(decisions, asOf: asOf, on: connection)
        if recorded.opened > 0 || recorded.events > 0 {
            logger.debug("alerts recorded", metadata: ["opened": "\(recorded.opened)", "events": "\(recorded.events)"])
        }
        return recorded
    }

    /// What one lane of a run did.
    struct PartitionTotals: Sendable {
        var scored = 0
        var changed = 0
        var failed = 0
        /// Alerts opened plus alert events appended.
        var alertRows = 0
        /// Full runs: the reports' features by facility kind and jurisdiction, for v2's peers.
        var shares: [PeerBaselines.Group: ReportShares] = [:]
    }

    /// Gives the tables this run wrote heavily fresh planner statistics now, by autovacuum's own
    /// rule (more than 50 rows + 10 % of the table), instead of whenever autovacuum reaches them:
    /// after the first national run its workers spent minutes on the report tables first, and
    /// meanwhile every regulator's live stream planned against alert tables with no statistics at
    /// all (an alert took 1.3–2.7 s to arrive instead of 25 ms). As the connecting role: ANALYZE
    /// of a table it does not own is skipped with a warning, not an error. The tables are shared
    /// out among the lanes' writers, analysed at the same time.
    private func refreshStatistics(written: [String: Int], on connections: [PostgresConnection]) async throws {
        var sizes: [String: Double] = [:]
        for try await (name, rows) in try await connections[0].query(
            "SELECT relname::text, reltuples::float8 FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY(\(Array(written.keys)))",
            logger: logger
        ).decode((String, Double).self) { sizes[name] = rows }
        // Table names from the caller's fixed list, never from input; reltuples is -1 before the first ANALYZE.
        let stale = written.filter { name, rows in sizes[name].map { Double(rows) > 50 + 0.1 * max($0, 0) } ?? false }.keys.sorted()
        guard !stale.isEmpty else { return }
        let started = ContinuousClock.now
        try await withThrowingDiscardingTaskGroup { group in
            for (index, connection) in connections.enumerated() {
                let share = stale.enumerated().filter { $0.offset % connections.count == index }.map(\.element)
                guard !share.isEmpty else { continue }
                group.addTask {
                    try await connection.run(PostgresQuery(unsafeSQL: "ANALYZE " + share.joined(separator: ", ")), logger: logger)
                }
            }
        }
        logger.info(
            "planner statistics refreshed",
            metadata: [
                "tables": "\(stale.joined(separator: ","))",
                "seconds": "\(String(format: "%.1f", (ContinuousClock.now - started).seconds))",
            ])
    }

    /// How many facilities are waiting to be rescored.
    public func pendingCount(on connection: PostgresConnection) async throws -> Int {
        try await connection.systemTransaction(logger: logger) {
            var count = 0
            for try await value in try await connection.query(
                "SELECT count(*)::int FROM centinela_pending_rescores(2147483647)", logger: logger
            )
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
            // Held from before the row is visible: a later run never takes this one for a dead one.
            try await RecordedRuns.hold(id, on: connection, logger: logger)
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

/// Facilities scored so far across lanes, reported as they finish.
final class ProgressCounter: Sendable {
    private let scored = Mutex(0)
    let total: Int
    let report: Rescorer.Progress?

    init(total: Int, report: Rescorer.Progress?) {
        self.total = total
        self.report = report
    }

    func add(_ count: Int) {
        let now = scored.withLock { value -> Int in
            value += count
            return value
        }
        report?(now, total)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
