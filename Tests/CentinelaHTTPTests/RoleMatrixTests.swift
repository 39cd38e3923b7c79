import CentinelaTestSupport
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Every endpoint as every kind of caller, against objects of the school NL001 in Nuevo León:
/// who is allowed, who is refused (403: their role may not), and for whom the object does not
/// exist (404: it is outside their scope).
@Suite struct RoleMatrixTests {
    enum Caller: String, CaseIterable {
        case none, admin, school, otherSchool, regulator, otherRegulator
    }

    struct Row {
        var method: HTTPRequest.Method
        var path: String
        var body: String?
        var contentType: String? = nil
        /// Expected status per caller, in Caller.allCases order.
        var expected: [Int]
    }

    @Test func eachRoleOnEachEndpoint() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await ReportAPITests.rosterTeacher(api.world)
            let created = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: ReportAPITests.body(facility: api.world.nuevoLeon.id))
            let report = try #require(created.json["id"] as? String)
            let facility = "/v1/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())"
            var counter = 0
            func unique() -> String {
                counter += 1
                return "Z\(counter)"
            }

            let rows: [Row] = [
                Row(method: .get, path: "/v1/jurisdictions", body: nil, expected: [401, 200, 200, 200, 200, 200]),
                Row(
                    method: .post, path: "/v1/jurisdictions", body: #"{"code":"MX-@","name":"Nuevo","level":"state","parent":"MX"}"#,
                    expected: [401, 201, 403, 403, 403, 403]),
                Row(method: .get, path: "/v1/facilities", body: nil, expected: [401, 200, 200, 200, 200, 200]),
                Row(
                    method: .post, path: "/v1/facilities", body: #"{"code":"@","name":"Nueva","kind":"primary","jurisdiction":"MX-NL"}"#,
                    expected: [401, 201, 403, 403, 403, 403]),
                Row(
                    method: .post, path: "/v1/facilities:import", body: "code,name,kind,jurisdiction\n@,Otra,primary,MX-NL\n",
                    contentType: "text/csv", expected: [401, 200, 403, 403, 403, 403]),
                Row(method: .get, path: facility, body: nil, expected: [401, 200, 200, 404, 200, 404]),
                Row(method: .patch, path: facility, body: #"{"enrolment":130}"#, expected: [401, 200, 403, 403, 403, 403]),
                Row(method: .get, path: facility + "/staff", body: nil, expected: [401, 403, 200, 404, 200, 404]),
                Row(
                    method: .post, path: facility + "/staff", body: #"{"staffRef":"@","fullName":"Ana López","role":"cook"}"#,
                    expected: [401, 403, 201, 404, 403, 404]),
                Row(method: .get, path: facility + "/staff/T-01", body: nil, expected: [401, 403, 200, 404, 200, 404]),
                Row(
                    method: .patch, path: facility + "/staff/T-01", body: #"{"role":"assistant"}"#,
                    expected: [401, 403, 200, 404, 403, 404]),
                Row(
                    method: .post, path: "/v1/reports", body: ReportAPITests.body(facility: api.world.nuevoLeon.id),
                    expected: [401, 403, 201, 404, 201, 404]),
                Row(method: .get, path: "/v1/reports", body: nil, expected: [401, 403, 200, 200, 200, 200]),
                Row(method: .get, path: "/v1/reports/\(report)", body: nil, expected: [401, 403, 200, 404, 200, 404]),
                Row(
                    method: .post, path: "/v1/reports/\(report)/amendments", body: #"{"changes":{"narrative":"más datos"}}"#,
                    expected: [401, 403, 201, 404, 201, 404]),
                Row(
                    method: .post, path: "/v1/reports/\(report)/status", body: #"{"status":"under_review"}"#,
                    expected: [401, 403, 403, 404, 201, 404]),
            ]
            let tokens: [Caller: String?] = [
                .none: nil, .admin: api.world.adminToken, .school: api.world.schoolToken,
                .otherSchool: api.world.otherSchoolToken, .regulator: api.world.regulatorToken,
                .otherRegulator: api.world.otherRegulatorToken,
            ]
            for row in rows {
                var observed: [Int] = []
                for caller in Caller.allCases {
                    // Each caller sends a distinct code where the body registers something new.
                    let body = row.body?.replacingOccurrences(of: "@", with: unique())
                    let reply: APITest.Reply
                    if let contentType = row.contentType {
                        reply = try await api.call(
                            row.method, row.path, token: tokens[caller]!, contentType: contentType,
                            body: body.map { ByteBuffer(string: $0) })
                    } else {
                        reply = try await api.call(row.method, row.path, token: tokens[caller]!, json: body)
                    }
                    observed.append(reply.status.code)
                }
                #expect(observed == row.expected, "\(row.method) \(row.path)")
            }
        }
    }
}
