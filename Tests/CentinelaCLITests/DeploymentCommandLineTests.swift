import Foundation
import Testing

/// Every command line the deployment files give the image (Docker/Dockerfile, compose.yaml, the
/// cron schedule, the crontab example, the Kubernetes CronJobs) is one the built binary accepts:
/// its subcommands exist and each flag is one that subcommand lists. No Docker engine runs here,
/// so this is what stands between a renamed flag and a container that exits at start.
@Suite struct DeploymentCommandLineTests {
    static let docker = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docker")

    static func text(_ path: String) throws -> String {
        try String(contentsOf: docker.appendingPathComponent(path), encoding: .utf8)
    }

    /// The JSON arrays after `prefix` on each line (`CMD […]`, `command: […]`, `args: […]`).
    static func arrays(after prefix: String, in text: String) throws -> [[String]] {
        try text.split(separator: "\n").compactMap { line -> [String]? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(prefix) else { return nil }
            let json = trimmed.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String]
        }
    }

    /// The `command:` of each compose service that runs the centinela image.
    static func composeCommands(in text: String) throws -> [[String]] {
        var commands: [[String]] = []
        var image = ""
        var command: [String]?
        func finish() {
            if image.hasPrefix("centinela:"), let command { commands.append(command) }
            image = ""
            command = nil
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":") { finish() }  // a service
            if !line.hasPrefix(" ") { finish() }  // a top-level key
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("image:") { image = trimmed.dropFirst(6).trimmingCharacters(in: .whitespaces) }
            if trimmed.hasPrefix("command:") { command = try arrays(after: "command:", in: trimmed).first }
        }
        finish()
        return commands
    }

    /// `centinela …` invocations in shell text: the words after `centinela` up to a redirection
    /// (comments and quoted text, such as messages, left out).
    static func shellInvocations(in text: String) -> [[String]] {
        text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            .map { $0.replacing(#/"[^"]*"/#, with: "") }
            .flatMap { line in
                line.matches(of: #/(?:^|[\s/])centinela((?:\s+[a-z-][a-z0-9-]*)+)/#).map { match in
                    match.1.split(separator: " ").map(String.init)
                }
            }
    }

    static func help(_ path: [String]) async throws -> String {
        let run = try await CommandProcess.run(path + ["--help"])
        #expect(run.status == 0, "centinela \(path.joined(separator: " ")) --help: \(run.error)")
        return run.output
    }

    /// The subcommands exist, each named in its parent's help, and every flag is in the help of
    /// the subcommand it is given to.
    static func expectAccepted(_ arguments: [String], from source: String) async throws {
        let path = Array(arguments.prefix { !$0.hasPrefix("-") })
        #expect(!path.isEmpty, "\(source): no subcommand in \(arguments)")
        for depth in path.indices {
            let parent = try await help(Array(path[..<depth]))
            // "  linking, patterns   Link adults…": a subcommand and its aliases.
            let listed = parent.split(separator: "\n").contains { line in
                let entry = line.trimmingCharacters(in: .whitespaces)
                return entry.hasPrefix(path[depth] + " ") || entry.hasPrefix(path[depth] + ",")
            }
            #expect(listed, "\(source): `centinela \(path[...depth].joined(separator: " "))` is not a subcommand")
        }
        let own = try await help(path)
        for flag in arguments.dropFirst(path.count) where flag.hasPrefix("--") {
            #expect(own.contains(flag), "\(source): \(flag) is not an option of `centinela \(path.joined(separator: " "))`")
        }
    }

    @Test func theImageRunsTheCommandLine() async throws {
        let dockerfile = try Self.text("Dockerfile")
        #expect(try Self.arrays(after: "ENTRYPOINT", in: dockerfile) == [["centinela"]])
        let cmd = try Self.arrays(after: "CMD", in: dockerfile)
        #expect(cmd == [["serve"]])
        // HEALTHCHECK … CMD [...]: the probe is the binary itself.
        let probe = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("HEALTHCHECK") })
        let probeCommand = try Self.arrays(after: "CMD", in: String(probe[probe.range(of: "CMD")!.lowerBound...]))
        #expect(probeCommand.first?.first == "centinela")
        for command in cmd + probeCommand.map { Array($0.dropFirst()) } {
            try await Self.expectAccepted(command, from: "Dockerfile")
        }
    }

    @Test func composeCronAndKubernetesRunTheCommandLine() async throws {
        let compose = try Self.composeCommands(in: try Self.text("compose.yaml"))
        #expect(Set(compose) == [["migrate"], ["serve"]])
        let schedule = Self.shellInvocations(in: try Self.text("cron/rescore-schedule.sh"))
        #expect(Set(schedule) == [["rescore"], ["linking", "rebuild"]], "\(schedule)")
        let crontab = Self.shellInvocations(in: try Self.text("cron/crontab.example"))
        #expect(Set(crontab) == [["rescore"], ["linking", "rebuild"]], "\(crontab)")
        let kubernetes = try Self.arrays(after: "args:", in: try Self.text("kubernetes/rescore-cronjobs.yaml"))
        #expect(Set(kubernetes) == [["rescore"], ["linking", "rebuild"]])
        for (source, commands) in [
            ("compose.yaml", compose), ("rescore-schedule.sh", schedule), ("crontab.example", crontab),
            ("rescore-cronjobs.yaml", kubernetes),
        ] {
            for command in commands { try await Self.expectAccepted(command, from: source) }
        }
        // A flag that does not exist is caught (the check is not vacuous).
        let bogus = try await Self.help(["rescore"])
        #expect(!bogus.contains("--no-such-flag"))
    }

    @Test func healthcheckSaysWhetherTheServerIsReady() async throws {
        // Nothing listens on port 9 (discard) here: unreachable is exit 1 with one line.
        let down = try await CommandProcess.run(["healthcheck", "--url", "http://127.0.0.1:9/readyz", "--timeout", "2"])
        #expect(down.status == 1)
        #expect(down.error.hasPrefix("centinela: error: http://127.0.0.1:9/readyz did not answer"), "\(down.error)")
        let bad = try await CommandProcess.run(["healthcheck", "--url", "ftp://example.org"])
        #expect(bad.status == 64)
        #expect(bad.error.contains("--url must be an http:// or https:// URL"))
    }
}
