import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The first migration against the domain: the database accepts exactly the domain's vocabularies,
/// and what a school submits cannot be altered or deleted.
@Suite struct CoreSchemaTests {
    let logger = TestDatabase.logger

    /// Inserts a jurisdiction and a facility; returns the facility id.
    func facility(_ connection: PostgresConnection, kind: String = "preschool") async throws -> UUID {
        let code = "F" + String(UUID().uuidString.prefix(8))
        let rows = try await connection.query(
            """
            WITH j AS (
                INSERT INTO jurisdictions (code, name, level) VALUES (\(code), 'País', 'country') RETURNING id
            )
            INSERT INTO facilities (external_code, name, kind, jurisdiction_id)
            SELECT \(code), 'Jardín de Niños', \(kind), id FROM j RETURNING id
            """, logger: logger)
        var id: UUID?
        for try await value in rows.decode(UUID.self) { id = value }
        return try #require(id)
    }

    func report(
        _ connection: PostgresConnection, facility: UUID, category: String = "sexual_abuse",
        reporter: String = "parent", tags: [String] = []
    ) async throws -> UUID {
        let rows = try await connection.query(
            """
            INSERT INTO incident_reports
                (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, mo_tags, narrative)
            VALUES (\(facility), DATE '2026-01-10', DATE '2026-01-12', DATE '2026-01-20', \(category), \(reporter),
                    \(tags), 'narrative')
            RETURNING id
            """, logger: logger)
        var id: UUID?
        for try await value in rows.decode(UUID.self) { id = value }
        return try #require(id)
    }

    @Test func acceptsEveryDomainCodeAndNothingElse() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                for kind in Facility.Kind.allCodes {
                    _ = try await facility(connection, kind: kind)
                }
                await #expect(throws: PSQLError.self) { _ = try await facility(connection, kind: "university") }

                let f = try await facility(connection)
                for category in IncidentReport.Category.allCodes {
                    _ = try await report(connection, facility: f, category: category)
                }
                for reporter in IncidentReport.ReporterType.allCodes {
                    _ = try await report(connection, facility: f, reporter: reporter)
                }
                _ = try await report(connection, facility: f, tags: IncidentReport.ModusOperandi.allCodes)
                await #expect(throws: PSQLError.self) { _ = try await report(connection, facility: f, category: "theft") }
                await #expect(throws: PSQLError.self) { _ = try await report(connection, facility: f, reporter: "neighbour") }
                await #expect(throws: PSQLError.self) { _ = try await report(connection, facility: f, tags: ["filming", "magic"]) }

                let r = try await report(connection, facility: f)
                for status in IncidentReport.Status.allCodes {
                    try await connection.query(
                        "INSERT INTO report_status_changes (report_id, status) VALUES (\(r), \(status))", logger: logger)
                }
                await #expect(throws: PSQLError.self) {
                    try await connection.query(
                        "INSERT INTO report_status_changes (report_id, status) VALUES (\(r), 'closed')", logger: logger)
                }
                for (index, role) in Adult.Role.allCodes.enumerated() {
                    try await connection.query(
                        """
                        INSERT INTO adults (facility_id, staff_ref, full_name, role)
                        VALUES (\(f), \("S\(index)"), 'María Pérez López', \(role))
                        """, logger: logger)
                }
                for level in Jurisdiction.Level.allCodes {
                    // Only a country has no parent: the constraint ties level to the tree.
                    let parent: UUID? = level == "country" ? nil : try await firstJurisdiction(connection)
                    try await connection.query(
                        """
                        INSERT INTO jurisdictions (code, name, level, parent_id)
                        VALUES (\("L" + String(UUID().uuidString.prefix(6))), 'x', \(level), \(parent))
                        """, logger: logger)
                }
            }
        }
    }

    func firstJurisdiction(_ connection: PostgresConnection) async throws -> UUID {
        var id: UUID?
        for try await value in try await connection.query(
            "SELECT id FROM jurisdictions WHERE level = 'country' LIMIT 1", logger: logger
        ).decode(UUID.self) { id = value }
        return try #require(id)
    }

    @Test func reportsCannotBeUpdatedOrDeleted() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let f = try await facility(connection)
                let r = try await report(connection, facility: f)
                try await connection.query(
                    "INSERT INTO report_children (report_id, child_ref, age_years) VALUES (\(r), 'NNA-1', 4)",
                    logger: logger)
                try await connection.query(
                    "INSERT INTO report_adults (report_id, position, mentioned_name, mentioned_role) VALUES (\(r), 1, 'El Profe', 'teacher')",
                    logger: logger)
                try await connection.query(
                    "INSERT INTO report_amendments (report_id, changes) VALUES (\(r), '{\"narrative\": \"more\"}')",
                    logger: logger)

                let refused: [PostgresQuery] = [
                    "UPDATE incident_reports SET narrative = 'rewritten' WHERE id = \(r)",
                    "DELETE FROM incident_reports WHERE id = \(r)",
                    "UPDATE report_children SET age_years = 9 WHERE report_id = \(r)",
                    "DELETE FROM report_children WHERE report_id = \(r)",
                    "DELETE FROM report_adults WHERE report_id = \(r)",
                    "UPDATE report_amendments SET note = 'x' WHERE report_id = \(r)",
                ]
                for query in refused {
                    do {
                        try await connection.query(query, logger: logger)
                        Issue.record("\(query.sql) was allowed")
                    } catch {
                        #expect(DatabaseError.reason(for: error).contains("reports are append-only"))
                        #expect(DatabaseError.sqlState(of: error) == "42501")
                    }
                }
                var narrative = ""
                for try await text in try await connection.query(
                    "SELECT narrative FROM incident_reports WHERE id = \(r)", logger: logger
                ).decode(String.self) { narrative = text }
                #expect(narrative == "narrative")
            }
        }
    }

    @Test func childrenAppearOnlyUnderPseudonymousReferences() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let f = try await facility(connection)
                let r = try await report(connection, facility: f)
                for bad in ["Ana María", "", "x y", "niña;1"] {
                    await #expect(throws: PSQLError.self, "\(bad)") {
                        try await connection.query(
                            "INSERT INTO report_children (report_id, child_ref, age_years) VALUES (\(r), \(bad), 4)",
                            logger: logger)
                    }
                }
                await #expect(throws: PSQLError.self) {
                    try await connection.query(
                        "INSERT INTO report_children (report_id, child_ref, age_years) VALUES (\(r), 'C-1', 18)",
                        logger: logger)
                }
            }
        }
    }
}
