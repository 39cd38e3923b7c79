import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The alert tables against the domain: each CHECK list is exactly the domain's vocabulary, and
/// an alert's history cannot be altered.
@Suite struct AlertSchemaTests {
    let logger = TestDatabase.logger

    /// The quoted codes of the CHECK constraint on `table.column`.
    func allowedCodes(_ table: String, _ column: String, on connection: PostgresConnection) async throws -> Set<String> {
        var definition = ""
        for try await text in try await connection.query(
            """
            SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
            WHERE c.conrelid = \(table)::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%' || \(column) || ' = ANY%'
            """, logger: logger
        ).decode(String.self) { definition = text }
        let quoted = try NSRegularExpression(pattern: "'([a-z_]+)'::text")
        let range = NSRange(definition.startIndex..., in: definition)
        return Set(
            quoted.matches(in: definition, range: range).compactMap {
                Range($0.range(at: 1), in: definition).map { String(definition[$0]) }
            })
    }

    @Test func checkListsAreTheDomainVocabularies() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let expected: [(String, String, [String])] = [
                    ("alerts", "rule", Alert.Rule.allCodes), ("alerts", "severity", Alert.Severity.allCodes),
                    ("alerts", "status", Alert.Status.allCodes), ("alerts", "referral", Alert.Referral.allCodes),
                    ("alerts", "resolution", Alert.Resolution.allCodes), ("alert_events", "kind", Alert.EventKind.allCodes),
                    ("cases", "kind", Case.Kind.allCodes), ("cases", "status", Case.Status.allCodes),
                    ("cases", "close_reason", Case.CloseReason.allCodes), ("case_events", "kind", Case.EventKind.allCodes),
                ]
                for (table, column, codes) in expected {
                    let allowed = try await allowedCodes(table, column, on: connection)
                    #expect(allowed == Set(codes), "\(table).\(column)")
                }
            }
        }
    }

    @Test func anAlertsHistoryCannotBeAlteredAndSchoolsSeeNoAlert() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: logger) { connection in
                let alert = UUID()
                try await connection.query(
                    """
                    INSERT INTO alerts (id, rule, facility_id, jurisdiction_id, severity, score, band)
                    SELECT \(alert), 'filming', f.id, f.jurisdiction_id, 'critical', 70, 'high'
                    FROM facilities f WHERE f.id = \(world.nuevoLeon.id)
                    """, logger: logger)
                try await connection.query(
                    "INSERT INTO alert_events (alert_id, kind, actor) VALUES (\(alert), 'opened', 'centinela')", logger: logger)
                await #expect(throws: (any Error).self) {
                    for try await _ in try await connection.query("UPDATE alert_events SET kind = 'comment'", logger: logger) {}
                }
                await #expect(throws: (any Error).self) {
                    for try await _ in try await connection.query("DELETE FROM alert_events", logger: logger) {}
                }
                // In a school's scope, as the service role: no alert, no event.
                var seen = -1
                try await connection.query("BEGIN", logger: logger)
                try await connection.query(
                    """
                    SELECT set_config('role', 'centinela_service', true), set_config('centinela.role', 'school', true),
                           set_config('centinela.facilities', \("{\(world.nuevoLeon.id.uuidString.lowercased())}"), true)
                    """, logger: logger)
                for try await n in try await connection.query(
                    "SELECT (SELECT count(*) FROM alerts)::int + (SELECT count(*) FROM alert_events)::int", logger: logger
                ).decode(Int.self) { seen = n }
                try await connection.query("ROLLBACK", logger: logger)
                #expect(seen == 0)
            }
        }
    }
}

/// Migration 0023 renames the alert kinds a webhook stored before it (`opened` → `alert.opened`),
/// and the outbox then matches the prefixed name.
@Suite struct AlertEventNameMigrationTests {
    @Test func storedFiltersAreRenamedAndStillMatch() async throws {
        let logger = TestDatabase.logger
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let all = try TestDatabase.migrations()
                let before = try MigrationSet(all.migrations.filter { $0.version < 23 })
                try await Migrator(migrations: before, logger: logger).migrate(on: connection)
                try await connection.run(
                    """
                    WITH j AS (INSERT INTO jurisdictions (code, name, level) VALUES ('MX', 'México', 'country') RETURNING id),
                    t AS (INSERT INTO api_tokens (secret_sha256, display_prefix, holder, role)
                          VALUES (sha256('x'), 'cen_abcdefgh', 'Regulador', 'regulator') RETURNING id)
                    INSERT INTO webhook_endpoints (owner_id, owner, url, secret, jurisdictions, event_kinds)
                    SELECT t.id, 'Regulador', 'https://example.org/hook', 'whsec_' || repeat('A', 32), ARRAY[j.id], kinds
                    FROM j, t, (VALUES (ARRAY['opened', 'case.opened']), (NULL::text[]), (ARRAY['escalated'])) AS k(kinds)
                    """, logger: logger)
                try await Migrator(migrations: all, logger: logger).migrate(on: connection)
                var stored: [[String]?] = []
                for try await kinds in try await connection.query(
                    "SELECT event_kinds FROM webhook_endpoints ORDER BY cardinality(event_kinds) NULLS FIRST", logger: logger
                ).decode([String]?.self) { stored.append(kinds) }
                #expect(stored == [nil, ["alert.escalated"], ["alert.opened", "case.opened"]])
                // Every stored name is one the API reads back.
                for name in stored.compactMap({ $0 }).joined() { #expect(WebhookEventKind(rawValue: name) != nil, "\(name)") }
                var definition = ""
                for try await text in try await connection.query(
                    "SELECT prosrc FROM pg_proc WHERE proname = 'centinela_webhook_outbox'", logger: logger
                ).decode(String.self) { definition = text }
                #expect(definition.contains("'alert.' || e.kind = ANY (w.event_kinds)"))
            }
        }
    }
}
