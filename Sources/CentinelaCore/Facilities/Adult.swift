/// An adult known to a facility: an entry in its staff roster.
public struct Adult: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Adult>

    public enum Role: String, ControlledVocabulary {
        case director
        case teacher
        case assistant
        case caregiver
        case administrative
        case cook
        case driver
        case security
        case maintenance
        case volunteer
        case other
    }
}
