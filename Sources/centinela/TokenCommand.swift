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
        abstract: "Check the audit log, sign its checkpoints, prove a report is in it, make the key that signs them.",
        subcommands: [Verify.self, Checkpoint.self, Prove.self, Keygen.self, VerifierKey.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the audit log's hash chain, and hold it against signed checkpoints kept outside the database.",
            discussion: """
                Every hash is computed here, never by the database checked. Each --checkpoint (a file \
                holding one signed checkpoint, as `audit checkpoint` prints it or the server keeps \
                it) must be signed by the verifier key and match the log's first events: a log cut \
                short, or edited and re-hashed, no longer does. Exit status: 0 intact, 2 broken, 1 \
                could not check.
                """)

        @Option(name: .long, help: "A file holding a signed checkpoint; repeat for several.")
        var checkpoint: [String] = []

        @Option(
            name: .long,
            help:
                "The key checkpoints must be signed by, as `audit keygen` prints it (name+id+key). (env: CENTINELA_AUDIT_VERIFIER_KEY; default: the public half of the configured signing key)"
        )
        var verifierKey: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                var checkpoints: [AuditCheckpoint] = []
                let setup = try CommandSetup(log: log, database: database, quiet: true) { env in
                    guard !checkpoint.isEmpty else { return }
                    let verifier = try AuditCommand.verifier(flag: verifierKey, env: env, database: database, for: "--checkpoint")
                    checkpoints = try checkpoint.map { path in try AuditCommand.checkpoint(at: path, verifier) }
                }
                let result = try await setup.withCurrentSchema(database) { connection in
                    // Verifying signs nothing: a checkpoint is the sequencer's word, not the checker's.
                    try await setup.settleAuditLog(on: connection, sign: false)
                    return try await AuditVerifier.verify(on: connection, checkpoints: checkpoints, logger: setup.logger)
                }
                guard let broken = result.firstBreak else {
                    let held = checkpoints.isEmpty ? "" : "; \(result.checkpointsHeld) checkpoints held"
                    print("audit trail intact: \(result.rowsChecked) events checked\(held)")
                    return
                }
                print("audit trail BROKEN \(Self.explain(broken, intactBefore: result.rowsChecked))")
                throw ExitCode(2)
            }
        }

        static func explain(_ broken: AuditVerification.Break, intactBefore checked: Int) -> String {
            switch broken {
            case .alteredRow(let position):
                "at event \(position): its content does not match its hash (edited); \(checked) events before it are intact"
            case .hashMismatch(let position):
                "at event \(position): it does not chain to the event before it (that event was altered and re-hashed); \(checked) events before it are intact"
            case .brokenLink(let position, let expected):
                "at event \(position): the events after \(expected) up to it are missing (deleted); \(checked) events before it are intact"
            case .truncated(let checkpoint, let size):
                "after event \(size): the checkpoint signed \(checkpoint.time.formatted(.iso8601)) vouched for \(checkpoint.size) events, the log holds \(size) (its newest were removed)"
            case .contentChanged(let position, let kind, let id, let removed):
                removed
                    ? "at event \(position): the \(kind) \(id) it sealed is gone (deleted)"
                    : "at event \(position): the \(kind) \(id) no longer holds what it held when sealed (rewritten)"
            case .rewritten(let checkpoint):
                "within the first \(checkpoint.size) events: they are not those the checkpoint signed \(checkpoint.time.formatted(.iso8601)) vouched for (edited, removed or inserted, and the chain re-hashed to hide it)"
            }
        }
    }

    /// The key checkpoints must be signed by: the flag, else CENTINELA_AUDIT_VERIFIER_KEY, else
    /// the public half of the configured signing key.
    static func verifier(flag: String?, env: Environment, database: DatabaseOptions, for what: String) throws -> AuditVerifierKey {
        let source = flag != nil ? "--verifier-key" : "CENTINELA_AUDIT_VERIFIER_KEY"
        if let text = flag ?? env["CENTINELA_AUDIT_VERIFIER_KEY"] {
            do throws(AuditCheckpointError) { return try AuditSigningKey.verifier(text) } catch {
                throw ConfigurationErrorMessage("\(source): \(error.description)")
            }
        }
        if let signing = try database.auditCheckpointing(env).checkpointing?.key { return signing.verifier }
        throw ConfigurationErrorMessage("\(what) needs the key that signed the checkpoint: give --verifier-key")
    }

    /// The checkpoint a file holds, if `verifier` signed it.
    static func checkpoint(at path: String, _ verifier: AuditVerifierKey) throws -> (AuditCheckpoint) {
        guard let data = FileManager.default.contents(atPath: path), let note = String(data: data, encoding: .utf8) else {
            throw ConfigurationErrorMessage("cannot read the checkpoint \(path)")
        }
        do throws(AuditCheckpointError) { return try verifier.checkpoint(note) } catch {
            throw ConfigurationErrorMessage("\(path): \(error.description)")
        }
    }

    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show that a report is in the audit log as it was sealed, against a signed checkpoint.",
            discussion: """
                Prints, as JSON, the event that sealed the report, the SHA-256 it sealed and whether \
                the report holds the same today, and the RFC 9162 inclusion proof of that event in \
                the tree the checkpoint signed (the newest kept, or --checkpoint). Exit status: 0 \
                proved and unchanged, 2 changed, gone or not proved, 1 could not check.
                """)

        @Argument(help: "The report's id.")
        var report: String

        @Option(name: .long, help: "A file holding the signed checkpoint to prove against. (default: the newest the service kept)")
        var checkpoint: String?

        @Option(name: .long, help: "The key the checkpoint must be signed by. (env: CENTINELA_AUDIT_VERIFIER_KEY)")
        var verifierKey: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                guard let id = UUID(uuidString: report) else { throw ConfigurationErrorMessage("'\(report)' is not a report id") }
                var verifier: AuditVerifierKey?
                var given: AuditCheckpoint?
                let setup = try CommandSetup(log: log, database: database, quiet: true) { env in
                    verifier = try AuditCommand.verifier(flag: verifierKey, env: env, database: database, for: "audit prove")
                    if let checkpoint, let verifier { given = try AuditCommand.checkpoint(at: checkpoint, verifier) }
                }
                guard let verifier else { return }
                let (inclusion, note, against) = try await setup.withCurrentSchema(database) { connection in
                    var note: String?
                    let against: AuditCheckpoint
                    if let given {
                        against = given
                    } else {
                        guard let newest = try await AuditSequencer(logger: setup.logger).newestCheckpoint(on: connection) else {
                            throw ConfigurationErrorMessage("no checkpoint has been signed yet: run `centinela audit checkpoint`")
                        }
                        do throws(AuditCheckpointError) { against = try verifier.checkpoint(newest) } catch {
                            throw ConfigurationErrorMessage("the newest checkpoint kept: \(error.description)")
                        }
                        note = newest
                    }
                    do {
                        return (try await ReportInclusion.of(id, size: against.size, on: connection, logger: setup.logger), note, against)
                    } catch let failure as ReportInclusion.Failure {
                        throw ConfigurationErrorMessage(failure.description)
                    }
                }
                let proved = inclusion.proves(root: against.root)
                let today = inclusion.holdsToday.map { $0 == inclusion.sealed ? "the same" : "changed" } ?? "gone"
                var out: [String: Any] = [
                    "report": id.uuidString.lowercased(), "sealedAtEvent": inclusion.position, "contentSHA256": inclusion.sealed,
                    "holdsToday": today, "treeSize": inclusion.treeSize, "leafIndex": inclusion.position - 1,
                    "leafHash": Data(MerkleLog.leafHash(inclusion.eventHash)).base64EncodedString(),
                    "proof": inclusion.proof.map { Data($0).base64EncodedString() }, "root": Data(against.root).base64EncodedString(),
                    "proved": proved,
                ]
                if let note { out["checkpoint"] = note }
                let json = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: json, as: UTF8.self))
                guard proved, today == "the same" else { throw ExitCode(2) }
            }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chain what is pending, sign a checkpoint of the audit log and print it.",
            discussion: """
                Needs the signing key (CENTINELA_AUDIT_SIGNING_KEY, or the embedded database's own). \
                Keep the output outside the database: `audit verify --checkpoint FILE` holds the log \
                against it later.
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                guard let checkpoints = setup.auditCheckpoints else {
                    throw ConfigurationErrorMessage("no signing key: set CENTINELA_AUDIT_SIGNING_KEY (see `centinela audit keygen`)")
                }
                let note: String? = try await setup.withCurrentSchema(database) { connection in
                    // Settling chains what is pending and signs, unless the newest checkpoint already
                    // states the log's size (or a server's sequencer signs it): the newest is printed.
                    try await setup.settleAuditLog(on: connection)
                    return try await AuditSequencer(checkpoints: checkpoints, logger: setup.logger).newestCheckpoint(on: connection)
                }
                guard let note else { throw ConfigurationErrorMessage("no checkpoint could be signed") }
                print(note, terminator: "")
            }
        }
    }

    struct VerifierKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verifier-key",
            abstract: "Print the verifier key of the configured signing key, for the regulators who keep checkpoints.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                guard let key = setup.auditCheckpoints?.key else {
                    throw ConfigurationErrorMessage("no signing key: set CENTINELA_AUDIT_SIGNING_KEY (see `centinela audit keygen`)")
                }
                print(key.verifierKey)
            }
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key to sign the audit log's checkpoints; print the verifier key regulators keep.",
            discussion: """
                Writes the private key (32 bytes, base64) to --out, readable by its owner only, and \
                prints its verifier key. Give the service the private key as \
                CENTINELA_AUDIT_SIGNING_KEY_FILE=FILE (never inside the database), and the verifier \
                key to whoever keeps checkpoints.
                """)

        @Option(name: .long, help: "Where to write the private key; must not exist.")
        var out: String

        @Option(name: .long, help: "The log's name, in every checkpoint. (default: centinela-audit)")
        var name = "centinela-audit"

        func run() throws {
            guard AuditSigningKey.isUsableName(name) else {
                throw ValidationError("--name must be 1 to 100 characters with no space or '+'")
            }
            guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) exists; choose another --out") }
            let key = AuditSigningKey.generated(name: name)
            guard
                FileManager.default.createFile(atPath: out, contents: Data((key.seed + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("cannot write \(out)") }
            print(key.verifierKey)
        }
    }
}
