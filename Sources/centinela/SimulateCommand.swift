import ArgumentParser
import CentinelaCore
import CentinelaSimulation
import CentinelaStore
import Foundation
import Logging

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Load a simulated country (facilities, staff, reports, planted rings) into an empty database.",
        discussion: """
            Deterministic for a seed and end date. Writes the ground truth (rings, their facilities,
            members and reports; which adult records are the same person) as JSON. Never run against
            a database holding real reports: it refuses a database that already has facilities.
            """)

    @Option(help: "Seed of the random generator.")
    var seed: UInt64 = 1

    @Option(
        help: """
            tiny (300 facilities), small (3,000), full (250,000 facilities, about 2 million reports), network \
            (one network at 18 facilities in 7 states over two years, among 300 ordinary facilities), or young \
            (a register's first months: 300 facilities, few rosters uploaded, staff who moved years apart written \
            with abbreviations and nicknames, namesakes of common names in different states).
            """)
    var scale: String = "small"

    @Flag(help: "Every ring report carries every tactic of its ring's signature.")
    var consistentTactics = false

    @Flag(
        inversion: .prefixedNo,
        help: "Ordinary complaints now and then carry tactics rings use (default: on for the network scale only).")
    var backgroundTactics: Bool?

    @Flag(
        help: """
            A heavier background, to check a risk model beyond the shapes it was tuned on: twice the ordinary \
            complaints, one in ten naming two or three adults, and background tactics. Rings are unchanged.
            """)
    var heavyBackground = false

    @Option(help: "Last day reports are received on, YYYY-MM-DD (default: today, UTC; with --history, yesterday).")
    var end: String?

    @Option(help: "Where to write the ground truth JSON.")
    var truth: String = "simulation-truth.json"

    @Option(
        help: ArgumentHelp(
            "Load jurisdictions, facilities and staff, but write the reports to this file as NDJSON for POST /v1/reports:import instead of loading them.",
            valueName: "path"))
    var history: String?

    @Flag(
        help:
            "Load without national identifiers when no CENTINELA_NATIONAL_ID_KEY is set for a DATABASE_URL (linking then runs on names alone)."
    )
    var withoutNationalIds = false

    @Flag(help: "Generate and write the ground truth only; touch no database.")
    var dryRun = false

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        try await failingClearly {
            guard let scale = SimulationScale(rawValue: scale) else {
                throw ConfigurationErrorMessage("--scale must be tiny, small, full, network or young, not '\(scale)'")
            }
            let endDate: CalendarDate
            let today = CalendarDate(daysSinceEpoch: Int(Date().timeIntervalSince1970 / 86_400))
            if let end {
                guard let date = CalendarDate(end) else { throw ConfigurationErrorMessage("--end must be a date as YYYY-MM-DD") }
                // An import refuses receipts later than the moment it runs; a day's reports run to its end.
                if history != nil, date >= today {
                    throw ConfigurationErrorMessage("with --history, --end must be before today: an import refuses receipts in the future")
                }
                endDate = date
            } else {
                endDate = history == nil ? today : CalendarDate(daysSinceEpoch: today.daysSinceEpoch - 1)
            }
            let simulation = Simulation(
                SimulationConfiguration(
                    seed: seed, scale: scale, end: endDate, consistentTactics: consistentTactics, backgroundTactics: backgroundTactics,
                    heavyBackground: heavyBackground))
            let started = ContinuousClock.now
            let groundTruth: GroundTruth
            if dryRun, history != nil {
                throw ConfigurationErrorMessage("--history writes reports while loading the rest; it cannot go with --dry-run")
            }
            if dryRun {
                var counter = CountingSink()
                groundTruth = try simulation.run(into: &counter)
            } else {
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                let nationalIDs = try database.nationalIDHasher(setup.env, logger: setup.logger)
                // A simulated country's identifiers are a third of its linking evidence: never drop them silently.
                if nationalIDs == nil, !withoutNationalIds {
                    throw ConfigurationErrorMessage(
                        "no CENTINELA_NATIONAL_ID_KEY for this DATABASE_URL: the simulated national identifiers could not be stored "
                            + "and linking would run on names alone; set the key, or pass --without-national-ids")
                }
                groundTruth = try await setup.withCurrentSchema(database) { connection in
                    try await SimulationLoader(logger: setup.logger, nationalIDs: nationalIDs)
                        .load(simulation, history: history.map { URL(fileURLWithPath: $0) }, on: connection)
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                try encoder.encode(groundTruth).write(to: URL(fileURLWithPath: truth))
            } catch {
                throw ConfigurationErrorMessage("cannot write the ground truth to \(truth)")
            }
            let c = groundTruth.counts
            print(
                "\(dryRun ? "generated" : "loaded") \(c.facilities) facilities, \(c.adults) staff, \(c.reports) reports"
                    + (history.map { " (written to \($0) for import)" } ?? "") + " "
                    + "(\(groundTruth.rings.count) rings, \(groundTruth.loneOffenders.count) lone offenders) "
                    + "in \(started.duration(to: .now).milliseconds) ms; ground truth in \(truth)")
        }
    }
}

/// Discards rows: a dry run only needs the ground truth.
struct CountingSink: SimulationSink {
    mutating func write(_ jurisdiction: SimulatedJurisdiction) throws {}
    mutating func write(_ facility: SimulatedFacility) throws {}
    mutating func write(_ adult: SimulatedAdult) throws {}
    mutating func write(_ report: SimulatedReport) throws {}
}
