import Foundation
import PostgresNIO

/// Where and how to reach PostgreSQL, parsed from a libpq-style URL
/// (`postgres://user:password@host:port/database?sslmode=require`).
///
/// Supported query parameters: `sslmode` (disable, allow, prefer, require, verify-ca, verify-full;
/// default prefer, as libpq), `sslrootcert`, `sslcert`, `sslkey`, `connect_timeout` (seconds),
/// `application_name`, and `host=/socket/folder` for a Unix-domain socket.
public struct DatabaseConfiguration: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket folder; the socket itself is `<folder>/.s.PGSQL.<port>`, as libpq names it.
        case unixSocket(directory: String, port: Int)

        var socketPath: String? {
            guard case .unixSocket(let directory, let port) = self else { return nil }
            return "\(directory)/.s.PGSQL.\(port)"
        }
    }

    public enum TLSMode: String, Sendable, CaseIterable {
        case disable
        case allow
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var endpoint: Endpoint
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    public var rootCertificatePath: String?
    public var clientCertificatePath: String?
    public var clientKeyPath: String?
    public var connectTimeout: Duration
    public var applicationName: String
    /// Upper bound of the connection pool the service keeps.
    public var maximumConnections: Int
    /// How long a request waits for a connection from the pool before it is answered 503 with
    /// `Retry-After`: bounded, so that a database away or a pool exhausted never hangs a request
    /// (issue 21).
    public var connectionWait: Duration
    public static let defaultConnectionWait = Duration.seconds(2)

    public init(
        endpoint: Endpoint,
        username: String,
        password: String?,
        database: String,
        tlsMode: TLSMode = .prefer,
        connectTimeout: Duration = .seconds(10),
        applicationName: String = "centinela",
        maximumConnections: Int = 10,
        connectionWait: Duration = defaultConnectionWait
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
        self.maximumConnections = maximumConnections
        self.connectionWait = connectionWait
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    public init(url string: String) throws(DatabaseConfigurationError) {
        guard let components = URLComponents(string: string),
            let scheme = components.scheme?.lowercased()
        else { throw .unparsableURL("it is not a URL") }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw .unparsableURL("the scheme must be postgres:// or postgresql://, not \(scheme)://")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            query[item.name] = item.value ?? ""
        }
        let known: Set<String> = [
            "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name", "host",
            "port", "user", "password", "dbname",
        ]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw .unparsableURL("unsupported parameter \(unknown)")
        }

        let port: Int
        if let p = query["port"] ?? components.port.map(String.init) {
            guard let value = Int(p), (1...65535).contains(value) else { throw .unparsableURL("bad port \(p)") }
            port = value
        } else {
            port = 5432
        }
        let host = query["host"] ?? components.percentEncodedHost.flatMap { $0.removingPercentEncoding } ?? ""
        if host.hasPrefix("/") {
            self.endpoint = .unixSocket(directory: host, port: port)
        } else {
            let trimmed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            self.endpoint = .tcp(host: trimmed.isEmpty ? "localhost" : trimmed, port: port)
        }

        guard let user = query["user"] ?? components.user, !user.isEmpty else {
            throw .unparsableURL("it names no user (postgres://USER@host/database)")
        }
        self.username = user
        self.password = query["password"] ?? components.password

        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        let database = query["dbname"] ?? path
        guard !database.isEmpty, !database.contains("/") else {
            throw .unparsableURL("it names no database (postgres://user@host/DATABASE)")
        }
        self.database = database

        if let mode = query["sslmode"] {
            guard let tls = TLSMode(rawValue: mode) else {
                throw .unparsableURL(
                    "sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.tlsMode = tls
        } else {
            self.tlsMode = .prefer
        }
        self.rootCertificatePath = query["sslrootcert"]
        self.clientCertificatePath = query["sslcert"]
        self.clientKeyPath = query["sslkey"]
        if (self.clientCertificatePath == nil) != (self.clientKeyPath == nil) {
            throw .unparsableURL("sslcert and sslkey go together")
        }
        if let seconds = query["connect_timeout"] {
            guard let value = Int(seconds), value > 0 else {
                throw .unparsableURL("connect_timeout must be a whole number of seconds")
            }
            self.connectTimeout = .seconds(value)
        } else {
            self.connectTimeout = .seconds(10)
        }
        self.applicationName = query["application_name"] ?? "centinela"
        self.maximumConnections = 10
        self.connectionWait = Self.defaultConnectionWait
    }

    /// The URL without its password, safe for logs and messages.
    public var redactedDescription: String {
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "postgres://\(username)@\(shownHost):\(port)/\(database)"
        case .unixSocket(let directory, let port):
            return "postgres://\(username)@/\(database)?host=\(directory)&port=\(port)"
        }
    }

    /// A URL that reproduces this configuration, password included: for handing the database to a
    /// child process or a tool such as psql. Never log it; log ``redactedDescription``.
    public var connectionURL: String {
        var userInfo = username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
        if let password {
            userInfo += ":" + (password.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? password)
        }
        let name = database.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? database
        var query = ["sslmode=\(tlsMode.rawValue)"]
        for (key, value) in [("sslrootcert", rootCertificatePath), ("sslcert", clientCertificatePath), ("sslkey", clientKeyPath)] {
            if let value { query.append("\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? value)") }
        }
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "postgres://\(userInfo)@\(shownHost):\(port)/\(name)?" + query.joined(separator: "&")
        case .unixSocket(let directory, let port):
            query = ["host=\(directory)", "port=\(port)"]
            return "postgres://\(userInfo)@/\(name)?" + query.joined(separator: "&")
        }
    }

    /// The same configuration pointed at another database of the same server.
    public func with(database: String) -> DatabaseConfiguration {
        var copy = self
        copy.database = database
        return copy
    }

    // MARK: PostgresNIO

    /// TLS settings as libpq applies them: `prefer` and `require` encrypt without verifying the
    /// certificate; `verify-ca` checks the chain; `verify-full` checks the chain and the host name.
    func tlsConfiguration() throws(DatabaseConfigurationError) -> TLSConfiguration? {
        guard tlsMode != .disable, case .tcp = endpoint else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable: return nil
        case .allow, .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let root = rootCertificatePath {
            tls.trustRoots = .file(root)
        }
        if let cert = clientCertificatePath, let key = clientKeyPath {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw .invalidTLS("cannot load the client certificate or key: \(error)")
            }
        }
        return tls
    }

    /// Configuration for the service's connection pool.
    public func clientConfiguration() throws(DatabaseConfigurationError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS
            switch (tlsMode, try tlsConfiguration()) {
            case (.disable, _), (_, nil): tls = .disable
            case (.allow, let c?), (.prefer, let c?): tls = .prefer(c)
            case (_, let c?): tls = .require(c)
            }
            configuration = .init(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .unixSocket:
            configuration = .init(
                unixSocketPath: endpoint.socketPath!, username: username, password: password, database: database)
        }
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    /// Configuration for a single connection (migrations, start-up checks).
    func connectionConfiguration() throws(DatabaseConfigurationError) -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            if let tlsConfiguration = try tlsConfiguration() {
                let context: NIOSSLContext
                do {
                    context = try NIOSSLContext(configuration: tlsConfiguration)
                } catch {
                    throw .invalidTLS(String(describing: error))
                }
                tls = tlsMode == .allow || tlsMode == .prefer ? .prefer(context) : .require(context)
            } else {
                tls = .disable
            }
            configuration = .init(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .unixSocket:
            configuration = .init(
                unixSocketPath: endpoint.socketPath!, username: username, password: password, database: database)
        }
        configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }
}

extension DatabaseConfiguration: CustomStringConvertible {
    /// Never includes the password.
    public var description: String { redactedDescription }
}

public enum DatabaseConfigurationError: Error, Equatable, CustomStringConvertible {
    case unparsableURL(String)
    case invalidTLS(String)

    public var description: String {
        switch self {
        case .unparsableURL(let reason): "DATABASE_URL is not usable: \(reason)"
        case .invalidTLS(let reason): "the database TLS settings are not usable: \(reason)"
        }
    }
}
