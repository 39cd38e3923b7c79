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

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }

    /// Lower-case, as PostgreSQL prints UUIDs, so ids read the same in logs, SQL and JSON.
    public var description: String { self.rawValue.uuidString.lowercased() }
}
