import CentinelaCore
import Crypto
import Foundation
import Logging
import PostgresNIO

/// A private PostgreSQL cluster that Centinela runs itself when no `DATABASE_URL` is given.
///
/// The cluster lives under one data folder (default `.centinela/postgres`), listens only on a
/// Unix-domain socket in a folder only its owner can enter (no TCP port at all), and trusts local
/// connections: whoever can reach the socket already owns the data files. As root, the server runs
/// as the `postgres` system user, because PostgreSQL refuses to run as root.
///
/// `start()` creates the cluster on first use, starts it, or adopts a server already running on the
/// same folder (left by a crash, or started by another centinela process). `stop()` stops it only
/// if this process is responsible for it: it started it, or adopted it from a process that died.
public actor EmbeddedPostgres {
    public struct Configuration: Sendable {
        /// Where the cluster's files live. Created on first start.
        public var dataDirectory: String
        /// The database Centinela uses inside the cluster, created on first start.
        public var databaseName: String = "centinela"
        /// The superuser that initdb creates; the service connects as this role.
        public var userName: String = "centinela"
        /// Extra server settings (`name = value` lines of postgresql.conf), e.g. for tests.
        public var settings: [String: String] = [:]
        /// The folder holding initdb and pg_ctl; found automatically when nil.
        public var binDirectory: String? = nil

        public init(dataDirectory: String) {
            self.dataDirectory = dataDirectory
        }
    }

    /// How this process came to use the running server.
    public enum Ownership: Sendable, Equatable {
        /// Created or started by this process: stopped by it.
        case started
        /// Found running for a process that is gone: stopped by this one.
        case adoptedOrphan
        /// Found running for another live process: left running.
        case shared
    }

    public nonisolated let configuration: Configuration
    /// The data folder actually used (see ``resolveDataDirectory(_:logger:)``).
    public nonisolated let dataDirectory: String
    private let logger: Logger
    private nonisolated let binaries: PostgresBinaries
    private nonisolated let systemUser: (name: String, uid: uid_t, gid: gid_t)?
    /// The folder of the server programs in use (initdb, pg_ctl, postgres).
    public nonisolated var binDirectory: String { binaries.directory }
    /// The system user the server runs as, when it is not the current user (as root: postgres).
    public nonisolated var serverUser: String? { systemUser?.name }
    public private(set) var ownership: Ownership?
    private var running: DatabaseConfiguration?

    static let port = 5432
    static let ownerFileName = "centinela.owner"
    static let settingsFileName = "centinela.conf"

    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.binaries = try PostgresBinaries.locate(in: configuration.binDirectory)
        if HostProcess.isRoot {
            guard let account = HostProcess.account(named: "postgres") else {
                throw EmbeddedPostgresError.noPostgresUser
            }
            self.systemUser = ("postgres", account.uid, account.gid)
        } else {
            self.systemUser = nil
        }
        self.dataDirectory = try Self.resolveDataDirectory(
            configuration.dataDirectory, serverUser: systemUser?.name, logger: logger)
    }

    /// Starts (or adopts) the cluster and returns how to connect to Centinela's database in it.
    public func start() async throws -> DatabaseConfiguration {
        if let running { return running }
        let parent = URL(fileURLWithPath: dataDirectory).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let database = try await FileLock.withExclusiveLock(path: dataDirectory + ".lock") {
            try await startLocked()
        }
        running = database
        return database
    }

    private func startLocked() async throws -> DatabaseConfiguration {
        try await initialiseIfNeeded()
        let socketDirectory = try prepareSocketDirectory()
        var database = DatabaseConfiguration(
            endpoint: .unixSocket(directory: socketDirectory, port: Self.port),
            username: configuration.userName,
            password: nil,
            database: configuration.databaseName,
            tlsMode: .disable
        )

        if let server = try runningServer() {
            // The server owns its socket folder; connect where it actually listens.
            database.endpoint = .unixSocket(directory: server.socketDirectory, port: server.port)
            if let owner = readOwner(), owner != HostProcess.currentPID, HostProcess.isAlive(owner) {
                ownership = .shared
                logger.info(
                    "embedded PostgreSQL already running for another centinela process; sharing it",
                    metadata: ["data_dir": "\(dataDirectory)", "owner_pid": "\(owner)"])
            } else {
                ownership = .adoptedOrphan
                writeOwner()
                logger.notice(
                    "embedded PostgreSQL was left running by a process that exited; adopting it",
                    metadata: ["data_dir": "\(dataDirectory)", "postgres_pid": "\(server.pid)"])
            }
        } else {
            try writeSettings(socketDirectory: socketDirectory)
            let started = ContinuousClock.now
            let result = try await binaries.run(
                "pg_ctl",
                ["start", "-D", dataDirectory, "-w", "-t", "60", "-s", "-l", logFile],
                as: systemUser?.name)
            guard result.status == 0 else {
                throw EmbeddedPostgresError.startFailed(reason: serverLogTail() ?? result.lastLine, log: logFile)
            }
            ownership = .started
            writeOwner()
            logger.info(
                "embedded PostgreSQL started",
                metadata: [
                    "data_dir": "\(dataDirectory)", "socket_dir": "\(socketDirectory)",
                    "elapsed_ms": "\(started.duration(to: .now).milliseconds)",
                ])
        }

        try await ensureDatabase(database)
        return database
    }

    /// Stops the server if this process is responsible for it; otherwise leaves it to its owner.
    public func stop() async throws {
        guard running != nil, let ownership else { return }
        defer {
            running = nil
            self.ownership = nil
        }
        guard ownership != .shared else { return }
        let postmaster = try? runningServer()?.pid
        let result = try await FileLock.withExclusiveLock(path: dataDirectory + ".lock") {
            let result = try await binaries.run(
                "pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "-s"], as: systemUser?.name)
            try? FileManager.default.removeItem(atPath: ownerFile)
            return result
        }
        guard result.status == 0 else {
            throw EmbeddedPostgresError.stopFailed(reason: result.lastLine)
        }
        // pg_ctl returns once the postmaster removed its pid file, a moment before the process
        // itself has gone; callers (and a container's supervisor) expect nothing left running.
        if let postmaster {
            let deadline = ContinuousClock.now + .seconds(10)
            while HostProcess.isAlive(postmaster) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        logger.info("embedded PostgreSQL stopped", metadata: ["data_dir": "\(dataDirectory)"])
    }

    // MARK: Cluster files

    private var ownerFile: String { dataDirectory + "/" + Self.ownerFileName }
    private var logFile: String { dataDirectory + "/centinela-server.log" }

    private func initialiseIfNeeded() async throws {
        let fm = FileManager.default
        let versionFile = dataDirectory + "/PG_VERSION"
        if let version = try? String(contentsOfFile: versionFile, encoding: .utf8) {
            let major = version.trimmingCharacters(in: .whitespacesAndNewlines)
            let installed = try await binaries.majorVersion()
            guard major == installed else {
                throw EmbeddedPostgresError.versionMismatch(dataDirectory: dataDirectory, cluster: major, binaries: installed)
            }
            return
        }
        if let contents = try? fm.contentsOfDirectory(atPath: dataDirectory), !contents.isEmpty {
            throw EmbeddedPostgresError.dataDirectory(
                path: dataDirectory, reason: "it is not empty and holds no PostgreSQL cluster")
        }
        do {
            try fm.createDirectory(
                atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw EmbeddedPostgresError.dataDirectory(path: dataDirectory, reason: "\(error.localizedDescription)")
        }
        if let systemUser {
            try HostProcess.changeOwner(of: dataDirectory, to: (systemUser.uid, systemUser.gid))
        }
        logger.info("creating embedded PostgreSQL cluster", metadata: ["data_dir": "\(dataDirectory)"])
        let result = try await binaries.run(
            "initdb",
            [
                "-D", dataDirectory, "-U", configuration.userName, "--auth=trust", "--encoding=UTF8",
                "--locale=C", "--no-instructions",
            ],
            as: systemUser?.name)
        guard result.status == 0 else {
            // Leave no half-made cluster behind: the next start would refuse the non-empty folder.
            try? fm.removeItem(atPath: dataDirectory)
            throw EmbeddedPostgresError.initdbFailed(reason: result.lastLine)
        }
        // Our settings live in a file of their own, rewritten on every start.
        let conf = dataDirectory + "/postgresql.conf"
        let include = "\n# Added by centinela: settings it manages.\ninclude_if_exists = '\(Self.settingsFileName)'\n"
        guard let handle = FileHandle(forWritingAtPath: conf) else {
            throw EmbeddedPostgresError.dataDirectory(path: conf, reason: "cannot open for writing")
        }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(include.utf8))
        try handle.close()
    }

    private func writeSettings(socketDirectory: String) throws {
        var lines = [
            "# Written by centinela on every start of the embedded cluster; edits are overwritten.",
            "listen_addresses = ''",
            "port = \(Self.port)",
            "unix_socket_directories = '\(socketDirectory)'",
            "unix_socket_permissions = 0700",
            // A national rescore writes gigabytes of WAL: with the default 1 GB the cluster
            // checkpointed every ~30 s mid-run, and after each checkpoint every page touched goes
            // to the WAL whole again. Crash recovery may replay up to this much.
            "max_wal_size = '4GB'",
        ]
        for (name, value) in configuration.settings.sorted(by: { $0.key < $1.key }) {
            lines.append("\(name) = \(value)")
        }
        let path = dataDirectory + "/" + Self.settingsFileName
        do {
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw EmbeddedPostgresError.dataDirectory(path: path, reason: error.localizedDescription)
        }
        if let systemUser {
            try HostProcess.changeOwner(of: path, to: (systemUser.uid, systemUser.gid))
        }
    }

    /// The socket lives in the data folder when its path fits the 107-byte limit of Unix sockets;
    /// otherwise in a private folder under /tmp named after the data folder.
    private func prepareSocketDirectory() throws -> String {
        let socketName = "/.s.PGSQL.\(Self.port)"
        if (dataDirectory + socketName).utf8.count < 100 {
            return dataDirectory
        }
        let digest = SHA256.hash(data: Data(dataDirectory.utf8)).prefix(6).lowercaseHex
        let directory = "/tmp/centinela-pg-\(digest)"
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let systemUser {
            try HostProcess.changeOwner(of: directory, to: (systemUser.uid, systemUser.gid))
        }
        return directory
    }

    struct ServerProcess {
        var pid: Int32
        var port: Int
        var socketDirectory: String
    }

    /// Reads `postmaster.pid`. A file whose process is gone, or is no longer a postgres process
    /// (its pid reused after a crash or a reboot), is stale and removed so that the start succeeds.
    func runningServer() throws -> ServerProcess? {
        let pidFile = dataDirectory + "/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let pid = lines.first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        let port = lines.count > 3 ? Int(lines[3].trimmingCharacters(in: .whitespaces)) : nil
        let socket = lines.count > 4 ? lines[4].trimmingCharacters(in: .whitespaces) : ""
        let command = HostProcess.commandName(of: pid)
        if HostProcess.isAlive(pid), command == nil || command == "postgres" || command == "postmaster",
            let port, !socket.isEmpty
        {
            return ServerProcess(pid: pid, port: port, socketDirectory: socket)
        }
        logger.warning(
            "removing stale postmaster.pid left by a server that is no longer running",
            metadata: ["data_dir": "\(dataDirectory)", "stale_pid": "\(pid)"])
        do {
            try FileManager.default.removeItem(atPath: pidFile)
        } catch {
            throw EmbeddedPostgresError.dataDirectory(path: pidFile, reason: error.localizedDescription)
        }
        // The socket's lock file carries the same dead pid; PostgreSQL would refuse it if that pid
        // now belongs to another process.
        if !socket.isEmpty {
            try? FileManager.default.removeItem(atPath: "\(socket)/.s.PGSQL.\(port ?? Self.port).lock")
        }
        return nil
    }

    private func readOwner() -> Int32? {
        (try? String(contentsOfFile: ownerFile, encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func writeOwner() {
        try? "\(HostProcess.currentPID)\n".write(toFile: ownerFile, atomically: true, encoding: .utf8)
    }

    private func serverLogTail() -> String? {
        guard let log = try? String(contentsOfFile: logFile, encoding: .utf8) else { return nil }
        return log.split(separator: "\n").last(where: { $0.contains("FATAL") || $0.contains("ERROR") })
            .map(String.init)
    }

    /// Creates Centinela's database on first start.
    private func ensureDatabase(_ database: DatabaseConfiguration) async throws {
        let name = configuration.databaseName
        guard name.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
            throw EmbeddedPostgresError.invalidDatabaseName(name)
        }
        try await database.with(database: "postgres").withConnection(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT count(*) FROM pg_database WHERE datname = \(name)", logger: logger)
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            if count == 0 {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            }
        }
    }

    // MARK: Where the data lives

    /// The absolute data folder to use. As root the server runs as `postgres`, which must be able to
    /// reach the folder; a folder under a private home (e.g. /root) is not reachable, so a stable
    /// substitute under /var/lib/centinela is used instead and the log says so.
    static func resolveDataDirectory(_ requested: String, serverUser: String?, logger: Logger) throws -> String {
        let absolute = URL(
            fileURLWithPath: requested,
            relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        ).standardizedFileURL.path
        guard let serverUser, let account = HostProcess.account(named: serverUser) else { return absolute }
        if canTraverse(parentOf: absolute, uid: account.uid, gid: account.gid) { return absolute }
        let digest = SHA256.hash(data: Data(absolute.utf8)).prefix(6).lowercaseHex
        let substitute = "/var/lib/centinela/\(digest)/postgres"
        try? FileManager.default.createDirectory(
            atPath: "/var/lib/centinela/\(digest)", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        logger.warning(
            "the postgres system user cannot reach the data folder; using a substitute",
            metadata: ["requested": "\(absolute)", "data_dir": "\(substitute)"])
        return substitute
    }

    /// Whether a user can enter every existing ancestor of `path` (execute permission).
    private static func canTraverse(parentOf path: String, uid: uid_t, gid: gid_t) -> Bool {
        var url = URL(fileURLWithPath: path).deletingLastPathComponent()
        var ancestors: [String] = []
        while true {
            ancestors.append(url.path)
            if url.path == "/" { break }
            url.deleteLastPathComponent()
        }
        for directory in ancestors {
            var info = stat()
            guard stat(directory, &info) == 0 else { continue }  // created later, as root, 0755
            let mode = info.st_mode
            let allowed =
                info.st_uid == uid
                ? (mode & S_IXUSR) != 0
                : info.st_gid == gid ? (mode & S_IXGRP) != 0 : (mode & S_IXOTH) != 0
            if !allowed { return false }
        }
        return true
    }
}

/// The PostgreSQL server programs: from `PATH`, or the newest `/usr/lib/postgresql/*/bin`.
struct PostgresBinaries: Sendable {
    var directory: String
    /// The major version, when the folder's path says it (`/usr/lib/postgresql/NN/bin`).
    var majorVersionFromPath: String?

    /// The major version: from the path, or asked of `postgres --version`.
    func majorVersion() async throws -> String {
        if let majorVersionFromPath { return majorVersionFromPath }
        let result = try await HostCommand(executable: directory + "/postgres", arguments: ["--version"], user: nil).run()
        // "postgres (PostgreSQL) 15.18 (Debian ...)"
        guard result.status == 0, let number = result.output.split(separator: " ").first(where: { $0.first?.isNumber == true }),
            let major = number.split(separator: ".").first
        else {
            throw EmbeddedPostgresError.commandFailed(command: directory + "/postgres --version", reason: result.lastLine)
        }
        return String(major)
    }

    static func locate(in explicit: String?) throws -> PostgresBinaries {
        let fm = FileManager.default
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        for entry in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = String(entry) + "/pg_ctl"
            if fm.isExecutableFile(atPath: path) {
                // Debian links /usr/bin/pg_ctl to a wrapper script; follow links to the real folder.
                let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent().path
                candidates.append(resolved)
            }
        }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin" }

        for directory in candidates {
            let tools = ["initdb", "pg_ctl", "postgres"]
            guard tools.allSatisfy({ fm.isExecutableFile(atPath: directory + "/" + $0) }) else { continue }
            return PostgresBinaries(directory: directory, majorVersionFromPath: version(of: directory))
        }
        throw EmbeddedPostgresError.binariesNotFound
    }

    /// The major version from the `/usr/lib/postgresql/NN/bin` path.
    private static func version(of directory: String) -> String? {
        let parts = directory.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 1] == "bin", Int(parts[parts.count - 2]) != nil else { return nil }
        return String(parts[parts.count - 2])
    }

    func run(_ tool: String, _ arguments: [String], as user: String?) async throws -> HostCommand.Result {
        try await HostCommand(executable: directory + "/" + tool, arguments: arguments, user: user).run()
    }
}

public enum EmbeddedPostgresError: Error, CustomStringConvertible {
    case binariesNotFound
    case noPostgresUser
    case dataDirectory(path: String, reason: String)
    case versionMismatch(dataDirectory: String, cluster: String, binaries: String)
    case initdbFailed(reason: String)
    case startFailed(reason: String, log: String)
    case stopFailed(reason: String)
    case commandFailed(command: String, reason: String)
    case invalidDatabaseName(String)

    public var description: String {
        switch self {
        case .binariesNotFound:
            "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found on PATH or under /usr/lib/postgresql/*/bin; install Debian's postgresql package or set DATABASE_URL"
        case .noPostgresUser:
            "running as root, the embedded PostgreSQL must run as the postgres system user, which does not exist; install Debian's postgresql package or set DATABASE_URL"
        case .dataDirectory(let path, let reason):
            "embedded PostgreSQL data folder \(path): \(reason)"
        case .versionMismatch(let directory, let cluster, let binaries):
            "the embedded cluster in \(directory) was made by PostgreSQL \(cluster) but the installed server is \(binaries); use a matching server or another CENTINELA_DATA_DIR"
        case .initdbFailed(let reason):
            "initdb failed: \(reason)"
        case .startFailed(let reason, let log):
            "the embedded PostgreSQL did not start: \(reason) (server log: \(log))"
        case .stopFailed(let reason):
            "the embedded PostgreSQL did not stop cleanly: \(reason)"
        case .commandFailed(let command, let reason):
            "cannot run \(command): \(reason)"
        case .invalidDatabaseName(let name):
            "\(name) is not a usable database name (lower-case letters, digits and _)"
        }
    }
}

extension Duration {
    /// Whole milliseconds, for logs and metrics.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
