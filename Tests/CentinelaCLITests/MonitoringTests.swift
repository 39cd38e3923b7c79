import CentinelaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The service-health dashboard and the alert rules read by a real Prometheus (Debian's package,
/// as the compose file runs it) scraping a served instance (issue 21, item 9): every PromQL query
/// of Dashboards/ answers with data, every rule of Docker/prometheus/rules.yml evaluates, and with
/// the service down the tiles turn red instead of blank and `CentinelaDown` goes pending.
///
/// Opt-in with the fault tests (`make test-faults`): it starts two servers and waits for scrapes.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CENTINELA_FAULT_TESTS"] == "1"))
struct MonitoringTests {
    @Test func everyPanelHasDataAndEveryRuleEvaluatesUpOrDown() async throws {
        let (root, data) = try await FaultTests.tinyCountry()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // The runs the tiles report on: a full rescore and a linking rebuild have finished.
        #expect(try await CommandProcess.run(["rescore"] + data, limit: .seconds(120)).status == 0)
        #expect(try await CommandProcess.run(["linking", "rebuild"] + data, limit: .seconds(120)).status == 0)
        let server = FaultTests.Server(data)
        try await server.start()
        let servicePort = try #require(await server.port)
        // A report submitted, as on any working day: the latency of submissions has a series.
        let secret = try await FaultTests.regulatorSecret(data)
        let facility = try await server.firstFacility(secret)
        let (status, _) = try await FaultTests.post(
            port: servicePort, secret: secret, key: "monitoring-1",
            body: """
                {"facility":"\(facility)","occurred":{"on":"2026-02-02"},"discoveredOn":"2026-02-03","category":"neglect",
                 "reporterType":"parent","children":[{"ref":"NNA-01","age":4}],"narrative":"Prueba de monitoreo."}
                """)
        #expect(status == .created)
        let prometheus = try Prometheus(root: root, scraping: servicePort)
        defer { prometheus.stop() }

        // Up: scraped a few times, so that rates over 10 s have their two samples.
        let upSince = try await poll(within: .seconds(60), every: .milliseconds(500)) {
            do { return try await prometheus.values("up{job=\"centinela\"}").description } catch { return "\(error)" }
        } until: {
            $0 == "[1.0]"
        }
        #expect(upSince == "[1.0]", "Prometheus never scraped the service: \(upSince) \(prometheus.process.errorOutput.suffix(2000))")
        try await Task.sleep(for: .seconds(6))

        let queries = try GrafanaDashboards.queries().filter { $0.datasourceUID == "centinela-prometheus" }
        #expect(queries.count >= 16)
        for query in queries {
            let values = try await prometheus.values(Prometheus.resolved(query.text))
            #expect(!values.isEmpty, "\(query): no data while the service is up (\(query.text))")
        }
        let rules = try await prometheus.rules()
        #expect(rules.count == 8, "\(rules)")
        for rule in rules {
            #expect(rule.health == "ok", "\(rule.name) does not evaluate: \(rule.error ?? "?")")
            #expect(rule.state == "inactive", "\(rule.name) is \(rule.state) on a healthy service")
        }

        // Down: the stat tiles still answer (red for the service and its database, the last known
        // values for the rest), and the rule for a service gone is pending.
        await server.stop()
        let downSince = try await poll(within: .seconds(30), every: .milliseconds(500)) {
            try? await prometheus.values("up{job=\"centinela\"}")
        } until: {
            $0 == [0]
        }
        #expect(downSince == [0])
        let tiles = try GrafanaDashboards.queries().filter { $0.datasourceUID == "centinela-prometheus" && $0.isStatTile }
        #expect(tiles.count == 6)
        for tile in tiles {
            let values = try await prometheus.values(Prometheus.resolved(tile.text))
            #expect(values.count == 1, "\(tile): blank with the service down (\(tile.text))")
            if tile.place == "Servicio activo" || tile.place == "Base de datos accesible" {
                #expect(values == [0], "\(tile) with the service down: \(values)")
            }
        }
        let pending: String? = try await poll(within: .seconds(20), every: .milliseconds(500)) {
            let rules = try? await prometheus.rules()
            return rules?.first { $0.name == "CentinelaDown" }?.state
        } until: { (state: String?) in
            state == "pending" || state == "firing"
        }
        #expect(pending == "pending", "CentinelaDown with the service down")
    }

    /// Prometheus on a free port, scraping `centinela` every second with the shipped rules.
    final class Prometheus: Sendable {
        let process: CommandProcess
        let port: Int

        init(root: String, scraping servicePort: Int) throws {
            let binary = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }
            let program = try #require(binary, "Prometheus is not installed (make prometheus-tools)")
            let rules = GrafanaDashboards.directory.deletingLastPathComponent().appendingPathComponent("Docker/prometheus/rules.yml").path
            let configuration = """
                global: {scrape_interval: 1s, evaluation_interval: 1s}
                rule_files: ["\(rules)"]
                scrape_configs:
                  - job_name: centinela
                    static_configs: [{targets: ["127.0.0.1:\(servicePort)"]}]
                """
            try FileManager.default.createDirectory(atPath: root + "/prometheus", withIntermediateDirectories: true)
            try configuration.write(toFile: root + "/prometheus/prometheus.yml", atomically: true, encoding: .utf8)
            port = try freeLoopbackPort()
            process = try CommandProcess(
                [
                    "--config.file=\(root)/prometheus/prometheus.yml", "--storage.tsdb.path=\(root)/prometheus/data",
                    "--web.listen-address=127.0.0.1:\(port)",
                ], program: program)
        }

        func stop() {
            process.signal(SIGTERM)
        }

        /// A dashboard's query as Grafana sends it: its interval variables given values that suit
        /// one-second scrapes.
        static func resolved(_ promQL: String) -> String {
            promQL.replacingOccurrences(of: "$__rate_interval", with: "10s").replacingOccurrences(of: "$__interval", with: "5s")
        }

        /// The values of an instant query, one per series (NaN included).
        func values(_ promQL: String) async throws -> [Double] {
            var allowed = CharacterSet.urlQueryAllowed
            allowed.remove(charactersIn: "+&=")
            let data = try await get("/api/v1/query?query=" + promQL.addingPercentEncoding(withAllowedCharacters: allowed)!)
            let status = data["status"] as? String
            guard status == "success", let result = (data["data"] as? [String: Any])?["result"] as? [[String: Any]] else {
                throw PrometheusError(description: "\(promQL): \(data["error"] ?? data)")
            }
            return result.compactMap { (($0["value"] as? [Any])?.last as? String).flatMap(Double.init) }
        }

        struct Rule: Sendable, CustomStringConvertible {
            var name: String
            var health: String
            var state: String
            var error: String?
            var description: String { "\(name): \(health), \(state)" }
        }

        func rules() async throws -> [Rule] {
            let data = try await get("/api/v1/rules")
            let groups = ((data["data"] as? [String: Any])?["groups"] as? [[String: Any]]) ?? []
            return groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }.map {
                Rule(
                    name: $0["name"] as? String ?? "?", health: $0["health"] as? String ?? "?", state: $0["state"] as? String ?? "?",
                    error: $0["lastError"] as? String)
            }
        }

        private func get(_ uri: String) async throws -> [String: Any] {
            let body = try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10))) {
                // Go's server refuses an HTTP/1.1 request without Host, which the test client omits.
                try await $0.get(uri, headers: [HTTPField.Name("Host")!: "127.0.0.1:\(self.port)"]).body ?? ByteBuffer()
            }
            guard let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
                throw PrometheusError(description: "\(uri): not a JSON object")
            }
            return json
        }
    }

    struct PrometheusError: Error, CustomStringConvertible {
        var description: String
    }
}
