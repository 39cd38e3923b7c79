import CentinelaCore
import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The application `serve` runs, on a test world, and small helpers to call it as each caller.
struct APITest {
    let client: any TestClientProtocol
    let world: World

    /// Runs `test` against the application on a test world: through the router, or (`live`) on a
    /// real port, for tests that need a streaming connection.
    static func run(
        limits: HTTPConfiguration = HTTPConfiguration(
            host: "127.0.0.1", port: 0, webhookTargets: WebhookTargets(allowed: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!])),
        live: Bool = false,
        alertHeartbeat: Duration = .seconds(15), webhookRetry: WebhookRetryPolicy = .init(), webhookPoll: Duration = .seconds(1),
        caseGroupWait: Duration = .zero, metricsToken: String? = nil,
        _ test: @escaping @Sendable (APITest) async throws -> Void
    ) async throws {
        try await World.with { world in
            let app = try buildApplication(
                configuration: limits, database: world.database, migrations: try TestDatabase.migrations(),
                nationalIDs: NationalIDHasher(key: Data(repeating: 7, count: 32)), alertHeartbeat: alertHeartbeat,
                webhookRetry: webhookRetry, webhookPoll: webhookPoll, caseGroupWait: caseGroupWait, metricsToken: metricsToken,
                // Tests that read the audit log chain it themselves (TestDatabase.chainAuditEvents):
                // a hundred applications at once need not poll every 200 ms.
                auditPoll: .seconds(2), logger: TestDatabase.logger)
            try await app.test(live ? .live : .router) { client in
                try await test(APITest(client: client, world: world))
            }
        }
    }

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
        var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
        /// The `field` of each error in a problem document.
        var errorFields: [String] { (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
        var problemType: String? { (json["type"] as? String).map { String($0.split(separator: "/").last ?? "") } }
    }

    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil, contentType: String? = nil,
        body: ByteBuffer? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var payload = body
        if let json {
            payload = ByteBuffer(string: json)
            headers[.contentType] = "application/json"
        }
        if let contentType { headers[.contentType] = contentType }
        let reply = try await client.execute(uri: uri, method: method, headers: headers, body: payload) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
        // Every answer any API test provokes must be one the OpenAPI document promises.
        let documented = OpenAPIContract.shared.documents(method, uri, reply.status.code)
        #expect(documented, "\(method) \(uri) answered \(reply.status.code), which openapi.yaml does not document")
        // One spelling of ids everywhere: lowercase, as PostgreSQL prints them (issue 22). A
        // problem's `instance` echoes the request's path as the client wrote it: not the server's.
        let path = String(uri.split(separator: "?", maxSplits: 1).first ?? "")
        let written = reply.body.replacingOccurrences(of: #""instance":"\#(path)""#, with: "")
        let capitalID = written.firstMatch(of: /[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/)
        #expect(
            capitalID == nil || !written[capitalID!.range].contains(where: \.isLetter),
            "\(method) \(uri) wrote an id in capitals: \(reply.body.prefix(300))")
        return reply
    }
}
