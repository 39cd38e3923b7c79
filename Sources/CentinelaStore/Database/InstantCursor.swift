import Foundation

/// Where a page ends in a list ordered newest first by an instant and then by id (reports by
/// receipt, patterns by their last report): the instant in microseconds since 1970 and the id.
/// Its text is what the API wraps into an opaque cursor.
public struct InstantCursor: Sendable, Equatable {
    public var microseconds: Int64
    public var id: UUID

    public init(microseconds: Int64, id: UUID) {
        self.microseconds = microseconds
        self.id = id
    }

    public init(_ instant: Date, id: UUID) {
        self.init(microseconds: Int64((instant.timeIntervalSince1970 * 1_000_000).rounded()), id: id)
    }

    public var text: String { "\(microseconds)_\(id.uuidString.lowercased())" }

    public init?(text: String) {
        let parts = text.split(separator: "_")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.init(microseconds: micros, id: id)
    }
}
