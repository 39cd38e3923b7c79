import CentinelaCore
import CentinelaStore
import Foundation
import Logging
import PostgresNIO

/// What `centinela evaluate` reads back from a simulated country's database to score it against
/// the ground truth: the rankings, the spread of the scores, the time to flag each ring, and the
/// persons, patterns, cases and alerts linking produced. Read as the system, outside any scope.
public enum SimulationReadBack {
    /// How the current scores spread: facilities, how many are critical and high by the model,
    /// and how many share the highest displayed score.
    public typealias Spread = (facilities: Int, critical: Int, high: Int, atTopScore: Int, models: [String])

    public static func spread(on connection: PostgresConnection, logger: Logger) async throws -> Spread {
        try await connection.systemTransaction(logger: logger) {
            var result = (facilities: 0, critical: 0, high: 0, atTopScore: 0, models: [String]())
            for try await (facilities, critical, high, top, models) in try await connection.query(
                """
                SELECT (SELECT count(*)::int FROM facilities),
                       count(*) FILTER (WHERE model_band = 'critical')::int, count(*) FILTER (WHERE model_band = 'high')::int,
                       count(*) FILTER (WHERE score = (SELECT max(score) FROM risk_scores))::int,
                       coalesce(array_agg(DISTINCT model_id), '{}')
                FROM risk_scores
                """, logger: logger
            ).decode((Int, Int, Int, Int, [String]).self) { result = (facilities, critical, high, top, models) }
            return result
        }
    }

    /// For each ring, the days from its first report to the first weekly back-test in which one of
    /// its facilities is high or critical (nil: not within 364 days, or never before the end).
    /// Only the rings' facilities are scored: a back-test's band rests on the facility's own
    /// evidence and the peers' published shares, never on the other facilities' scores.
    public static func timeToFlag(
        truth: GroundTruth, model: RiskModel, on connection: PostgresConnection, logger: Logger
    ) async throws -> [Int?] {
        let end = Date(timeIntervalSince1970: Double(truth.configuration.end.daysSinceEpoch + 1) * 86_400)
        var result: [Int?] = []
        for ring in truth.rings {
            let (facilities, first) = try await connection.systemTransaction(logger: logger) {
                var ids: [Facility.ID] = []
                for try await id in try await connection.query(
                    "SELECT id FROM facilities WHERE external_code = ANY(\(ring.facilities))", logger: logger
                ).decode(UUID.self) { ids.append(.init(id)) }
                var first: Date?
                for try await value in try await connection.query(
                    "SELECT min(received_at) FROM incident_reports WHERE id::text = ANY(\(ring.reports)) OR source_id = ANY(\(ring.reports))",
                    logger: logger
                ).decode(Date?.self) { first = value }
                return (ids, first)
            }
            guard let first, !facilities.isEmpty else {
                result.append(nil)
                continue
            }
            let firstDay = Int((first.timeIntervalSince1970 / 86_400).rounded(.down))
            var flagged: Int?
            for week in 0...52 {
                let asOf = Date(timeIntervalSince1970: Double(firstDay + 1 + 7 * week) * 86_400)
                guard asOf <= end else { break }
                let assessments = try await connection.systemTransaction(logger: logger) {
                    try await Rescorer(model: model, logger: logger).assessments(of: facilities, asOf: asOf, on: connection)
                }
                if assessments.contains(where: { $0.modelBand >= .high }) {
                    flagged = 1 + 7 * week
                    break
                }
            }
            result.append(flagged)
        }
        return result
    }

    /// The persons and patterns stored by the last rebuild, scored against the truth.
    public static func linkingQuality(truth: GroundTruth, on connection: PostgresConnection, logger: Logger) async throws -> LinkingQuality
    {
        try await connection.systemTransaction(logger: logger) {
            var persons: [UUID: [LinkingQuality.Record]] = [:]
            for try await (person, code, ref) in try await connection.query(
                """
                SELECT p.person_id, f.external_code, a.staff_ref FROM adult_persons p
                JOIN adults a ON a.id = p.record_id JOIN facilities f ON f.id = a.facility_id
                """, logger: logger
            ).decode((UUID, String, String).self) { persons[person, default: []].append(.init(facility: code, staffRef: ref)) }
            var patterns: [UUID: LinkingQuality.FoundPattern] = [:]
            for try await (pattern, kind, report, code) in try await connection.query(
                """
                SELECT r.pattern_id, p.kind,
                       CASE WHEN i.source_system = \(SimulationLoader.historySourceSystem) THEN i.source_id ELSE r.report_id::text END,
                       f.external_code
                FROM pattern_reports r JOIN patterns p ON p.id = r.pattern_id JOIN facilities f ON f.id = r.facility_id
                JOIN incident_reports i ON i.id = r.report_id
                """,
                logger: logger
            ).decode((UUID, String, String, String).self) {
                patterns[pattern, default: .init(kind: kind, reports: [:])].reports[report] = code
            }
            var cases: [UUID: Set<String>] = [:]
            for try await (id, code) in try await connection.query(
                """
                SELECT c.id, f.external_code FROM cases c JOIN case_facilities cf ON cf.case_id = c.id JOIN facilities f ON f.id = cf.facility_id
                WHERE c.status <> 'closed'
                """, logger: logger
            ).decode((UUID, String).self) { cases[id, default: []].insert(code) }
            // Each adult_several_facilities alert with the roster records of the person it is about.
            var alerts: [UUID: LinkingQuality.AdultAlert] = [:]
            for try await (id, facility, code, ref) in try await connection.query(
                """
                SELECT a.id, f.external_code, rf.external_code, ad.staff_ref
                FROM alerts a JOIN facilities f ON f.id = a.facility_id
                LEFT JOIN (adult_records ar JOIN adult_persons p ON p.record_id = ar.id
                           JOIN adult_persons p2 ON p2.person_id = p.person_id
                           JOIN adults ad ON ad.id = p2.record_id JOIN facilities rf ON rf.id = ad.facility_id)
                       ON ar.facility_id = a.facility_id AND ar.adult_key = a.subject
                WHERE a.rule = 'adult_several_facilities'
                """, logger: logger
            ).decode((UUID, String, String?, String?).self) {
                alerts[id, default: .init(facility: facility, records: [])].records +=
                    code.flatMap { code in ref.map { [.init(facility: code, staffRef: $0)] } } ?? []
            }
            return LinkingQuality(
                persons: Array(persons.values), patterns: Array(patterns.values), truth: truth, cases: Array(cases.values),
                adultAlerts: Array(alerts.values))
        }
    }

    /// The k facilities with the highest current scores (none when nothing scores above zero).
    public static func byRisk(k: Int, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.systemTransaction(logger: logger) {
            var codes: [String] = []
            for try await code in try await connection.query(
                """
                SELECT f.external_code FROM risk_scores s JOIN facilities f ON f.id = s.facility_id
                WHERE s.total > 0
                ORDER BY s.total DESC, s.score DESC, f.external_code
                LIMIT \(k)
                """, logger: logger
            ).decode(String.self) { codes.append(code) }
            return codes
        }
    }

    /// The naive baseline: the k facilities with the most reports received in the 365 days up to `asOf`.
    public static func byReportCount(k: Int, asOf: String, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.operatorTransaction(logger: logger) {
            var codes: [String] = []
            let rows = try await connection.query(
                """
                SELECT f.external_code
                FROM incident_reports r JOIN facilities f ON f.id = r.facility_id
                WHERE r.received_at >= (\(asOf)::date - 364)::timestamp AT TIME ZONE 'UTC'
                GROUP BY f.external_code
                ORDER BY count(*) DESC, f.external_code
                LIMIT \(k)
                """, logger: logger)
            for try await code in rows.decode(String.self) { codes.append(code) }
            return codes
        }
    }
}
