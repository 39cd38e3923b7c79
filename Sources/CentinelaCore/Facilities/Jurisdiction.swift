/// An education authority's territory: a country, a state or a municipality.
///
/// Jurisdictions form a tree (country → state → municipality); alerts are routed to the regulators
/// of a facility's jurisdiction and of every jurisdiction above it.
public struct Jurisdiction: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Jurisdiction>

    public enum Level: String, ControlledVocabulary {
        case country
        case state
        case municipality
    }

    public var id: ID
    /// A short stable code, e.g. `MX` or `MX-JAL`.
    public var code: String
    public var name: String
    public var level: Level
    public var parentID: ID?
    /// BCP 47 language tag used for texts written to this jurisdiction's regulators (e.g. `es`, `en`).
    public var language: String

    public init(id: ID, code: String, name: String, level: Level, parentID: ID?, language: String) {
        self.id = id
        self.code = code
        self.name = name
        self.level = level
        self.parentID = parentID
        self.language = language
    }
}
