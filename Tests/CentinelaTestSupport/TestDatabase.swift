import CentinelaStore
import Foundation
import Logging
import PostgresNIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL for the test suites: one server per test run, a fresh database per test.
///
/// The server is `CENTINELA_TEST_DATABASE_URL` when set (its user must be allowed to create
/// databases), otherwise an embedded cluster in a temporary folder, tuned for speed (no fsync) and
/// stopped and deleted when the test process exits. Each test gets its own database, cloned from
/// a template migrated once per run, so tests can run in parallel and leave nothing behind.
public enum TestDatabase {
    /// The repository's `Schema/` folder.
    public static let schemaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schema")

    public static let logger: Logger = {
        var logger = Logger(label: "centinela.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }()

    /// How long the service under test waits for a pooled connection before answering 503
    /// (`DatabaseConfiguration.connectionWait`, 2 s in production). The whole suite runs at once on
    /// two cores with some 400 backends: a new connection can take longer than 2 s to open, and
    /// tests that check what a request does (not how fast) failed now and then with a 503. The
    /// tests of the bounded wait itself (OutageTests) set the production value back.
    public static let connectionWait = Duration.seconds(20)

    /// Chains every audit event appended so far (decision 43: writers append to `audit_pending`,
    /// the sequencer moves them into `audit_events`), waiting for a running server's sequencer
    /// when one leads. For tests that read the trail right after writing it.
    public static func chainAuditEvents(on connection: PostgresConnection) async throws {
        guard try await AuditSequencer(logger: logger).settle(on: connection) else {
            throw ReadableDatabaseError(reason: "the audit sequencer did not chain the pending events within 10 s")
        }
    }

    /// The migrations of this source tree.
    public static func migrations() throws -> MigrationSet {
        try MigrationSet.load(from: schemaDirectory)
    }

    /// A new database with every migration applied; dropped when `body` returns or throws.
    public static func withMigratedDatabase<Result: Sendable>(
        _ body: (DatabaseConfiguration) async throws -> Result
    ) async throws -> Result {
        let template = try await shared.template()
        return try await withDatabase(template: template, body)
    }

    /// A new, empty database (no migrations); dropped when `body` returns or throws.
    public static func withEmptyDatabase<Result: Sendable>(
        _ body: (DatabaseConfiguration) async throws -> Result
    ) async throws -> Result {
        try await withDatabase(template: "template0", body)
    }

    /// The server itself, for tests that manage databases or connections directly.
    public static func server() async throws -> DatabaseConfiguration {
        try await shared.server()
    }

    private static func withDatabase<Result: Sendable>(
        template: String,
        _ body: (DatabaseConfiguration) async throws -> Result
    ) async throws -> Result {
        let server = try await shared.server()
        let name = "centinela_test_\(UUID().uuidString.prefix(13).lowercased().replacingOccurrences(of: "-", with: ""))"
        // A copy is refused while any session is connected to the template (55006). Nothing of
        // ours connects to it once migrated, yet a loaded run saw "1 other session" for a moment
        // (22 tests failed at once, twice today): wait for it to go, up to 5 s.
        for attempt in 1...25 {
            do {
                try await administer(server) { connection in
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"), logger: logger)
                }
                break
            } catch let error as ReadableDatabaseError where error.sqlState == "55006" && attempt < 25 {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        var database = server.with(database: name)
        database.connectionWait = connectionWait
        do {
            let result = try await body(database)
            try await drop(name, on: server)
            return result
        } catch {
            try? await drop(name, on: server)
            // PostgresNIO hides server messages from descriptions; a failing test should show them.
            if error is PSQLError { throw ReadableDatabaseError(reason: DatabaseError.reason(for: error)) }
            throw error
        }
    }

    private static func drop(_ name: String, on server: DatabaseConfiguration) async throws {
        try await administer(server) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    static func administer(
        _ server: DatabaseConfiguration, _ body: (PostgresConnection) async throws -> Void
    )
        async throws
    {
        do {
            try await server.with(database: "postgres").withConnection(logger: logger) { connection in
                try await body(connection)
            }
        } catch let error as PSQLError {
            throw ReadableDatabaseError(reason: DatabaseError.reason(for: error), sqlState: DatabaseError.sqlState(of: error))
        }
    }

    private static let shared = SharedServer()
}

/// Starts the server and the template once, whichever test asks first.
private actor SharedServer {
    private var serverTask: Task<DatabaseConfiguration, any Error>?
    private var templateTask: Task<String, any Error>?

    func server() async throws -> DatabaseConfiguration {
        if let serverTask { return try await serverTask.value }
        let task = Task { try await Self.startServer() }
        serverTask = task
        return try await task.value
    }

    func template() async throws -> String {
        if let templateTask { return try await templateTask.value }
        // The task is stored before any suspension, so concurrent callers share it.
        let task = Task {
            let server = try await self.server()
            let name = "centinela_template_\(getpid())"
            try await TestDatabase.administer(server) { connection in
                try await connection.query(
                    PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: TestDatabase.logger)
                try await connection.query(
                    PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE template0"), logger: TestDatabase.logger)
            }
            let migrator = Migrator(migrations: try TestDatabase.migrations(), logger: TestDatabase.logger)
            try await server.with(database: name).withConnection(logger: TestDatabase.logger) { connection in
                try await migrator.migrate(on: connection)
            }
            // No one connects to the template from now on (autovacuum included): a session on it
            // makes every CREATE DATABASE copying it fail ("being accessed by other users"). This
            // alone did not end those failures; `withDatabase` also waits for such a session to go.
            try await TestDatabase.administer(server) { connection in
                try await connection.query(
                    PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) WITH ALLOW_CONNECTIONS false"), logger: TestDatabase.logger)
            }
            if ProcessInfo.processInfo.environment["CENTINELA_TEST_DATABASE_URL"] != nil {
                ExternalTemplate.remember(name, server: server)
            }
            return name
        }
        templateTask = task
        return try await task.value
    }

    private static func startServer() async throws -> DatabaseConfiguration {
        if let url = ProcessInfo.processInfo.environment["CENTINELA_TEST_DATABASE_URL"], !url.isEmpty {
            return try DatabaseConfiguration(url: url)
        }
        let root = "/tmp/centinela-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var configuration = EmbeddedPostgres.Configuration(dataDirectory: root + "/postgres")
        configuration.databaseName = "postgres"
        configuration.settings = [
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "1000",
        ]
        let cluster = try EmbeddedPostgres(configuration: configuration, logger: TestDatabase.logger)
        let database = try await cluster.start()
        EmbeddedTestCluster.registerCleanup(
            pgCtl: cluster.binDirectory + "/pg_ctl", user: cluster.serverUser,
            dataDirectory: cluster.dataDirectory, root: root)
        return database
    }
}

/// Stops the test run's embedded cluster when the test process exits, however the tests ended.
enum EmbeddedTestCluster {
    private static let state = Mutex<(pgCtl: String, user: String?, dataDirectory: String, root: String)?>(nil)

    static func registerCleanup(pgCtl: String, user: String?, dataDirectory: String, root: String) {
        state.withLock { $0 = (pgCtl, user, dataDirectory, root) }
        atexit {
            EmbeddedTestCluster.cleanUp()
        }
    }

    static func cleanUp() {
        guard let (pgCtl, user, dataDirectory, root) = state.withLock({ $0 }) else { return }
        // Synchronous on purpose: atexit handlers cannot await.
        let process = Process()
        let stop = [pgCtl, "stop", "-D", dataDirectory, "-m", "immediate", "-w", "-s"]
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--"] + stop
        } else {
            process.executableURL = URL(fileURLWithPath: stop[0])
            process.arguments = Array(stop.dropFirst())
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        runToEnd(process)
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// With an external test server, the template database is dropped at exit too.
enum ExternalTemplate {
    private static let state = Mutex<(name: String, server: DatabaseConfiguration)?>(nil)

    static func remember(_ name: String, server: DatabaseConfiguration) {
        state.withLock { $0 = (name, server) }
        atexit {
            ExternalTemplate.dropTemplate()
        }
    }

    static func dropTemplate() {
        guard let (name, server) = state.withLock({ $0 }) else { return }
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            try? await TestDatabase.administer(server) { connection in
                try await connection.query(
                    PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: TestDatabase.logger)
            }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 10)
    }
}

/// A database error with the server's message in its description, for test failure reports.
public struct ReadableDatabaseError: Error, CustomStringConvertible {
    public var reason: String
    /// The server's SQLSTATE, when the server answered.
    public var sqlState: String?
    public var description: String { "database error: \(reason)" }

    public init(reason: String, sqlState: String? = nil) {
        self.reason = reason
        self.sqlState = sqlState
    }
}
