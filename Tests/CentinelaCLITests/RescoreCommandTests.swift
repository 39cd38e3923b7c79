import CentinelaStore
import CentinelaTestSupport
import Foundation
import PostgresNIO
import Testing

/// `centinela rescore`, as cron runs it.
@Suite struct RescoreCommandTests {
    @Test func simulateRefusesToDropTheNationalIdentifiersSilently() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL, "LOG_LEVEL": "warning"]
            let truth = FileManager.default.temporaryDirectory.appendingPathComponent("truth-\(UUID().uuidString).json").path
            defer { try? FileManager.default.removeItem(atPath: truth) }
            let dry = try await CommandProcess.run(["simulate", "--scale", "tiny", "--dry-run", "--truth", truth], environment: env)
            #expect(dry.status == 0, "a dry run stores nothing and needs no key: \(dry.error)")
            let missing = try await CommandProcess.run(["simulate", "--scale", "tiny"], environment: env)
            #expect(missing.status == 1 && missing.error.contains("no CENTINELA_NATIONAL_ID_KEY"), "\(missing.error)")
            #expect(missing.error.split(separator: "\n").count == 1)
            // With the flag it goes on, to the next check: this database already has facilities.
            let flagged = try await CommandProcess.run(["simulate", "--scale", "tiny", "--without-national-ids"], environment: env)
            #expect(flagged.status == 1 && flagged.error.contains("already holds"), "\(flagged.error)")
        }
    }

    @Test func rescoresEveryFacilityAndRecordsTheRun() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL, "LOG_LEVEL": "warning"]
            let first = try await CommandProcess.run(["rescore"], environment: env)
            #expect(first.status == 0, "\(first.error)")
            #expect(first.output.hasPrefix("rescored 3 facilities as of "), "\(first.output)")
            #expect(first.output.contains("with model v2: 3 changed, 0 failures"))
            // Then linking: only once a rebuild gave it a start.
            #expect(!first.output.contains("linked") && first.error.contains("no linking run yet"), "\(first.output) \(first.error)")
            #expect(try await CommandProcess.run(["linking", "rebuild"], environment: env).status == 0)
            let second = try await CommandProcess.run(["rescore"], environment: env)
            #expect(second.output.contains(": 0 changed, 0 failures"), "\(second.output)")
            #expect(second.output.contains("\nlinked 0 new adult records"), "\(second.output)")
            let skipping = try await CommandProcess.run(["rescore", "--skip-linking"], environment: env)
            #expect(skipping.status == 0 && !skipping.output.contains("linked"), "\(skipping.output)")

            let one = try await CommandProcess.run(["rescore", "--facility", "MTY01"], environment: env)
            #expect(one.status == 0 && one.output.hasPrefix("rescored 1 facilities"), "\(one.output) \(one.error)")
            let backtest = try await CommandProcess.run(["rescore", "--as-of", "2026-01-01"], environment: env)
            #expect(backtest.status == 0 && backtest.output.contains("as of 2026-01-01T00:00:00Z"), "\(backtest.output)")
            #expect(backtest.output.contains("(back-test "))
            func kinds(of table: String) async throws -> [String] {
                try await world.database.withConnection(logger: TestDatabase.logger) { connection in
                    var kinds: [String] = []
                    for try await kind in try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT kind || ':' || outcome FROM \(table) ORDER BY started_at"),
                        logger: TestDatabase.logger
                    ).decode(String.self) { kinds.append(kind) }
                    return kinds
                }
            }
            #expect(
                try await kinds(of: "rescore_runs") == [
                    "full:succeeded", "full:succeeded", "full:succeeded", "facility:succeeded", "backtest:succeeded",
                ])
            #expect(try await kinds(of: "linking_runs") == ["rebuild:succeeded", "update:succeeded"])
        }
    }

    @Test func aSecondRunExitsWhileTheFirstHoldsTheLock() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL, "LOG_LEVEL": "warning"]
            try await world.database.withConnection(logger: TestDatabase.logger) { holder in
                // A run in progress, as another process would hold it.
                try await holder.query("SELECT pg_advisory_lock(7306086629160088182)", logger: TestDatabase.logger)
                let polite = try await CommandProcess.run(["rescore"], environment: env)
                #expect(polite.status == 0)
                #expect(polite.output.isEmpty)
                #expect(polite.error.contains("another rescore run holds the lock; nothing done"))
                let strict = try await CommandProcess.run(["rescore", "--fail-if-locked"], environment: env)
                #expect(strict.status == 3)
                let waiting = try CommandProcess(["rescore", "--wait"], environment: env)
                // Released only once the second run is queued behind it, as pg_locks shows.
                var queued = false
                for _ in 0..<600 where !queued {
                    for try await n in try await holder.query(
                        "SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", logger: TestDatabase.logger
                    ).decode(Int.self) { queued = n > 0 }
                    if !queued { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(queued)
                try await holder.query("SELECT pg_advisory_unlock(7306086629160088182)", logger: TestDatabase.logger)
                #expect(try await waiting.waitForExit() == 0)
                #expect(waiting.output.hasPrefix("rescored 3 facilities"))
            }
        }
    }

    @Test func badArgumentsChangeNothing() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL]
            let cases: [([String], String)] = [
                (["rescore", "--as-of", "2026-13-01"], "--as-of must be a date, YYYY-MM-DD"),
                (["rescore", "--as-of", "2999-01-01"], "--as-of must not be in the future"),
                (["rescore", "--as-of", "2026-01-01", "--facility", "NL001"], "cannot be combined with --facility"),
                (["rescore", "--facility", "NOPE"], "no facility has the code NOPE"),
                (["rescore", "--risk-model", "/nonexistent.json"], "--risk-model: cannot read /nonexistent.json"),
            ]
            for (arguments, message) in cases {
                let result = try await CommandProcess.run(arguments, environment: env)
                #expect(result.status != 0, "\(arguments)")
                #expect(result.error.contains(message), "\(arguments): \(result.error)")
            }
            let runs = try await world.database.withConnection(logger: TestDatabase.logger) { connection in
                var count = 0
                for try await n in try await connection.query("SELECT count(*)::int FROM rescore_runs", logger: TestDatabase.logger)
                    .decode(Int.self)
                { count = n }
                return count
            }
            #expect(runs == 0)
        }
    }
}
