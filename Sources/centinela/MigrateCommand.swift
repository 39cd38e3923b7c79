import ArgumentParser
import CentinelaHTTP
import CentinelaStore
import Foundation
import Logging

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations.",
        discussion: """
            Each migration runs in its own transaction, under an advisory lock that makes
            concurrent runs wait for each other. Refuses to run when an applied migration's file
            has changed. A database that is already current is left untouched.
            """
    )

    @Flag(name: .long, help: "Only report applied and pending migrations; change nothing.")
    var status = false

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        try await failingClearly {
            let setup = try CommandSetup(log: log, database: database)
            let (env, logger, migrations) = (setup.env, setup.logger, setup.migrations)
            let migrator = Migrator(migrations: migrations, logger: logger)

            try await database.withDatabase(env, logger: logger) { databaseConfiguration in
                try await databaseConfiguration.withConnection(logger: logger) { connection in
                    if status {
                        let current = try await migrator.status(on: connection)
                        for name in current.applied { print("applied  \(name)") }
                        for name in current.pending { print("pending  \(name)") }
                        if !current.isCurrent { throw ExitCode(3) }
                    } else {
                        let applied = try await migrator.migrate(on: connection)
                        if applied.isEmpty {
                            print("schema is current (\(migrations.migrations.count) migrations applied); nothing to do")
                        } else {
                            for name in applied { print("applied  \(name)") }
                        }
                    }
                }
            }
        }
    }
}
