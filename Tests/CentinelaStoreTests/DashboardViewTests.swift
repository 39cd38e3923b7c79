import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The Grafana dashboards' SQL, run as Grafana runs it: logged in as a member of `centinela_dashboard`,
/// against the read-only views of Schema/0010_dashboards.sql, on a database with scores, history,
/// alerts and reports in it.
@Suite struct DashboardViewTests {
    static let logger = TestDatabase.logger

    /// Runs `sql` as Grafana does: logged in as a login that is a member of `centinela_dashboard`
    /// only (Docker/postgres/init-centinela.sh makes `grafana` so), read only; each row as a JSON
    /// object by column name.
    static func asDashboard(_ sql: String, in database: DatabaseConfiguration) async throws -> [[String: Any]] {
        try await grafanaLogin.value
        var grafana = database
        grafana.username = "centinela_grafana_test"
        grafana.password = nil
        let texts = try await grafana.withConnection(logger: logger) { connection in
            try await connection.query("BEGIN READ ONLY", logger: logger)
            do {
                var texts: [String] = []
                let query = PostgresQuery(unsafeSQL: "SELECT to_json(q)::text FROM (\n\(sql)\n) q")
                for try await text in try await connection.query(query, logger: logger).decode(String.self) { texts.append(text) }
                try await connection.query("ROLLBACK", logger: logger)
                return texts
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
        return try texts.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
    }

    /// The login `asDashboard` uses, made once per run: roles belong to the cluster, and another
    /// test process's run may be making it now.
    static let grafanaLogin = Task {
        try await TestDatabase.server().withConnection(logger: logger) { connection in
            try await connection.query(
                """
                DO $$ BEGIN
                    CREATE ROLE centinela_grafana_test LOGIN IN ROLE centinela_dashboard;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$
                """, logger: logger)
        }
    }

    /// A school in Nuevo León with two adults filming a four-year-old, scored: a critical band,
    /// alerts, a history entry.
    static func populate(_ world: World, on connection: PostgresConnection) async throws {
        let writer = RescoreTests.Writer(connection: connection)
        for daysAgo in [3, 20, 40] {
            let report = try await writer.report(
                world.nuevoLeon.id, daysAgo: daysAgo, described: ["Hombre del disfraz", "Mujer del disfraz"])
            try await connection.query(
                "INSERT INTO report_children (report_id, child_ref, age_years) VALUES (\(report), 'NNA-01', 4)", logger: logger)
        }
        try await writer.report(world.oaxaca.id, daysAgo: 100, category: "grooming", reporter: "school_staff")
        try await world.database.withConnection(logger: logger) { reader in
            _ = try await Rescorer(model: .v1, logger: logger).run(.full, reader: reader, writer: connection, wait: true)
        }
    }

    @Test func everyDashboardQueryRunsAsTheDashboardRole() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { connection in
                try await Self.populate(world, on: connection)
                let queries = try GrafanaDashboards.queries().filter { $0.datasourceUID == "centinela-postgres" }
                #expect(queries.count >= 9, "\(queries)")
                // "All" regions, as Grafana sends it: every value of the variable's own query.
                let regions = try await Self.asDashboard(
                    "SELECT DISTINCT region_code FROM dashboard.jurisdictions", in: world.database
                ).compactMap { $0["region_code"] as? String }
                #expect(Set(regions) == ["MX", "MX-NL", "MX-OAX"])
                let all = regions.map { "'\($0)'" }.joined(separator: ",")
                var answers: [String: [[String: Any]]] = [:]
                for query in queries {
                    let sql = try GrafanaDashboards.sql(query.text, variables: ["region": all])
                    do {
                        answers[query.place] = try await Self.asDashboard(sql, in: world.database)
                    } catch {
                        Issue.record("\(query): \(String(reflecting: error))\n\(sql)")
                    }
                }
                // The data reaches the panels through the views.
                let top = try #require(answers["Escuelas de mayor riesgo"])
                #expect(top.count == 3)
                #expect(top.first?["Clave"] as? String == "NL001" && top.first?["Nivel"] as? String == "critical", "\(top)")
                #expect((top.first?["Por qué"] as? String)?.contains("report(s)") == true, "\(top)")
                #expect(try #require(answers["Alertas abiertas, críticas"]).first?["Críticas"] as? Int ?? 0 >= 1)
                #expect(
                    Set(try #require(answers["Alertas abiertas por regla"]).compactMap { $0["Regla"] as? String }).isSuperset(of: [
                        "band", "several_adults_severe",
                    ]))
                #expect(try #require(answers["Reportes por semana y tipo de hecho"]).count >= 3)
                #expect(!(try #require(answers["Evolución del puntaje: las 10 más altas hoy"])).isEmpty)
                // One region only: Oaxaca's panel shows none of Nuevo León's alerts.
                let oaxaca = try GrafanaDashboards.sql(
                    try #require(queries.first { $0.place == "Alertas abiertas por jurisdicción y gravedad" }).text,
                    variables: ["region": "'MX-OAX'"])
                #expect(try await Self.asDashboard(oaxaca, in: world.database).isEmpty)
            }
        }
    }

    /// The displayed score stops at 100; the total goes on. Ranked by score, every facility at 100
    /// tied and the tie went by name, so the worst critical facilities could miss "the 25
    /// highest" (issue 21, item 9): the panels rank by total, as the API does.
    @Test func facilitiesAtAScoreOf100RankByTheirTotal() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { connection in
                try await Self.populate(world, on: connection)
                // Totals rising with the name: ranked by name the order would be the reverse.
                var names: [String] = []
                for try await name in try await connection.query(
                    "SELECT f.name FROM risk_scores s JOIN facilities f ON f.id = s.facility_id ORDER BY f.name", logger: Self.logger
                ).decode(String.self) { names.append(name) }
                #expect(names.count == 3)
                for (rank, name) in names.enumerated() {
                    try await connection.query(
                        """
                        UPDATE risk_scores SET score = 100, band = 'critical', total = \(Double(150 + 50 * rank))
                        WHERE facility_id = (SELECT id FROM facilities WHERE name = \(name))
                        """, logger: Self.logger)
                }
                let query = try #require(try GrafanaDashboards.queries().first { $0.place == "Escuelas de mayor riesgo" })
                let top = try await Self.asDashboard(
                    try GrafanaDashboards.sql(query.text, variables: ["region": "'MX','MX-NL','MX-OAX'"]), in: world.database)
                #expect(top.compactMap { $0["Escuela"] as? String } == names.reversed(), "\(top)")
            }
        }
    }

    @Test func theDashboardRoleReadsTheViewsAndNothingElse() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { connection in
                try await Self.populate(world, on: connection)
                var tables: [String] = []
                for try await name in try await connection.query(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", logger: Self.logger
                ).decode(String.self) { tables.append(name) }
                #expect(tables.contains("incident_reports") && tables.contains("api_tokens"))
                for table in tables {
                    do {
                        _ = try await Self.asDashboard("SELECT 1 FROM public.\(table) LIMIT 1", in: world.database)
                        Issue.record("the dashboard role read \(table)")
                    } catch {
                        #expect(DatabaseError.sqlState(of: error) == "42501", "\(table): \(String(reflecting: error))")
                    }
                }
                // The views carry no narrative, child, adult, token or free text from a report.
                var columns: [String] = []
                for try await name in try await connection.query(
                    "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'dashboard'",
                    logger: Self.logger
                ).decode(String.self) { columns.append(name) }
                #expect(columns.count > 40)
                for forbidden in [
                    "narrative", "child", "reference", "adult", "person", "subject", "full_name", "mentioned", "note", "token", "national",
                ] {
                    #expect(!columns.contains { $0.contains(forbidden) }, "\(forbidden) in \(columns)")
                }
                // And nothing a school wrote comes through them.
                let everything = try await Self.asDashboard(
                    """
                    SELECT concat_ws(' ', a.*, f.*, r.*, p.*) FROM dashboard.alerts a, dashboard.facility_risk f,
                        dashboard.reports r LEFT JOIN dashboard.patterns p ON true
                    """, in: world.database
                ).compactMap { $0["concat_ws"] as? String }.joined(separator: "\n")
                #expect(!everything.isEmpty)
                for secret in ["Hombre del disfraz", "NNA-01", "Prueba."] {
                    #expect(!everything.contains(secret), "\(secret) readable through the views")
                }
            }
        }
    }

    @Test func everyQueryUsesADatasourceTheProvisioningDeclares() throws {
        let provisioning = try String(
            contentsOf: GrafanaDashboards.directory.appendingPathComponent("provisioning/datasources/centinela.yaml"), encoding: .utf8)
        let declared = Set(provisioning.matches(of: #/uid: ([a-z-]+)/#).map { String($0.1) })
        #expect(declared == ["centinela-postgres", "centinela-prometheus"])
        let queries = try GrafanaDashboards.queries()
        #expect(queries.count >= 25)
        for query in queries {
            #expect(declared.contains(query.datasourceUID), "\(query): datasource \(query.datasourceUID)")
        }
    }
}
