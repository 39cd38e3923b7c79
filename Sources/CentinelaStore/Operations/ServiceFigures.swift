import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// The service's state as operators watch it, read from the database when `/metrics` is scraped:
/// these are facts of the data, shared by every process (the cron's rescoring runs elsewhere), so
/// no process could count them in memory. Counts only: nothing here names a case or a person.
public struct ServiceFigures: Sendable, Equatable {
    /// Facilities by current band; facilities never scored count under `unscored`.
    public var facilitiesByBand: [RiskBand: Int] = [:]
    public var unscoredFacilities = 0
    /// Alerts not resolved, by rule and severity.
    public var openAlerts: [AlertKey: Int] = [:]
    /// Webhook deliveries waiting to be sent (or retried), and those given up.
    public var webhookPending = 0
    public var webhookDead = 0
    /// Seconds since the oldest pending delivery was queued; 0 with none.
    public var webhookOldestPendingSeconds = 0.0
    /// What each sequencer has not taken yet: within a second while they run.
    public var sequencerBacklog: [Sequencer: Backlog] = [:]

    /// The audit log's sequencer and the live stream's.
    public enum Sequencer: String, CaseIterable, Sendable {
        case audit, stream
    }

    /// Events (for the audit log, also reports to seal) not taken yet, and how long the oldest has
    /// waited (0 with none).
    public struct Backlog: Sendable, Equatable {
        public var pending: Int
        public var oldestSeconds: Double

        public init(pending: Int, oldestSeconds: Double) {
            self.pending = pending
            self.oldestSeconds = oldestSeconds
        }
    }
    public var lastFullRescore: RunFigures?
    public var lastSuccessfulFullRescore: Date?
    public var lastLinkingRebuild: RunFigures?
    public var lastSuccessfulLinking: [String: Date] = [:]

    public struct AlertKey: Hashable, Sendable {
        public var rule: Alert.Rule
        public var severity: Alert.Severity

        public init(rule: Alert.Rule, severity: Alert.Severity) {
            self.rule = rule
            self.severity = severity
        }
    }

    /// One run, finished or not.
    public struct RunFigures: Sendable, Equatable {
        public var startedAt: Date
        public var finishedAt: Date?
        public var succeeded: Bool
        /// Facilities scored (rescoring) or records linked (linking).
        public var items: Int

        public var duration: TimeInterval? { finishedAt.map { $0.timeIntervalSince(startedAt) } }
    }

    public init() {}
}

/// Reads ``ServiceFigures`` in the system scope, in one short read-only transaction.
public struct ServiceFiguresReader: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func read(on connection: PostgresConnection) async throws -> ServiceFigures {
        try await connection.systemTransaction(logger: logger) {
            var figures = ServiceFigures()
            // Two counts rather than a join: under row-level security each row costs a policy
            // check, and the join doubled the rows checked (0.87 s against 0.39 s nationally).
            let bands = try await connection.query("SELECT band, count(*)::bigint FROM risk_scores GROUP BY band", logger: logger)
            var scored = 0
            for try await (band, count) in bands.decode((String, Int64).self) {
                scored += Int(count)
                if let band = RiskBand(rawValue: band) { figures.facilitiesByBand[band] = Int(count) }
            }
            for try await count in try await connection.query("SELECT count(*)::bigint FROM facilities", logger: logger)
                .decode(Int64.self)
            {
                figures.unscoredFacilities = max(0, Int(count) - scored)
            }
            let alerts = try await connection.query(
                "SELECT rule, severity, count(*)::bigint FROM alerts WHERE status <> 'resolved' GROUP BY 1, 2", logger: logger)
            for try await (rule, severity, count) in alerts.decode((String, String, Int64).self) {
                guard let rule = Alert.Rule(rawValue: rule), let severity = Alert.Severity(rawValue: severity) else { continue }
                figures.openAlerts[.init(rule: rule, severity: severity)] = Int(count)
            }
            let webhooks = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE status = 'pending')::bigint,
                       count(*) FILTER (WHERE status = 'dead')::bigint,
                       coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0)::float8
                FROM webhook_deliveries WHERE status <> 'delivered'
                """, logger: logger)
            for try await (pending, dead, oldest) in webhooks.decode((Int64, Int64, Double).self) {
                figures.webhookPending = Int(pending)
                figures.webhookDead = Int(dead)
                figures.webhookOldestPendingSeconds = max(0, oldest)
            }
            for try await (audit, auditOldest, stream, streamOldest) in try await connection.query(
                "SELECT * FROM centinela_sequencer_backlog()", logger: logger
            ).decode((Int64, Double, Int64, Double).self) {
                figures.sequencerBacklog = [
                    .audit: ServiceFigures.Backlog(pending: Int(audit), oldestSeconds: max(0, auditOldest)),
                    .stream: ServiceFigures.Backlog(pending: Int(stream), oldestSeconds: max(0, streamOldest)),
                ]
            }
            let rescore = try await connection.query(
                """
                SELECT started_at, finished_at, outcome, facilities_scored,
                       (SELECT max(finished_at) FROM rescore_runs WHERE kind = 'full' AND outcome = 'succeeded')
                FROM rescore_runs WHERE kind = 'full' ORDER BY started_at DESC LIMIT 1
                """, logger: logger)
            for try await (started, finished, outcome, scored, lastSuccess) in rescore.decode(
                (Date, Date?, String, Int32, Date?).self)
            {
                figures.lastFullRescore = .init(
                    startedAt: started, finishedAt: finished, succeeded: outcome == "succeeded", items: Int(scored))
                figures.lastSuccessfulFullRescore = lastSuccess
            }
            let rebuild = try await connection.query(
                """
                SELECT started_at, finished_at, outcome, coalesce(records, 0)
                FROM linking_runs WHERE kind = 'rebuild' AND finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1
                """, logger: logger)
            for try await (started, finished, outcome, records) in rebuild.decode((Date, Date?, String, Int32).self) {
                figures.lastLinkingRebuild = .init(
                    startedAt: started, finishedAt: finished, succeeded: outcome == "succeeded", items: Int(records))
            }
            let linking = try await connection.query(
                "SELECT kind, max(finished_at) FROM linking_runs WHERE outcome = 'succeeded' GROUP BY kind", logger: logger)
            for try await (kind, finished) in linking.decode((String, Date?).self) {
                if let finished { figures.lastSuccessfulLinking[kind] = finished }
            }
            return figures
        }
    }
}

extension ServiceDatabase {
    /// The figures `/metrics` reports from the database, read on a connection of the service's
    /// pool (counted in its use) outside any caller's scope.
    public func serviceFigures() async throws -> ServiceFigures {
        try await usage.track {
            try await client.withConnection { try await ServiceFiguresReader(logger: logger).read(on: $0) }
        }
    }
}
