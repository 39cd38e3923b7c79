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
            and patterns of the last `centinela linking rebuild` against the planted ones
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
                    try await SimulationReadBack.linkingQuality(truth: groundTruth, on: connection, logger: setup.logger)
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
                    let codes = try await SimulationReadBack.byRisk(k: k, on: connection, logger: setup.logger)
                    guard !codes.isEmpty else {
                        throw ConfigurationErrorMessage("no facility has a risk score above zero: run centinela rescore first")
                    }
                    let spread = try await SimulationReadBack.spread(on: connection, logger: setup.logger)
                    var days: [Int?]?
                    if let model {
                        days = try await SimulationReadBack.timeToFlag(
                            truth: groundTruth, model: model, on: connection, logger: setup.logger)
                    }
                    return (codes, Optional(spread), days)
                }
                return (try await SimulationReadBack.byReportCount(k: k, asOf: asOf, on: connection, logger: setup.logger), nil, nil)
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
}
