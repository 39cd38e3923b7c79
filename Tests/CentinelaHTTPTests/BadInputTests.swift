import CentinelaTestSupport
import Foundation
import HTTPTypes
import Testing

/// Inputs that once reached the database and answered 500 (issue 21, items 6 and 8): each is now
/// refused with problem+json naming the field (400 for a query, 422 for a body), and changes nothing.
@Suite struct BadInputTests {
    @Test func controlCharactersAndRepeatedParametersInAQueryAreRefused() async throws {
        try await APITest.run { (api: APITest) async throws in
            for path in ["/v1/facilities?jurisdiction=%00", "/v1/facilities?within=MX%00", "/v1/facilities?limit=1&limit=2"] {
                let reply = try await api.call(.get, path, token: api.world.adminToken)
                #expect(reply.status == .badRequest, "\(path): \(reply.status) \(reply.body)")
                #expect(reply.headers[.contentType]?.hasPrefix("application/problem+json") == true, "\(path)")
                let fields = (reply.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
                #expect(!fields.isEmpty, "\(path): \(reply.body)")
            }
            for path in ["/v1/reports?facility=%00", "/v1/alerts?status=open%00"] {
                let reply = try await api.call(.get, path, token: api.world.regulatorToken)
                #expect(reply.status == .badRequest, "\(path): \(reply.status) \(reply.body)")
            }
            // An empty value is not "no filter" (issue 21, item 7: `?to=` and `?facility=` were
            // taken as absent): the caller is told which one, and leaves it out.
            for (path, field) in [
                ("/v1/reports?to=", "to"), ("/v1/reports?facility=", "facility"), ("/v1/alerts?severity=", "severity"),
                ("/v1/facilities?band=", "band"), ("/v1/reports?cursor=", "cursor"),
            ] {
                let reply = try await api.call(.get, path, token: api.world.regulatorToken)
                #expect(reply.status == .badRequest && reply.errorFields == [field], "\(path): \(reply.status) \(reply.body)")
            }
        }
    }

    @Test func aBlankNameInAPatchIsRefusedAndChangesNothing() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await ReportAPITests.rosterTeacher(api.world)
            let facility = "/v1/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())"
            let before = try await api.call(.get, facility, token: api.world.adminToken)
            for body in [#"{"name":"  "}"#, #"{"name":""}"#, #"{"name":"\u200B\u200D\u0301"}"#] {
                let reply = try await api.call(.patch, facility, token: api.world.adminToken, json: body)
                #expect(reply.status == .unprocessableContent, "\(body): \(reply.status) \(reply.body)")
                #expect((reply.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "/name", "\(reply.body)")
            }
            let after = try await api.call(.get, facility, token: api.world.adminToken)
            #expect(after.json["name"] as? String == before.json["name"] as? String)
            let staff = try await api.call(.get, facility + "/staff", token: api.world.schoolToken)
            let ref = try #require((staff.items.first)?["staffRef"] as? String)
            let tomorrow = String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400)).prefix(10))
            for body in [#"{"dateOfBirth":"\#(tomorrow)"}"#, #"{"dateOfBirth":"1850-01-01"}"#] {
                let reply = try await api.call(.patch, facility + "/staff/\(ref)", token: api.world.schoolToken, json: body)
                #expect(reply.status == .unprocessableContent, "\(body): \(reply.status) \(reply.body)")
                #expect((reply.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "/dateOfBirth", "\(reply.body)")
            }
            for body in [#"{"fullName":""}"#, #"{"fullName":" \n "}"#] {
                let reply = try await api.call(.patch, facility + "/staff/\(ref)", token: api.world.schoolToken, json: body)
                #expect(reply.status == .unprocessableContent, "\(body): \(reply.status) \(reply.body)")
                #expect((reply.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "/fullName", "\(reply.body)")
            }
        }
    }
}
