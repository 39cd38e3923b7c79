import ArgumentParser
import CentinelaStore
import Foundation
import PostgresNIO

/// `centinela patterns`: linking adults across facilities and reports by modus operandi.
struct LinkingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linking",
        abstract: "Link adults across facilities and reports by modus operandi (docs/linking.md).",
        subcommands: [Rebuild.self, Update.self],
        // The name it had until API 0.2.0: crontabs and CronJobs written with it keep working.
        aliases: ["patterns"])

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebuild",
            abstract: "Rebuild every adult link, person and pattern from the database as it stands.",
            discussion: """
                Reads every roster entry, every name written in a report and every report's modus
                operandi; links the same adult across facilities (automatically above the upper
                threshold, for a regulator's review between the two) and groups reports at
                different facilities into patterns. Regulators' review decisions are kept and
                applied. Then rescores every facility whose ties to others changed, so that the
                CROSS_FACILITY factor and the cross-facility alerts (an adult implicated at
                several facilities, a pattern spanning three or more) follow at once. One rebuild
                at a time: a second exits 3 while the first runs.

                Exit status: 0 done, 1 failed, 3 another rebuild is running.
                """)

        @OptionGroup var model: RiskModelOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            let result = try await LinkingCommand.linkThenRescore(model: model, database: database, log: log) { linking, reader, writer in
                try await linking.rebuild(reader: reader, writer: writer)
            }
            guard let (outcome, rescored) = result else {
                printNote("another linking rebuild or update is running; nothing done")
                throw ExitCode(3)
            }
            print(
                "linked \(outcome.records) adult records (\(outcome.comparisons) pairs compared): \(outcome.links) links, \(outcome.reviews) for review, \(outcome.persons) persons across records; \(outcome.patterns) patterns; \(String(format: "%.1f", outcome.seconds)) s; rescored \(rescored) facilities"
            )
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update",
            abstract: "Link what arrived since the last linking run (a rebuild when there was none).",
            discussion: """
                Links the adults named in reports received, and the roster entries added, since the
                last linking run, against every record already linked (only records sharing a
                block key are compared); resolves the persons they touch again; finds the patterns
                afresh; then rescores every facility whose ties to others changed. Every full
                `centinela rescore` ends with this (without the rebuild). Name corrections and
                removed roster entries wait for the next `centinela linking rebuild`.

                Exit status: 0 done, 1 failed, 3 a rebuild or update is running.
                """)

        @OptionGroup var model: RiskModelOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            let result = try await LinkingCommand.linkThenRescore(model: model, database: database, log: log) { linking, reader, writer in
                // Updates start from a rebuild.
                if let updated = try await linking.update(reader: reader, writer: writer) { return updated }
                return try await linking.rebuild(reader: reader, writer: writer)
            }
            guard let (outcome, rescored) = result else {
                printNote("a linking rebuild or update is running; nothing done")
                throw ExitCode(3)
            }
            print(
                "\(outcome.kind == .update ? "linked \(outcome.records) new" : "rebuilt: linked \(outcome.records)") adult records (\(outcome.comparisons) pairs compared): \(outcome.links) links, \(outcome.reviews) for review; \(outcome.patterns) patterns; \(String(format: "%.1f", outcome.seconds)) s; rescored \(rescored) facilities"
            )
        }
    }

    /// Runs `link` under the linking lock, then rescores the facilities it marked (and any other
    /// marks pending). Nil when another rebuild or update holds the lock.
    static func linkThenRescore(
        model: RiskModelOptions, database: DatabaseOptions, log: LogOptions,
        _ link: @escaping @Sendable (LinkingRebuilder, PostgresConnection, PostgresConnection) async throws -> LinkingRebuilder.Outcome
    ) async throws -> (LinkingRebuilder.Outcome, rescored: Int)? {
        try await failingClearly {
            let setup = try CommandSetup(log: log, database: database)
            let rescorer = Rescorer(model: try model.resolve(setup.env), logger: setup.logger)
            return try await setup.withCurrentSchema(database, connections: 2) { connections in
                let outcome: LinkingRebuilder.Outcome
                do {
                    outcome = try await link(LinkingRebuilder(logger: setup.logger), connections[0], connections[1])
                } catch LinkingRebuilder.Failure.alreadyRunning {
                    return nil
                }
                var rescored = 0
                while case let count = try await rescorer.rescoreMarked(on: connections[1]), count > 0 { rescored += count }
                return (outcome, rescored)
            }
        }
    }
}
