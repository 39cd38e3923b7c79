import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct HealthTests {
    let logger = TestDatabase.logger

    struct Readiness: Decodable {
        struct Checks: Decodable {
            var database: String
            var schema: String
        }
        var status: String
        var checks: Checks
        var reason: String?
    }

    /// The application `serve` runs, against a database of the test server.
    func withApplication(
        _ database: DatabaseConfiguration, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try buildApplication(
            configuration: HTTPConfiguration(host: "127.0.0.1", port: 0), database: database,
            migrations: try TestDatabase.migrations(), logger: logger)
        try await app.test(.router, test)
    }

    /// `/readyz` once it answers `status`, or its last answer after 20 s. On a machine loaded by the
    /// whole suite (2 cores, dozens of databases being created), a new pool's first connection can
    /// take longer than the check's 2 s: readiness is then rightly "unavailable" for a moment, and
    /// what these tests check is that it becomes ready by itself, not how fast.
    func readyz(
        _ client: any TestClientProtocol, until condition: (Readiness) -> Bool = { $0.status == "ready" }
    ) async throws -> TestResponse {
        try await poll(within: .seconds(20)) {
            try await client.execute(uri: "/readyz", method: .get)
        } until: { response in
            (try? JSONDecoder().decode(Readiness.self, from: Data(String(buffer: response.body).utf8))).map(condition) == true
        }
    }

    /// The routes with a database client that can never connect.
    func withUnreachableDatabase(
        _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    )
        async throws
    {
        let nowhere = DatabaseConfiguration(
            endpoint: .unixSocket(directory: "/nonexistent-\(UUID().uuidString)", port: 5432),
            username: "centinela", password: nil, database: "centinela", tlsMode: .disable,
            connectTimeout: .seconds(1))
        let client = PostgresClient(configuration: try nowhere.clientConfiguration(), backgroundLogger: logger)
        let router = buildRouter(
            ApplicationDependencies(
                databaseHealth: PostgresHealthCheck(
                    client: client, migrations: try TestDatabase.migrations(), timeout: .seconds(1), logger: logger),
                database: ServiceDatabase(client: client, logger: logger),
                alertFeed: AlertFeed(database: nowhere, logger: logger)))
        let app = Application(router: router, services: [client], logger: logger)
        try await app.test(.router, test)
    }

    /// A database that accepts connections and never answers (a server stopped mid-way, a
    /// network that drops packets): the pool waits for each connection until its connect timeout
    /// (10 s), and a request would wait for as long as the database stays away. Without the lease
    /// deadline these requests were answered after 60 s and 11 s (checked).
    @Test func aRequestIsAnsweredWithin2SecondsWhenNoConnectionCanBeHad() async throws {
        // Listening, never accepting: the kernel completes the handshakes, nobody answers.
        let (listener, port) = try listenOnLoopback()
        defer { close(listener) }
        let silent = DatabaseConfiguration(
            endpoint: .tcp(host: "127.0.0.1", port: port), username: "centinela", password: nil, database: "centinela", tlsMode: .disable)
        let client = PostgresClient(configuration: try silent.clientConfiguration(), backgroundLogger: logger)
        let router = buildRouter(
            ApplicationDependencies(
                databaseHealth: PostgresHealthCheck(
                    client: client, migrations: try TestDatabase.migrations(), timeout: .seconds(1), logger: logger),
                database: ServiceDatabase(client: client, logger: logger),
                alertFeed: AlertFeed(database: silent, logger: logger)))
        let app = Application(router: router, services: [client], logger: logger)
        try await app.test(.router) { client in
            for (method, uri) in [(HTTPRequest.Method.get, "/v1/facilities"), (.post, "/v1/reports")] {
                let started = ContinuousClock.now
                let response = try await client.execute(
                    uri: uri, method: method,
                    headers: [.authorization: "Bearer cen_" + String(repeating: "a", count: 43), .contentType: "application/json"],
                    body: method == .post ? ByteBuffer(string: "{}") : nil)
                let waited = ContinuousClock.now - started
                #expect(response.status == .serviceUnavailable, "\(String(buffer: response.body))")
                #expect(response.headers[.retryAfter] != nil && response.headers[.contentType] == "application/problem+json")
                #expect(waited < .seconds(4), "answered after \(waited)")
            }
        }
    }

    @Test func livenessAnswersWithoutTheDatabase() async throws {
        try await withUnreachableDatabase { client in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
        }
    }

    @Test func readyWhenTheDatabaseIsReachableAndCurrent() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await withApplication(database) { client in
                let response = try await readyz(client)
                #expect(response.status == .ok)
                let body = try JSONDecoder().decode(Readiness.self, from: Data(String(buffer: response.body).utf8))
                #expect(body.status == "ready")
                #expect(body.checks.database == "ok")
                #expect(body.checks.schema == "current")
                #expect(body.reason == nil)
            }
        }
    }

    @Test func notReadyWhenTheDatabaseIsDown() async throws {
        try await withUnreachableDatabase { client in
            let response = try await client.execute(uri: "/readyz", method: .get)
            #expect(response.status == .serviceUnavailable)
            let body = try JSONDecoder().decode(Readiness.self, from: Data(String(buffer: response.body).utf8))
            #expect(body.status == "unavailable")
            #expect(body.checks.database == "unreachable")
            let reason = try #require(body.reason)
            #expect(reason.hasPrefix("database unreachable: "))
        }
    }

    @Test func notReadyWhenTheSchemaIsBehind() async throws {
        try await TestDatabase.withEmptyDatabase { database in
            try await withApplication(database) { client in
                let response = try await readyz(client) { $0.checks.database == "ok" }
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(Readiness.self, from: Data(String(buffer: response.body).utf8))
                #expect(body.checks.database == "ok")
                #expect(body.checks.schema == "behind")
                #expect(body.reason?.contains("centinela migrate") == true)
            }
        }
    }

    @Test func readinessFollowsTheDatabaseGoingDown() async throws {
        // A database that exists while the service starts and disappears under it.
        try await TestDatabase.withMigratedDatabase { database in
            try await withApplication(database) { client in
                #expect(try await readyz(client).status == .ok)
                let server = try await TestDatabase.server()
                try await server.with(database: "postgres").withConnection(logger: logger) { connection in
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "DROP DATABASE \(database.database) WITH (FORCE)"), logger: logger)
                }
                let response = try await client.execute(uri: "/readyz", method: .get)
                #expect(response.status == .serviceUnavailable)
            }
        }
    }
}

@Suite struct RoutingTests {
    func withRoutes(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: buildRouter(.offline))
        try await app.test(.router, test)
    }

    struct ProblemBody: Decodable {
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var instance: String?
    }

    @Test func aProblemNamesItsRequestAndTheOperatorsTypeBase() async throws {
        try await withRoutes { client in
            let response = try await client.execute(uri: "/v1/nothing/here?x=1", method: .get)
            let problem = try JSONDecoder().decode(ProblemBody.self, from: Data(String(buffer: response.body).utf8))
            #expect(problem.instance == "/v1/nothing/here" && problem.type == Problem.typeBase + "not-found", "\(problem)")
        }
        var dependencies = ApplicationDependencies.offline
        dependencies.limits.problemTypeBase = "https://sep.gob.mx/centinela/problemas/"
        try await Application(router: buildRouter(dependencies)).test(.router) { client in
            let response = try await client.execute(uri: "/healthz", method: .delete)
            let problem = try JSONDecoder().decode(ProblemBody.self, from: Data(String(buffer: response.body).utf8))
            #expect(
                problem.type == "https://sep.gob.mx/centinela/problemas/method-not-allowed" && problem.instance == "/healthz", "\(problem)")
        }
    }

    @Test func unknownPathsAreProblemDocuments() async throws {
        try await withRoutes { client in
            let response = try await client.execute(uri: "/no/such/thing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
            let problem = try JSONDecoder().decode(ProblemBody.self, from: Data(String(buffer: response.body).utf8))
            #expect(problem.status == 404)
            #expect(problem.type.hasSuffix("/not-found"))
        }
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .patch, .delete])
    func wrongMethodsOnKnownPathsAre405(_ method: HTTPRequest.Method) async throws {
        try await withRoutes { client in
            for path in ["/healthz", "/readyz"] {
                let response = try await client.execute(uri: path, method: method)
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test func headIsAnsweredWhereverGetIs() async throws {
        try await withRoutes { client in
            for path in ["/healthz", "/readyz", "/openapi.yaml"] {
                let response = try await client.execute(uri: path, method: .head)
                #expect(response.status == .ok, "\(path)")
                #expect(response.body.readableBytes == 0, "\(path)")
            }
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await withRoutes { client in
            let generated = try await client.execute(uri: "/healthz", method: .get)
            let id = try #require(generated.headers[HTTPField.Name("X-Request-Id")!])
            #expect(!id.isEmpty)
            let echoed = try await client.execute(
                uri: "/no/such/thing", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "trace-123"])
            #expect(echoed.headers[HTTPField.Name("X-Request-Id")!] == "trace-123")
            // A header that is not a sane token is not echoed into logs or responses.
            let hostile = try await client.execute(
                uri: "/healthz", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "a b\"<script>"])
            #expect(hostile.headers[HTTPField.Name("X-Request-Id")!] != "a b\"<script>")
        }
    }
}
