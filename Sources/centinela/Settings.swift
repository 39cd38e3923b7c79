import ArgumentParser
import CentinelaCore
import CentinelaHTTP
import CentinelaStore
import Foundation
import Logging
import PostgresNIO

/// The process environment, read in one place so each setting names its variable once.
struct Environment {
    var values: [String: String] = ProcessInfo.processInfo.environment

    /// Secrets that may come from a file instead (`NAME_FILE=/run/secrets/…`, as Docker and
    /// Kubernetes mount them), so that they never sit in a compose file or a process listing.
    static let secretsFromFiles = [
        "DATABASE_URL", "CENTINELA_NATIONAL_ID_KEY", "CENTINELA_METRICS_TOKEN", "CENTINELA_AUDIT_SIGNING_KEY",
    ]

    /// The process environment with each `NAME_FILE` read into `NAME` (trailing newlines dropped).
    static func process() throws(ConfigurationError) -> Environment {
        var environment = Environment()
        for name in secretsFromFiles {
            guard let path = environment[name + "_FILE"] else { continue }
            guard environment[name] == nil else {
                throw ConfigurationError(source: name + "_FILE", message: "cannot be used together with \(name); set one of them")
            }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(source: name + "_FILE", message: "names a file that cannot be read: \(path)")
            }
            let value = text.trimmingCharacters(in: .newlines)
            guard !value.isEmpty else {
                throw ConfigurationError(source: name + "_FILE", message: "names an empty file: \(path)")
            }
            environment.values[name] = value
        }
        return environment
    }

    /// A variable's value; an empty value counts as unset, as in most shells' `VAR= cmd` idiom.
    subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// A duration given in whole seconds within `range` (a wait, a delay).
    static func wholeSeconds(_ text: String, source: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Duration {
        guard let seconds = Int(text), range.contains(seconds), text.allSatisfy(\.isASCII) else {
            throw ConfigurationError(
                source: source, message: "must be whole seconds from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return .seconds(seconds)
    }

    /// The one precedence rule for settings: the flag if given, else the variable, else nil.
    /// `parse` receives the text and the name of where it came from, for its error message.
    func setting<Value>(
        flag: String?, _ flagName: String, variable: String,
        _ parse: (String, String) throws(ConfigurationError) -> Value
    ) throws(ConfigurationError) -> Value? {
        if let flag { return try parse(flag, flagName) }
        if let text = self[variable] { return try parse(text, variable) }
        return nil
    }
}

struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical. (env: LOG_LEVEL; default: info)")
    var logLevel: String?

    @Option(name: .long, help: "text, or json for one JSON object per line. (env: LOG_FORMAT; default: text)")
    var logFormat: String?

    func resolve(_ env: Environment) throws(ConfigurationError) -> LogConfiguration {
        LogConfiguration(
            level: try env.setting(flag: logLevel, "--log-level", variable: "LOG_LEVEL", LogConfiguration.parseLevel)
                ?? .info,
            format: try env.setting(flag: logFormat, "--log-format", variable: "LOG_FORMAT", LogConfiguration.parseFormat)
                ?? .text)
    }
}

struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "PostgreSQL URL, e.g. postgres://user:pass@host:5432/centinela?sslmode=verify-full. Prefer the environment for secrets. (env: DATABASE_URL; default: an embedded cluster)",
            valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp(
            "Data folder of the embedded cluster used when no database URL is given. (env: CENTINELA_DATA_DIR; default: .centinela/postgres)",
            valueName: "path"))
    var dataDirectory: String?

    @Option(
        name: .customLong("schema-dir"),
        help: ArgumentHelp(
            "Folder of the NNNN_name.sql migrations. (env: CENTINELA_SCHEMA_DIR; default: ./Schema, or the one shipped beside the binary)",
            valueName: "path"))
    var schemaDirectory: String?

    @Option(
        name: .customLong("db-max-connections"),
        help: ArgumentHelp(
            "Largest number of database connections the service opens. (env: DATABASE_MAX_CONNECTIONS; default: 10)",
            valueName: "n"))
    var maximumConnections: String?

    @Option(
        name: .customLong("db-connection-wait"),
        help: ArgumentHelp(
            "Seconds a request waits for a database connection before it is answered 503. (env: DATABASE_CONNECTION_WAIT; default: 2)",
            valueName: "seconds"))
    var connectionWait: String?

    /// Either a server to connect to, or the embedded cluster to start, and the pool's settings.
    enum Target {
        case server(DatabaseConfiguration)
        case embedded(EmbeddedPostgres.Configuration, pool: Pool)
    }

    /// The settings of the service's connection pool, whichever database it uses.
    struct Pool {
        var maximumConnections = 10
        var connectionWait = DatabaseConfiguration.defaultConnectionWait

        func apply(to database: inout DatabaseConfiguration) {
            database.maximumConnections = maximumConnections
            database.connectionWait = connectionWait
        }
    }

    func resolveTarget(_ env: Environment) throws -> Target {
        let pool = Pool(
            maximumConnections: try env.setting(
                flag: maximumConnections, "--db-max-connections", variable: "DATABASE_MAX_CONNECTIONS"
            ) { text, source throws(ConfigurationError) in
                guard let value = Int(text), (1...500).contains(value) else {
                    throw ConfigurationError(source: source, message: "must be a whole number from 1 to 500, not '\(text)'")
                }
                return value
            } ?? Pool().maximumConnections,
            connectionWait: try env.setting(
                flag: connectionWait, "--db-connection-wait", variable: "DATABASE_CONNECTION_WAIT"
            ) { text, source throws(ConfigurationError) in try Environment.wholeSeconds(text, source: source, in: 1...60) }
                ?? Pool().connectionWait)
        if let url = databaseURL ?? env["DATABASE_URL"] {
            var configuration = try DatabaseConfiguration(url: url)
            pool.apply(to: &configuration)
            return .server(configuration)
        }
        let embedded = EmbeddedPostgres.Configuration(
            dataDirectory: dataDirectory ?? env["CENTINELA_DATA_DIR"] ?? ".centinela/postgres")
        return .embedded(embedded, pool: pool)
    }

    func resolveMigrations(_ env: Environment) throws -> MigrationSet {
        if let path = schemaDirectory ?? env["CENTINELA_SCHEMA_DIR"] {
            return try MigrationSet.load(from: URL(fileURLWithPath: path))
        }
        guard let found = MigrationSet.locateSchemaDirectory(executablePath: CommandLine.arguments[0]) else {
            throw MigrationError.schemaDirectoryUnreadable("./Schema")
        }
        return try MigrationSet.load(from: found)
    }

    /// Runs `body` against the configured database. An embedded cluster is started first and
    /// stopped afterwards, whether `body` succeeds or fails.
    func withDatabase<Result: Sendable>(
        _ env: Environment,
        logger: Logger,
        _ body: (DatabaseConfiguration) async throws -> Result
    ) async throws -> Result {
        switch try resolveTarget(env) {
        case .server(let configuration):
            return try await body(configuration)
        case .embedded(let embeddedConfiguration, let pool):
            let cluster = try EmbeddedPostgres(configuration: embeddedConfiguration, logger: logger)
            do {
                var database = try await cluster.start()
                pool.apply(to: &database)
                let result = try await body(database)
                try await cluster.stop()
                return result
            } catch {
                do {
                    try await cluster.stop()
                } catch let stopError {
                    logger.error("\(stopError)")
                }
                throw error
            }
        }
    }
}

extension DatabaseOptions {
    /// The key for hashing national identifiers: `CENTINELA_NATIONAL_ID_KEY` (base64, at least 32
    /// bytes); with the embedded database and no variable, a key kept beside the data folder,
    /// made on first use. Without either, the service refuses national identifiers.
    func nationalIDHasher(_ env: Environment, logger: Logger) throws -> NationalIDHasher? {
        if let text = env["CENTINELA_NATIONAL_ID_KEY"] {
            guard let data = Data(base64Encoded: text), let hasher = NationalIDHasher(key: data) else {
                throw ConfigurationError(source: "CENTINELA_NATIONAL_ID_KEY", message: "must be at least 32 bytes, base64-encoded")
            }
            return hasher
        }
        guard case .embedded(let embedded, _) = try resolveTarget(env) else { return nil }
        let folder = URL(fileURLWithPath: embedded.dataDirectory).deletingLastPathComponent()
        let file = folder.appendingPathComponent("national-id.key")
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                let hasher = NationalIDHasher(key: data)
            else { throw ConfigurationErrorMessage("\(file.path) does not hold a usable key (base64, at least 32 bytes)") }
            return hasher
        }
        var generator = SystemRandomNumberGenerator()
        let key = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(key.base64EncodedString().utf8), attributes: [.posixPermissions: 0o600])
        else { throw ConfigurationErrorMessage("cannot write \(file.path)") }
        logger.notice(
            "generated the key for hashing national identifiers; keep it with the data: without it they cannot be matched",
            metadata: ["path": "\(file.path)"])
        return NationalIDHasher(key: key)
    }
}

extension DatabaseOptions {
    /// How audit checkpoints are signed: `CENTINELA_AUDIT_SIGNING_KEY` (the Ed25519 private key's
    /// 32 bytes, base64, as `centinela audit keygen` writes it) named `CENTINELA_AUDIT_LOG_NAME`,
    /// kept in `CENTINELA_AUDIT_CHECKPOINT_DIR`, at most every `CENTINELA_AUDIT_CHECKPOINT_SECONDS`.
    /// With the embedded database and no key, a key and a folder beside the data folder, made on
    /// first use (`generatedKey`): enough to try the product, not to guard against its operator,
    /// who can read that key. Without either, nil.
    func auditCheckpointing(_ env: Environment) throws -> (checkpointing: AuditCheckpointing?, generatedKey: URL?) {
        let name = env["CENTINELA_AUDIT_LOG_NAME"] ?? "centinela-audit"
        let interval =
            try env.setting(flag: nil, "", variable: "CENTINELA_AUDIT_CHECKPOINT_SECONDS") { text, source throws(ConfigurationError) in
                try Environment.wholeSeconds(text, source: source, in: 10...86_400)
            } ?? .seconds(60)
        guard AuditSigningKey.isUsableName(name) else {
            throw ConfigurationError(source: "CENTINELA_AUDIT_LOG_NAME", message: "must be 1 to 100 characters with no space or '+'")
        }
        var folder = try env["CENTINELA_AUDIT_CHECKPOINT_DIR"].map { path throws(ConfigurationError) in
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue,
                FileManager.default.isWritableFile(atPath: path)
            else {
                throw ConfigurationError(
                    source: "CENTINELA_AUDIT_CHECKPOINT_DIR", message: "must name a folder this user can write: \(path)")
            }
            return URL(fileURLWithPath: path)
        }
        if let seed = env["CENTINELA_AUDIT_SIGNING_KEY"] {
            guard let signing = try? AuditSigningKey(name: name, seed: seed) else {
                throw ConfigurationError(
                    source: "CENTINELA_AUDIT_SIGNING_KEY",
                    message: "must be 32 bytes, base64-encoded, as `centinela audit keygen` writes it")
            }
            return (AuditCheckpointing(key: signing, folder: folder, interval: interval), nil)
        }
        guard case .embedded(let embedded, _) = try resolveTarget(env) else { return (nil, nil) }
        let beside = URL(fileURLWithPath: embedded.dataDirectory).deletingLastPathComponent()
        let file = beside.appendingPathComponent("audit-signing.key")
        if folder == nil {
            folder = beside.appendingPathComponent("audit-checkpoints")
            try FileManager.default.createDirectory(at: folder!, withIntermediateDirectories: true)
        }
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            guard let signing = try? AuditSigningKey(name: name, seed: text) else {
                throw ConfigurationErrorMessage("\(file.path) does not hold a usable audit signing key (32 bytes, base64)")
            }
            return (AuditCheckpointing(key: signing, folder: folder, interval: interval), nil)
        }
        let signing = AuditSigningKey.generated(name: name)
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data((signing.seed + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw ConfigurationErrorMessage("cannot write \(file.path)") }
        return (AuditCheckpointing(key: signing, folder: folder, interval: interval), file)
    }
}

/// What every command that touches the database sets up first, in this order: settings are all
/// validated before logging starts and before any database is started.
struct CommandSetup {
    var env: Environment
    var logger: Logger
    var migrations: MigrationSet
    /// How the audit log's checkpoints are signed and kept; nil without a key (decision 43).
    var auditCheckpoints: AuditCheckpointing?

    /// `quiet` commands print results for people and scripts: they log warnings and worse only,
    /// unless a level is asked for.
    init(
        log: LogOptions, database: DatabaseOptions, quiet: Bool = false, validate: (Environment) throws -> Void = { _ in }
    ) throws {
        env = try Environment.process()
        var logConfiguration = try log.resolve(env)
        if quiet && log.logLevel == nil && env["LOG_LEVEL"] == nil { logConfiguration.level = .warning }
        _ = try database.resolveTarget(env)
        try validate(env)
        migrations = try database.resolveMigrations(env)
        let audit = try database.auditCheckpointing(env)
        auditCheckpoints = audit.checkpointing
        logConfiguration.bootstrap()
        logger = Logger(label: "centinela")
        logger.logLevel = logConfiguration.level
        if let generated = audit.generatedKey {
            logger.notice(
                "generated the key that signs the audit log's checkpoints; give its verifier key to the regulators who keep them",
                metadata: ["path": "\(generated.path)", "verifier_key": "\(audit.checkpointing?.key.verifierKey ?? "")"])
        }
    }
}

extension CommandSetup {
    /// Runs `body` on one connection to a database whose schema is current; a stale schema is
    /// refused with the advice to migrate.
    func withCurrentSchema<Result: Sendable>(
        _ options: DatabaseOptions, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let migrator = Migrator(migrations: migrations, logger: logger)
        return try await options.withDatabase(env, logger: logger) { database in
            try await database.withConnection(logger: logger) { connection in
                let status = try await migrator.status(on: connection)
                guard status.isCurrent else { throw MigrationError.schemaBehind(pending: status.pending) }
                let result = try await body(connection)
                try await settleStream(on: connection)
                try await settleAuditLog(on: connection)
                return result
            }
        }
    }

    /// Places the alert and case events this command wrote in the live stream, when no server
    /// does (decision 46): regulators' streams see them by the time it exits.
    func settleStream(on connection: PostgresConnection) async throws {
        if try await !StreamSequencer(logger: logger).settle(on: connection) {
            logger.warning("the server sequencing the live stream has not placed this command's alert events yet; it will")
        }
    }

    /// Chains the audit events this command wrote, when no server sequences the log (decision
    /// 43): a command's writes are in the log by the time it exits.
    func settleAuditLog(on connection: PostgresConnection, sign: Bool = true) async throws {
        if try await !AuditSequencer(checkpoints: auditCheckpoints, logger: logger).settle(on: connection, sign: sign) {
            logger.warning("the server sequencing the audit log has not chained this command's events yet; it will")
        }
    }
}

/// A mistake in how a command was called, explained in one line.
struct ConfigurationErrorMessage: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A line for the person at the terminal that is not the command's output.
func printNote(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Turns any error into the one line an operator reads, and a non-zero exit status.
func failingClearly<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        // DatabaseError.reason knows PostgresNIO's errors, whose own descriptions are generic,
        // and falls back to the error's description for everything else.
        printError(DatabaseError.reason(for: error))
        throw ExitCode.failure
    }
}

func printError(_ message: String) {
    let line = message.replacingOccurrences(of: "\n", with: " ")
    FileHandle.standardError.write(Data("centinela: error: \(line)\n".utf8))
}

/// The risk model to score with: a built-in one by id, or a tuned definition.
struct RiskModelOptions: ParsableArguments {
    @Option(
        name: .customLong("risk-model"),
        help: "v1, v2, or the path of a tuned risk model definition (JSON, with its own id). (env: CENTINELA_RISK_MODEL; default: v2)")
    var riskModel: String?

    static let defaultModel = RiskModel.v2

    func resolve(_ env: Environment) throws -> RiskModel {
        guard let path = riskModel ?? env["CENTINELA_RISK_MODEL"] else { return Self.defaultModel }
        if let builtIn = RiskModel.builtIn[path] { return builtIn }
        let source = riskModel != nil ? "--risk-model" : "CENTINELA_RISK_MODEL"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationErrorMessage("\(source): cannot read \(path)")
        }
        do {
            return try RiskModel.load(json: data)
        } catch {
            throw ConfigurationErrorMessage("\(source): \(path): \(error)")
        }
    }
}

extension CommandSetup {
    /// Like `withCurrentSchema`, with `count` connections (at least one).
    func withCurrentSchema<Result: Sendable>(
        _ options: DatabaseOptions, connections count: Int, _ body: ([PostgresConnection]) async throws -> Result
    ) async throws -> Result {
        let migrator = Migrator(migrations: migrations, logger: logger)
        return try await options.withDatabase(env, logger: logger) { database in
            func open(_ opened: [PostgresConnection]) async throws -> Result {
                if opened.count == max(count, 1) { return try await body(opened) }
                return try await database.withConnection(logger: logger) { connection in
                    guard opened.isEmpty else { return try await open(opened + [connection]) }
                    let status = try await migrator.status(on: connection)
                    guard status.isCurrent else { throw MigrationError.schemaBehind(pending: status.pending) }
                    let result = try await open([connection])
                    try await settleStream(on: connection)
                    try await settleAuditLog(on: connection)
                    return result
                }
            }
            return try await open([])
        }
    }
}
