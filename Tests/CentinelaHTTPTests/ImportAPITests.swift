import CentinelaCore
import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Testing

/// History from another system: original dates honoured, idempotent, all or nothing.
@Suite struct ImportAPITests {
    static func line(
        _ facility: UUID, source: String, received: String, category: String = "neglect", age: Int = 8, extra: String = ""
    ) -> String {
        """
        {"facility":"\(facility.uuidString.lowercased())","receivedAt":"\(received)","source":{"system":"sep-nl","id":"\(source)"},\
        "occurred":{"on":"2023-01-10"},"discoveredOn":"2023-01-11","category":"\(category)","reporterType":"parent",\
        "adults":[{"name":"Profesor Ramírez","role":"teacher"},{"name":"Conserje","role":"maintenance"}],\
        "children":[{"ref":"NNA-7","age":\(age)}],"modusOperandi":["disguise","filming"],"narrative":"Expediente histórico."\(extra)}
        """
    }

    func post(
        _ api: APITest, _ lines: [String], token: String? = nil, contentType: String = "application/x-ndjson"
    ) async throws -> APITest.Reply {
        try await api.call(
            .post, "/v1/reports:import", token: token ?? api.world.regulatorToken, contentType: contentType,
            body: ByteBuffer(string: lines.joined(separator: "\n") + "\n"))
    }

    func reportCount(_ world: World) async throws -> Int {
        try await world.database.withConnection(logger: TestDatabase.logger) { c in
            var n = 0
            for try await value in try await c.query("SELECT count(*)::int FROM incident_reports", logger: TestDatabase.logger).decode(
                Int.self)
            {
                n = value
            }
            return n
        }
    }

    @Test func historyKeepsItsDatesIsImportedOnceAndRaisesNoNewReportAlert() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id
            let decided =
                #","decisions":[{"status":"under_review","at":"2023-02-01T10:00:00Z"},{"status":"unfounded","at":"2023-03-01T10:00:00Z","reason":"Sin elementos."}]"#
            let file = [
                Self.line(facility, source: "EXP-1", received: "2023-01-12T09:30:00Z", extra: decided),
                "",
                // Several adults filming a four-year-old, two years ago: counts in the score, alerts nobody as news.
                Self.line(facility, source: "EXP-2", received: "2024-11-03T16:00:00-06:00", category: "sexual_abuse", age: 4),
            ]
            var created = try await post(api, file)
            try await RiskAPITests.rescored(facility, in: api.world) {
                created = try await post(api, file)
            }
            _ = created
            // The first post imported both; the second (inside the rescore wait) stored nothing new.
            #expect(created.status == .ok, "\(created.body)")
            #expect(created.json["imported"] as? Int == 0 && created.json["alreadyImported"] as? Int == 2)
            let reports = created.json["reports"] as? [[String: Any]] ?? []
            #expect(reports.compactMap { $0["line"] as? Int } == [1, 3] && reports.allSatisfy { $0["new"] as? Bool == false })
            #expect(try await reportCount(api.world) == 2)

            let first = try #require(reports.first?["id"] as? String)
            let report = try await api.call(.get, "/v1/reports/\(first)", token: api.world.regulatorToken)
            #expect(report.json["receivedAt"] as? String == "2023-01-12T09:30:00Z", "\(report.body)")
            #expect(report.json["status"] as? String == "unfounded")
            let imported = try #require(report.json["imported"] as? [String: Any])
            #expect(imported["system"] as? String == "sep-nl" && imported["id"] as? String == "EXP-1")
            let history = (report.json["statusHistory"] as? [[String: Any]] ?? []).compactMap { $0["changedAt"] as? String }
            #expect(history == ["2023-02-01T10:00:00Z", "2023-03-01T10:00:00Z"], "\(report.body)")

            // Old evidence is in the score, and raises no alert meant for news.
            let alerts = try await api.call(
                .get, "/v1/alerts?facility=\(facility.uuidString.lowercased())", token: api.world.regulatorToken)
            let rules = Set(alerts.items.compactMap { $0["rule"] as? String })
            #expect(rules.isDisjoint(with: ["several_adults_severe", "filming", "sexual_abuse_under_six"]), "\(rules)")
            let risk = try await api.call(.get, "/v1/facilities/\(facility.uuidString.lowercased())/risk", token: api.world.regulatorToken)
            #expect((risk.json["score"] as? Double ?? 0) > 0, "\(risk.body)")
        }
    }

    @Test func aBadFileIsRefusedWholeWithEveryProblemByLine() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id
            let before = try await reportCount(api.world)
            let file = [
                Self.line(facility, source: "A-1", received: "2023-01-12T09:30:00Z"),
                Self.line(facility, source: "A-2", received: "2999-01-01T00:00:00Z"),
                "{not json",
                Self.line(api.world.oaxaca.id, source: "A-4", received: "2023-01-12T09:30:00Z"),
                Self.line(
                    facility, source: "A-5", received: "2023-01-12T09:30:00Z",
                    extra: #","decisions":[{"status":"received","at":"2023-01-13T00:00:00Z"}]"#),
                Self.line(facility, source: "A-6", received: "2023-01-01T09:30:00Z"),
                Self.line(facility, source: "A-7", received: "yesterday", extra: #","color":"red""#),
            ]
            let refused = try await post(api, file)
            #expect(refused.status == .unprocessableContent, "\(refused.body)")
            #expect(
                Set(refused.errorFields) == [
                    "/lines/2/receivedAt", "/lines/3", "/lines/5/decisions/0/status", "/lines/7/receivedAt", "/lines/7/color",
                    // Received before it happened: the report's own dates are judged as of its receipt.
                    "/lines/6/receivedAt", "/lines/6/occurred/from", "/lines/6/occurred/to", "/lines/6/discoveredOn",
                ], "\(refused.body)")
            #expect(try await reportCount(api.world) == before)

            // Only the other state's facility is wrong now: found by the store, refused whole, by line.
            let outOfScope = try await post(api, [Self.line(facility, source: "B-1", received: "2023-01-12T09:30:00Z"), file[3]])
            #expect(outOfScope.status == .unprocessableContent && outOfScope.errorFields == ["/lines/2/facility"], "\(outOfScope.body)")
            let twice = try await post(api, [file[0], file[0]])
            #expect(twice.status == .unprocessableContent && twice.errorFields == ["/lines/2/source/id"], "\(twice.body)")
            #expect(try await reportCount(api.world) == before)

            #expect(try await post(api, [file[0]], token: api.world.schoolToken).status == .forbidden)
            #expect(try await post(api, [file[0]], token: api.world.adminToken).status == .forbidden)
            #expect(try await post(api, [file[0]], contentType: "application/json").status == .unsupportedMediaType)
            #expect(try await post(api, [" "]).status == .badRequest)
        }
    }
}
