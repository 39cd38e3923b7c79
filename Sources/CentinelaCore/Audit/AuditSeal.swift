import Crypto
import Foundation

/// The fingerprint of what a report or an amendment holds, kept in the audit log by the
/// sequencer's `report.sealed` and `amendment.sealed` events (decision 43), so that a narrative
/// rewritten, an adult added or an amendment deleted after the fact shows in `audit verify`.
///
/// SHA-256, as lowercase hex, of the fields in a fixed order, each as its UTF-8 text followed by
/// U+001F, an absent field as U+0000 alone: the same bytes however the fields are read back.
public enum AuditSeal {
    public static func digest(_ fields: [String?]) -> String {
        var hasher = SHA256()
        for field in fields {
            if let field {
                hasher.update(data: Data(field.utf8))
                hasher.update(data: [0x1F])
            } else {
                hasher.update(data: [0x00])
            }
        }
        return hasher.finalize().lowercaseHex
    }
}
