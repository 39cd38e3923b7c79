import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import CentinelaHTTP

@Suite struct AuthenticationTests {
    @Test func everyV1RouteNeedsAValidToken() async throws {
        try await APITest.run { (api: APITest) async throws in
            for (token, label) in [
                (nil, "none"), ("cen_tooShort", "malformed"), ("Basic abc", "wrong scheme"),
                ("cen_" + String(repeating: "A", count: 43), "unknown"),
            ] as [(String?, String)] {
                var headers = HTTPFields()
                if let token { headers[.authorization] = token.hasPrefix("Basic") ? token : "Bearer \(token)" }
                let reply = try await api.call(.get, "/v1/facilities", token: nil, headers: headers)
                #expect(reply.status == .unauthorized, "\(label)")
                #expect(reply.headers[.wwwAuthenticate] == "Bearer", "\(label)")
                #expect(reply.headers[.contentType] == "application/problem+json", "\(label)")
            }
        }
    }

    @Test func aRevokedTokenStopsWorkingAtOnce() async throws {
        try await APITest.run { (api: APITest) async throws in
            #expect(try await api.call(.get, "/v1/facilities", token: api.world.schoolToken).status == .ok)
            let prefix = String(api.world.schoolToken.prefix(12))
            try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                _ = try await TokenStore(logger: TestDatabase.logger).revoke(prefix, reason: "left the school", on: connection)
            }
            #expect(try await api.call(.get, "/v1/facilities", token: api.world.schoolToken).status == .unauthorized)
        }
    }
}

@Suite struct FacilityAPITests {
    @Test func eachCallerListsOnlyTheirFacilities() async throws {
        try await APITest.run { (api: APITest) async throws in
            func codes(_ token: String) async throws -> [String] {
                try await api.call(.get, "/v1/facilities", token: token).items.compactMap { $0["code"] as? String }
            }
            #expect(try await codes(api.world.adminToken) == ["MTY01", "NL001", "OAX01"])
            #expect(try await codes(api.world.regulatorToken) == ["MTY01", "NL001"])
            #expect(try await codes(api.world.otherRegulatorToken) == ["OAX01"])
            #expect(try await codes(api.world.schoolToken) == ["NL001"])
            // Filters cannot widen the view.
            let filtered = try await api.call(.get, "/v1/facilities?jurisdiction=MX-OAX", token: api.world.schoolToken)
            #expect(filtered.status == .ok && filtered.items.isEmpty)
        }
    }

    @Test func anotherTenantsFacilityDoesNotExist() async throws {
        try await APITest.run { (api: APITest) async throws in
            let oaxaca = "/v1/facilities/\(api.world.oaxaca.id.uuidString.lowercased())"
            #expect(try await api.call(.get, oaxaca, token: api.world.schoolToken).status == .notFound)
            #expect(try await api.call(.get, oaxaca, token: api.world.regulatorToken).status == .notFound)
            let own = try await api.call(.get, oaxaca, token: api.world.otherRegulatorToken)
            #expect(own.status == .ok)
            #expect(own.json["code"] as? String == "OAX01")
            #expect(own.json["jurisdiction"] as? String == "MX-OAX")
            // Not a UUID at all: the same answer.
            #expect(try await api.call(.get, "/v1/facilities/nope", token: api.world.adminToken).status == .notFound)
        }
    }

    @Test func theOperatorRegistersFacilitiesAndOthersCannot() async throws {
        try await APITest.run { (api: APITest) async throws in
            let body =
                #"{"code":"NL002","name":"CENDI 4","kind":"daycare","jurisdiction":"MX-NL","address":{"street":"Av. Juárez 10","postalCode":"64000"},"enrolment":80}"#
            for token in [api.world.schoolToken, api.world.regulatorToken] {
                let refused = try await api.call(.post, "/v1/facilities", token: token, json: body)
                #expect(refused.status == .forbidden)
            }
            let created = try await api.call(.post, "/v1/facilities", token: api.world.adminToken, json: body)
            #expect(created.status == .created, "\(created.body)")
            let id = try #require(created.json["id"] as? String)
            #expect(created.headers[.location] == "/v1/facilities/\(id)")
            #expect((created.json["address"] as? [String: Any])?["postalCode"] as? String == "64000")
            // The regulator of Nuevo León sees it at once; Oaxaca's does not.
            #expect(try await api.call(.get, "/v1/facilities/\(id)", token: api.world.regulatorToken).status == .ok)
            #expect(try await api.call(.get, "/v1/facilities/\(id)", token: api.world.otherRegulatorToken).status == .notFound)

            let again = try await api.call(.post, "/v1/facilities", token: api.world.adminToken, json: body)
            #expect(again.status == .conflict)

            let moved = try await api.call(
                .patch, "/v1/facilities/\(id)", token: api.world.adminToken, json: #"{"jurisdiction":"MX-OAX","enrolment":null}"#)
            #expect(moved.status == .ok, "\(moved.body)")
            #expect(moved.json["jurisdiction"] as? String == "MX-OAX")
            #expect(moved.json["enrolment"] == nil, "null clears the enrolment")
            let counted = try await api.call(.patch, "/v1/facilities/\(id)", token: api.world.adminToken, json: #"{"enrolment":95}"#)
            #expect(counted.json["enrolment"] as? Int == 95)
            let untouched = try await api.call(
                .patch, "/v1/facilities/\(id)", token: api.world.adminToken, json: #"{"name":"CENDI 4 bis"}"#)
            #expect(untouched.json["enrolment"] as? Int == 95, "an absent field is left as it is")
            #expect(try await api.call(.get, "/v1/facilities/\(id)", token: api.world.regulatorToken).status == .notFound)
            let recoded = try await api.call(.patch, "/v1/facilities/\(id)", token: api.world.adminToken, json: #"{"code":"X1"}"#)
            #expect(recoded.status == .unprocessableContent)
        }
    }

    @Test func invalidFacilitiesAreRefusedFieldByField() async throws {
        try await APITest.run { (api: APITest) async throws in
            let reply = try await api.call(
                .post, "/v1/facilities", token: api.world.adminToken,
                json:
                    #"{"code":"bad code!","kind":"castle","jurisdiction":"MX-NL","enrolment":"many","colour":"red","address":{"zip":"1"}}"#)
            #expect(reply.status == .unprocessableContent)
            #expect(reply.problemType == "validation")
            #expect(reply.errorFields == ["/address/zip", "/code", "/colour", "/enrolment", "/kind", "/name"])
            let unknownJurisdiction = try await api.call(
                .post, "/v1/facilities", token: api.world.adminToken,
                json: #"{"code":"Z1","name":"Z","kind":"primary","jurisdiction":"MX-ZZZ"}"#)
            #expect(unknownJurisdiction.status == .unprocessableContent)
            #expect(unknownJurisdiction.errorFields == ["/jurisdiction"])
        }
    }

    @Test func malformedRequestsNeverReachTheDatabase() async throws {
        try await APITest.run(limits: .init(host: "127.0.0.1", port: 0, maximumBodySize: 1024)) { (api: APITest) async throws in
            let admin = api.world.adminToken
            #expect(try await api.call(.post, "/v1/facilities", token: admin, json: "{not json").status == .badRequest)
            #expect(try await api.call(.post, "/v1/facilities", token: admin, json: "[1,2]").status == .badRequest)
            let invalidUTF8 = ByteBuffer(bytes: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D])
            #expect(
                try await api.call(.post, "/v1/facilities", token: admin, contentType: "application/json", body: invalidUTF8).status
                    == .badRequest)
            #expect(
                try await api.call(.post, "/v1/facilities", token: admin, contentType: "text/plain", body: ByteBuffer(string: "{}")).status
                    == .unsupportedMediaType)
            // A body that does not say what it is, is not guessed at (issue 21, item 8).
            let valid = #"{"code":"D1","name":"Doble","kind":"primary","jurisdiction":"MX-NLE"}"#
            #expect(
                try await api.call(.post, "/v1/facilities", token: admin, body: ByteBuffer(string: valid)).status == .unsupportedMediaType)
            // A field given twice in one object: which one was meant cannot be known (item 8).
            let twice = try await api.call(
                .post, "/v1/facilities", token: admin,
                json: #"{"code":"D1","name":"Doble","kind":"primary","kind":"daycare","jurisdiction":"MX-NLE"}"#)
            #expect(twice.status == .badRequest && twice.body.contains(#"\"kind\" twice"#), "\(twice.body)")
            let nested = #"{"code":"D1","name":"Doble","kind":"primary","jurisdiction":"MX-NLE","x":{"a":1,"\u0061":2}}"#
            #expect(try await api.call(.post, "/v1/facilities", token: admin, json: nested).status == .badRequest)
            let huge = #"{"name":""# + String(repeating: "x", count: 2000) + #""}"#
            #expect(try await api.call(.post, "/v1/facilities", token: admin, json: huge).status == .contentTooLarge)
            #expect(try await api.call(.get, "/v1/facilities?colour=red", token: admin).status == .badRequest)
            #expect(try await api.call(.get, "/v1/facilities?limit=0", token: admin).status == .badRequest)
            #expect(try await api.call(.get, "/v1/facilities?cursor=garbage", token: admin).status == .badRequest)
            #expect(try await api.call(.get, "/v1/facilities?kind=castle", token: admin).status == .badRequest)
            #expect(try await api.call(.delete, "/v1/facilities", token: admin).status == .methodNotAllowed)
        }
    }

    /// Pages follow `nextCursor`, or the `Link: <…>; rel="next"` header (RFC 8288) that carries the
    /// request's own filters with the cursor; the last page says `"nextCursor": null` and has none.
    @Test func aListSaysItsTotalOnEveryPageWhenAsked() async throws {
        try await APITest.run { (api: APITest) async throws in
            var totals: [Int] = []
            var next: String? = "/v1/facilities?limit=1&total=true"
            while let uri = next {
                let page = try await api.call(.get, uri, token: api.world.adminToken)
                #expect(page.status == .ok, "\(uri): \(page.body)")
                totals.append(page.json["total"] as? Int ?? -1)
                next = page.headers[HTTPField.Name("Link")!].map { String($0.dropFirst().prefix { $0 != ">" }) }
            }
            #expect(totals == [3, 3, 3], "\(totals)")
            // With the list's filters and the caller's scope: what the list would show.
            let filtered = try await api.call(.get, "/v1/facilities?within=MX-NL&total=true&limit=1", token: api.world.regulatorToken)
            let shown = try await api.call(.get, "/v1/facilities?within=MX-NL", token: api.world.regulatorToken).items.count
            #expect(filtered.json["total"] as? Int == shown && shown == 2, "\(filtered.body)")
            // Not asked, not counted; a bad value is refused.
            #expect(!(try await api.call(.get, "/v1/facilities", token: api.world.adminToken).json.keys.contains("total")))
            let bad = try await api.call(.get, "/v1/facilities?total=yes", token: api.world.adminToken)
            #expect(bad.status == .badRequest && bad.errorFields == ["total"], "\(bad.body)")
            // Every paged list takes it.
            // Rescored before the lists are read: the worker writing the facility's history between a
            // list's count and its page would make them differ.
            try await RiskAPITests.rescored(api.world.nuevoLeon.id, in: api.world) {
                _ = try await api.call(
                    .post, "/v1/reports", token: api.world.schoolToken, json: RiskAPITests.report(api.world.nuevoLeon.id))
            }
            let reports = try await api.call(.get, "/v1/reports?total=true", token: api.world.regulatorToken)
            #expect(reports.json["total"] as? Int == reports.items.count && reports.items.count == 1, "\(reports.body)")
            for path in [
                "/v1/alerts", "/v1/cases", "/v1/patterns", "/v1/links/review",
                "/v1/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())/risk/history",
            ] {
                let page = try await api.call(.get, path + "?total=true", token: api.world.regulatorToken)
                #expect(page.status == .ok && page.json["total"] as? Int == page.items.count, "\(path): \(page.body)")
            }
        }
    }

    @Test func pagesFollowTheCursor() async throws {
        try await APITest.run { (api: APITest) async throws in
            var seen: [String] = []
            var uri = "/v1/facilities?limit=2"
            while true {
                let page = try await api.call(.get, uri, token: api.world.adminToken)
                #expect(page.status == .ok)
                seen += page.items.compactMap { $0["code"] as? String }
                guard let cursor = page.json["nextCursor"] as? String else {
                    #expect(page.json.keys.contains("nextCursor") && page.headers[HTTPField.Name("Link")!] == nil, "\(page.body)")
                    break
                }
                uri = "/v1/facilities?limit=2&cursor=\(cursor)"
                #expect(page.headers[HTTPField.Name("Link")!] == "<\(uri)>; rel=\"next\"")
            }
            #expect(seen == ["MTY01", "NL001", "OAX01"])

            // The link keeps the filters and replaces the cursor, whatever the order they came in.
            var linked: [String] = []
            var next: String? = "/v1/facilities?within=MX&limit=1&kind=preschool"
            while let uri = next {
                let page = try await api.call(.get, uri, token: api.world.regulatorToken)
                #expect(page.status == .ok, "\(uri): \(page.body)")
                linked += page.items.compactMap { $0["code"] as? String }
                next = page.headers[HTTPField.Name("Link")!].map { String($0.dropFirst().prefix { $0 != ">" }) }
                #expect(next.map { $0.hasPrefix("/v1/facilities?within=MX&limit=1&kind=preschool&cursor=") } ?? true, "\(next ?? "")")
            }
            let all = try await api.call(.get, "/v1/facilities?within=MX&kind=preschool", token: api.world.regulatorToken)
            #expect(!linked.isEmpty && linked == all.items.compactMap { $0["code"] as? String })
        }
    }

    @Test func csvImportIsAllOrNothingWithLineNumbers() async throws {
        try await APITest.run { (api: APITest) async throws in
            let admin = api.world.adminToken
            let bad = #"""
                code,name,kind,jurisdiction,enrolment
                NL010,"Jardín ""La Paz""",preschool,MX-NL,40
                NL011,,primary,MX-NL,x
                NL010,Repetido,primary,MX-ZZ,10
                """#
            let refused = try await api.call(
                .post, "/v1/facilities:import", token: admin, contentType: "text/csv", body: ByteBuffer(string: bad))
            #expect(refused.status == .unprocessableContent, "\(refused.body)")
            let lines = (refused.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["line"] as? Int }
            #expect(lines == [3, 3, 4])
            #expect(try await api.call(.get, "/v1/facilities?jurisdiction=MX-NL", token: admin).items.count == 1)

            let unknownJurisdiction = "code,name,kind,jurisdiction\r\nNL020,Uno,primary,MX-NL\r\nNL021,Dos,primary,MX-QQ\r\n"
            let refusedAgain = try await api.call(
                .post, "/v1/facilities:import", token: admin, contentType: "text/csv", body: ByteBuffer(string: unknownJurisdiction))
            #expect(refusedAgain.status == .unprocessableContent)
            #expect((refusedAgain.json["errors"] as? [[String: Any]])?.first?["line"] as? Int == 3)
            #expect(try await api.call(.get, "/v1/facilities?jurisdiction=MX-NL", token: admin).items.count == 1)

            let good =
                "\u{FEFF}Code,Name,Kind,Jurisdiction,Postal_Code\nNL001,Jardín renombrado,preschool,MX-NL,64000\nNL030,\"Primaria, turno matutino\",primary,MX-NL-MTY,\n"
            let imported = try await api.call(
                .post, "/v1/facilities:import", token: admin, contentType: "text/csv", body: ByteBuffer(string: good))
            #expect(imported.status == .ok, "\(imported.body)")
            #expect(imported.json["created"] as? Int == 1)
            #expect(imported.json["updated"] as? Int == 1)
            let names = try await api.call(.get, "/v1/facilities?jurisdiction=MX-NL", token: admin).items.compactMap {
                $0["name"] as? String
            }
            #expect(names == ["Jardín renombrado"])
            #expect(
                try await api.call(
                    .post, "/v1/facilities:import", token: api.world.regulatorToken, contentType: "text/csv", body: ByteBuffer(string: good)
                ).status == .forbidden)
        }
    }

    @Test func jurisdictionsFormATree() async throws {
        try await APITest.run { (api: APITest) async throws in
            let admin = api.world.adminToken
            let listed = try await api.call(.get, "/v1/jurisdictions", token: api.world.schoolToken)
            #expect(listed.items.compactMap { $0["code"] as? String } == ["MX", "MX-NL", "MX-NL-MTY", "MX-OAX"])
            let created = try await api.call(
                .post, "/v1/jurisdictions", token: admin, json: #"{"code":"MX-JAL","name":"Jalisco","level":"state","parent":"MX"}"#)
            #expect(created.status == .created, "\(created.body)")
            #expect(
                try await api.call(
                    .post, "/v1/jurisdictions", token: admin, json: #"{"code":"MX-JAL","name":"Jalisco","level":"state","parent":"MX"}"#
                ).status == .conflict)
            let orphan = try await api.call(
                .post, "/v1/jurisdictions", token: admin, json: #"{"code":"MX-X","name":"X","level":"municipality","parent":"MX"}"#)
            #expect(orphan.status == .unprocessableContent)
            #expect(orphan.errorFields == ["/parent"])
            #expect(
                try await api.call(
                    .post, "/v1/jurisdictions", token: api.world.regulatorToken,
                    json: #"{"code":"MX-Y","name":"Y","level":"state","parent":"MX"}"#
                ).status == .forbidden)
        }
    }
}
