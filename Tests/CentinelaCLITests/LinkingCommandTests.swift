import CentinelaStore
import CentinelaTestSupport
import Foundation
import PostgresNIO
import Testing

/// `centinela linking rebuild` and `update`, as cron runs them.
@Suite struct LinkingCommandTests {
    @Test func updatesFollowARebuildAndOneRunHoldsTheLock() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL, "LOG_LEVEL": "warning"]
            // No linking run yet: an update rebuilds.
            let first = try await CommandProcess.run(["linking", "update"], environment: env)
            #expect(first.status == 0 && first.output.hasPrefix("rebuilt: linked "), "\(first.output) \(first.error)")
            // The command's name before API 0.2.0 still works (crontabs written with it).
            let second = try await CommandProcess.run(["patterns", "update"], environment: env)
            #expect(second.status == 0 && second.output.hasPrefix("linked 0 new adult records"), "\(second.output) \(second.error)")
            let rebuild = try await CommandProcess.run(["linking", "rebuild"], environment: env)
            #expect(rebuild.status == 0 && rebuild.output.hasPrefix("linked "), "\(rebuild.output) \(rebuild.error)")
            try await world.database.withConnection(logger: TestDatabase.logger) { holder in
                // A rebuild in progress, as another process would hold it.
                try await holder.query("SELECT pg_advisory_lock(7306086629160088184)", logger: TestDatabase.logger)
                for command in ["update", "rebuild"] {
                    let busy = try await CommandProcess.run(["linking", command], environment: env)
                    #expect(busy.status == 3 && busy.output.isEmpty, "\(command): \(busy.output)")
                    #expect(busy.error.contains("is running; nothing done"), "\(command): \(busy.error)")
                }
                // A full rescore goes on, and says linking was left to the rebuild.
                let rescore = try await CommandProcess.run(["rescore"], environment: env)
                #expect(
                    rescore.status == 0 && rescore.error.contains("a linking rebuild is running; linking left to it"), "\(rescore.error)")
                try await holder.query("SELECT pg_advisory_unlock(7306086629160088184)", logger: TestDatabase.logger)
            }
        }
    }
}
