import CentinelaCore
import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

/// Cases through the API: the alerts one report raises are one case; a regulator moves it through
/// its life; another jurisdiction's regulator does not see it.
@Suite struct CaseAPITests {
    @Test func theAlertsOfOneReportAreOneCaseWithALifeOfItsOwn() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id
            try await AlertAPITests().post(api, facility)
            let alerts = try await api.call(
                .get, "/v1/alerts?facility=\(facility.uuidString.lowercased())", token: api.world.regulatorToken)
            #expect(alerts.items.count >= 3, "\(alerts.body)")

            let list = try await api.call(.get, "/v1/cases", token: api.world.regulatorToken)
            #expect(list.status == .ok, "\(list.body)")
            #expect(list.items.count == 1, "\(list.body)")
            let found = try #require(list.items.first)
            #expect(found["kind"] as? String == "facility" && found["status"] as? String == "open")
            #expect(found["alertCount"] as? Int == alerts.items.count && found["facilityCount"] as? Int == 1)
            #expect(found["pattern"] is NSNull && found["closure"] is NSNull)
            let id = try #require(found["id"] as? String)

            // One thing to open: the case, with every alert inside and its history.
            let detail = try await api.call(.get, "/v1/cases/\(id)", token: api.world.regulatorToken)
            #expect(detail.status == .ok, "\(detail.body)")
            let inside = Set((detail.json["alerts"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            #expect(inside == Set(alerts.items.compactMap { $0["id"] as? String }))
            let kinds = (detail.json["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
            #expect(kinds.first == "opened" && kinds.filter { $0 == "alert_added" }.count == alerts.items.count, "\(kinds)")

            // Its life: acknowledged, referred with a reference, closed with a reason, reopened.
            func step(_ json: String) async throws -> APITest.Reply {
                try await api.call(.post, "/v1/cases/\(id)/events", token: api.world.regulatorToken, json: json)
            }
            #expect(try await step(#"{"kind":"referred","reference":"FGE-NL/2026/1"}"#).status == .created)
            #expect(try await step(#"{"kind":"acknowledged"}"#).status == .conflict)
            #expect(try await step(#"{"kind":"closed","reason":"merged","note":"x"}"#).status == .unprocessableContent)
            #expect(try await step(#"{"kind":"closed","reason":"action_taken"}"#).status == .unprocessableContent)
            #expect(try await step(#"{"kind":"archived"}"#).status == .unprocessableContent)
            let closed = try await step(#"{"kind":"closed","reason":"referred_to_authorities","note":"La fiscalía investiga."}"#)
            #expect(closed.status == .created && closed.json["kind"] as? String == "closed", "\(closed.body)")
            let after = try await api.call(.get, "/v1/cases/\(id)", token: api.world.regulatorToken)
            let body = try #require(after.json["case"] as? [String: Any])
            #expect(body["status"] as? String == "closed" && body["referralReference"] as? String == "FGE-NL/2026/1")
            #expect((body["closure"] as? [String: String])?["reason"] == "referred_to_authorities")
            #expect(try await api.call(.get, "/v1/cases?status=closed", token: api.world.regulatorToken).items.count == 1)
            #expect(try await api.call(.get, "/v1/cases?status=open", token: api.world.regulatorToken).items.isEmpty)
            #expect(try await step(#"{"kind":"reopened","note":"Nueva información."}"#).status == .created)
            let history = try await api.call(.get, "/v1/cases/\(id)/events", token: api.world.regulatorToken)
            #expect(
                (history.items.compactMap { $0["kind"] as? String }).suffix(3) == ["referred", "closed", "reopened"], "\(history.body)")
            #expect(history.items.last.flatMap { ($0["actor"] as? [String: String])?["holder"] } != "centinela")

            // Another jurisdiction's regulator, schools and the operator: nothing.
            #expect(try await api.call(.get, "/v1/cases", token: api.world.otherRegulatorToken).items.isEmpty)
            #expect(try await api.call(.get, "/v1/cases/\(id)", token: api.world.otherRegulatorToken).status == .notFound)
            #expect(
                try await api.call(
                    .post, "/v1/cases/\(id)/events", token: api.world.otherRegulatorToken, json: #"{"kind":"comment","text":"x"}"#
                )
                .status == .notFound)
            #expect(try await api.call(.get, "/v1/cases", token: api.world.schoolToken).status == .forbidden)
            #expect(try await api.call(.get, "/v1/cases/\(id)", token: api.world.adminToken).status == .forbidden)
            #expect(try await api.call(.get, "/v1/cases?status=lost", token: api.world.regulatorToken).status == .badRequest)
            #expect(try await api.call(.get, "/v1/cases?kind=facility,pattern", token: api.world.regulatorToken).status == .badRequest)
            #expect(try await api.call(.get, "/v1/cases/nope", token: api.world.regulatorToken).status == .notFound)
        }
    }
}
