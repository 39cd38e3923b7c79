import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Testing

/// Fault tests (`make test-faults`, issue 21): the service killed and restarted under load.
/// Opt-in (CENTINELA_FAULT_TESTS=1): they take a minute and load the machine, which the rest of the
/// suite running beside them would feel.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CENTINELA_FAULT_TESTS"] == "1"))
struct FaultTests {
    /// 16 clients submit reports with Idempotency-Keys while `serve` is killed (SIGKILL) five times
    /// and restarted; a client retries an unanswered request with the same key. Afterwards every
    /// acknowledged report is stored, and every key once: nothing lost, nothing twice.
    @Test func killedFiveTimesUnderLoadLosesAndDuplicatesNothing() async throws {
        let root = "/tmp/centinela-fault-test-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = ["--data-dir", root + "/postgres"]
        #expect(try await CommandProcess.run(["migrate"] + data).status == 0)
        #expect(try await CommandProcess.run(["simulate", "--scale", "tiny", "--without-national-ids", "--end", "2026-11-30"] + data,
                                             limit: .seconds(120)).status == 0)
        let token = try await CommandProcess.run(["token", "create", "--role", "regulator", "--jurisdiction", "MX", "--holder", "intake"] + data)
        let secret = token.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = Server(data)
        try await server.start()
        let facility = try await server.firstFacility(secret)

        // Each client keeps submitting until the last restart has served a few of its reports.
        let (clients, reportsEach) = (16, 8)
        let tally = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for _ in 0..<5 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 600...1400)))
                    await server.kill()
                    try await server.start()
                }
                tally.killsDone.withLock { $0 = true }
            }
            for client in 0..<clients {
                group.addTask {
                    var n = 0
                    var afterKills = 0
                    while afterKills < reportsEach {
                        if tally.killsDone.withLock({ $0 }) { afterKills += 1 }
                        let key = "fault-\(client)-\(n)"
                        n += 1
                        let body = """
                            {"facility":"\(facility)","occurred":{"on":"2026-02-02"},"discoveredOn":"2026-02-03","category":"neglect",
                             "reporterType":"parent","children":[{"ref":"NNA-01","age":4}],"narrative":"Prueba de fallas \(key)."}
                            """
                        var attempts = 0
                        while true {
                            attempts += 1
                            guard attempts <= 200 else {
                                tally.refused.withLock { $0.append("\(key): never answered") }
                                break
                            }
                            guard let port = await server.port,
                                  let (status, answer) = try? await Self.post(port: port, secret: secret, key: key, body: body)
                            else {
                                tally.retried.withLock { $0 += 1 }
                                try await Task.sleep(for: .milliseconds(100))
                                continue
                            }
                            if status == .created || status == .ok, let id = answer["id"] as? String {
                                tally.acknowledged.withLock { $0[key] = id }
                                break
                            }
                            if status == .serviceUnavailable || status == .tooManyRequests {
                                try await Task.sleep(for: .milliseconds(200))
                                continue
                            }
                            tally.refused.withLock { $0.append("\(key): \(status)") }
                            break
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        await server.stop()
        #expect(tally.refused.withLock { $0 }.isEmpty, "\(tally.refused.withLock { $0 })")
        let submitted = tally.acknowledged.withLock { $0.count }
        #expect(submitted >= clients * reportsEach)
        #expect(tally.retried.withLock { $0 } > 0, "the kills caught requests in flight or refused")

        // What is stored: started again just to read it.
        let cluster = try EmbeddedPostgres(configuration: .init(dataDirectory: root + "/postgres"), logger: Logger(label: "fault-test"))
        let database = try await cluster.start()
        let stored: [(String, String)]
        do {
            stored = try await database.withConnection(logger: Logger(label: "fault-test")) { connection in
                var rows: [(String, String)] = []
                for try await (id, narrative) in try await connection.query(
                    "SELECT id::text, narrative FROM incident_reports WHERE narrative LIKE 'Prueba de fallas %'", logger: Logger(label: "fault-test")
                ).decode((String, String).self) { rows.append((id, narrative)) }
                return rows
            }
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
        let keys = stored.map { String($0.1.dropFirst("Prueba de fallas ".count).dropLast()) }
        #expect(Set(keys).count == keys.count, "every key stored once: \(keys.count - Set(keys).count) twice")
        let ids = Set(stored.map(\.0))
        let missing = tally.acknowledged.withLock { $0 }.filter { !ids.contains($0.value) }
        #expect(missing.isEmpty, "acknowledged and not stored: \(missing.keys.sorted())")
        #expect(keys.count == submitted)
        print("fault test (a): \(submitted) reports acknowledged by \(clients) clients across 5 kills, \(tally.retried.withLock { $0 }) attempts unanswered and retried; \(keys.count) stored, none twice")
    }

    /// (d) `centinela rescore` killed (SIGKILL) mid-run, while it waits to write its first scores:
    /// the next run completes, and records the killed one as failed rather than 'running' for ever.
    @Test func aRescoreKilledMidRunIsRecordedAsFailedByTheNext() async throws {
        let root = "/tmp/centinela-fault-test-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = ["--data-dir", root + "/postgres"]
        #expect(try await CommandProcess.run(["migrate"] + data).status == 0)
        #expect(try await CommandProcess.run(["simulate", "--scale", "tiny", "--without-national-ids", "--end", "2026-11-30"] + data,
                                             limit: .seconds(120)).status == 0)
        // The test's own start of the cluster: the commands below share it and leave it running.
        let logger = Logger(label: "fault-test")
        let cluster = try EmbeddedPostgres(configuration: .init(dataDirectory: root + "/postgres"), logger: logger)
        let database = try await cluster.start()
        do {
            let runs = try await database.withConnection(logger: logger) { holder in
                func runs() async throws -> [(String, String?)] {
                    var rows: [(String, String?)] = []
                    for try await row in try await holder.query(
                        "SELECT outcome, error FROM rescore_runs ORDER BY started_at", logger: logger
                    ).decode((String, String?).self) { rows.append(row) }
                    return rows
                }
                // Writes of scores wait behind this lock, so the run is caught mid-way, not by luck.
                try await holder.query("BEGIN", logger: logger)
                try await holder.query("LOCK TABLE risk_scores IN EXCLUSIVE MODE", logger: logger)
                let rescore = try CommandProcess(["rescore", "--skip-linking"] + data)
                var waiting = false
                for _ in 0..<600 where !waiting {
                    for try await n in try await holder.query(
                        """
                        SELECT count(*)::int FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                        WHERE NOT l.granted AND c.relname = 'risk_scores'
                        """, logger: logger
                    ).decode(Int.self) { waiting = n > 0 }
                    if !waiting { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(waiting, "the run reached its first write: \(rescore.errorOutput.suffix(1000))")
                rescore.signal(SIGKILL)
                _ = try await rescore.waitForExit(limit: .seconds(10))
                try await holder.query("ROLLBACK", logger: logger)
                #expect(try await runs().map(\.0) == ["running"], "the killed run said nothing")

                // The next run waits for the killed one's session to end (the lock it held), then completes.
                let next = try await CommandProcess.run(["rescore", "--skip-linking", "--wait"] + data, environment: ["LOG_LEVEL": "warning"])
                #expect(next.status == 0 && next.output.hasPrefix("rescored "), "\(next.output) \(next.error)")
                #expect(next.error.contains("now recorded as failed"), "\(next.error)")
                return try await runs()
            }
            #expect(runs.map(\.0) == ["failed", "succeeded"], "\(runs)")
            #expect(runs.first?.1?.contains("its process was stopped or lost the database") == true, "\(runs)")
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    /// What the clients were told, key by key.
    final class Tally: Sendable {
        let acknowledged = Mutex<[String: String]>([:])
        let refused = Mutex<[String]>([])
        let retried = Mutex(0)
        let killsDone = Mutex(false)
    }

    static func post(port: Int, secret: String, key: String, body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10))) { client in
            let response = try await client.post(
                "/v1/reports",
                headers: [.authorization: "Bearer \(secret)", .contentType: "application/json", HTTPField.Name("Idempotency-Key")!: key],
                body: ByteBuffer(string: body))
            let json = (try? JSONSerialization.jsonObject(with: Data((response.body ?? ByteBuffer()).readableBytesView))) as? [String: Any]
            return (response.status, json ?? [:])
        }
    }

    /// `serve` on a free port, started, killed and started again.
    actor Server {
        let data: [String]
        private var process: CommandProcess?
        private(set) var port: Int?

        init(_ data: [String]) { self.data = data }

        func start() async throws {
            let serve = try CommandProcess(["serve", "--port", "0"] + data, environment: ["LOG_FORMAT": "json"])
            let serving = try await serve.waitForErrorLine { $0.contains("centinela is serving") }
            let line = try #require(serving, "serve did not start: \(serve.errorOutput.suffix(2000))")
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            process = serve
            port = try #require((fields["port"] as? String).flatMap(Int.init))
        }

        func kill() async {
            port = nil
            process?.signal(SIGKILL)
            _ = try? await process?.waitForExit(limit: .seconds(30))
        }

        func stop() async {
            port = nil
            process?.signal(SIGTERM)
            _ = try? await process?.waitForExit(limit: .seconds(60))
        }

        func firstFacility(_ secret: String) async throws -> String {
            let port = try #require(port)
            let list = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                try await client.get("/v1/facilities?limit=1", headers: [.authorization: "Bearer \(secret)"])
            }
            let json = try #require(try JSONSerialization.jsonObject(with: Data((list.body ?? ByteBuffer()).readableBytesView)) as? [String: Any])
            let items = try #require(json["items"] as? [[String: Any]])
            return try #require(items.first?["id"] as? String)
        }
    }
}
