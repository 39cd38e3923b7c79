/// A school or childcare centre that reports incidents and is scored.
public struct Facility: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Facility>

    /// What kind of establishment it is; young children's facilities weigh differently in the risk model.
    public enum Kind: String, ControlledVocabulary {
        case daycare
        case preschool
        case primary
        case secondary
        case upperSecondary = "upper_secondary"
        case specialEducation = "special_education"
        case other
    }

    public var id: ID
    /// The official code of the establishment, e.g. a national school or childcare-centre code.
    public var externalCode: String
    public var name: String
    public var kind: Kind
    public var jurisdictionID: Jurisdiction.ID
    public var address: Address
    /// Children enrolled, when known; used to normalise incident load against peers.
    public var enrolment: Int?

    public init(
        id: ID,
        externalCode: String,
        name: String,
        kind: Kind,
        jurisdictionID: Jurisdiction.ID,
        address: Address,
        enrolment: Int?
    ) {
        self.id = id
        self.externalCode = externalCode
        self.name = name
        self.kind = kind
        self.jurisdictionID = jurisdictionID
        self.address = address
        self.enrolment = enrolment
    }
}

/// A facility's postal address.
public struct Address: Hashable, Sendable, Codable {
    public var street: String?
    public var locality: String?
    public var postalCode: String?

    public init(street: String? = nil, locality: String? = nil, postalCode: String? = nil) {
        self.street = street
        self.locality = locality
        self.postalCode = postalCode
    }
}
