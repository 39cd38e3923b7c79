import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// What reports and amendments hold, read the one way both the sequencer (sealing) and
/// `audit verify` (checking) read it, so that the same row always gives the same `AuditSeal`
/// (decision 43). Every value is read as text the session's settings cannot change: dates by
/// `to_char`, times as microseconds since 1970, lists as JSON in a fixed order (children by
/// their reference in the C collation). Called in a transaction in the system scope.
enum AuditSeals {
    enum Kind: String, Sendable {
        case report, amendment

        var action: String { "\(rawValue).sealed" }
        var objectType: String { self == .report ? "report" : "report_amendment" }
    }

    /// The seal of each id that still exists.
    static func digests(of kind: Kind, _ ids: [UUID], on connection: PostgresConnection, logger: Logger) async throws -> [UUID: String] {
        let rows: PostgresRowSequence
        switch kind {
        case .report:
            rows = try await connection.query(
                """
                SELECT r.id, r.facility_id::text, (extract(epoch FROM r.received_at) * 1000000)::bigint::text,
                       to_char(r.occurred_from, 'YYYY-MM-DD'), to_char(r.occurred_to, 'YYYY-MM-DD'), r.occurred_approximate::text,
                       to_char(r.discovered_on, 'YYYY-MM-DD'), r.category, r.reporter_type, array_to_json(r.mo_tags)::text, r.narrative,
                       r.submitted_by::text, r.source_system, r.source_id, (extract(epoch FROM r.imported_at) * 1000000)::bigint::text,
                       coalesce((SELECT json_agg(json_build_array(a.position, a.adult_id, a.mentioned_name, a.mentioned_role)
                                                 ORDER BY a.position)::text
                                 FROM report_adults a WHERE a.report_id = r.id), '[]'),
                       coalesce((SELECT json_agg(json_build_array(c.child_ref, c.age_years) ORDER BY c.child_ref COLLATE "C")::text
                                 FROM report_children c WHERE c.report_id = r.id), '[]')
                FROM incident_reports r WHERE r.id = ANY(\(ids))
                """, logger: logger)
        case .amendment:
            rows = try await connection.query(
                """
                SELECT m.id, m.report_id::text, m.changes::text, m.note, (extract(epoch FROM m.amended_at) * 1000000)::bigint::text,
                       m.amended_by::text
                FROM report_amendments m WHERE m.id = ANY(\(ids))
                """, logger: logger)
        }
        var digests: [UUID: String] = [:]
        for try await row in rows {
            var cells = ColumnReader(row)
            let id = try cells.next(UUID.self)
            var fields: [String?] = []
            for _ in 1..<row.count { fields.append(try cells.next(String?.self)) }
            digests[id] = AuditSeal.digest(fields)
        }
        return digests
    }

    /// The sequencer's part: takes up to `limit` queued reports and amendments and returns the
    /// events that seal them (a report already gone when sealed is recorded as `not_found`).
    static func seal(
        limit: Int, at microseconds: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> [AuditEventDigest]
    {
        let queued = try await connection.query(
            """
            DELETE FROM audit_seal_queue WHERE seq IN (SELECT seq FROM audit_seal_queue ORDER BY seq LIMIT \(limit))
            RETURNING seq, kind, id
            """, logger: logger)
        var items: [(seq: Int64, kind: Kind, id: UUID)] = []
        for try await (seq, kind, id) in queued.decode((Int64, String, UUID).self) {
            guard let kind = Kind(rawValue: kind) else { continue }
            items.append((seq, kind, id))
        }
        guard !items.isEmpty else { return [] }
        items.sort { $0.seq < $1.seq }
        try await connection.run("SELECT set_config('centinela.role', 'system', true)", logger: logger)
        var digests: [UUID: String] = [:]
        for kind in [Kind.report, .amendment] {
            let ids = items.filter { $0.kind == kind }.map(\.id)
            if !ids.isEmpty { digests.merge(try await Self.digests(of: kind, ids, on: connection, logger: logger)) { $1 } }
        }
        return items.map { item in
            let digest = digests[item.id]
            return AuditEventDigest(
                previous: [], position: 0, occurredAtMicroseconds: microseconds, requestID: "sequencer", actorToken: nil,
                actorRole: "system", action: item.kind.action, objectType: item.kind.objectType, objectID: item.id.uuidString.lowercased(),
                outcome: digest == nil ? "not_found" : "ok",
                // The text PostgreSQL prints for this jsonb: the chain's hash covers that text.
                details: digest.map { "{\"content_sha256\": \"\($0)\"}" } ?? "{}")
        }
    }
}
