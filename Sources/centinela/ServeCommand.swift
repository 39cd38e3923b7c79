import ArgumentParser
import CentinelaCore
import CentinelaHTTP
import CentinelaSimulation
import CentinelaStore
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API.",
        discussion: """
            Refuses to start on a database whose schema is behind this build unless --migrate is
            given. Stops gracefully on SIGTERM or SIGINT: requests in flight get 10 s, then are
            cancelled (a second signal cancels them at once); stops the embedded PostgreSQL it started.
            """
    )

    @Option(name: .long, help: "Address to listen on. (env: CENTINELA_HOST; default: 127.0.0.1)")
    var host: String?

    @Option(name: .long, help: "Port to listen on; 0 picks a free one. (env: CENTINELA_PORT; default: 8080)")
    var port: String?

    @Option(
        name: .long,
        help:
            "Largest request body accepted, in bytes; larger ones get 413. CSV imports allow at least 64 MiB. (env: CENTINELA_MAX_BODY_BYTES; default: 1048576)"
    )
    var maxBodyBytes: String?

    @Option(
        name: .long,
        help:
            "Requests a second one API token may make, sustained (bursts of ten seconds' worth pass); more get 429 with Retry-After. 0: no limit. (env: CENTINELA_RATE_LIMIT; default: 50)"
    )
    var rateLimit: String?

    @Option(
        name: .long,
        help:
            "Networks webhooks may be delivered to although they are internal, or over plain http: CIDR, comma-separated (e.g. 10.0.0.0/8 for a relay). (env: CENTINELA_WEBHOOK_ALLOW_NETWORKS; default: none, public https only)"
    )
    var webhookAllowNetworks: String?

    @Option(
        name: .long,
        help:
            "Where the problem documents' types are documented: an absolute http(s) URL ending in '/', to which each type's slug (not-found, …) is appended. (env: CENTINELA_PROBLEM_TYPE_BASE; default: https://centinela.example/problems/)"
    )
    var problemTypeBase: String?

    @Option(
        name: .long,
        help:
            "How long a new case's events wait before webhooks announce it, in seconds (0 to 3600), so that alerts following at once are announced with it. (env: CENTINELA_CASE_GROUP_WAIT; default: 30)"
    )
    var caseGroupWait: String?

    @Option(
        name: .long,
        help:
            "Minutes a console session may sit unused before it ends (5 to 480). (env: CENTINELA_CONSOLE_IDLE_MINUTES; default: 30)"
    )
    var consoleIdleMinutes: String?

    @Option(
        name: .long,
        help: "Hours a console session lasts at most, however active (1 to 24). (env: CENTINELA_CONSOLE_SESSION_HOURS; default: 12)"
    )
    var consoleSessionHours: String?

    @Flag(name: .long, help: "Apply pending migrations before serving.")
    var migrate = false

    @Flag(name: .long, help: "Embedded database only: seed a simulated country on first use and print demo tokens.")
    var demo = false

    @OptionGroup var riskModel: RiskModelOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        try await failingClearly {
            var http = HTTPConfiguration()
            var metricsToken: String?
            var groupWait = Duration.seconds(30)
            let setup = try CommandSetup(log: log, database: database) { env in
                http = try httpConfiguration(env)
                groupWait =
                    try env.setting(
                        flag: caseGroupWait, "--case-group-wait", variable: "CENTINELA_CASE_GROUP_WAIT", Self.parseGroupWait) ?? groupWait
                metricsToken = try env.setting(flag: nil, "", variable: "CENTINELA_METRICS_TOKEN", Self.parseMetricsToken)
            }
            let (env, logger, migrations) = (setup.env, setup.logger, setup.migrations)

            let nationalIDs = try database.nationalIDHasher(env, logger: logger)
            let model = try riskModel.resolve(env)
            if demo, case .server = try database.resolveTarget(env) {
                throw ConfigurationErrorMessage(
                    "--demo seeds only the embedded database; unset DATABASE_URL (nothing is ever seeded into a real database)")
            }
            try await database.withDatabase(env, logger: logger) { databaseConfiguration in
                try await prepareSchema(databaseConfiguration, migrations: migrations, logger: logger)
                var access: DemoAccess?
                if demo {
                    access = try await databaseConfiguration.withConnection(logger: logger) { connection in
                        try await connection.operatorTransaction(logger: logger) {
                            try await DemoSeeder(logger: logger, nationalIDs: nationalIDs)
                                .prepare(on: connection, today: CalendarDate(daysSinceEpoch: Int(Date().timeIntervalSince1970 / 86_400)))
                        }
                    }
                }
                if access != nil {
                    // The demo country is linked (adults across facilities, patterns, the review
                    // queue: a full rebuild the first time, an update after) and its scores brought
                    // up to date before serving, so that what linking finds shows at once; it is
                    // small enough to take a moment.
                    try await databaseConfiguration.withConnection(logger: logger) { reader in
                        try await databaseConfiguration.withConnection(logger: logger) { writer in
                            let linking = LinkingRebuilder(logger: logger)
                            do {
                                if try await linking.update(reader: reader, writer: writer) == nil {
                                    _ = try await linking.rebuild(reader: reader, writer: writer)
                                }
                            } catch LinkingRebuilder.Failure.alreadyRunning {
                                logger.notice("a linking rebuild or update is running; the demo starts without waiting for it")
                            }
                            _ = try await Rescorer(model: model, logger: logger).run(.full, reader: reader, writer: writer, wait: true)
                        }
                    }
                }
                // One registry: the service's own metrics, and whatever a library reports through
                // swift-metrics, all at /metrics.
                let metrics = ServiceMetrics()
                MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
                let app = try buildApplication(
                    configuration: http, database: databaseConfiguration, migrations: migrations,
                    nationalIDs: nationalIDs, riskModel: model, caseGroupWait: groupWait, metrics: metrics, metricsToken: metricsToken,
                    auditCheckpoints: setup.auditCheckpoints, logger: logger)
                if setup.auditCheckpoints == nil {
                    logger.warning(
                        "no CENTINELA_AUDIT_SIGNING_KEY: the audit log is chained but no checkpoint is signed, so nothing outside the database can show it was not rewritten"
                    )
                }
                if let access { printDemo(access, http: http) }
                do {
                    try await Self.runUntilStopped(app, logger: logger)
                } catch let error as SecondSignal {
                    throw error
                } catch {
                    throw ServeError(http: http, underlying: error)
                }
                logger.notice("centinela stopped")
            }
        }
    }

    /// How long a stop (SIGTERM, SIGINT) waits for requests in flight and open streams to end
    /// before they are cancelled. Cancellation then gets `cancellationTime`, after which
    /// ServiceLifecycle stops the process outright.
    static let drainTime: Duration = .seconds(10)
    static let cancellationTime: Duration = .seconds(10)

    /// Serves until SIGTERM or SIGINT, then drains for at most `drainTime`. A second signal while
    /// draining cancels what is left at once (an operator who asks twice means it); the embedded
    /// PostgreSQL is still stopped on the way out.
    static func runUntilStopped(_ app: some ApplicationProtocol, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = drainTime
        configuration.maximumCancellationDuration = cancellationTime
        let group = ServiceGroup(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var seen = 0
                for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    seen += 1
                    guard seen >= 2 else { continue }
                    logger.warning("second signal while draining: cancelling what is left", metadata: ["signal": "\(signal)"])
                    throw SecondSignal()
                }
            }
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
    }

    func httpConfiguration(_ env: Environment) throws(ConfigurationError) -> HTTPConfiguration {
        HTTPConfiguration(
            host: try env.setting(flag: host, "--host", variable: "CENTINELA_HOST", HTTPConfiguration.parseHost)
                ?? HTTPConfiguration.defaultHost,
            port: try env.setting(flag: port, "--port", variable: "CENTINELA_PORT", HTTPConfiguration.parsePort)
                ?? HTTPConfiguration.defaultPort,
            maximumBodySize: try env.setting(
                flag: maxBodyBytes, "--max-body-bytes", variable: "CENTINELA_MAX_BODY_BYTES", HTTPConfiguration.parseBodyLimit)
                ?? HTTPConfiguration.defaultMaximumBodySize,
            webhookTargets: WebhookTargets(
                allowed: try env.setting(
                    flag: webhookAllowNetworks, "--webhook-allow-networks", variable: "CENTINELA_WEBHOOK_ALLOW_NETWORKS",
                    HTTPConfiguration.parseNetworks) ?? []),
            requestsPerSecondPerToken: try env.setting(
                flag: rateLimit, "--rate-limit", variable: "CENTINELA_RATE_LIMIT", HTTPConfiguration.parseRateLimit)
                ?? HTTPConfiguration.defaultRequestsPerSecondPerToken,
            problemTypeBase: try env.setting(
                flag: problemTypeBase, "--problem-type-base", variable: "CENTINELA_PROBLEM_TYPE_BASE",
                HTTPConfiguration.parseProblemTypeBase) ?? Problem.typeBase,
            consoleSessions: ConsoleSessions.Limits(
                idle: try env.setting(
                    flag: consoleIdleMinutes, "--console-idle-minutes", variable: "CENTINELA_CONSOLE_IDLE_MINUTES",
                    { text, source throws(ConfigurationError) in try Self.parseWhole(text, source: source, in: 5...480, unit: 60) })
                    ?? ConsoleSessions.Limits().idle,
                absolute: try env.setting(
                    flag: consoleSessionHours, "--console-session-hours", variable: "CENTINELA_CONSOLE_SESSION_HOURS",
                    { text, source throws(ConfigurationError) in try Self.parseWhole(text, source: source, in: 1...24, unit: 3600) })
                    ?? ConsoleSessions.Limits().absolute))
    }

    /// A whole number of minutes or hours (`unit` seconds each) within `range`.
    static func parseWhole(_ text: String, source: String, in range: ClosedRange<Int>, unit: Int) throws(ConfigurationError) -> Duration {
        guard let value = Int(text), range.contains(value), text.allSatisfy(\.isASCII) else {
            throw ConfigurationError(
                source: source, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return .seconds(value * unit)
    }

    /// A case group wait: whole seconds, 0 to 3600 (an hour).
    static func parseGroupWait(_ text: String, source: String) throws(ConfigurationError) -> Duration {
        try Environment.wholeSeconds(text, source: source, in: 0...3600)
    }

    /// A metrics token: 16 to 200 visible ASCII characters, so it fits a header unchanged.
    static func parseMetricsToken(_ text: String, source: String) throws(ConfigurationError) -> String {
        let visible = text.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0.value < 127 }
        guard (16...200).contains(text.count), visible else {
            throw ConfigurationError(source: source, message: "must be 16 to 200 visible ASCII characters without spaces")
        }
        return text
    }

    func printDemo(_ access: DemoAccess, http: HTTPConfiguration) {
        let base = "http://\(http.host == "0.0.0.0" ? "127.0.0.1" : http.host):\(http.port)"
        // Written straight to the file descriptor, so it shows at once even when standard output is
        // a pipe (make, a log collector) rather than sitting in a buffer.
        FileHandle.standardOutput.write(
            Data(
                """

                Centinela demo: \(access.facilities) simulated facilities, \(access.reports) reports\(access.seeded ? " (just seeded)" : "").
                  console       \(base)/console/   (sign in with a token below; Spanish first, English from the page's switch)
                  API           \(base)   (contract: \(base)/openapi.yaml)
                  regulator     \(access.regulatorToken.value)
                                sees every facility and report of \(access.regulatorJurisdiction)
                  school        \(access.schoolToken.value)
                                sees facility \(access.schoolFacility) only
                  try           curl -s -H "Authorization: Bearer \(access.regulatorToken.value)" "\(base)/v1/alerts?limit=5"
                                curl -s -H "Authorization: Bearer \(access.regulatorToken.value)" "\(base)/v1/patterns?limit=5"
                                curl -s -H "Authorization: Bearer \(access.regulatorToken.value)" "\(base)/v1/links/review?limit=5"
                                curl -sN -H "Authorization: Bearer \(access.regulatorToken.value)" "\(base)/v1/alerts/stream"
                                curl -s -H "Authorization: Bearer \(access.regulatorToken.value)" "\(base)/v1/reports?limit=5"
                                curl -s -H "Authorization: Bearer \(access.schoolToken.value)" "\(base)/v1/facilities/\(access.schoolFacilityID.uuidString.lowercased())/staff"
                  Tokens are new on every start; the previous demo tokens are revoked.


                """.utf8))
    }

    /// Checks, or with --migrate brings up to date, the schema before any request is served.
    func prepareSchema(_ database: DatabaseConfiguration, migrations: MigrationSet, logger: Logger) async throws {
        let migrator = Migrator(migrations: migrations, logger: logger)
        try await database.withConnection(logger: logger) { connection in
            if migrate {
                try await migrator.migrate(on: connection)
            } else {
                let status = try await migrator.status(on: connection)
                guard status.isCurrent else { throw MigrationError.schemaBehind(pending: status.pending) }
            }
        }
    }
}

/// The server was told to stop twice and did not wait for its drain to end.
struct SecondSignal: Error, CustomStringConvertible {
    var description: String { "stopped by a second signal while draining: requests still in flight were cancelled" }
}

/// The server could not run: most often the address is taken or not ours to bind.
struct ServeError: Error, CustomStringConvertible {
    var http: HTTPConfiguration
    var underlying: any Error

    var description: String {
        let reason = DatabaseError.reason(for: underlying)
        if reason.localizedCaseInsensitiveContains("address already in use") {
            return
                "cannot listen on \(http.host):\(http.port): the address is already in use (choose another with --port or CENTINELA_PORT)"
        }
        if reason.localizedCaseInsensitiveContains("bind") || reason.localizedCaseInsensitiveContains("assign") {
            return "cannot listen on \(http.host):\(http.port): \(reason)"
        }
        return reason
    }
}
