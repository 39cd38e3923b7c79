import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import NIOCore
import PostgresNIO
import Testing

/// Reports through the API, as each kind of caller.
@Suite struct ReportAPITests {
    static func body(
        facility: UUID, narrative: String = "La maestra vio a dos adultos disfrazados con los niños.",
        extra: String = ""
    ) -> String {
        """
        {"facility":"\(facility.uuidString.lowercased())","occurred":{"from":"2026-02-02","to":"2026-02-06","approximate":true},
         "discoveredOn":"2026-02-10","category":"sexual_abuse","reporterType":"parent",
         "adults":[{"staffRef":"T-01"},{"name":"Hombre del disfraz","role":"other"}],
         "children":[{"ref":"NNA-01","age":4},{"ref":"NNA-02","age":5}],
         "modusOperandi":["disguise","filming","several_adults_present"],
         "narrative":"\(narrative)"\(extra)}
        """
    }

    /// Puts a teacher on NL001's roster (the roster API is tested on its own).
    static func rosterTeacher(_ world: World) async throws {
        try await world.database.withConnection(logger: TestDatabase.logger) { connection in
            try await connection.query(
                "INSERT INTO adults (facility_id, staff_ref, full_name, role) VALUES (\(world.nuevoLeon.id), 'T-01', 'Juana Pérez López', 'teacher')",
                logger: TestDatabase.logger)
        }
    }

    func reportCount(_ world: World) async throws -> Int {
        try await world.database.withConnection(logger: TestDatabase.logger) { connection in
            var n = 0
            for try await value in try await connection.query("SELECT count(*) FROM incident_reports", logger: TestDatabase.logger).decode(
                Int.self)
            { n = value }
            return n
        }
    }

    @Test func aSchoolSubmitsAndOnlyThoseConcernedCanRead() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await Self.rosterTeacher(api.world)
            let created = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: Self.body(facility: api.world.nuevoLeon.id))
            #expect(created.status == .created, "\(created.body)")
            let id = try #require(created.json["id"] as? String)
            #expect(created.headers[.location] == "/v1/reports/\(id)")
            #expect(created.json["status"] as? String == "received")
            #expect(created.json["receivedAt"] is String)

            for token in [api.world.schoolToken, api.world.regulatorToken] {
                let read = try await api.call(.get, "/v1/reports/\(id)", token: token)
                #expect(read.status == .ok)
                let facility = read.json["facility"] as? [String: String]
                #expect(facility?["code"] == "NL001" && facility?["jurisdiction"] == read.json["jurisdiction"] as? String, "\(read.body)")
                #expect(facility?["id"] == api.world.nuevoLeon.id.uuidString.lowercased() && facility?["name"]?.isEmpty == false)
                #expect(read.json["category"] as? String == "sexual_abuse")
                #expect((read.json["children"] as? [[String: Any]])?.count == 2)
                let adults = read.json["adults"] as? [[String: Any]] ?? []
                #expect(adults.first?["name"] as? String == "Juana Pérez López")
                #expect(adults.last?["role"] as? String == "other")
                #expect(read.json["modusOperandi"] as? [String] == ["disguise", "filming", "several_adults_present"])
                #expect((read.json["occurred"] as? [String: Any])?["approximate"] as? Bool == true)
            }
            for token in [api.world.otherSchoolToken, api.world.otherRegulatorToken] {
                #expect(try await api.call(.get, "/v1/reports/\(id)", token: token).status == .notFound)
            }
            #expect(try await api.call(.get, "/v1/reports/\(id)", token: api.world.adminToken).status == .forbidden)
            // Nor can another school file a report about NL001, or the operator file one at all.
            #expect(
                try await api.call(
                    .post, "/v1/reports", token: api.world.otherSchoolToken, json: Self.body(facility: api.world.nuevoLeon.id)
                ).status == .notFound)
            #expect(
                try await api.call(.post, "/v1/reports", token: api.world.adminToken, json: Self.body(facility: api.world.nuevoLeon.id))
                    .status == .forbidden)
            // A regulator takes a hotline complaint about a school in its jurisdiction.
            let hotline = Self.body(facility: api.world.monterrey.id).replacingOccurrences(of: #"{"staffRef":"T-01"},"#, with: "")
                .replacingOccurrences(of: "\"parent\"", with: "\"hotline\"")
            #expect(try await api.call(.post, "/v1/reports", token: api.world.regulatorToken, json: hotline).status == .created)
            #expect(try await reportCount(api.world) == 2)
        }
    }

    @Test func aRetryWithTheSameKeyCreatesNothing() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await Self.rosterTeacher(api.world)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "form-7f3a"]
            let body = Self.body(facility: api.world.nuevoLeon.id)
            let first = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: body, headers: key)
            let second = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: body, headers: key)
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(second.body == first.body)
            #expect(try await reportCount(api.world) == 1)

            let changed = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken,
                json: Self.body(facility: api.world.nuevoLeon.id, narrative: "otra cosa"),
                headers: key)
            #expect(changed.status == .unprocessableContent)
            #expect(changed.problemType == "idempotency-key-reused")
            #expect(try await reportCount(api.world) == 1)

            // Keys belong to their token: the regulator's same key is a new request.
            let other = try await api.call(.post, "/v1/reports", token: api.world.regulatorToken, json: body, headers: key)
            #expect(other.status == .created)
            #expect(other.json["id"] as? String != first.json["id"] as? String)
            let badKey = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: body,
                headers: [HTTPField.Name("Idempotency-Key")!: "has space"])
            #expect(badKey.status == .badRequest)
        }
    }

    @Test func concurrentRetriesWithOneKeyStoreOneReport() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await Self.rosterTeacher(api.world)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "double-click"]
            let body = Self.body(facility: api.world.nuevoLeon.id)
            let replies = try await withThrowingTaskGroup(of: APITest.Reply.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: body, headers: key) }
                }
                var all: [APITest.Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            #expect(replies.allSatisfy { $0.status == .created }, "\(replies.map(\.status))")
            #expect(Set(replies.map(\.body)).count == 1)
            #expect(try await reportCount(api.world) == 1)
        }
    }

    @Test func everyRuleIsCheckedAndReportedAtOnce() async throws {
        try await APITest.run { (api: APITest) async throws in
            let facility = api.world.nuevoLeon.id.uuidString.lowercased()
            let bad = """
                {"facility":"\(facility)","occurred":{"from":"2026-02-10","to":"2026-02-01"},"discoveredOn":"2099-01-01",
                 "category":"theft","reporterType":"parent","adults":[{"staffRef":"T-01","name":"x"}],
                 "children":[{"ref":"María","age":4},{"ref":"NNA-2","age":18},{"ref":"NNA-2","age":3}],
                 "modusOperandi":["magic"],"narrative":"x","colour":"red"}
                """
            let reply = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: bad)
            #expect(reply.status == .unprocessableContent)
            #expect(reply.errorFields == ["/adults/0", "/category", "/children/1/age", "/colour", "/modusOperandi/0"])
            // Once the form is well-formed, the rules about dates and children are checked.
            let wellFormedButWrong = """
                {"facility":"\(facility)","occurred":{"from":"2026-02-10","to":"2026-02-01"},"discoveredOn":"2099-01-01",
                 "category":"neglect","reporterType":"parent",
                 "children":[{"ref":"María","age":4},{"ref":"NNA-2","age":3},{"ref":"NNA-2","age":3}],
                 "modusOperandi":["filming","filming"],"narrative":"   "}
                """
            let second = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: wellFormedButWrong)
            #expect(second.status == .unprocessableContent)
            #expect(
                second.errorFields == [
                    "/children/0/ref", "/children/2/ref", "/discoveredOn", "/modusOperandi", "/narrative", "/occurred/to",
                ])
            let unknownStaff = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: Self.body(facility: api.world.nuevoLeon.id))
            #expect(unknownStaff.status == .unprocessableContent)
            #expect(unknownStaff.errorFields == ["/adults/0/staffRef"])
            #expect(try await reportCount(api.world) == 0)
        }
    }

    @Test func amendmentsAndDecisionsAreAppendedNeverOverwritten() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await Self.rosterTeacher(api.world)
            let created = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: Self.body(facility: api.world.nuevoLeon.id))
            let id = try #require(created.json["id"] as? String)

            let amended = try await api.call(
                .post, "/v1/reports/\(id)/amendments", token: api.world.schoolToken,
                json: #"{"changes":{"children":[{"ref":"NNA-03","age":3}],"narrative":"Se agrega un tercer niño."},"note":"dato nuevo"}"#)
            #expect(amended.status == .created, "\(amended.body)")
            let refused = try await api.call(
                .post, "/v1/reports/\(id)/amendments", token: api.world.schoolToken,
                json: #"{"changes":{"children":[{"ref":"Pedro","age":3}]}}"#)
            #expect(refused.status == .unprocessableContent)
            #expect(
                try await api.call(
                    .post, "/v1/reports/\(id)/amendments", token: api.world.otherSchoolToken, json: #"{"changes":{"narrative":"x"}}"#
                ).status == .notFound)

            #expect(
                try await api.call(.post, "/v1/reports/\(id)/status", token: api.world.schoolToken, json: #"{"status":"unfounded"}"#).status
                    == .forbidden)
            #expect(
                try await api.call(
                    .post, "/v1/reports/\(id)/status", token: api.world.otherRegulatorToken, json: #"{"status":"unfounded"}"#
                ).status == .notFound)
            let review = try await api.call(
                .post, "/v1/reports/\(id)/status", token: api.world.regulatorToken,
                json: #"{"status":"under_review","reason":"se abre expediente"}"#)
            #expect(review.status == .created, "\(review.body)")
            #expect(
                try await api.call(.post, "/v1/reports/\(id)/status", token: api.world.regulatorToken, json: #"{"status":"under_review"}"#)
                    .status == .conflict)
            #expect(
                try await api.call(.post, "/v1/reports/\(id)/status", token: api.world.regulatorToken, json: #"{"status":"closed"}"#).status
                    == .unprocessableContent)
            #expect(
                try await api.call(.post, "/v1/reports/\(id)/status", token: api.world.regulatorToken, json: #"{"status":"substantiated"}"#)
                    .status == .created)

            let read = try await api.call(.get, "/v1/reports/\(id)", token: api.world.schoolToken)
            #expect(read.json["status"] as? String == "substantiated")
            #expect(
                (read.json["statusHistory"] as? [[String: Any]])?.compactMap { $0["status"] as? String } == [
                    "under_review", "substantiated",
                ])
            let amendments = read.json["amendments"] as? [[String: Any]] ?? []
            #expect(amendments.count == 1)
            #expect(((amendments.first?["changes"] as? [String: Any])?["narrative"]) as? String == "Se agrega un tercer niño.")
            // The original stands as submitted.
            #expect((read.json["children"] as? [[String: Any]])?.count == 2)
            #expect((read.json["narrative"] as? String)?.hasPrefix("La maestra") == true)
        }
    }

    @Test func listsArePagedFilteredAndScoped() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await Self.rosterTeacher(api.world)
            for _ in 0..<3 {
                #expect(
                    try await api.call(
                        .post, "/v1/reports", token: api.world.schoolToken, json: Self.body(facility: api.world.nuevoLeon.id)
                    ).status == .created)
            }
            let oaxaca = Self.body(facility: api.world.oaxaca.id).replacingOccurrences(of: #"{"staffRef":"T-01"},"#, with: "")
            #expect(try await api.call(.post, "/v1/reports", token: api.world.otherSchoolToken, json: oaxaca).status == .created)

            var ids: [String] = []
            var uri = "/v1/reports?limit=2"
            while true {
                let page = try await api.call(.get, uri, token: api.world.regulatorToken)
                #expect(page.status == .ok, "\(page.body)")
                ids += page.items.compactMap { $0["id"] as? String }
                #expect(page.items.allSatisfy { $0["narrative"] == nil }, "lists carry no narrative")
                guard let cursor = page.json["nextCursor"] as? String else { break }
                uri = "/v1/reports?limit=2&cursor=\(cursor)"
            }
            #expect(ids.count == 3)
            #expect(Set(ids).count == 3)
            #expect(try await api.call(.get, "/v1/reports?jurisdiction=MX-OAX", token: api.world.regulatorToken).items.isEmpty)
            #expect(
                try await api.call(.get, "/v1/reports?facility=\(api.world.oaxaca.id.uuidString)", token: api.world.schoolToken).items
                    .isEmpty)
            #expect(try await api.call(.get, "/v1/reports", token: api.world.otherRegulatorToken).items.count == 1)
            #expect(try await api.call(.get, "/v1/reports?category=neglect", token: api.world.regulatorToken).items.isEmpty)
            #expect(try await api.call(.get, "/v1/reports?from=2000-01-01&to=2099-12-31", token: api.world.regulatorToken).items.count == 3)
            #expect(try await api.call(.get, "/v1/reports?from=2099-01-01", token: api.world.regulatorToken).items.isEmpty)
            #expect(try await api.call(.get, "/v1/reports?from=yesterday", token: api.world.regulatorToken).status == .badRequest)
            #expect(try await api.call(.get, "/v1/reports", token: api.world.adminToken).status == .forbidden)
        }
    }

    @Test func everyAccessIsAuditedAndTheTrailHolds() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await Self.rosterTeacher(api.world)
            let created = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: Self.body(facility: api.world.nuevoLeon.id))
            let id = try #require(created.json["id"] as? String)
            _ = try await api.call(.get, "/v1/reports/\(id)", token: api.world.regulatorToken)
            _ = try await api.call(.get, "/v1/reports/\(id)", token: api.world.otherRegulatorToken)
            _ = try await api.call(.get, "/v1/reports", token: api.world.schoolToken)
            try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await TestDatabase.chainAuditEvents(on: connection)
                var events: [(String, String)] = []
                for try await row in try await connection.query(
                    "SELECT action, outcome FROM audit_events WHERE object_type = 'report' AND action <> 'report.sealed' ORDER BY position",
                    logger: TestDatabase.logger
                ).decode((String, String).self) { events.append(row) }
                #expect(
                    events.map { "\($0.0):\($0.1)" } == ["report.create:ok", "report.read:ok", "report.read:not_found", "report.list:ok"])
                #expect(try await AuditVerifier.verify(on: connection, logger: TestDatabase.logger).isIntact)
            }
        }
    }

    enum ContentTampering: String, CaseIterable {
        case rewriteNarrative, deleteAmendment, addChild
    }

    /// What a report holds is sealed in the audit log by the sequencer, and its amendments too:
    /// the database's owner rewriting a narrative, deleting an amendment or adding a child is
    /// shown by `audit verify` (issue 24).
    @Test(arguments: ContentTampering.allCases)
    func aReportsContentsAreSealedInTheLog(_ tampering: ContentTampering) async throws {
        try await APITest.run { api in
            try await Self.rosterTeacher(api.world)
            let created = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: Self.body(facility: api.world.nuevoLeon.id))
            let id = try #require(created.json["id"] as? String, "\(created.body)")
            let amended = try await api.call(
                .post, "/v1/reports/\(id)/amendments", token: api.world.schoolToken,
                json: #"{"changes":{"narrative":"Se agrega que había una cámara."},"note":"dato nuevo"}"#)
            #expect(amended.status == .created, "\(amended.body)")
            try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await TestDatabase.chainAuditEvents(on: connection)
                var sealed: [String] = []
                for try await (action, outcome) in try await connection.query(
                    "SELECT action, outcome FROM audit_events WHERE action LIKE '%.sealed' ORDER BY position", logger: TestDatabase.logger
                ).decode((String, String).self) { sealed.append("\(action):\(outcome)") }
                #expect(sealed == ["report.sealed:ok", "amendment.sealed:ok"])
                #expect(try await AuditVerifier.verify(on: connection, logger: TestDatabase.logger).isIntact)

                let logger = TestDatabase.logger
                switch tampering {
                case .rewriteNarrative:
                    try await connection.query("ALTER TABLE incident_reports DISABLE TRIGGER USER", logger: logger)
                    try await connection.query(
                        "UPDATE incident_reports SET narrative = 'Nada grave.' WHERE id = \(UUID(uuidString: id))", logger: logger)
                case .deleteAmendment:
                    try await connection.query("ALTER TABLE report_amendments DISABLE TRIGGER USER", logger: logger)
                    try await connection.query("DELETE FROM report_amendments", logger: logger)
                case .addChild:
                    try await connection.query("ALTER TABLE report_children DISABLE ROW LEVEL SECURITY", logger: logger)
                    try await connection.query(
                        "INSERT INTO report_children (report_id, child_ref, age_years) VALUES (\(UUID(uuidString: id)), 'NNA-09', 3)",
                        logger: logger)
                }
                let verification = try await AuditVerifier.verify(on: connection, logger: TestDatabase.logger)
                guard case .contentChanged(_, let kind, _, let removed) = verification.firstBreak else {
                    Issue.record("not detected: \(verification)")
                    return
                }
                #expect(kind == (tampering == .deleteAmendment ? "amendment" : "report"))
                #expect(removed == (tampering == .deleteAmendment))
            }
        }
    }
}
