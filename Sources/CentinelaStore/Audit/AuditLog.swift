import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// One audited access: who did what to which object, when, in which request, and how it ended.
public struct AuditEvent: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case ok, denied
        case notFound = "not_found"
        case invalid, error
    }

    public var requestID: String
    public var actor: Principal?
    /// `system` for the operator's command-line actions.
    public var actorRole: String?
    /// `noun.verb`, e.g. `report.read`, `report.create`, `token.revoke`.
    public var action: String
    public var objectType: String
    public var objectID: String?
    public var outcome: Outcome
    /// Small, non-personal facts (counts, filters); never narratives, names or child references.
    public var details: [String: String]

    public init(
        requestID: String, actor: Principal?, action: String, objectType: String, objectID: String?,
        outcome: Outcome, details: [String: String] = [:]
    ) {
        self.requestID = requestID
        self.actor = actor
        self.actorRole = actor?.role.rawValue
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.outcome = outcome
        self.details = details
    }

    /// An action taken at the command line by the operator.
    public static func system(
        action: String, objectType: String, objectID: String?, details: [String: String] = [:]
    )
        -> AuditEvent
    {
        var event = AuditEvent(
            requestID: "cli-\(UUID().uuidString.lowercased())", actor: nil, action: action, objectType: objectType,
            objectID: objectID, outcome: .ok, details: details)
        event.actorRole = "system"
        return event
    }
}

/// Appends audit events: a plain insert into `audit_pending`, taking no lock, so that writers never
/// wait on one another; the sequencer chains them within a second of commit (decision 43). An
/// event rolled back with its transaction never existed.
public enum AuditLog {
    public static func append(_ event: AuditEvent, on connection: PostgresConnection, logger: Logger) async throws {
        let details = String(
            decoding: try JSONSerialization.data(withJSONObject: event.details, options: [.sortedKeys]), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO audit_pending
                (request_id, actor_token, actor_role, action, object_type, object_id, outcome, details)
            VALUES (\(event.requestID), \(event.actor?.id.rawValue), \(event.actorRole), \(event.action),
                    \(event.objectType), \(event.objectID), \(event.outcome.rawValue), \(details)::jsonb)
            """, logger: logger)
    }

    /// Appends several events in one statement, in their order (a group of reports filed together).
    public static func append(_ events: [AuditEvent], on connection: PostgresConnection, logger: Logger) async throws {
        guard !events.isEmpty else { return }
        let json =
            "["
            + events.map { event in
                """
                {"request_id":\(JSONText.string(event.requestID)),"actor_token":\(JSONText.string(event.actor?.id.description)),\
                "actor_role":\(JSONText.string(event.actorRole)),"action":\(JSONText.string(event.action)),\
                "object_type":\(JSONText.string(event.objectType)),"object_id":\(JSONText.string(event.objectID)),\
                "outcome":\(JSONText.string(event.outcome.rawValue)),"details":\(JSONText.object(event.details))}
                """
            }.joined(separator: ",") + "]"
        // WITH ORDINALITY and ORDER BY: the identity key, and so the log's order, follows the events'.
        try await connection.query(
            """
            INSERT INTO audit_pending
                (request_id, actor_token, actor_role, action, object_type, object_id, outcome, details)
            SELECT request_id, actor_token, actor_role, action, object_type, object_id, outcome, details
            FROM json_populate_recordset(NULL::audit_pending, \(json)::json) WITH ORDINALITY AS x
            ORDER BY x.ordinality
            """, logger: logger)
    }
}

extension AuditEventDigest {
    /// The columns of an audit row (`audit_events` or `audit_pending`) that its hash covers, in
    /// the order `init(reading:previous:position:)` reads them: the time as microseconds since 1970
    /// and the details as the text PostgreSQL prints for them, the bytes the hash covers.
    /// A constant, interpolated `unescaped:` into queries.
    static let hashedColumns =
        "(extract(epoch FROM occurred_at) * 1000000)::bigint, request_id, actor_token::text, actor_role, action, object_type, object_id, outcome, details::text"

    /// Reads `hashedColumns` from `cells`.
    init(reading cells: inout ColumnReader, previous: [UInt8], position: Int64) throws {
        self.init(
            previous: previous, position: position, occurredAtMicroseconds: try cells.next(Int64.self),
            requestID: try cells.next(String.self), actorToken: try cells.next(String?.self), actorRole: try cells.next(String?.self),
            action: try cells.next(String.self), objectType: try cells.next(String.self), objectID: try cells.next(String?.self),
            outcome: try cells.next(String.self), details: try cells.next(String.self))
    }
}

/// The result of walking the audit chain from its first row, and of holding the log against the
/// checkpoints given.
public struct AuditVerification: Sendable, Equatable {
    public enum Break: Sendable, Equatable {
        /// The row's content no longer matches its hash: it was edited.
        case alteredRow(position: Int64)
        /// The row does not follow the one before it: rows were deleted or inserted out of band.
        case brokenLink(position: Int64, expectedPrevious: Int64)
        /// The row's `prev_hash` is not the previous row's hash.
        case hashMismatch(position: Int64)
        /// The log holds fewer events than a checkpoint signed for: its newest were removed.
        case truncated(checkpoint: AuditCheckpoint, logSize: Int)
        /// The log's first `checkpoint.size` events are not those the checkpoint signed for:
        /// events were edited, removed or inserted, and the chain re-hashed to hide it.
        case rewritten(checkpoint: AuditCheckpoint)
        /// A sealed report or amendment no longer holds what it held when sealed (`removed`:
        /// it is gone), at the seal's position.
        case contentChanged(position: Int64, kind: String, id: String, removed: Bool)
    }

    public var rowsChecked: Int
    /// The checkpoints the log was found to extend.
    public var checkpointsHeld: Int
    public var firstBreak: Break?

    public var isIntact: Bool { firstBreak == nil }

    public init(rowsChecked: Int, checkpointsHeld: Int = 0, firstBreak: Break?) {
        self.rowsChecked = rowsChecked
        self.checkpointsHeld = checkpointsHeld
        self.firstBreak = firstBreak
    }
}

public enum AuditVerifier {
    /// Recomputes every row's hash in Swift (`AuditEventDigest`; never the database's own
    /// `audit_event_digest`, which whoever could edit a row could also replace) and checks each
    /// link, streaming in chain order; stops at the first break. Each checkpoint (verified
    /// signed notes, kept outside the database) must be the root of the log's first `size`
    /// events: a log re-hashed after an edit, or cut short, no longer is.
    public static func verify(
        on connection: PostgresConnection, checkpoints: [AuditCheckpoint] = [], logger: Logger
    ) async throws -> AuditVerification {
        let rows = try await connection.query(
            "SELECT position, prev_hash, hash, \(unescaped: AuditEventDigest.hashedColumns) FROM audit_events ORDER BY position",
            logger: logger)
        var awaiting = checkpoints.sorted { $0.size < $1.size }[...]
        var held = 0
        var tree = MerkleLog.Frontier()
        func holdCheckpoints() -> AuditCheckpoint? {
            while let next = awaiting.first, next.size == tree.size {
                guard next.root == tree.root else { return next }
                held += 1
                awaiting.removeFirst()
            }
            return nil
        }
        if let broken = holdCheckpoints() {
            return AuditVerification(rowsChecked: 0, firstBreak: .rewritten(checkpoint: broken))
        }
        var checked = 0
        var previous: (position: Int64, hash: Data)? = nil
        let genesis = Data(repeating: 0, count: 32)
        for try await row in rows {
            var cells = ColumnReader(row)
            let (position, prevHash, hash) = (try cells.next(Int64.self), try cells.next(Data.self), try cells.next(Data.self))
            let digest = try AuditEventDigest(reading: &cells, previous: Array(prevHash), position: position)
            let contentMatches = digest.hash == Array(hash)
            let expectedPosition = (previous?.position ?? 0) + 1
            func broken(_ why: AuditVerification.Break) -> AuditVerification {
                AuditVerification(rowsChecked: checked, checkpointsHeld: held, firstBreak: why)
            }
            if position != expectedPosition {
                return broken(.brokenLink(position: position, expectedPrevious: expectedPosition - 1))
            }
            if prevHash != (previous?.hash ?? genesis) { return broken(.hashMismatch(position: position)) }
            if !contentMatches { return broken(.alteredRow(position: position)) }
            checked += 1
            previous = (position, hash)
            tree.append(MerkleLog.leafHash(hash))
            if let rewritten = holdCheckpoints() { return broken(.rewritten(checkpoint: rewritten)) }
        }
        if let beyond = awaiting.first {
            return AuditVerification(
                rowsChecked: checked, checkpointsHeld: held, firstBreak: .truncated(checkpoint: beyond, logSize: tree.size))
        }
        let changed = try await verifySeals(on: connection, logger: logger)
        return AuditVerification(rowsChecked: checked, checkpointsHeld: held, firstBreak: changed)
    }

    /// Reads every sealed report and amendment again, a batch at a time, and compares its seal
    /// with the one in the log (whose own integrity the chain and the checkpoints have shown).
    static func verifySeals(on connection: PostgresConnection, logger: Logger) async throws -> AuditVerification.Break? {
        var after: Int64 = 0
        while true {
            // A page of seals at a time, by position: a national log holds millions.
            var page: [(position: Int64, kind: AuditSeals.Kind, id: UUID, digest: String)] = []
            for try await (position, action, object, digest) in try await connection.query(
                """
                SELECT position, action, object_id, details->>'content_sha256' FROM audit_events
                WHERE position > \(after) AND action IN ('report.sealed', 'amendment.sealed') AND outcome = 'ok'
                ORDER BY position LIMIT 2000
                """, logger: logger
            ).decode((Int64, String, String?, String?).self) {
                guard let kind = AuditSeals.Kind(rawValue: String(action.prefix { $0 != "." })), let object,
                    let id = UUID(uuidString: object), let digest
                else { return .contentChanged(position: position, kind: action, id: object ?? "", removed: false) }
                page.append((position, kind, id, digest))
            }
            guard let last = page.last else { return nil }
            after = last.position
            let found = try await connection.systemTransaction(logger: logger) {
                try await AuditSeals.digests(of: page.map { ($0.kind, $0.id) }, on: connection, logger: logger)
            }
            for seal in page where found[seal.id] != seal.digest {
                return .contentChanged(
                    position: seal.position, kind: seal.kind.rawValue, id: seal.id.uuidString.lowercased(), removed: found[seal.id] == nil)
            }
        }
    }
}
