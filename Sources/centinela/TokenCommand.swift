import ArgumentParser
import CentinelaCore
import CentinelaStore
import Foundation
import Logging

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue, list and revoke API tokens.",
        subcommands: [Create.self, Revoke.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token. Prints the token alone on standard output: it is shown only this once.",
            discussion: """
                school tokens take one or more --facility CODE; regulator tokens one or more
                --jurisdiction CODE (which covers every jurisdiction below it); admin tokens neither.
                """)

        @Option(help: "school, regulator or admin.")
        var role: String

        @Option(help: "Who holds the token: a person or system, e.g. \"Lic. Ana Ruiz, SEP Jalisco\".")
        var holder: String

        @Option(name: .customLong("facility"), help: "A facility code a school token is bound to (repeatable).")
        var facilities: [String] = []

        @Option(name: .customLong("jurisdiction"), help: "A jurisdiction code a regulator token is bound to (repeatable).")
        var jurisdictions: [String] = []

        @Option(name: .customLong("expires-in-days"), help: "Days until the token stops working (default: never).")
        var expiresInDays: Int?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                guard let role = Principal.Role(rawValue: role) else {
                    throw ConfigurationErrorMessage("--role must be school, regulator or admin, not '\(role)'")
                }
                if let days = expiresInDays, !(1...3650).contains(days) {
                    throw ConfigurationErrorMessage("--expires-in-days must be from 1 to 3650")
                }
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                let expiry = expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
                let (record, secret) = try await setup.withCurrentSchema(database) { connection in
                    try await TokenStore(logger: setup.logger).create(
                        role: role, holder: holder, facilityCodes: facilities, jurisdictionCodes: jurisdictions,
                        expiresAt: expiry, on: connection)
                }
                print(secret.value)
                let scope = (record.facilityCodes + record.jurisdictionCodes).joined(separator: ", ")
                printNote(
                    "issued \(record.role.rawValue) token \(record.displayPrefix)… (id \(record.id)) to \(record.holder)"
                        + (scope.isEmpty ? "" : " for \(scope)")
                        + (record.expiresAt.map { ", expires \($0.formatted(.iso8601))" } ?? ""))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token at once.")

        @Argument(help: "The token's id, or its prefix as listed (cen_XXXXXXXX).")
        var token: String

        @Option(help: "Why: kept with the token and in the audit trail.")
        var reason: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                let record = try await setup.withCurrentSchema(database) { connection in
                    try await TokenStore(logger: setup.logger).revoke(token, reason: reason, on: connection)
                }
                print("revoked \(record.displayPrefix)… (id \(record.id)) held by \(record.holder)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                let records = try await setup.withCurrentSchema(database) { connection in
                    try await TokenStore(logger: setup.logger).list(on: connection)
                }
                print(["id", "prefix", "role", "scope", "holder", "created", "expires", "revoked"].joined(separator: "\t"))
                for r in records {
                    let scope = (r.facilityCodes + r.jurisdictionCodes).joined(separator: ",")
                    print(
                        [
                            r.id.description, r.displayPrefix, r.role.rawValue, scope.isEmpty ? "-" : scope, r.holder,
                            r.createdAt.formatted(.iso8601), r.expiresAt?.formatted(.iso8601) ?? "-",
                            r.revokedAt?.formatted(.iso8601) ?? "-",
                        ].joined(separator: "\t"))
                }
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit trail.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain of the audit trail and report the first broken link.",
            discussion: "Exit status: 0 intact, 2 broken, 1 could not check.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                let result = try await setup.withCurrentSchema(database) { connection in
                    try await AuditVerifier.verify(on: connection, logger: setup.logger)
                }
                switch result.firstBreak {
                case nil:
                    print("audit trail intact: \(result.rowsChecked) events checked")
                case .alteredRow(let position):
                    print(
                        "audit trail BROKEN at event \(position): its content does not match its hash (edited); \(result.rowsChecked) events before it are intact"
                    )
                    throw ExitCode(2)
                case .hashMismatch(let position):
                    print(
                        "audit trail BROKEN at event \(position): it does not chain to the event before it (that event was altered and re-hashed); \(result.rowsChecked) events before it are intact"
                    )
                    throw ExitCode(2)
                case .brokenLink(let position, let expected):
                    print(
                        "audit trail BROKEN at event \(position): the events after \(expected) up to it are missing (deleted); \(result.rowsChecked) events before it are intact"
                    )
                    throw ExitCode(2)
                }
            }
        }
    }
}
