import CentinelaStore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The built `centinela` binary run as a child process, the way an operator or cron runs it (or
/// another program: pg_dump, cp), waited for without holding a thread of Swift's cooperative pool
/// — on 2 cores it has two, and a test blocking one stalls every other test's tasks.
final class CommandProcess: Sendable {
    let pid: pid_t
    let outputPath: String
    let errorPath: String
    private let exit: Task<Int32, Never>

    /// The binary `swift build` put beside the test bundle.
    static var binary: String {
        let tests = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = tests.deletingLastPathComponent()
        // Linux test bundles are plain executables in the build folder; on other systems they are
        // bundles a few levels deeper.
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("centinela").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return "centinela-binary-not-built"
    }

    /// Starts `centinela ARGS` (or `program ARGS`) with the given environment changes (nil removes a variable).
    init(
        _ arguments: [String], environment changes: [String: String?] = [:], workingDirectory: String? = nil,
        program: String = CommandProcess.binary
    ) throws {
        var environment = ProcessInfo.processInfo.environment
        // Never let a developer's own settings leak into a test.
        for name in [
            "DATABASE_URL", "CENTINELA_HOST", "CENTINELA_PORT", "CENTINELA_DATA_DIR", "LOG_LEVEL", "LOG_FORMAT",
            "CENTINELA_SCHEMA_DIR", "DATABASE_MAX_CONNECTIONS", "DATABASE_CONNECTION_WAIT", "DATABASE_URL_FILE", "CENTINELA_METRICS_TOKEN",
            "CENTINELA_METRICS_TOKEN_FILE", "CENTINELA_NATIONAL_ID_KEY_FILE",
        ] {
            environment[name] = nil
        }
        environment["CENTINELA_SCHEMA_DIR"] = CommandProcess.schemaDirectory
        for (name, value) in changes { environment[name] = value }

        let id = UUID().uuidString.prefix(8)
        outputPath = NSTemporaryDirectory() + "centinela-cli-\(id).out"
        errorPath = NSTemporaryDirectory() + "centinela-cli-\(id).err"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        Self.closeInheritedDescriptors(&actions)

        let directory = workingDirectory ?? FileManager.default.currentDirectoryPath
        let argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory, program] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, "/bin/sh", &actions, nil, &cArguments, &cEnvironment)
        guard result == 0 else { throw POSIXError(.init(rawValue: result) ?? .EINVAL) }
        pid = child
        let spawned = child
        exit = Task.detached {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    var status: Int32 = 0
                    while waitpid(spawned, &status, 0) == -1 && errno == EINTR {}
                    let exited = (status & 0x7f) == 0
                    continuation.resume(returning: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f))
                }
            }
        }
    }

    /// Has the child close every descriptor above standard error: Linux's posix_spawn passes every
    /// open one on, and a test's sockets held by a child stay open to their peers. glibc (2.34 and
    /// later) does it in the child; its function is hidden from Swift (_GNU_SOURCE), so it is looked
    /// up at run time. (The service itself runs its host programs with swift-subprocess, which does
    /// this; the tests keep posix_spawn for the pid they signal.)
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        guard let symbol = closeFromSymbol else { return }
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
    }

    private nonisolated(unsafe) static let closeFromSymbol: UnsafeMutableRawPointer? =
        dlopen(nil, RTLD_NOW).flatMap { dlsym($0, "posix_spawn_file_actions_addclosefrom_np") }

    static let schemaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schema").path

    /// Runs to completion; a run longer than `limit` is killed and reported as such.
    static func run(
        _ arguments: [String], environment: [String: String?] = [:], workingDirectory: String? = nil,
        program: String = CommandProcess.binary, limit: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String, error: String) {
        let process = try CommandProcess(arguments, environment: environment, workingDirectory: workingDirectory, program: program)
        let status = try await process.waitForExit(limit: limit)
        return (status, process.output, process.errorOutput)
    }

    func signal(_ number: Int32) {
        kill(pid, number)
    }

    func waitForExit(limit: Duration = .seconds(60)) async throws -> Int32 {
        let exit = self.exit
        return try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask { await exit.value }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            if let status = try await group.next(), let status {
                return status
            }
            kill(pid, SIGKILL)
            throw CommandTimeout(arguments: "centinela (pid \(pid))", limit: limit)
        }
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Waits until a line of standard error satisfies `predicate` (the process logs as it goes),
    /// or the process exits, or `limit` passes.
    func waitForErrorLine(limit: Duration = .seconds(60), _ predicate: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let line = errorOutput.split(separator: "\n").map(String.init).first(where: predicate) {
                return line
            }
            if kill(pid, 0) != 0 { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    deinit {
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }
}

struct CommandTimeout: Error, CustomStringConvertible {
    var arguments: String
    var limit: Duration
    var description: String { "\(arguments) did not finish within \(limit)" }
}
