import CentinelaCore
import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import Yams

/// `/metrics`: what operators watch, in Prometheus' format, with nothing personal in it.
@Suite struct MetricsTests {
    /// The samples of an exposition: `name{labels}` → value.
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// `/metrics` once its database figures were read (`centinela_database_up` 1), or its last
    /// answer after 20 s: on a machine loaded by the whole suite the figures' read can outlast its
    /// 2 s limit for a moment, which the scrape rightly reports as the database down.
    func metricsReply(_ api: APITest, token: String? = nil) async throws -> APITest.Reply {
        try await poll(within: .seconds(20)) {
            let reply = try await api.call(.get, "/metrics", token: token)
            #expect(reply.status == .ok, "\(reply.body)")
            #expect(reply.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            return reply
        } until: {
            Self.samples($0.body)["centinela_database_up"] == 1
        }
    }

    func scrape(_ api: APITest, token: String? = nil) async throws -> [String: Double] {
        Self.samples(try await metricsReply(api, token: token).body)
    }

    @Test func countsRequestsByRoutePatternReportsByCategoryAndReadsTheDatabaseState() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id
            // A report filming a four-year-old (opens a critical `filming` alert), then the same
            // submission again under its Idempotency-Key: one report received, not two.
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "metrics-1"]
            var reportID = ""
            try await RiskAPITests.rescored(facility, in: api.world) {
                let created = try await api.call(
                    .post, "/v1/reports", token: api.world.schoolToken, json: AlertAPITests.report(facility), headers: key)
                #expect(created.status == .created, "\(created.body)")
                reportID = created.json["id"] as? String ?? ""
            }
            let replay = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: AlertAPITests.report(facility), headers: key)
            #expect(replay.status == .created)
            #expect(try await api.call(.get, "/v1/reports/\(reportID)", token: api.world.regulatorToken).status == .ok)
            // A path no route matches (and so no OpenAPI operation: past the contract check).
            let unknown = try await api.client.execute(uri: "/v1/nothing/here", method: .get, headers: [:], body: nil) { $0.status }
            #expect(unknown == .notFound)

            let reply = try await metricsReply(api)
            let samples = Self.samples(reply.body)
            #expect(samples[#"centinela_reports_ingested_total{category="sexual_abuse",reporter_type="parent"}"#] == 1)
            #expect(samples[#"centinela_reports_ingested_total{category="grooming",reporter_type="parent"}"#] == 0)
            #expect(samples[#"centinela_http_requests_total{route="/v1/reports",method="POST",status="201"}"#] == 2)
            #expect(samples[#"centinela_http_requests_total{route="/v1/reports/{id}",method="GET",status="200"}"#] == 1)
            #expect(samples[#"centinela_http_requests_total{route="unmatched",method="GET",status="404"}"#] == 1)
            #expect(samples[#"centinela_http_request_duration_seconds_count{route="/v1/reports",method="POST",status="201"}"#] == 2)
            // The database's state: the report's alert, every facility in exactly one band.
            #expect(samples["centinela_database_up"] == 1)
            #expect(samples[#"centinela_alerts_open{rule="filming",severity="critical"}"#] == 1)
            #expect(samples[#"centinela_alerts_open{rule="adult_repeat",severity="high"}"#] == 0)
            let bands = ["low", "elevated", "high", "critical", "unscored"].compactMap {
                samples[#"centinela_facilities{band="\#($0)"}"#]
            }
            #expect(bands.count == 5 && bands.reduce(0, +) == 3, "\(bands)")
            #expect(samples["centinela_webhook_queue_depth"] == 0)
            // Both sequencers report their backlog (what they have not yet taken: small, recent).
            for sequencer in ["audit", "stream"] {
                #expect(samples[#"centinela_sequencer_pending_events{sequencer="\#(sequencer)"}"#] != nil, "\(sequencer)")
                let oldest = try #require(samples[#"centinela_sequencer_oldest_pending_seconds{sequencer="\#(sequencer)"}"#])
                #expect(oldest >= 0 && oldest < 60, "\(sequencer): \(oldest)")
            }
            #expect(samples["centinela_db_connections_max"] == 10)
            #expect((samples["centinela_db_connection_acquisitions_total"] ?? 0) >= 4)
            // Nothing that names a case: no id, no name, no narrative, no requested path.
            for secret in [reportID, facility.uuidString.lowercased(), "Hombre del disfraz", "NNA-01", "disfrazados", "/v1/nothing"] {
                #expect(!reply.body.contains(secret), "\(secret) appears in /metrics")
            }
        }
    }

    @Test func theRescoringRunsOfTheCronAreReadFromTheDatabase() async throws {
        try await APITest.run { (api: APITest) async throws in
            // Figures read from the database are left out of a scrape that cannot read them within
            // 5 s (the whole suite on two cores can be that slow): scrape until they are in.
            var before = try await scrape(api)
            for _ in 1...5 where before["centinela_rescore_last_success_timestamp_seconds"] == nil {
                try await Task.sleep(for: .seconds(1))
                before = try await scrape(api)
            }
            #expect(before["centinela_rescore_last_success_timestamp_seconds"] == 0)
            try await api.world.database.withConnection(logger: TestDatabase.logger) { reader in
                try await api.world.database.withConnection(logger: TestDatabase.logger) { writer in
                    _ = try await Rescorer(model: .v1, logger: TestDatabase.logger).run(.full, reader: reader, writer: writer, wait: true)
                }
            }
            var after = try await scrape(api)
            for _ in 1...5 where after["centinela_rescore_last_run_facilities_scored"] == nil {
                try await Task.sleep(for: .seconds(1))
                after = try await scrape(api)
            }
            let finished = try #require(after["centinela_rescore_last_success_timestamp_seconds"])
            #expect(abs(finished - Date().timeIntervalSince1970) < 60)
            #expect(after["centinela_rescore_last_run_facilities_scored"] == 3)
            #expect(after["centinela_rescore_last_run_succeeded"] == 1)
            #expect((after["centinela_rescore_last_run_duration_seconds"] ?? -1) >= 0)
            #expect(after[#"centinela_facilities{band="unscored"}"#] == 0)
        }
    }

    @Test func aMetricsTokenGuardsTheEndpointWhenConfigured() async throws {
        let token = "scrape-7f3a9c2e1b4d"
        try await APITest.run(metricsToken: token) { (api: APITest) async throws in
            let missing = try await api.call(.get, "/metrics", token: nil)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(try await api.call(.get, "/metrics", token: "scrape-0000000000000").status == .unauthorized)
            // An API token is not the metrics token.
            #expect(try await api.call(.get, "/metrics", token: api.world.adminToken).status == .unauthorized)
            // The database's figures are left out, or its probe times out, within 5 s (the
            // whole suite on two cores can be that slow): scrape until they are in.
            var scraped = try await scrape(api, token: token)
            for _ in 1...5 where scraped["centinela_database_up"] != 1 {
                try await Task.sleep(for: .seconds(1))
                scraped = try await scrape(api, token: token)
            }
            #expect(scraped["centinela_database_up"] == 1)
            let post = try await api.call(.post, "/metrics", token: token)
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers[.allow]?.contains("GET") == true)
        }
    }

    /// Every metric a panel of the service-health dashboard or an alert rule of
    /// Docker/prometheus/rules.yml reads (`up` is Prometheus's own) is one /metrics exposes: a
    /// metric renamed in the service would blank its panel or silence its rule without a word.
    /// (That each rule fires when it should: `promtool test rules`, in `make test`.)
    @Test func everyMetricTheServiceHealthDashboardAndTheAlertRulesReadIsExposed() async throws {
        let rules = try Self.alertRuleExpressions()
        #expect(rules.count == 8 && rules["CentinelaDown"]?.contains("absent(") == true, "\(rules.keys)")
        // The reader of PromQL the check relies on: functions, labels, ranges and clauses are not metrics.
        #expect(
            GrafanaDashboards.metricNames(
                inPromQL:
                    #"histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{route="/x",method="POST"}[$__rate_interval]))) / time() - b_total offset 5m"#
            )
                == ["a_seconds_bucket", "b_total"])
        try await APITest.run { [rules] (api: APITest) async throws in
            _ = try await api.call(.get, "/healthz", token: nil)
            let queries = try GrafanaDashboards.queries().filter { $0.datasourceUID == "centinela-prometheus" }
            let wanted = queries.reduce(into: Set<String>()) { $0.formUnion(GrafanaDashboards.metricNames(inPromQL: $1.text)) }
                .union(rules.values.reduce(into: Set<String>()) { $0.formUnion(GrafanaDashboards.metricNames(inPromQL: $1)) })
                .subtracting(["up"])
            // The figures read from the database are left out of a scrape that cannot read them
            // within 5 s (the whole suite on two cores can be that slow): a few scrapes, then judge.
            var exposed: Set<String> = []
            for _ in 1...5 {
                let reply = try await metricsReply(api)
                exposed = Set(Self.samples(reply.body).keys.map { String($0.prefix { $0 != "{" }) })
                if wanted.isSubset(of: exposed) { break }
                try await Task.sleep(for: .seconds(1))
            }
            #expect(queries.count >= 16)
            for query in queries {
                let names = GrafanaDashboards.metricNames(inPromQL: query.text).subtracting(["up"])
                #expect(!names.isEmpty || query.place == "Servicio activo", "\(query) reads no metric")
                for name in names {
                    #expect(exposed.contains(name), "\(query): \(name) is not exposed by /metrics")
                }
            }
            for (alert, expression) in rules {
                let names = GrafanaDashboards.metricNames(inPromQL: expression).subtracting(["up"])
                #expect(!names.isEmpty || alert == "CentinelaDown", "\(alert) reads no metric")
                for name in names {
                    #expect(exposed.contains(name), "\(alert): \(name) is not exposed by /metrics")
                }
            }
        }
    }

    /// The rescore-age tile turns red when `CentinelaRescoreLate` fires: it used to at 25 h while
    /// the alert fired at 3 h, so the dashboard looked fine during an alert (issue 21, item 9).
    @Test func theRescoreAgeTileTurnsRedWhenItsAlertFires() throws {
        let rule = try #require(try Self.alertRuleExpressions()["CentinelaRescoreLate"])
        let match = try #require(rule.firstMatch(of: /> *([0-9]+) *\* *3600/), "\(rule)")
        let alertAfter = try #require(Double(match.1)) * 3600
        let file = GrafanaDashboards.directory.appendingPathComponent("service-health.json")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let tile = try #require(
            (dashboard["panels"] as? [[String: Any]])?.first { $0["title"] as? String == "Último recálculo completo, antigüedad" })
        let defaults = (tile["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any]
        let steps = ((defaults?["thresholds"] as? [String: Any])?["steps"] as? [[String: Any]]) ?? []
        let red = steps.first { $0["color"] as? String == "red" }?["value"] as? Double
        #expect(red == alertAfter, "the tile turns red at \(red.map { "\($0) s" } ?? "never"), the alert fires after \(alertAfter) s")
    }

    /// The alert rules of Docker/prometheus/rules.yml, by alert name: their expressions.
    static func alertRuleExpressions() throws -> [String: String] {
        let file = GrafanaDashboards.directory.deletingLastPathComponent().appendingPathComponent("Docker/prometheus/rules.yml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let groups = try #require(document["groups"] as? [[String: Any]])
        var expressions: [String: String] = [:]
        for rule in groups.flatMap({ ($0["rules"] as? [[String: Any]]) ?? [] }) {
            if let alert = rule["alert"] as? String, let expr = rule["expr"] as? String { expressions[alert] = expr }
        }
        return expressions
    }
}
