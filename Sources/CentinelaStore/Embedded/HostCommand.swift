import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program of the host (initdb, pg_ctl) and waits for it without blocking a thread.
///
/// Output goes to a temporary file rather than a pipe: `pg_ctl start` leaves a server running that
/// could otherwise hold the pipe open and make the wait hang.
struct HostCommand: Sendable {
    struct Result: Sendable {
        var status: Int32
        var output: String
        /// The last non-empty output line, the one that usually says what went wrong.
        var lastLine: String {
            output.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
                .map(String.init) ?? "(no output)"
        }
    }

    var executable: String
    var arguments: [String]
    /// Run as this system user through `runuser` (only possible, and only needed, as root).
    var user: String?

    func run() async throws -> Result {
        let outputPath = Self.temporaryOutputPath()
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status = await Self.waitForExit(try spawn(argv, outputPath: outputPath))
        return Result(status: status, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// Runs to completion on the calling thread: only for quick probes such as `postgres --version`.
    func runBlocking() throws -> Result {
        let outputPath = Self.temporaryOutputPath()
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status = Self.reap(try spawn(argv, outputPath: outputPath))
        return Result(status: status, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// The command, through runuser when it must run as another user, started from a neutral
    /// folder: the postgres user may not be able to enter the caller's.
    private var argv: [String] {
        let command = user.map { [HostCommand.runuser, "-u", $0, "--", executable] + arguments } ?? [executable] + arguments
        return ["/bin/sh", "-c", "cd / && exec \"$@\"", "sh"] + command
    }

    private static func temporaryOutputPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("centinela-cmd-\(UUID().uuidString).log").path
    }

    /// posix_spawn rather than Foundation's Process, whose termination handler was seen never to
    /// fire for `runuser pg_ctl start` here. The child gets default signal handling and a session
    /// of its own, so a Ctrl-C meant for centinela reaches centinela, which then stops the server
    /// in order, instead of reaching the server directly.
    private func spawn(_ argv: [String], outputPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        HostProcess.closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        // POSIX_SPAWN_SETSID (glibc's 0x80) is hidden behind _GNU_SOURCE in the imported headers.
        let setSessionID: Int32 = 0x80
        posix_spawnattr_setflags(
            &attributes, Int16(Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK) | setSessionID))

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, &cArguments, environ)
        guard result == 0 else {
            throw EmbeddedPostgresError.commandFailed(command: argv[0], reason: String(cString: strerror(result)))
        }
        return pid
    }

    /// Reaps the child on a thread of its own, so that no thread of the cooperative pool blocks.
    private static func waitForExit(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: reap(pid))
            }
        }
    }

    /// Waits for the child and returns its exit status (128 + signal number when it was killed).
    private static func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
        let exited = (status & 0x7f) == 0
        return exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    static var runuser: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/sbin/runuser"
    }
}

/// Facts about the processes of this host that the embedded cluster needs.
package enum HostProcess {
    static var isRoot: Bool { geteuid() == 0 }

    /// Has a child spawned with `actions` close every descriptor above standard error. Linux's
    /// posix_spawn passes every open descriptor on, and SwiftNIO opens the sockets it accepts
    /// without close-on-exec: a PostgreSQL server started while clients are connected (a cluster
    /// restarted, a test's) held their sockets for its whole life, so that a connection the
    /// service had closed stayed open to its client. glibc (2.34 and later) can do it in the
    /// child; its function is hidden from Swift (_GNU_SOURCE), so it is looked up at run time, and
    /// where it does not exist the child inherits as before.
    package static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        guard let symbol = closeFromSymbol else { return }
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
    }

    private nonisolated(unsafe) static let closeFromSymbol: UnsafeMutableRawPointer? =
        dlopen(nil, RTLD_NOW).flatMap { dlsym($0, "posix_spawn_file_actions_addclosefrom_np") }

    static var currentPID: Int32 { getpid() }

    /// Whether a process with this id is running. Another user's process counts; a zombie (exited,
    /// not yet reaped by its parent) does not.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        // /proc/<pid>/stat: "pid (comm) S ...", the state letter follows the last parenthesis.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z" && state != "X"
        }
        return true
    }

    /// The program name of a live process, from /proc; nil where /proc is unavailable.
    static func commandName(of pid: Int32) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// uid and gid of a system user, or nil when there is no such user.
    static func account(named name: String) -> (uid: uid_t, gid: gid_t)? {
        guard let entry = getpwnam(name) else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    static func changeOwner(of path: String, to account: (uid: uid_t, gid: gid_t)) throws {
        guard chown(path, account.uid, account.gid) == 0 else {
            throw EmbeddedPostgresError.dataDirectory(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// An exclusive advisory lock on a file, held while the cluster is started or stopped so that two
/// processes sharing a data folder do not run initdb or pg_ctl over each other.
enum FileLock {
    /// Runs `body` while holding the lock; waits (without blocking a pool thread for long) while
    /// another process holds it. The lock is released when `body` returns or throws, and by the
    /// kernel if the process dies.
    static func withExclusiveLock<Result>(
        path: String,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw EmbeddedPostgresError.dataDirectory(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw EmbeddedPostgresError.dataDirectory(path: path, reason: String(cString: strerror(errno)))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        defer { flock(descriptor, LOCK_UN) }
        return try await body()
    }
}
