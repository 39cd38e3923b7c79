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
        let (root, data) = try await Self.tinyCountry()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let secret = try await Self.regulatorSecret(data)
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
            stored = try await Self.storedReports(database)
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
        print(
            "fault test (a): \(submitted) reports acknowledged by \(clients) clients across 5 kills, \(tally.retried.withLock { $0 }) attempts unanswered and retried; \(keys.count) stored, none twice"
        )
    }

    /// (d) `centinela rescore` killed (SIGKILL) mid-run, while it waits to write its first scores:
    /// the next run completes, and records the killed one as failed rather than 'running' for ever.
    @Test func aRescoreKilledMidRunIsRecordedAsFailedByTheNext() async throws {
        let (root, data) = try await Self.tinyCountry()
        defer { try? FileManager.default.removeItem(atPath: root) }
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
                let waiting = try await poll(within: .seconds(30), every: .milliseconds(50)) {
                    var waiters = 0
                    for try await n in try await holder.query(
                        """
                        SELECT count(*)::int FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                        WHERE NOT l.granted AND c.relname = 'risk_scores'
                        """, logger: logger
                    ).decode(Int.self) { waiters = n }
                    return waiters > 0
                } until: {
                    $0
                }
                #expect(waiting, "the run reached its first write: \(rescore.errorOutput.suffix(1000))")
                rescore.signal(SIGKILL)
                _ = try await rescore.waitForExit(limit: .seconds(10))
                try await holder.query("ROLLBACK", logger: logger)
                #expect(try await runs().map(\.0) == ["running"], "the killed run said nothing")

                // The next run waits for the killed one's session to end (the lock it held), then completes.
                let next = try await CommandProcess.run(
                    ["rescore", "--skip-linking", "--wait"] + data, environment: ["LOG_LEVEL": "warning"])
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

    /// (b) PostgreSQL stopped for 10 s under 16 clients, each at its own facility: every request is
    /// answered (201, or 503 with Retry-After within seconds; none left waiting), nothing
    /// acknowledged is lost or stored twice, /readyz turns red and then green by itself, and
    /// SIGTERM afterwards stops `serve` within its drain time.
    @Test func postgresStoppedTenSecondsUnderLoadLosesNothingAndRecovers() async throws {
        let (root, data) = try await Self.tinyCountry()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let secret = try await Self.regulatorSecret(data)
        // The test's own start of the cluster, so that it can stop it under `serve`, which shares it.
        let logger = Logger(label: "fault-test")
        let cluster = try EmbeddedPostgres(configuration: .init(dataDirectory: root + "/postgres"), logger: logger)
        let database = try await cluster.start()
        let server = Server(data)
        do {
            try await server.start()
            let port = try #require(await server.port)
            let facilities = try await server.facilities(secret, count: 16)
            #expect(facilities.count == 16)

            let tally = Tally()
            let outage = Outage()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    try await cluster.stop()
                    outage.phase.withLock { $0 = 1 }
                    try await Task.sleep(for: .seconds(10))
                    _ = try await cluster.start()
                    outage.phase.withLock { $0 = 2 }
                    // Load goes on until /readyz has been green for a while by itself (at most 60 s).
                    _ = try await poll(within: .seconds(60), every: .seconds(1)) {
                        outage.readiness.withLock {
                            $0.suffix(8).count == 8 && $0.suffix(8).allSatisfy { $0.phase == 2 && $0.status == 200 }
                        }
                    } until: {
                        $0
                    }
                    outage.phase.withLock { $0 = 3 }
                }
                group.addTask {
                    while outage.phase.withLock({ $0 }) < 3 {
                        let now = outage.phase.withLock { $0 }
                        let status =
                            (try? await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10))) {
                                try await $0.get("/readyz").status.code
                            }) ?? 0
                        outage.readiness.withLock { $0.append((now, status)) }
                        try await Task.sleep(for: .milliseconds(250))
                    }
                }
                for (client, facility) in facilities.enumerated() {
                    group.addTask {
                        var n = 0
                        while outage.phase.withLock({ $0 }) < 3 {
                            let key = "outage-\(client)-\(n)"
                            n += 1
                            let body = """
                                {"facility":"\(facility)","occurred":{"on":"2026-02-02"},"discoveredOn":"2026-02-03","category":"neglect",
                                 "reporterType":"parent","children":[{"ref":"NNA-01","age":4}],"narrative":"Prueba de fallas \(key)."}
                                """
                            while true {
                                let started = ContinuousClock.now
                                let answer = try? await Self.post(port: port, secret: secret, key: key, body: body)
                                let waited = ContinuousClock.now - started
                                outage.slowest.withLock { $0 = max($0, waited) }
                                guard let (status, json) = answer else {
                                    tally.refused.withLock { $0.append("\(key): no answer within 10 s") }
                                    break
                                }
                                if status == .created || status == .ok, let id = json["id"] as? String {
                                    tally.acknowledged.withLock { $0[key] = id }
                                    break
                                }
                                if status == .serviceUnavailable || status == .tooManyRequests {
                                    tally.retried.withLock { $0 += 1 }
                                    try await Task.sleep(for: .milliseconds(500))
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
            let stopping = ContinuousClock.now
            await server.stop()
            let stopped = ContinuousClock.now - stopping

            #expect(tally.refused.withLock { $0 }.isEmpty, "\(tally.refused.withLock { $0 })")
            #expect(outage.slowest.withLock { $0 } < .seconds(8), "every request answered within seconds")
            let seen = outage.readiness.withLock { $0 }
            #expect(seen.contains { $0.phase == 1 && $0.status == 503 }, "red while stopped: \(seen)")
            #expect(seen.last?.status == 200, "green again by itself: \(seen.suffix(10))")
            #expect(tally.retried.withLock { $0 } > 0, "the outage was felt")
            #expect(stopped < .seconds(12), "SIGTERM after the outage: stopped in \(stopped)")

            let stored = try await Self.storedReports(database)
            let keys = stored.map { String($0.1.dropFirst("Prueba de fallas ".count).dropLast()) }
            #expect(Set(keys).count == keys.count, "every key stored once: \(keys.count - Set(keys).count) twice")
            let missing = tally.acknowledged.withLock { $0 }.filter { !Set(stored.map(\.0)).contains($0.value) }
            #expect(missing.isEmpty, "acknowledged and not stored: \(missing.keys.sorted())")
            print(
                "fault test (b): \(tally.acknowledged.withLock { $0.count }) reports acknowledged by 16 clients around a 10 s stop of PostgreSQL, \(tally.retried.withLock { $0 }) answered 503 and retried, slowest answer \(outage.slowest.withLock { $0 }); \(keys.count) stored, none twice; stopped \(stopped) after SIGTERM"
            )
        } catch {
            await server.stop()
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    /// A tiny simulated country, migrated and loaded in a folder of its own (the caller removes it);
    /// `data` is the command line's `--data-dir` for it.
    static func tinyCountry() async throws -> (root: String, data: [String]) {
        let root = "/tmp/centinela-fault-test-\(UUID().uuidString.prefix(8))"
        let data = ["--data-dir", root + "/postgres"]
        #expect(try await CommandProcess.run(["migrate"] + data).status == 0)
        #expect(
            try await CommandProcess.run(
                ["simulate", "--scale", "tiny", "--without-national-ids", "--end", "2026-11-30"] + data,
                limit: .seconds(120)
            ).status == 0)
        return (root, data)
    }

    /// A national regulator's token for intake, as `centinela token create` prints it.
    static func regulatorSecret(_ data: [String]) async throws -> String {
        let token = try await CommandProcess.run(
            ["token", "create", "--role", "regulator", "--jurisdiction", "MX", "--holder", "intake"] + data)
        return token.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The fault tests' reports as stored: id and narrative.
    static func storedReports(_ database: DatabaseConfiguration) async throws -> [(String, String)] {
        let logger = Logger(label: "fault-test")
        return try await database.withConnection(logger: logger) { connection in
            var rows: [(String, String)] = []
            for try await (id, narrative) in try await connection.query(
                "SELECT id::text, narrative FROM incident_reports WHERE narrative LIKE 'Prueba de fallas %'", logger: logger
            ).decode((String, String).self) { rows.append((id, narrative)) }
            return rows
        }
    }

    /// Where the outage test stands: 0 before the stop, 1 stopped, 2 started again, 3 done; what
    /// /readyz answered in each phase; the slowest answer to a client.
    final class Outage: Sendable {
        let phase = Mutex(0)
        let readiness = Mutex<[(phase: Int, status: Int)]>([])
        let slowest = Mutex(Duration.zero)
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
            try #require(try await facilities(secret, count: 1).first)
        }

        func facilities(_ secret: String, count: Int) async throws -> [String] {
            let port = try #require(port)
            let list = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                try await client.get("/v1/facilities?limit=\(count)", headers: [.authorization: "Bearer \(secret)"])
            }
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data((list.body ?? ByteBuffer()).readableBytesView)) as? [String: Any])
            let items = try #require(json["items"] as? [[String: Any]])
            return items.compactMap { $0["id"] as? String }
        }
    }
}
