import CentinelaCore
import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import Logging
import NIOCore
import PostgresNIO
import Testing

/// Risk scores through the API: kept current on ingest by the worker `serve` runs, no cron needed.
@Suite struct RiskAPITests {
    /// Runs `action`, then waits until the worker reports `facility` rescored (the notification it
    /// sends at commit), or fails after `seconds`.
    static func rescored(
        _ facility: UUID, in world: World, within seconds: Int = 30, after action: () async throws -> Void
    ) async throws {
        try await world.database.withConnection(logger: TestDatabase.logger) { connection in
            let notifications = try await connection.listen("centinela_rescored")
            try await action()
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    // A notification may come from an earlier round (the facility's creation): done
                    // only once no mark is left, i.e. the round that saw `action`'s commit.
                    for try await notification in notifications where notification.payload == facility.uuidString.lowercased() {
                        let pending = try await world.database.withConnection(logger: TestDatabase.logger) { check in
                            var count = 0
                            for try await n in try await check.query(
                                "SELECT count(*)::int FROM rescore_marks WHERE facility_id = \(facility)", logger: TestDatabase.logger
                            ).decode(Int.self) { count = n }
                            return count
                        }
                        if pending == 0 { return true }
                    }
                    return false
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    return false
                }
                let arrived = try await group.next() ?? false
                group.cancelAll()
                #expect(arrived, "facility \(facility) was not rescored within \(seconds) s")
            }
        }
    }

    static func report(
        _ facility: UUID, category: String = "sexual_abuse",
        adults: String = #"[{"name":"Hombre del disfraz","role":"other"},{"name":"Mujer del disfraz","role":"other"}]"#
    ) -> String {
        """
        {"facility":"\(facility.uuidString.lowercased())","occurred":{"on":"2026-02-02"},"discoveredOn":"2026-02-03",
         "category":"\(category)","reporterType":"parent","adults":\(adults),
         "children":[{"ref":"NNA-01","age":4}],"modusOperandi":["disguise","filming"],"narrative":"Dos adultos disfrazados."}
        """
    }

    @Test func aReportIsScoredWithinSecondsWithReasonsThatAddUp() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id
            // The worker scores a new facility (0) within seconds of its creation; the history
            // below expects that score before the report's.
            var scored = false
            for _ in 0..<300 where !scored {
                scored =
                    try await api.call(.get, "/v1/facilities/\(facility.uuidString.lowercased())/risk", token: api.world.regulatorToken)
                    .status == .ok
                if !scored { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(scored, "the new facility was not scored within 30 s")
            try await Self.rescored(facility, in: api.world) {
                let created = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: Self.report(facility))
                #expect(created.status == .created)
            }
            let risk = try await api.call(.get, "/v1/facilities/\(facility.uuidString.lowercased())/risk", token: api.world.regulatorToken)
            #expect(risk.status == .ok, "\(risk.body)")
            #expect(risk.json["modelId"] as? String == "v2")
            let reasons = risk.json["reasons"] as? [[String: Any]] ?? []
            #expect(reasons.compactMap { $0["code"] as? String }.sorted() == RiskAssessment.FactorCode.of(.v2).map(\.rawValue).sorted())
            let sum = reasons.compactMap { $0["points"] as? Double }.reduce(0, +)
            #expect(abs(sum - (risk.json["total"] as? Double ?? -1)) < 0.001)
            // Two adults in disguise filming a child of four: far beyond chance, whatever the peers.
            #expect(risk.json["band"] as? String == "high" || risk.json["band"] as? String == "critical", "\(risk.body)")
            #expect(risk.json["floor"] is NSNull && risk.json.keys.contains("manualOverride"))
            // No full run yet: no spread of totals to stand in.
            #expect(risk.json["standing"] is NSNull)
            let methods = reasons.first { $0["code"] as? String == "METHODS" }
            #expect((methods?["evidence"] as? [[String: Any]])?.first?["report"] is String)
            #expect(methods?.keys.contains("cap") == false)

            let history = try await api.call(
                .get, "/v1/facilities/\(facility.uuidString.lowercased())/risk/history", token: api.world.schoolToken)
            #expect(history.status == .ok)
            #expect(history.items.count == 2)  // scored at creation (0), then after the report
            #expect(history.items.first?["score"] as? Double == risk.json["score"] as? Double)
        }
    }

    /// CROSS_FACILITY shows regulators which adult or pattern ties the facility to others; the
    /// school sees the points and the summary only: its own staff may be the adults concerned.
    @Test func onlyRegulatorsSeeWhatTiesAFacilityToOthers() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id
            let key = RiskEvidence.AdultKey.described(name: "Hombre del disfraz", role: "other").description
            // As a linking rebuild would leave it: the man in the disguise is implicated at Monterrey too.
            try await api.world.database.withConnection(logger: TestDatabase.logger) { c in
                try await c.query(
                    """
                    INSERT INTO linked_adults (facility_id, adult_key, counting_key, implicated_here, implicated_elsewhere, rostered_elsewhere)
                    VALUES (\(facility), \(key), \(key), true, ARRAY[\(api.world.monterrey.id)]::uuid[], '{}')
                    """, logger: TestDatabase.logger)
            }
            try await Self.rescored(facility, in: api.world) {
                let created = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: Self.report(facility))
                #expect(created.status == .created)
            }
            func cross(_ token: String) async throws -> [String: Any] {
                let risk = try await api.call(.get, "/v1/facilities/\(facility.uuidString.lowercased())/risk", token: token)
                #expect(risk.status == .ok, "\(risk.body)")
                return (risk.json["reasons"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "CROSS_FACILITY" } ?? [:]
            }
            let regulator = try await cross(api.world.regulatorToken)
            let school = try await cross(api.world.schoolToken)
            // One facility tied by a person implicated at both: strength 1, 8 × log2(1 + 1).
            #expect(regulator["points"] as? Double == 8)
            #expect((regulator["evidence"] as? [[String: Any]])?.first?["adult"] as? String == key)
            #expect(school["points"] as? Double == 8)
            #expect(school["summary"] as? String == regulator["summary"] as? String)
            #expect((school["evidence"] as? [Any])?.isEmpty == true)
            #expect(school["omittedEvidence"] as? Int == 1)
        }
    }

    @Test func scoresFollowTheReportsIsolationRules() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id.uuidString.lowercased()
            try await Self.rescored(api.world.nuevoLeon.id, in: api.world) {
                _ = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: Self.report(api.world.nuevoLeon.id))
            }
            for token in [api.world.schoolToken, api.world.regulatorToken] {
                #expect(try await api.call(.get, "/v1/facilities/\(facility)/risk", token: token).status == .ok)
            }
            for token in [api.world.otherSchoolToken, api.world.otherRegulatorToken] {
                #expect(try await api.call(.get, "/v1/facilities/\(facility)/risk", token: token).status == .notFound)
                #expect(try await api.call(.get, "/v1/facilities/\(facility)/risk/history", token: token).status == .notFound)
            }
            #expect(try await api.call(.get, "/v1/facilities/\(facility)/risk", token: api.world.adminToken).status == .forbidden)
            #expect(try await api.call(.get, "/v1/facilities/\(facility)/risk", token: nil).status == .unauthorized)
            #expect(try await api.call(.get, "/v1/facilities/not-a-uuid/risk", token: api.world.regulatorToken).status == .notFound)
            #expect(try await api.call(.get, "/v1/facilities/\(facility)/risk?x=1", token: api.world.regulatorToken).status == .badRequest)
            #expect(
                try await api.call(.delete, "/v1/facilities/\(facility)/risk", token: api.world.regulatorToken).status == .methodNotAllowed)
            let bad = try await api.call(.get, "/v1/facilities/\(facility)/risk/history?limit=0&cursor=zz", token: api.world.regulatorToken)
            #expect(bad.status == .badRequest && Set(bad.errorFields) == ["limit", "cursor"])
        }
    }

    /// Schema/0025: a regulator reads a score by the score's own jurisdiction, which moves with its
    /// facility in the transaction that moves it — no moment in which the old jurisdiction's
    /// regulator still reads it or the new one cannot.
    @Test func aScoreMovesWithItsFacilityInTheSameTransaction() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await AlertAPITests().post(api, api.world.nuevoLeon.id)
            let logger = TestDatabase.logger
            try await api.world.database.withConnection(logger: logger) { connection in
                func ids(_ code: String) async throws -> String {
                    var found = ""
                    for try await id in try await connection.query(
                        "SELECT id::text FROM jurisdictions WHERE code = \(code)", logger: logger
                    ).decode(String.self) { found = id }
                    return found
                }
                let (nuevoLeon, oaxaca) = (try await ids("MX-NL"), try await ids("MX-OAX"))
                func seen(by jurisdiction: String) async throws -> Int {
                    var count = -1
                    try await connection.query(
                        """
                        SELECT set_config('role', 'centinela_service', true), set_config('centinela.role', 'regulator', true),
                               set_config('centinela.jurisdictions', \("{" + jurisdiction + "}"), true)
                        """, logger: logger)
                    for try await n in try await connection.query(
                        "SELECT count(*)::int FROM risk_scores WHERE facility_id = \(api.world.nuevoLeon.id)", logger: logger
                    ).decode(Int.self) { count = n }
                    try await connection.query("RESET ROLE", logger: logger)
                    return count
                }
                try await connection.query("BEGIN", logger: logger)
                #expect(try await seen(by: nuevoLeon) == 1)
                #expect(try await seen(by: oaxaca) == 0)
                try await connection.query("SELECT set_config('centinela.role', 'admin', true)", logger: logger)
                try await connection.query(
                    "UPDATE facilities SET jurisdiction_id = \(oaxaca)::uuid WHERE id = \(api.world.nuevoLeon.id)", logger: logger)
                var scope = ""
                for try await value in try await connection.query("SELECT current_setting('centinela.role')", logger: logger)
                    .decode(String.self)
                { scope = value }
                #expect(scope == "admin", "the trigger gives the caller's scope back")
                // Before any rescoring (this transaction is not even committed): the score moved.
                #expect(try await seen(by: oaxaca) == 1)
                #expect(try await seen(by: nuevoLeon) == 0)
                try await connection.query("ROLLBACK", logger: logger)
            }
        }
    }

    @Test func regulatorsRankFacilitiesByScore() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await Self.rescored(api.world.monterrey.id, in: api.world) {
                _ = try await api.call(.post, "/v1/reports", token: api.world.regulatorToken, json: Self.report(api.world.monterrey.id))
            }
            try await Self.rescored(api.world.nuevoLeon.id, in: api.world) {
                _ = try await api.call(
                    .post, "/v1/reports", token: api.world.regulatorToken,
                    json: Self.report(
                        api.world.nuevoLeon.id, category: "neglect", adults: #"[{"name":"Conserje","role":"maintenance"}]"#))
            }
            let ranked = try await api.call(.get, "/v1/facilities?sort=-score&within=MX-NL", token: api.world.regulatorToken)
            #expect(ranked.status == .ok, "\(ranked.body)")
            #expect(ranked.items.compactMap { $0["code"] as? String } == ["MTY01", "NL001"])
            let scores = ranked.items.compactMap { ($0["risk"] as? [String: Any])?["score"] as? Double }
            #expect(scores.count == 2 && scores[0] > scores[1])
            #expect(ranked.items.allSatisfy { (($0["risk"] as? [String: Any])?["total"] as? Double) != nil })
            let high = try await api.call(.get, "/v1/facilities?sort=-score&band=high,critical", token: api.world.regulatorToken)
            #expect(high.items.compactMap { $0["code"] as? String } == ["MTY01"])
            // Pages follow the ranking.
            let first = try await api.call(.get, "/v1/facilities?sort=-score&limit=1", token: api.world.regulatorToken)
            let cursor = try #require(first.json["nextCursor"] as? String)
            let second = try await api.call(.get, "/v1/facilities?sort=-score&limit=1&cursor=\(cursor)", token: api.world.regulatorToken)
            #expect(first.items.first?["code"] as? String == "MTY01" && second.items.first?["code"] as? String == "NL001")
            // The other state's regulator sees none of it; the operator reads no case.
            #expect(
                try await api.call(.get, "/v1/facilities?sort=-score", token: api.world.otherRegulatorToken).items.allSatisfy {
                    $0["code"] as? String == "OAX01"
                })
            #expect(try await api.call(.get, "/v1/facilities?sort=-score", token: api.world.adminToken).status == .forbidden)
            let plain = try await api.call(.get, "/v1/facilities", token: api.world.adminToken)
            #expect(plain.items.allSatisfy { $0["risk"] is NSNull })
            let invalid = try await api.call(.get, "/v1/facilities?sort=score&band=severe", token: api.world.regulatorToken)
            #expect(invalid.status == .badRequest && Set(invalid.errorFields) == ["sort", "band"])
        }
    }

    @Test func aRegulatorSetsAndClearsAManualBand() async throws {
        try await APITest.run { (api: APITest) async throws in
            let id = api.world.nuevoLeon.id
            let path = "/v1/facilities/\(id.uuidString.lowercased())/risk/overrides"
            try await Self.rescored(id, in: api.world) {
                _ = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: Self.report(id))
            }
            let expires = Date().addingTimeInterval(30 * 86_400).formatted(.iso8601)
            let body = #"{"band":"elevated","reason":"Personal separado; visita de supervisión semanal.","expiresAt":"\#(expires)"}"#
            #expect(try await api.call(.post, path, token: api.world.schoolToken, json: body).status == .forbidden)
            #expect(try await api.call(.post, path, token: api.world.otherRegulatorToken, json: body).status == .notFound)
            try await Self.rescored(id, in: api.world) {
                let set = try await api.call(.post, path, token: api.world.regulatorToken, json: body)
                #expect(set.status == .created, "\(set.body)")
                #expect(set.json["band"] as? String == "elevated")
            }
            let risk = try await api.call(.get, "/v1/facilities/\(id.uuidString.lowercased())/risk", token: api.world.schoolToken)
            #expect(risk.json["band"] as? String == "elevated")
            #expect(risk.json["modelBand"] as? String != "elevated")
            #expect(
                (risk.json["manualOverride"] as? [String: Any])?["reason"] as? String == "Personal separado; visita de supervisión semanal."
            )

            try await Self.rescored(id, in: api.world) {
                let cleared = try await api.call(
                    .post, path, token: api.world.regulatorToken, json: #"{"band":null,"reason":"Supervisión concluida."}"#)
                #expect(cleared.status == .created)
            }
            let after = try await api.call(.get, "/v1/facilities/\(id.uuidString.lowercased())/risk", token: api.world.schoolToken)
            #expect(after.json["band"] as? String == after.json["modelBand"] as? String)
            #expect(after.json["manualOverride"] is NSNull)

            let noExpiry = try await api.call(.post, path, token: api.world.regulatorToken, json: #"{"band":"low","reason":"x"}"#)
            #expect(noExpiry.status == .unprocessableContent && noExpiry.errorFields == ["/expiresAt"])
            let past = try await api.call(
                .post, path, token: api.world.regulatorToken, json: #"{"band":"low","reason":"x","expiresAt":"2020-01-01T00:00:00Z"}"#)
            #expect(past.status == .unprocessableContent && past.errorFields == ["/expiresAt"])
            let unknown = try await api.call(
                .post, path, token: api.world.regulatorToken, json: #"{"band":"severe","reason":"","extra":1}"#)
            #expect(unknown.status == .unprocessableContent && Set(unknown.errorFields) == ["/band", "/reason", "/extra"])
            #expect(try await api.call(.post, path, token: api.world.regulatorToken, json: "[]").status == .badRequest)
        }
    }
}
