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

/// Appends audit events. Call it as the last statement of a transaction: the chain lock it takes is
/// held until commit.
public enum AuditLog {
    public static func append(_ event: AuditEvent, on connection: PostgresConnection, logger: Logger) async throws {
        let details = String(
            decoding: try JSONSerialization.data(withJSONObject: event.details, options: [.sortedKeys]), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO audit_events
                (request_id, actor_token, actor_role, action, object_type, object_id, outcome, details)
            VALUES (\(event.requestID), \(event.actor?.id.rawValue), \(event.actorRole), \(event.action),
                    \(event.objectType), \(event.objectID), \(event.outcome.rawValue), \(details)::jsonb)
            """, logger: logger)
    }
}

/// The result of walking the audit chain from its first row.
public struct AuditVerification: Sendable, Equatable {
    public enum Break: Sendable, Equatable {
        /// The row's content no longer matches its hash: it was edited.
        case alteredRow(position: Int64)
        /// The row does not follow the one before it: rows were deleted or inserted out of band.
        case brokenLink(position: Int64, expectedPrevious: Int64)
        /// The row's `prev_hash` is not the previous row's hash.
        case hashMismatch(position: Int64)
    }

    public var rowsChecked: Int
    public var firstBreak: Break?

    public var isIntact: Bool { firstBreak == nil }

    public init(rowsChecked: Int, firstBreak: Break?) {
        self.rowsChecked = rowsChecked
        self.firstBreak = firstBreak
    }
}

public enum AuditVerifier {
    /// Recomputes every row's hash in Swift (`AuditEventDigest`; never the database's own
    /// `audit_event_digest`, which whoever could edit a row could also replace) and checks each
    /// link, streaming in chain order; stops at the first break.
    public static func verify(on connection: PostgresConnection, logger: Logger) async throws -> AuditVerification {
        let rows = try await connection.query(
            """
            SELECT position, prev_hash, hash, (extract(epoch FROM occurred_at) * 1000000)::bigint, request_id,
                   actor_token::text, actor_role, action, object_type, object_id, outcome, details::text
            FROM audit_events e ORDER BY position
            """, logger: logger)
        var checked = 0
        var previous: (position: Int64, hash: Data)? = nil
        let genesis = Data(repeating: 0, count: 32)
        for try await row in rows {
            var cells = ColumnReader(row)
            let (position, prevHash, hash) = (try cells.next(Int64.self), try cells.next(Data.self), try cells.next(Data.self))
            let digest = AuditEventDigest(
                previous: Array(prevHash), position: position, occurredAtMicroseconds: try cells.next(Int64.self),
                requestID: try cells.next(String.self), actorToken: try cells.next(String?.self), actorRole: try cells.next(String?.self),
                action: try cells.next(String.self), objectType: try cells.next(String.self), objectID: try cells.next(String?.self),
                outcome: try cells.next(String.self), details: try cells.next(String.self))
            let contentMatches = digest.hash == Array(hash)
            let expectedPosition = (previous?.position ?? 0) + 1
            if position != expectedPosition {
                return AuditVerification(
                    rowsChecked: checked, firstBreak: .brokenLink(position: position, expectedPrevious: expectedPosition - 1))
            }
            if prevHash != (previous?.hash ?? genesis) {
                return AuditVerification(rowsChecked: checked, firstBreak: .hashMismatch(position: position))
            }
            if !contentMatches {
                return AuditVerification(rowsChecked: checked, firstBreak: .alteredRow(position: position))
            }
            checked += 1
            previous = (position, hash)
        }
        return AuditVerification(rowsChecked: checked, firstBreak: nil)
    }
}
