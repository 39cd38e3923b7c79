import ArgumentParser
import CentinelaCore
import CentinelaStore
import Foundation
import Logging
import PostgresNIO

struct RescoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescore",
        abstract: "Recompute facility risk scores (for cron).",
        discussion: """
            Without options, rescores every facility as of now — scores decay even without new
            reports — writes only the scores that changed, records the run, publishes the peer
            baselines; then links what arrived since the last linking run (the adults named in new
            reports, new roster entries, the patterns: as `centinela linking update`; skipped
            with --skip-linking or while a rebuild runs), and rescores every facility marked stale
            by new reports or whose ties to others changed.

            Only one full run or back-test works at a time: a second one prints that another run holds
            the lock and exits 0 (3 with --fail-if-locked), or waits for it with --wait.

            Exit status: 0 done (or lock held), 1 failed, 2 done but some facilities could not be
            written or linking failed (see the log), 3 lock held with --fail-if-locked.
            """)

    @Option(
        help:
            "Back-test: score every facility as it stood at 00:00 UTC on this date (YYYY-MM-DD), from the reports received before it, into a separate back-test result. Live scores are not touched."
    )
    var asOf: String?

    @Option(help: "Rescore only this facility (its official code), as of now.")
    var facility: String?

    @Flag(help: "Wait for a run in progress to finish instead of exiting.")
    var wait = false

    @Flag(help: "Exit 3, not 0, when another run holds the lock.")
    var failIfLocked = false

    @Flag(help: "After a full run, do not link what arrived since the last linking run.")
    var skipLinking = false

    @OptionGroup var model: RiskModelOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func validate() throws {
        if let asOf {
            guard let date = CalendarDate(asOf) else { throw ValidationError("--as-of must be a date, YYYY-MM-DD") }
            if date.daysSinceEpoch > Int(Date().timeIntervalSince1970 / 86_400) {
                throw ValidationError("--as-of must not be in the future")
            }
            if facility != nil { throw ValidationError("--as-of back-tests every facility; it cannot be combined with --facility") }
        }
    }

    func run() async throws {
        let (outcome, linking): (Rescorer.Outcome, LinkingStep?) = try await failingClearly {
            let setup = try CommandSetup(log: log, database: database)
            let riskModel = try model.resolve(setup.env)
            let rescorer = Rescorer(model: riskModel, logger: setup.logger)
            let progress = isatty(STDERR_FILENO) == 1 ? Self.terminalProgress() : Self.loggedProgress(setup.logger)
            // A reader and a writer per lane; a full run spreads over one lane per core (at most 4).
            let lanes = facility == nil ? min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4) : 1
            return try await setup.withCurrentSchema(database, connections: 2 * lanes) { connections in
                let writer = connections[1]
                let kind: Rescorer.Kind
                if let asOf, let date = CalendarDate(asOf) {
                    kind = .backtest(asOf: Date(timeIntervalSince1970: Double(date.daysSinceEpoch) * 86_400))
                } else if let facility {
                    guard let id = try await Self.facilityID(code: facility, on: writer, logger: setup.logger) else {
                        throw ConfigurationErrorMessage("no facility has the code \(facility)")
                    }
                    kind = .facility(id)
                } else {
                    kind = .full
                }
                let pairs = stride(from: 0, to: connections.count, by: 2).map {
                    Rescorer.Lane(reader: connections[$0], writer: connections[$0 + 1])
                }
                let outcome = try await rescorer.run(kind, lanes: pairs, wait: wait, progress: progress)
                var linking: LinkingStep?
                if case .completed = outcome, kind == .full {
                    // Linking marks the facilities whose ties changed: rescored with the stale ones below.
                    if !skipLinking { linking = await Self.link(reader: connections[0], writer: writer, logger: setup.logger) }
                    while try await rescorer.rescoreMarked(on: writer) > 0 {}
                }
                return (outcome, linking)
            }
        }
        switch outcome {
        case .lockHeld:
            printNote("another rescore run holds the lock; nothing done (use --wait to wait for it)")
            if failIfLocked { throw ExitCode(3) }
        case .completed(let run):
            let label = run.kind == "backtest" ? "back-test \(run.id.uuidString.lowercased())" : "run \(run.id.uuidString.lowercased())"
            print(
                "rescored \(run.scored) facilities as of \(Self.timestamp(run.asOf)) with model \(run.modelID): \(run.changed) \(run.kind == "backtest" ? "scored above zero" : "changed"), \(run.failures) failures, \(String(format: "%.1f", run.seconds)) s (\(label))"
            )
            var linkingFailed = false
            switch linking {
            case .linked(let linked):
                print(
                    "linked \(linked.records) new adult records (\(linked.comparisons) pairs compared): \(linked.links) links, \(linked.reviews) for review; \(linked.patterns) patterns; \(linked.marked) facilities' ties refreshed; \(String(format: "%.1f", linked.seconds)) s"
                )
            case .busy: printNote("a linking rebuild is running; linking left to it")
            case .notYet: printNote("no linking run yet: run `centinela linking rebuild` once, and rescores will keep linking up to date")
            case .failed(let reason):
                printNote("linking failed (\(reason)); scores keep the ties of the last linking run")
                linkingFailed = true
            case nil: break
            }
            if run.failures > 0 || linkingFailed { throw ExitCode(2) }
        }
    }

    static func facilityID(code: String, on connection: PostgresConnection, logger: Logger) async throws -> Facility.ID? {
        try await connection.systemTransaction(logger: logger) {
            try await FacilityStore(logger: logger).facilityID(code: code, on: connection)
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// A progress line redrawn in place, for a person watching.
    static func terminalProgress() -> Rescorer.Progress {
        { scored, total in
            let percent = total > 0 ? scored * 100 / total : 100
            FileHandle.standardError.write(
                Data("\r\u{1B}[Krescoring: \(scored)/\(total) facilities (\(percent)%)\(scored >= total ? "\n" : "")".utf8))
        }
    }

    /// Progress in the log, about every tenth of the way, for cron.
    static func loggedProgress(_ logger: Logger) -> Rescorer.Progress {
        let step = LockedCounter()
        return { scored, total in
            let tenth = total > 0 ? scored * 10 / total : 10
            if step.advance(to: tenth) {
                logger.info("rescoring progress", metadata: ["scored": "\(scored)", "of": "\(total)"])
            }
        }
    }
}

extension RescoreCommand {
    enum LinkingStep: Sendable {
        case linked(LinkingRebuilder.Outcome)
        /// A rebuild holds the linking lock.
        case busy
        /// No linking run yet: updates start from a `centinela linking rebuild`.
        case notYet
        case failed(String)
    }

    /// Links what arrived since the last linking run. A failure is logged and reported, and the
    /// rescoring goes on with the ties of the last run: scores must not wait for linking.
    static func link(reader: PostgresConnection, writer: PostgresConnection, logger: Logger) async -> LinkingStep {
        do {
            guard let outcome = try await LinkingRebuilder(logger: logger).update(reader: reader, writer: writer) else { return .notYet }
            return .linked(outcome)
        } catch LinkingRebuilder.Failure.alreadyRunning {
            return .busy
        } catch {
            logger.error("linking failed", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            return .failed(DatabaseError.reason(for: error))
        }
    }
}

/// The last progress step logged.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = -1

    func advance(to next: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard next > value else { return false }
        value = next
        return true
    }
}
