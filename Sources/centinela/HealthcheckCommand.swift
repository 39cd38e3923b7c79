import ArgumentParser
import CentinelaHTTP
import Foundation

/// `centinela healthcheck`: exit 0 when the server at `--url` is ready, 1 otherwise. For container
/// health checks (Docker/Dockerfile's HEALTHCHECK), where the image carries no HTTP client.
struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 if a running centinela serve answers /readyz with 200, else 1.",
        discussion: "Prints nothing when ready; otherwise one line saying why, on standard error."
    )

    @Option(
        help: ArgumentHelp(
            "The readiness URL. (default: http://127.0.0.1:$CENTINELA_PORT/readyz, port 8080 when unset)", valueName: "url"))
    var url: String?

    @Option(help: "Seconds to wait for the answer, 1 to 60.")
    var timeout: Int = 5

    func validate() throws {
        guard (1...60).contains(timeout) else { throw ValidationError("--timeout must be 1 to 60 seconds") }
        if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) || URL(string: url)?.host == nil {
            throw ValidationError("--url must be an http:// or https:// URL with a host, not '\(url)'")
        }
    }

    func run() async throws {
        let target = try url ?? Self.defaultURL(Environment())
        switch await ReadinessProbe.check(target, timeout: .seconds(timeout)) {
        case .ready:
            return
        case .notReady(let status, let body):
            printError("\(target) answered \(status): \(body.prefix(300))")
        case .unreachable(let reason):
            printError("\(target) did not answer: \(reason)")
        }
        throw ExitCode.failure
    }

    static func defaultURL(_ env: Environment) throws -> String {
        let port =
            try env.setting(flag: nil, "", variable: "CENTINELA_PORT", HTTPConfiguration.parsePort)
            ?? HTTPConfiguration.defaultPort
        return "http://127.0.0.1:\(port)/readyz"
    }
}
