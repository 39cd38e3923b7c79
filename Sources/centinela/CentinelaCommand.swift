import ArgumentParser

/// `centinela`: the one executable. Subcommands parse their settings and call the modules; no
/// domain logic lives here.
@main
struct CentinelaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "centinela",
        abstract: "Risk monitoring of schools and childcare facilities for education regulators.",
        discussion: """
            Settings come from flags or, when a flag is not given, from the environment variables
            named in each command's --help. Without DATABASE_URL, centinela runs a private
            PostgreSQL cluster under CENTINELA_DATA_DIR (default .centinela/postgres).
            """,
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, TokenCommand.self, FacilitiesCommand.self, AuditCommand.self, SimulateCommand.self,
            EvaluateCommand.self, RescoreCommand.self, LinkingCommand.self, ModelCommand.self, HealthcheckCommand.self,
        ]
    )
}
