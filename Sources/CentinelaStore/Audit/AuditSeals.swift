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

    /// The seal of each of these reports and amendments that still exists, a query a kind.
    static func digests(
        of items: [(kind: Kind, id: UUID)], on connection: PostgresConnection, logger: Logger
    ) async throws
        -> [UUID: String]
    {
        var digests: [UUID: String] = [:]
        for kind in [Kind.report, .amendment] {
            let ids = items.filter { $0.kind == kind }.map(\.id)
            if !ids.isEmpty { digests.merge(try await Self.digests(of: kind, ids, on: connection, logger: logger)) { $1 } }
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
        let digests = try await Self.digests(of: items.map { ($0.kind, $0.id) }, on: connection, logger: logger)
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

/// One report's place in the audit log, shown against a checkpoint (`centinela audit prove`):
/// the event that sealed it, the SHA-256 it sealed and what the report holds today, and the
/// RFC 9162 inclusion proof of that event in the tree the checkpoint signed.
public struct ReportInclusion: Sendable, Equatable {
    public var report: UUID
    public var position: Int64
    public var eventHash: [UInt8]
    public var sealed: String
    /// Nil when the report is gone.
    public var holdsToday: String?
    public var treeSize: Int
    public var proof: [MerkleLog.Hash]

    /// Whether the proof leads from the sealing event to `root`.
    public func proves(root: MerkleLog.Hash) -> Bool {
        MerkleLog.verifyInclusion(
            leaf: MerkleLog.leafHash(eventHash), index: Int(position - 1), size: treeSize, proof: proof, root: root)
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case notSealed
        case beyondCheckpoint(position: Int64, size: Int)

        public var description: String {
            switch self {
            case .notSealed: "the audit log holds no seal of this report (not yet chained, or no such report)"
            case .beyondCheckpoint(let position, let size):
                "the report was sealed at event \(position), after the checkpoint (\(size) events): sign a newer one"
            }
        }
    }

    /// The inclusion of `report`'s seal in the tree of the log's first `size` events, hashes read
    /// in Swift from the chained rows (a log of millions holds 32 bytes of each in memory).
    public static func of(
        _ report: UUID, size: Int, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> ReportInclusion
    {
        // The sealing event, its hash recomputed here from its content: the leaf proved is the
        // event that states this digest, whatever the row's own hash column says.
        var found: (position: Int64, sealed: String, hash: [UInt8])?
        for try await row in try await connection.query(
            """
            SELECT position, prev_hash, \(unescaped: AuditEventDigest.hashedColumns), details->>'content_sha256'
            FROM audit_events
            WHERE object_type = 'report' AND object_id = \(report.uuidString.lowercased()) AND action = 'report.sealed' AND outcome = 'ok'
            ORDER BY position LIMIT 1
            """, logger: logger
        ) {
            var cells = ColumnReader(row)
            let (position, previous) = (try cells.next(Int64.self), try cells.next(Data.self))
            let event = try AuditEventDigest(reading: &cells, previous: Array(previous), position: position)
            found = (position, try cells.next(String.self), event.hash)
        }
        guard let (position, sealed, eventHash) = found else { throw Failure.notSealed }
        guard position <= Int64(size) else { throw Failure.beyondCheckpoint(position: position, size: size) }
        var leaves: [MerkleLog.Hash] = []
        leaves.reserveCapacity(size)
        for try await hash in try await connection.query(
            "SELECT hash FROM audit_events WHERE position <= \(Int64(size)) ORDER BY position", logger: logger
        ).decode(Data.self) { leaves.append(MerkleLog.leafHash(hash)) }
        let today = try await connection.systemTransaction(logger: logger) {
            try await AuditSeals.digests(of: .report, [report], on: connection, logger: logger)[report]
        }
        return ReportInclusion(
            report: report, position: position, eventHash: eventHash, sealed: sealed, holdsToday: today, treeSize: leaves.count,
            proof: leaves.count == size ? MerkleLog.inclusionProof(of: Int(position - 1), in: leaves[...]) : [])
    }
}
