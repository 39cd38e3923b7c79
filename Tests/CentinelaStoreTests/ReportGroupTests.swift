import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// Reports filed at the same moment share one transaction (decision 44): each is answered and
/// stored exactly as it would be alone, a refusal stays its own, and a group the database refuses
/// is filed one by one.
@Suite struct ReportGroupTests {
    let logger = TestDatabase.logger
    let access = AccessTests()

    static func submission(
        _ facility: UUID, staff: [String] = ["T-01"], narrative: String = "Dos adultos disfrazados con los niños."
    ) -> ReportSubmission {
        ReportSubmission(
            facilityID: .init(facility), occurredFrom: CalendarDate("2026-02-02")!, occurredTo: CalendarDate("2026-02-06")!,
            occurredApproximate: true, discoveredOn: CalendarDate("2026-02-10")!, category: .sexualAbuse, reporterType: .parent,
            adults: staff.map { .rostered(staffRef: $0) } + [.described(name: " Hombre del disfraz ", role: .other)],
            children: [.init(reference: "NNA-01", ageYears: 4), .init(reference: "NNA-02", ageYears: 5)],
            modusOperandi: [.disguise, .filming], narrative: narrative)
    }

    /// A report as stored, and as the risk model reads it (`report_current`), without what
    /// differs between any two reports (id, time).
    func stored(_ id: String, on connection: PostgresConnection) async throws -> [String] {
        var rows: [String] = []
        for try await row in try await connection.query(
            """
            SELECT concat_ws('|', r.facility_id, r.occurred_from, r.occurred_to, r.occurred_approximate, r.discovered_on, r.category,
                             r.reporter_type, r.mo_tags::text, r.narrative, r.submitted_by)
            FROM incident_reports r WHERE r.id = \(UUID(uuidString: id)!)
            UNION ALL
            SELECT * FROM (SELECT concat_ws('|', 'adult', position, adult_id, mentioned_name, mentioned_role)
                           FROM report_adults WHERE report_id = \(UUID(uuidString: id)!) ORDER BY position) a
            UNION ALL
            SELECT * FROM (SELECT concat_ws('|', 'child', child_ref, age_years)
                           FROM report_children WHERE report_id = \(UUID(uuidString: id)!) ORDER BY child_ref) c
            UNION ALL
            SELECT concat_ws('|', 'current', facility_id, category, reporter_type, status, mo_tags::text, adult_ids::text,
                             adult_names::text, adult_roles::text, youngest_child_age, occurred_from, occurred_to, discovered_on)
            FROM report_current WHERE report_id = \(UUID(uuidString: id)!)
            """, logger: logger
        ).decode(String.self) { rows.append(row) }
        return rows
    }

    @Test func aGroupIsStoredAndAnsweredAsEachReportAloneWouldBe() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let tokens = TokenStore(logger: logger)
            let (world, school, other, regulator) = try await database.withConnection(logger: logger) { connection in
                let world = try await access.makeWorld(connection)
                try await connection.query(
                    "INSERT INTO adults (facility_id, staff_ref, full_name, role) VALUES (\(world.northSchool), 'T-01', 'Juana Pérez López', 'teacher')",
                    logger: logger)
                let school = try await tokens.create(
                    role: .school, holder: "Directora NL001", facilityCodes: ["NL001"], jurisdictionCodes: [], expiresAt: nil,
                    on: connection)
                let other = try await tokens.create(
                    role: .school, holder: "Director OAX01", facilityCodes: ["OAX01"], jurisdictionCodes: [], expiresAt: nil, on: connection
                )
                let regulator = try await tokens.create(
                    role: .regulator, holder: "SEP Nuevo León", facilityCodes: [], jurisdictionCodes: ["MX-NL"], expiresAt: nil,
                    on: connection)
                return (world, school.1, other.1, regulator.1)
            }
            try await access.withClient(database) { client in
                let service = ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait)
                let intake = ReportIntake(database: service)
                let nl = Caller(principal: try #require(try await service.authenticate(school)), requestID: "req-nl")
                let oax = Caller(principal: try #require(try await service.authenticate(other)), requestID: "req-oax")
                let sep = Caller(principal: try #require(try await service.authenticate(regulator)), requestID: "req-sep")
                let key = ReportIntake.Idempotency(key: "form-1", fingerprint: Data(repeating: 1, count: 32))
                let sameKeyOtherRequest = ReportIntake.Idempotency(key: "form-1", fingerprint: Data(repeating: 2, count: 32))
                let group: [ReportIntake.Request] = [
                    .init(submission: Self.submission(world.northSchool), idempotency: key, caller: nl),
                    .init(submission: Self.submission(world.northSchool, staff: []), idempotency: nil, caller: nl),
                    // Another state's school: not this caller's.
                    .init(submission: Self.submission(world.southSchool, staff: []), idempotency: nil, caller: nl),
                    // A staff reference the roster does not hold, second of its adults.
                    .init(submission: Self.submission(world.northSchool, staff: ["T-01", "T-99"]), idempotency: nil, caller: nl),
                    // The same key under another token is another key.
                    .init(submission: Self.submission(world.southSchool, staff: []), idempotency: key, caller: oax),
                    // A double click within the group, and the key reused for another request.
                    .init(submission: Self.submission(world.northSchool), idempotency: key, caller: nl),
                    .init(submission: Self.submission(world.northSchool), idempotency: sameKeyOtherRequest, caller: nl),
                    // Intake staff for a school of the municipality below their state.
                    .init(submission: Self.submission(world.townSchool, staff: []), idempotency: nil, caller: sep),
                ]
                let outcomes = await intake.fileTogether(group)
                #expect(outcomes.count == group.count)
                func filed(_ index: Int) throws -> ReportIntake.Filed { try outcomes[index].get() }
                #expect(try filed(0).isNew && filed(1).isNew && filed(4).isNew && filed(7).isNew)
                #expect(throws: ReportIntake.Refusal.facilityNotFound) { try outcomes[2].get() }
                #expect(throws: ReportStoreError.unknownStaff([1])) { try outcomes[3].get() }
                // The double click gets the first answer, byte for byte; the other request is refused.
                #expect(try !filed(5).isNew && filed(5).json == filed(0).json)
                #expect(throws: ReportIntake.Refusal.keyReusedForAnotherRequest) { try outcomes[6].get() }
                #expect(Set(try [0, 1, 4, 7].map { try filed($0).receipt.id }).count == 4)
                // Written in one transaction (not one by one after a failure): one time of receipt.
                #expect(Set(try [0, 1, 4, 7].map { try filed($0).receipt.receivedAt }).count == 1)

                // Each stored as one filed alone is: a report filed alone now reads the same.
                let alone = try await intake.fileTogether([
                    .init(submission: Self.submission(world.northSchool), idempotency: nil, caller: nl)
                ])
                let (together, single) = try await database.withConnection(logger: logger) { connection in
                    (
                        try await stored(try filed(0).receipt.id, on: connection),
                        try await stored(try alone[0].get().receipt.id, on: connection)
                    )
                }
                #expect(together.count == 6 && together == single, "\(together)\n\(single)")

                // A retry after the group: the stored answer.
                let retry = await intake.fileTogether([
                    .init(submission: Self.submission(world.northSchool), idempotency: key, caller: nl),
                    .init(submission: Self.submission(world.southSchool, staff: []), idempotency: key, caller: oax),
                ])
                #expect(try !retry[0].get().isNew && retry[0].get().json == filed(0).json)
                #expect(try !retry[1].get().isNew && retry[1].get().json == filed(4).json)

                // One event per stored report, with its caller, in the order of the group.
                try await database.withConnection(logger: logger) { connection in
                    var events: [String] = []
                    for try await (request, object) in try await connection.query(
                        "SELECT request_id, object_id FROM audit_pending WHERE action = 'report.create' ORDER BY id", logger: logger
                    ).decode((String, String).self) { events.append("\(request) \(object)") }
                    let expected =
                        try [(0, "req-nl"), (1, "req-nl"), (4, "req-oax"), (7, "req-sep")].map { "\($1) \(try filed($0).receipt.id)" }
                        + ["req-nl \(try alone[0].get().receipt.id)"]
                    #expect(events == expected)
                    let reports = try await access.count("SELECT count(*)::int FROM incident_reports", connection)
                    let keys = try await access.count("SELECT count(*)::int FROM idempotency_keys", connection)
                    #expect(reports == 5 && keys == 2)
                }
            }
        }
    }

    @Test func aGroupTheDatabaseRefusesIsFiledOneByOne() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let tokens = TokenStore(logger: logger)
            let (world, school) = try await database.withConnection(logger: logger) { connection in
                let world = try await access.makeWorld(connection)
                let school = try await tokens.create(
                    role: .school, holder: "Directora NL001", facilityCodes: ["NL001"], jurisdictionCodes: [], expiresAt: nil,
                    on: connection)
                return (world, school.1)
            }
            try await access.withClient(database) { client in
                let service = ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait)
                let intake = ReportIntake(database: service)
                let nl = Caller(principal: try #require(try await service.authenticate(school)), requestID: "req-nl")
                // Longer than the table allows (the API refuses it before; the database is the last word).
                let tooLong = String(repeating: "a", count: 20_001)
                let outcomes = await intake.fileTogether([
                    .init(submission: Self.submission(world.northSchool, staff: []), idempotency: nil, caller: nl),
                    .init(submission: Self.submission(world.northSchool, staff: [], narrative: tooLong), idempotency: nil, caller: nl),
                    .init(submission: Self.submission(world.northSchool, staff: []), idempotency: nil, caller: nl),
                ])
                #expect((try? outcomes[0].get().isNew) == true && (try? outcomes[2].get().isNew) == true)
                #expect(throws: (any Error).self) { try outcomes[1].get() }
                let (reports, events) = try await database.withConnection(logger: logger) { connection in
                    (
                        try await access.count("SELECT count(*)::int FROM incident_reports", connection),
                        try await access.count("SELECT count(*)::int FROM audit_pending WHERE action = 'report.create'", connection)
                    )
                }
                #expect(reports == 2 && events == 2)
            }
        }
    }

    /// The events of a group are written as one JSON document: every character of them is kept.
    @Test func eventsWrittenTogetherKeepEveryCharacter() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let tricky = "comillas \" barra \\ salto\nTab\t\u{01} ñÑ áé 🙂 \u{2028} </script>"
            let events = [
                AuditEvent(
                    requestID: "req-\(tricky)", actor: nil, action: "report.create", objectType: "report", objectID: nil, outcome: .ok,
                    details: ["b": tricky, "a": "1"]),
                AuditEvent.system(action: "token.create", objectType: "token", objectID: tricky),
            ]
            let read = try await database.withConnection(logger: logger) { connection in
                try await AuditLog.append(events, on: connection, logger: logger)
                var rows: [String] = []
                for try await (request, token, role, object, details) in try await connection.query(
                    "SELECT request_id, actor_token::text, actor_role, object_id, details->>'b' FROM audit_pending ORDER BY id",
                    logger: logger
                ).decode((String, String?, String?, String?, String?).self) {
                    rows.append([request, token ?? "∅", role ?? "∅", object ?? "∅", details ?? "∅"].joined(separator: "|"))
                }
                return rows
            }
            #expect(read == ["req-\(tricky)|∅|∅|∅|\(tricky)", "\(events[1].requestID)|∅|system|\(tricky)|∅"])
        }
    }
}
