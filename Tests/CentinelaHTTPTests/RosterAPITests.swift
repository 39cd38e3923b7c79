import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@Suite struct RosterAPITests {
    @Test func theSchoolKeepsItsRosterAndRegulatorsReadIt() async throws {
        try await APITest.run { (api: APITest) async throws in
            let staff = "/v1/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())/staff"
            let teacher =
                #"{"staffRef":"T-01","fullName":"Juana Pérez López","role":"teacher","nationalId":"PELJ800101MNLRPN09","startsOn":"2020-08-20"}"#
            let created = try await api.call(.post, staff, token: api.world.schoolToken, json: teacher)
            #expect(created.status == .created, "\(created.body)")
            #expect(created.json["hasNationalId"] as? Bool == true)
            #expect(created.json["nationalId"] == nil, "the identifier itself is never returned")
            #expect(created.headers[.location] == "\(staff)/T-01")
            #expect(try await api.call(.post, staff, token: api.world.schoolToken, json: teacher).status == .conflict)

            #expect(try await api.call(.post, staff, token: api.world.regulatorToken, json: teacher).status == .forbidden)
            #expect(try await api.call(.post, staff, token: api.world.otherSchoolToken, json: teacher).status == .notFound)
            #expect(try await api.call(.get, staff, token: api.world.adminToken).status == .forbidden)
            #expect(try await api.call(.get, staff, token: api.world.otherRegulatorToken).status == .notFound)
            let listed = try await api.call(.get, staff, token: api.world.regulatorToken)
            #expect(listed.items.compactMap { $0["fullName"] as? String } == ["Juana Pérez López"])

            let ended = try await api.call(.patch, "\(staff)/T-01", token: api.world.schoolToken, json: #"{"endsOn":"2026-01-31"}"#)
            #expect(ended.status == .ok, "\(ended.body)")
            #expect(ended.json["endsOn"] as? String == "2026-01-31")
            #expect(ended.json["role"] as? String == "teacher")
            #expect(
                try await api.call(.patch, "\(staff)/T-01", token: api.world.schoolToken, json: #"{"endsOn":"2019-01-01"}"#).status
                    == .unprocessableContent)
            #expect(
                try await api.call(.patch, "\(staff)/NOPE", token: api.world.schoolToken, json: #"{"role":"cook"}"#).status == .notFound)

            let invalid = try await api.call(
                .post, staff, token: api.world.schoolToken,
                json: #"{"staffRef":"a b","role":"wizard","nationalId":"!","dateOfBirth":"1990-13-01"}"#)
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.errorFields == ["/dateOfBirth", "/nationalId", "/role", "/staffRef"])

            // The same identifier, written differently, hashes the same: the basis of linking adults.
            _ = try await api.call(
                .post, staff, token: api.world.schoolToken,
                json: #"{"staffRef":"T-02","fullName":"J. Pérez","nationalId":"pelj800101-mnlrpn09"}"#)
            try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                var distinct = 0
                for try await n in try await connection.query(
                    "SELECT count(DISTINCT national_id_hmac) FROM adults WHERE national_id_hmac IS NOT NULL", logger: TestDatabase.logger
                ).decode(Int.self) { distinct = n }
                #expect(distinct == 1)
            }
        }
    }
}
