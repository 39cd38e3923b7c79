import Foundation

/// A typed identifier: `Identifier<Facility>` can never be passed where an `Identifier<IncidentReport>` is meant.
///
/// Every entity in Centinela is keyed by a UUID in the database; the phantom `Entity` parameter keeps
/// the ids apart at compile time without a hand-written wrapper per entity.
public struct Identifier<Entity>: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UUID

    public init(_ rawValue: UUID) {
        self.rawValue = rawValue
    }

    /// Parses the canonical textual form of a UUID; `nil` for anything else.
    public init?(uuidString: String) {
        guard let uuid = UUID(uuidString: uuidString) else { return nil }
        self.rawValue = uuid
    }

    /// A new random identifier.
    public static func random() -> Self {
        Self(UUID())
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UUID.self)
    }

    /// Lowercase, as every id the API writes (Foundation would write a UUID in capitals: report
    /// ids inside a score's reasons read differently from the same ids everywhere else; issue 22).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Lower-case, as PostgreSQL prints UUIDs, so ids read the same in logs, SQL and JSON.
    /// The lowercase hyphenated form, written directly: `uuidString` goes through a formatted
    /// print, and reasons carry millions of ids in a full rescoring.
    public var description: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return withUnsafeBytes(of: rawValue.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var at = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    buffer[at] = digits[Int(byte >> 4)]
                    buffer[at + 1] = digits[Int(byte & 0x0f)]
                    at += 2
                }
                return at
            }
        }
    }
}
