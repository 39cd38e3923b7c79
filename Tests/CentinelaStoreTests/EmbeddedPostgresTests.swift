import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Each test runs its own cluster in its own folder: these are the tests of the cluster itself.
@Suite struct EmbeddedPostgresTests {
    let logger = TestDatabase.logger

    /// A folder under /tmp, which the postgres system user can reach when the tests run as root.
    final class ClusterFolder {
        let root = "/tmp/centinela-embedded-test-\(UUID().uuidString.prefix(8))"
        var dataDirectory: String { root + "/postgres" }

        func configuration() -> EmbeddedPostgres.Configuration {
            var configuration = EmbeddedPostgres.Configuration(dataDirectory: dataDirectory)
            configuration.settings = ["fsync": "off"]
            return configuration
        }

        deinit {
            // Best effort: stop a server a failed test may have left, then delete everything.
            let stop = Process()
            stop.executableURL = URL(fileURLWithPath: "/bin/sh")
            let pgctl = "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl"
            let command = "\(pgctl) stop -D \(dataDirectory) -m immediate -w -s"
            stop.arguments = ["-c", geteuid() == 0 ? "cd / && runuser -u postgres -- \(command)" : command]
            stop.standardOutput = FileHandle.nullDevice
            stop.standardError = FileHandle.nullDevice
            runToEnd(stop)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    func postmasterPID(_ folder: ClusterFolder) -> Int32? {
        (try? String(contentsOfFile: folder.dataDirectory + "/postmaster.pid", encoding: .utf8))?
            .split(separator: "\n").first.flatMap { Int32($0) }
    }

    func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.contains(") Z")
    }

    func value(_ sql: String, _ database: DatabaseConfiguration) async throws -> Int {
        try await database.withConnection(logger: logger) { connection in
            var result = 0
            for try await n in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                .decode(Int.self)
            { result = n }
            return result
        }
    }

    @Test func createsStartsStopsAndReusesACluster() async throws {
        let folder = ClusterFolder()
        let first = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        let database = try await first.start()
        #expect(await first.ownership == .started)
        #expect(database.database == "centinela")
        guard case .unixSocket = database.endpoint else {
            Issue.record("the embedded cluster must not listen on TCP")
            return
        }
        try await database.withConnection(logger: logger) { connection in
            try await connection.query("CREATE TABLE marker (x int)", logger: logger)
            try await connection.query("INSERT INTO marker VALUES (42)", logger: logger)
        }
        let pid = try #require(postmasterPID(folder))
        #expect(isRunning(pid))

        try await first.stop()
        #expect(!isRunning(pid))
        #expect(postmasterPID(folder) == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.dataDirectory + "/centinela.owner"))

        // The same folder again: no initdb, the data is still there.
        let second = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        let again = try await second.start()
        #expect(try await value("SELECT x FROM marker", again) == 42)
        try await second.stop()
    }

    @Test(arguments: ["dead process", "live process that is not postgres"])
    func startsOverAStalePostmasterPid(_ leftBy: String) async throws {
        let folder = ClusterFolder()
        let cluster = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        _ = try await cluster.start()
        try await cluster.stop()

        // What a crash leaves: a postmaster.pid whose pid is gone, or was reused by another program.
        let stalePID: Int32
        if leftBy == "dead process" {
            let finished = Process()
            finished.executableURL = URL(fileURLWithPath: "/bin/true")
            #expect(runToEnd(finished))
            stalePID = finished.processIdentifier
        } else {
            stalePID = getpid()
        }
        let pidFile = "\(stalePID)\n\(folder.dataDirectory)\n1700000000\n5432\n\(folder.dataDirectory)\n\n  5432001    32768\nready\n"
        try pidFile.write(toFile: folder.dataDirectory + "/postmaster.pid", atomically: true, encoding: .utf8)
        try pidFile.write(toFile: folder.dataDirectory + "/.s.PGSQL.5432.lock", atomically: true, encoding: .utf8)

        let restarted = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        let database = try await restarted.start()
        #expect(await restarted.ownership == .started)
        #expect(try await value("SELECT 1", database) == 1)
        try await restarted.stop()
        #expect(postmasterPID(folder) == nil)
    }

    @Test func adoptsAServerWhoseOwnerDiedAndStopsIt() async throws {
        let folder = ClusterFolder()
        let crashed = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        _ = try await crashed.start()
        let pid = try #require(postmasterPID(folder))
        // The process that started it is gone (a dead pid takes its place in the owner file).
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        #expect(runToEnd(finished))
        try "\(finished.processIdentifier)\n".write(
            toFile: folder.dataDirectory + "/centinela.owner", atomically: true, encoding: .utf8)

        let next = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        let database = try await next.start()
        #expect(await next.ownership == .adoptedOrphan)
        #expect(postmasterPID(folder) == pid)
        #expect(try await value("SELECT 1", database) == 1)
        try await next.stop()
        #expect(!isRunning(pid))
    }

    @Test func leavesAServerRunningForItsLiveOwner() async throws {
        let folder = ClusterFolder()
        let owner = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        _ = try await owner.start()
        let pid = try #require(postmasterPID(folder))
        // Another centinela process (pid 1 stands in for it: always alive) owns the server.
        try "1\n".write(toFile: folder.dataDirectory + "/centinela.owner", atomically: true, encoding: .utf8)

        let guest = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        let database = try await guest.start()
        #expect(await guest.ownership == .shared)
        #expect(try await value("SELECT 1", database) == 1)
        try await guest.stop()
        #expect(isRunning(pid))

        try await owner.stop()
        #expect(!isRunning(pid))
    }

    @Test func refusesAFolderThatIsNotACluster() async throws {
        let folder = ClusterFolder()
        try FileManager.default.createDirectory(atPath: folder.dataDirectory, withIntermediateDirectories: true)
        try "hello".write(toFile: folder.dataDirectory + "/notes.txt", atomically: true, encoding: .utf8)
        let cluster = try EmbeddedPostgres(configuration: folder.configuration(), logger: logger)
        await #expect(throws: EmbeddedPostgresError.self) { _ = try await cluster.start() }
        #expect(FileManager.default.fileExists(atPath: folder.dataDirectory + "/notes.txt"))
    }
}
