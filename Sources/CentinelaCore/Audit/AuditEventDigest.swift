import Crypto
import Foundation

/// An audit event's hash in the chain (Schema/0002's `audit_event_digest`), computed in Swift so
/// that verifying the chain never runs code stored in the database it checks: a replaced
/// database function can no longer vouch for an edited row (issue 24).
///
/// SHA-256 of the previous hash followed by the UTF-8 of the fields joined by U+001F: position,
/// time (UTC, microseconds, `2026-12-07T13:42:01.123456Z`), request id, actor token, actor role,
/// action, object type, object id, outcome, details (the database's jsonb text); absent ones as ''.
public struct AuditEventDigest: Sendable {
    public var previous: [UInt8]
    public var position: Int64
    public var occurredAtMicroseconds: Int64
    public var requestID: String
    public var actorToken: String?
    public var actorRole: String?
    public var action: String
    public var objectType: String
    public var objectID: String?
    public var outcome: String
    public var details: String

    public init(
        previous: [UInt8], position: Int64, occurredAtMicroseconds: Int64, requestID: String, actorToken: String?, actorRole: String?,
        action: String, objectType: String, objectID: String?, outcome: String, details: String
    ) {
        self.previous = previous
        self.position = position
        self.occurredAtMicroseconds = occurredAtMicroseconds
        self.requestID = requestID
        self.actorToken = actorToken
        self.actorRole = actorRole
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.outcome = outcome
        self.details = details
    }

    public var hash: [UInt8] {
        let fields = [
            String(position), Self.timestamp(occurredAtMicroseconds), requestID, actorToken ?? "", actorRole ?? "", action, objectType,
            objectID ?? "", outcome, details,
        ]
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Data(fields.joined(separator: "\u{1F}").utf8))
        return Array(hasher.finalize())
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC, as the chain's function writes the time.
    public static func timestamp(_ microseconds: Int64) -> String {
        UTCTimestamp.text(ticks: microseconds, fractionDigits: 6)
    }
}
