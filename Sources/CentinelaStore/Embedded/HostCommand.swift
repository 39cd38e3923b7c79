import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program of the host (initdb, pg_ctl) and waits for it, with swift-subprocess.
///
/// Output goes to a temporary file rather than a pipe: `pg_ctl start` leaves a server running that
/// could otherwise hold the pipe open and make the wait hang. The child starts in a session of its
/// own, with default signal handling and no descriptor of this process but its standard ones
/// (swift-subprocess closes the rest): a Ctrl-C meant for centinela reaches centinela, which then
/// stops the server in order; and a PostgreSQL server started while clients are connected does not
/// hold their sockets for its whole life (SwiftNIO opens accepted sockets without close-on-exec).
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
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("centinela-cmd-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileDescriptor.open(
            FilePath(outputPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        var options = PlatformOptions()
        options.createSession = true
        let (program, arguments) =
            user.map { (HostCommand.runuser, ["-u", $0, "--", executable] + self.arguments) } ?? (executable, self.arguments)
        let status: Int32
        do {
            // From a neutral folder: the postgres user may not be able to enter the caller's.
            let result = try await Subprocess.run(
                .path(FilePath(program)), arguments: Arguments(arguments), workingDirectory: FilePath("/"), platformOptions: options,
                input: .none, output: .fileDescriptor(output, closeAfterSpawningProcess: true), error: .combinedWithOutput)
            switch result.terminationStatus {
            case .exited(let code): status = code
            case .signaled(let signal): status = 128 + signal
            }
        } catch let error as SubprocessError {
            throw EmbeddedPostgresError.commandFailed(command: program, reason: "\(error)")
        }
        return Result(status: status, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    static var runuser: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/sbin/runuser"
    }
}

/// Facts about the processes of this host that the embedded cluster needs.
enum HostProcess {
    static var isRoot: Bool { geteuid() == 0 }

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
