import ArgumentParser
import CentinelaCore
import CentinelaSimulation
import CentinelaStore
import Foundation
import Logging
import PostgresNIO

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score how well a facility ranking finds the rings planted by `centinela simulate`.",
        discussion: """
            Reads the ground truth written by simulate and ranks the database's facilities: `risk`
            by their current risk scores (run `centinela rescore` first; ties broken by the points
            above the display cap of 100), or `report-count` by reports received in the last 365
            days, the naive baseline any model must beat. With --linking, scores instead the persons
            and patterns of the last `centinela patterns rebuild` against the planted ones
            (docs/linking.md), and how the largest ring's facilities fall into open cases (after a
            `centinela rescore`). Prints one JSON object.
            """)

    @Option(help: "The ground truth JSON written by centinela simulate.")
    var truth: String

    @Option(help: "The ranking to score: risk or report-count.")
    var ranking: String = "risk"

    @Flag(help: "Score adult linking and patterns instead of a ranking.")
    var linking = false

    @Flag(
        help: """
            With --ranking risk: also the time to flag, in days from each ring's first report to the first weekly \
            back-test (as of 00:00 UTC, from that day on, up to 364 days) in which one of its facilities is high or critical.
            """)
    var timeToFlag = false

    @OptionGroup var riskModel: RiskModelOptions

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        try await failingClearly {
            guard ranking == "report-count" || ranking == "risk" else {
                throw ConfigurationErrorMessage("--ranking must be risk or report-count")
            }
            guard let data = FileManager.default.contents(atPath: truth),
                let groundTruth = try? JSONDecoder().decode(GroundTruth.self, from: data)
            else { throw ConfigurationErrorMessage("cannot read a ground truth from \(truth)") }
            let setup = try CommandSetup(log: log, database: database, quiet: true)
            if linking {
                let quality = try await setup.withCurrentSchema(database) { connection in
                    try await Self.linkingQuality(truth: groundTruth, on: connection, logger: setup.logger)
                }
                let object: [String: Any] = [
                    "pairPrecision": Self.round(quality.pairPrecision), "pairRecall": Self.round(quality.pairRecall),
                    "bCubedF1": Self.round(quality.bCubedF1),
                    "truePairs": quality.truePairs, "foundPairs": quality.foundPairs, "correctPairs": quality.correctPairs,
                    "ringRecall": Self.round(quality.ringRecall), "ringsRecovered": quality.ringsRecovered,
                    "multiFacilityRings": quality.multiFacilityRings,
                    "patterns": quality.patterns, "falsePatterns": quality.falsePatterns,
                    "falsePatternsPer10kFacilities": Self.round(quality.falsePatternsPer10kFacilities),
                    "style": Self.object(quality.style), "network": Self.object(quality.network),
                    "largestRing": quality.largestRing.map(Self.object) ?? NSNull(),
                    "namesakePairs": quality.namesakePairs, "namesakePairsLinked": quality.namesakePairsLinked,
                    "adultAlerts": quality.adultAlerts, "falseAdultAlerts": quality.falseAdultAlerts,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                return
            }
            guard !timeToFlag || ranking == "risk" else { throw ConfigurationErrorMessage("--time-to-flag goes with --ranking risk") }
            let model = timeToFlag ? try riskModel.resolve(setup.env) : nil
            let k = Set(groundTruth.rings.flatMap(\.facilities)).count
            let asOf = groundTruth.configuration.end.description
            // One connection for all of it: with --data-dir each opens (and stops) the embedded cluster.
            let (codes, spread, days) = try await setup.withCurrentSchema(database) { connection in
                if ranking == "risk" {
                    let codes = try await Self.byRisk(k: k, on: connection, logger: setup.logger)
                    let spread = try await Self.spread(on: connection, logger: setup.logger)
                    var days: [Int?]?
                    if let model {
                        days = try await Self.timeToFlag(truth: groundTruth, model: model, on: connection, logger: setup.logger)
                    }
                    return (codes, Optional(spread), days)
                }
                let codes = try await connection.operatorTransaction(logger: setup.logger) {
                    var codes: [String] = []
                    let rows = try await connection.query(
                        """
                        SELECT f.external_code
                        FROM incident_reports r JOIN facilities f ON f.id = r.facility_id
                        WHERE r.received_at >= (\(asOf)::date - 364)::timestamp AT TIME ZONE 'UTC'
                        GROUP BY f.external_code
                        ORDER BY count(*) DESC, f.external_code
                        LIMIT \(k)
                        """, logger: setup.logger)
                    for try await code in rows.decode(String.self) { codes.append(code) }
                    return codes
                }
                return (codes, nil, nil)
            }
            let quality = DetectionQuality(ranking: codes, truth: groundTruth)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var object = try JSONSerialization.jsonObject(with: encoder.encode(quality)) as? [String: Any] ?? [:]
            object["ranking"] = ranking
            object["precisionAtK"] = Self.round(quality.precisionAtK)
            object["ringRecall"] = Self.round(quality.ringRecall)
            if let spread {
                object["facilities"] = spread.facilities
                object["model"] = spread.models.joined(separator: ",")
                object["criticalShare"] = Self.round(Double(spread.critical) / Double(max(1, spread.facilities)), places: 4)
                object["highShare"] = Self.round(Double(spread.high) / Double(max(1, spread.facilities)), places: 4)
                object["topScoreShare"] = Self.round(Double(spread.atTopScore) / Double(max(1, spread.facilities)), places: 4)
            }
            if let days {
                let flagged = days.compactMap { $0 }.sorted()
                object["timeToFlagDays"] = days.map { $0.map { $0 as Any } ?? NSNull() }
                object["ringsFlagged"] = flagged.count
                // Rings never flagged count as later than any flagged one.
                let ordered = flagged.map(Double.init) + Array(repeating: Double.infinity, count: days.count - flagged.count)
                let median =
                    ordered.isEmpty
                    ? nil
                    : ordered.count % 2 == 1
                        ? ordered[ordered.count / 2] : (ordered[ordered.count / 2 - 1] + ordered[ordered.count / 2]) / 2
                object["medianTimeToFlagDays"] = median.flatMap { $0.isFinite ? $0 : nil } ?? NSNull()
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        }
    }

    /// A figures struct as a JSON object, its fractions to three decimals.
    static func object(_ value: some Encodable) -> Any {
        guard let data = try? JSONEncoder().encode(value), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            return NSNull()
        }
        return object.mapValues { ($0 as? Double).map { round($0) } ?? $0 }
    }

    /// Three decimals: what a reader compares.
    static func round(_ value: Double, places: Int = 3) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }

    /// How the current scores spread: facilities, how many are critical and high by the model,
    /// and how many share the highest displayed score.
    typealias Spread = (facilities: Int, critical: Int, high: Int, atTopScore: Int, models: [String])

    static func spread(on connection: PostgresConnection, logger: Logger) async throws -> Spread {
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
    static func timeToFlag(truth: GroundTruth, model: RiskModel, on connection: PostgresConnection, logger: Logger) async throws -> [Int?] {
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
    static func linkingQuality(truth: GroundTruth, on connection: PostgresConnection, logger: Logger) async throws -> LinkingQuality {
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

    /// The k facilities with the highest current scores.
    static func byRisk(k: Int, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
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
            guard !codes.isEmpty else {
                throw ConfigurationErrorMessage("no facility has a risk score above zero: run centinela rescore first")
            }
            return codes
        }
    }
}
