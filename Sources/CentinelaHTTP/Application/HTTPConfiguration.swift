import CentinelaStore
import Foundation

/// Where the HTTP server listens, and the limits it applies to requests.
public struct HTTPConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// Request bodies larger than this are refused with 413.
    public var maximumBodySize: Int
    /// Where webhooks may be delivered: public https, plus the networks the operator allows.
    public var webhookTargets: WebhookTargets
    /// A connection that sends nothing for this long while it is idle or still sending its
    /// request (a slow or stalled client) is closed; a response being written is never cut.
    public var idleTimeout: Duration
    /// Requests a second one token may make, sustained (bursts of ten seconds' worth pass); past
    /// it, 429 with Retry-After. Nil: no limit.
    public var requestsPerSecondPerToken: Double?
    /// Failed authentications one address may make at once, and then one every `failedAuthenticationEvery`.
    public var failedAuthenticationBurst: Int
    public var failedAuthenticationEvery: Duration
    /// The base of every problem document's `type`: where the operator documents them.
    public var problemTypeBase: String
    /// How long a console session may sit unused, and last at all.
    public var consoleSessions: ConsoleSessions.Limits

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8080
    public static let defaultMaximumBodySize = 1 << 20
    public static let defaultIdleTimeout: Duration = .seconds(30)
    public static let defaultRequestsPerSecondPerToken = 50.0

    public init(
        host: String = defaultHost, port: Int = defaultPort, maximumBodySize: Int = defaultMaximumBodySize,
        webhookTargets: WebhookTargets = .init(), idleTimeout: Duration = defaultIdleTimeout,
        requestsPerSecondPerToken: Double? = defaultRequestsPerSecondPerToken,
        failedAuthenticationBurst: Int = 20, failedAuthenticationEvery: Duration = .seconds(3),
        problemTypeBase: String = Problem.typeBase, consoleSessions: ConsoleSessions.Limits = .init()
    ) {
        self.consoleSessions = consoleSessions
        self.problemTypeBase = problemTypeBase
        self.failedAuthenticationBurst = failedAuthenticationBurst
        self.failedAuthenticationEvery = failedAuthenticationEvery
        self.webhookTargets = webhookTargets
        self.idleTimeout = idleTimeout
        self.requestsPerSecondPerToken = requestsPerSecondPerToken
        self.host = host
        self.port = port
        self.maximumBodySize = maximumBodySize
    }

    /// Validates a port given as text (flag or environment); 0 asks the system for a free port.
    public static func parsePort(_ text: String, source: String) throws(ConfigurationError) -> Int {
        guard let port = Int(text.trimmingCharacters(in: .whitespaces)), (0...65535).contains(port) else {
            throw ConfigurationError(source: source, message: "must be a port number from 0 to 65535, not '\(text)'")
        }
        return port
    }

    /// Networks webhooks may reach although they are internal (or over plain http), comma-separated
    /// CIDR: `10.0.0.0/8,fd00::/8`.
    public static func parseNetworks(_ text: String, source: String) throws(ConfigurationError) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let network = IPNetwork(String(part)) else {
                throw ConfigurationError(
                    source: source, message: "must be networks in CIDR notation separated by commas (e.g. 10.0.0.0/8), not '\(part)'")
            }
            networks.append(network)
        }
        return networks
    }

    /// Validates a body size limit: from 1 KiB to 64 MiB.
    public static func parseBodyLimit(_ text: String, source: String) throws(ConfigurationError) -> Int {
        guard let bytes = Int(text.trimmingCharacters(in: .whitespaces)), (1024...(64 << 20)).contains(bytes) else {
            throw ConfigurationError(source: source, message: "must be a number of bytes from 1024 to 67108864, not '\(text)'")
        }
        return bytes
    }

    /// A problem type base: an absolute http(s) URL of at most 200 characters ending in `/`, to
    /// which the type's slug is appended (`https://sep.gob.mx/centinela/problemas/` + `not-found`).
    public static func parseProblemTypeBase(_ text: String, source: String) throws(ConfigurationError) -> String {
        let valid =
            text.count <= 200 && text.hasSuffix("/") && text.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0.value < 127 }
            && URL(string: text).map { ($0.scheme == "https" || $0.scheme == "http") && $0.host?.isEmpty == false } == true
        guard valid else {
            throw ConfigurationError(
                source: source,
                message: "must be an absolute http(s) URL ending in '/', such as https://example.org/problems/, not '\(text)'")
        }
        return text
    }

    /// A rate limit per token: requests a second, 1 to 100,000, or 0 for none.
    public static func parseRateLimit(_ text: String, source: String) throws(ConfigurationError) -> Double? {
        guard let rate = Int(text.trimmingCharacters(in: .whitespaces)), (0...100_000).contains(rate), text.allSatisfy(\.isASCII) else {
            throw ConfigurationError(
                source: source, message: "must be whole requests a second from 1 to 100000, or 0 for no limit, not '\(text)'")
        }
        return rate == 0 ? nil : Double(rate)
    }

    /// Validates a host name or IP address to listen on.
    public static func parseHost(_ text: String, source: String) throws(ConfigurationError) -> String {
        let allowed = text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:".unicodeScalars.contains($0))
        }
        guard !text.isEmpty, text.utf8.count <= 253, allowed else {
            throw ConfigurationError(source: source, message: "must be a host name or IP address, not '\(text)'")
        }
        return text
    }
}

/// A configuration value from a flag or the environment that cannot be used.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The flag or variable it came from, e.g. `CENTINELA_PORT`.
    public var source: String
    public var message: String

    public init(source: String, message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { "\(source) \(message)" }
}
