import CentinelaCore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import CentinelaStore

/// How the service files alerts into cases (docs/alerts.md, "Cases"), against a real database.
@Suite struct CaseFilingTests {
    let logger = TestDatabase.logger

    @Test func aPatternCaseTakesInItsFacilitiesCasesAndNewEvidenceReopens() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: logger) { c in
                let store = CaseStore(logger: logger)
                let pattern = UUID()
                func alert(_ facility: UUID, _ rule: String, _ subject: String = "") async throws -> FilingAlert {
                    var found: FilingAlert?
                    for try await (id, jurisdiction) in try await c.query(
                        """
                        INSERT INTO alerts (rule, facility_id, subject, jurisdiction_id, severity, score, band)
                        SELECT \(rule), f.id, \(subject), f.jurisdiction_id, 'high', 70, 'high' FROM facilities f WHERE f.id = \(facility)
                        RETURNING id, jurisdiction_id
                        """, logger: logger
                    ).decode((UUID, UUID).self) {
                        found = FilingAlert(
                            id: id, facilityID: facility, jurisdictionID: jurisdiction, rule: Alert.Rule(rawValue: rule)!, subject: subject,
                            formerCase: nil)
                    }
                    return try #require(found)
                }
                func cases() async throws -> [String] {
                    var rows: [String] = []
                    for try await row in try await c.query(
                        """
                        SELECT c.kind || ' ' || c.status || ' ' || coalesce(c.close_reason, '-') || ' ' || c.facility_count || ' '
                               || (SELECT count(*) FROM alerts a WHERE a.case_id = c.id)
                        FROM cases c ORDER BY c.opened_at, c.kind
                        """, logger: logger
                    ).decode(String.self) { rows.append(row) }
                    return rows
                }
                func caseOf(_ alert: FilingAlert) async throws -> UUID? {
                    var id: UUID?
                    for try await value in try await c.query("SELECT case_id FROM alerts WHERE id = \(alert.id)", logger: logger)
                        .decode(UUID?.self)
                    { id = value }
                    return id
                }

                // Two alerts at one school, one after the other: one case.
                let filming = try await alert(world.nuevoLeon.id, "filming")
                try await store.file([filming], on: c)
                try await store.file([try await alert(world.nuevoLeon.id, "several_adults_severe")], on: c)
                #expect(try await cases() == ["facility open - 1 2"])

                // A pattern reaches that school and another state's: one national case, which takes
                // the school's case in (closed as merged, its alerts moved).
                let patternHere = try await alert(
                    world.nuevoLeon.id, "pattern_several_facilities", "pattern:" + pattern.uuidString.lowercased())
                let patternThere = try await alert(
                    world.oaxaca.id, "pattern_several_facilities", "pattern:" + pattern.uuidString.lowercased())
                try await store.file([patternHere, patternThere], on: c)
                #expect(try await cases() == ["facility closed merged 1 0", "pattern open - 2 4"])
                let national = try #require(try await caseOf(patternHere))
                #expect(try await caseOf(filming) == national)
                // From now on, any alert at a covered school goes to the national case.
                let later = try await alert(world.oaxaca.id, "band")
                try await store.file([later], on: c)
                #expect(try await caseOf(later) == national)

                // Closed, then the pattern reaches a third school: new evidence reopens it.
                try await c.query(
                    "UPDATE cases SET status = 'closed', close_reason = 'action_taken', closed_at = now() WHERE id = \(national)",
                    logger: logger)
                try await store.file(
                    [try await alert(world.monterrey.id, "pattern_several_facilities", "pattern:" + pattern.uuidString.lowercased())], on: c
                )
                #expect(try await cases() == ["facility closed merged 1 0", "pattern open - 3 6"])
                var kinds: [String] = []
                for try await kind in try await c.query(
                    "SELECT kind FROM case_events WHERE case_id = \(national) ORDER BY id", logger: logger
                )
                .decode(String.self) { kinds.append(kind) }
                #expect(
                    kinds.filter { $0 == "facility_added" }.count == 3 && kinds.contains("reopened") && kinds.first == "opened", "\(kinds)")
            }
        }
    }

    /// A network inside a style: two patterns sharing a school are one matter, one case.
    @Test func twoPatternsSharingAFacilityAreOneCase() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: logger) { c in
                let store = CaseStore(logger: logger)
                let (style, network) = (UUID(), UUID())
                func alert(_ facility: UUID, _ pattern: UUID) async throws -> FilingAlert {
                    var found: FilingAlert?
                    let subject = "pattern:" + pattern.uuidString.lowercased()
                    for try await (id, jurisdiction) in try await c.query(
                        """
                        INSERT INTO alerts (rule, facility_id, subject, jurisdiction_id, severity, score, band)
                        SELECT 'pattern_several_facilities', f.id, \(subject), f.jurisdiction_id, 'high', 70, 'high' FROM facilities f
                        WHERE f.id = \(facility) RETURNING id, jurisdiction_id
                        """, logger: logger
                    ).decode((UUID, UUID).self) {
                        found = FilingAlert(
                            id: id, facilityID: facility, jurisdictionID: jurisdiction, rule: .patternSeveralFacilities, subject: subject,
                            formerCase: nil)
                    }
                    return try #require(found)
                }
                try await store.file([try await alert(world.nuevoLeon.id, style), try await alert(world.oaxaca.id, style)], on: c)
                try await store.file([try await alert(world.oaxaca.id, network), try await alert(world.monterrey.id, network)], on: c)
                var open: [String] = []
                for try await row in try await c.query(
                    """
                    SELECT c.pattern_id::text || ' ' || c.facility_count || ' ' || (SELECT count(*) FROM alerts a WHERE a.case_id = c.id)
                    FROM cases c WHERE c.status <> 'closed'
                    """, logger: logger
                ).decode(String.self) { open.append(row) }
                #expect(open == ["\(style.uuidString.lowercased()) 3 4"], "\(open)")
                var merged: (UUID, UUID)?
                for try await row in try await c.query(
                    "SELECT id, merged_into FROM cases WHERE pattern_id = \(network) AND close_reason = 'merged'", logger: logger
                ).decode((UUID, UUID).self) { merged = row }
                let (networkCase, into) = try #require(merged)
                // Later news of the network goes to the case it joined; the joined case takes no decision.
                let later = try await alert(world.nuevoLeon.id, network)
                try await store.file([later], on: c)
                var holder: UUID?
                for try await id in try await c.query("SELECT case_id FROM alerts WHERE id = \(later.id)", logger: logger).decode(UUID.self)
                {
                    holder = id
                }
                #expect(holder == into)
                let principal = Principal(id: .random(), holder: "Regulador", role: .regulator)
                await #expect(throws: CaseStoreError.self) {
                    _ = try await store.apply(.comment("x"), to: .init(networkCase), by: principal, on: c)
                }
            }
        }
    }

    @Test func newEvidenceOnAnAlertOfAClosedCaseReopensItUnlessAnotherIsOpen() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: logger) { c in
                let store = CaseStore(logger: logger)
                var ids: [UUID] = []
                for try await (id, jurisdiction) in try await c.query(
                    """
                    INSERT INTO alerts (rule, facility_id, jurisdiction_id, severity, score, band)
                    SELECT 'filming', f.id, f.jurisdiction_id, 'high', 70, 'high' FROM facilities f WHERE f.id = \(world.oaxaca.id)
                    RETURNING id, jurisdiction_id
                    """, logger: logger
                ).decode((UUID, UUID).self) { ids = [id, jurisdiction] }
                let filming = FilingAlert(
                    id: ids[0], facilityID: world.oaxaca.id, jurisdictionID: ids[1], rule: .filming, subject: "", formerCase: nil)
                try await store.file([filming], on: c)
                var first: UUID?
                for try await id in try await c.query("SELECT case_id FROM alerts WHERE id = \(filming.id)", logger: logger).decode(
                    UUID.self)
                { first = id }
                let former = try #require(first)
                try await c.query(
                    "UPDATE cases SET status = 'closed', close_reason = 'other', closed_at = now() WHERE id = \(former)", logger: logger)
                var news = filming
                news.formerCase = former
                try await store.file([news], on: c)
                var status = ""
                for try await value in try await c.query("SELECT status FROM cases WHERE id = \(former)", logger: logger).decode(
                    String.self)
                {
                    status = value
                }
                #expect(status == "open")
                var count = 0
                for try await value in try await c.query("SELECT count(*)::int FROM cases", logger: logger).decode(Int.self) {
                    count = value
                }
                #expect(count == 1)
            }
        }
    }
}
