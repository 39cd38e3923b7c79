/// Who is calling: the holder of an API token, its role and the facilities or jurisdictions it is
/// bound to. Resolved afresh on every request, so a revoked token stops working at once.
public struct Principal: Hashable, Sendable {
    /// The token's id: the principal is the token, which names its holder.
    public typealias ID = Identifier<Principal>

    public enum Role: String, ControlledVocabulary {
        /// A school's principal or staff: bound to one facility or a school group's few.
        case school
        /// An education regulator: bound to jurisdictions, and everything below them.
        case regulator
        /// The operator: registers jurisdictions and facilities, issues tokens. Reads no case.
        case admin
    }

    public var id: ID
    /// The person or system holding the token, e.g. "Lic. Ana Ruiz, SEP Jalisco".
    public var holder: String
    public var role: Role
    /// For schools: the facilities the token is bound to.
    public var facilityIDs: Set<Facility.ID>
    /// For regulators: the bound jurisdictions and every jurisdiction below them.
    public var jurisdictionIDs: Set<Jurisdiction.ID>

    public init(
        id: ID, holder: String, role: Role, facilityIDs: Set<Facility.ID> = [],
        jurisdictionIDs: Set<Jurisdiction.ID> = []
    ) {
        self.id = id
        self.holder = holder
        self.role = role
        self.facilityIDs = facilityIDs
        self.jurisdictionIDs = jurisdictionIDs
    }
}

/// What each role may do, as plain rules. The HTTP layer asks these before touching data; the
/// database's row-level security enforces the same rules a second time.
extension Principal {
    /// Registering jurisdictions and facilities, issuing tokens.
    public var mayAdminister: Bool { role == .admin }

    /// Seeing a facility's record (name, code, address): its school, its regulators, the operator.
    public func maySee(_ facility: FacilityReference) -> Bool {
        switch role {
        case .admin: true
        case .regulator: jurisdictionIDs.contains(facility.jurisdictionID)
        case .school: facilityIDs.contains(facility.id)
        }
    }

    /// Reading and submitting the facility's reports, reading its roster: its school and its
    /// regulators (who also take hotline and parent complaints about it). Never the operator.
    public func mayHandleReports(of facility: FacilityReference) -> Bool {
        switch role {
        case .admin: false
        case .regulator: jurisdictionIDs.contains(facility.jurisdictionID)
        case .school: facilityIDs.contains(facility.id)
        }
    }

    /// Recording a regulator's decision on a report (under review, substantiated, …).
    public func mayDecideOnReports(of facility: FacilityReference) -> Bool {
        role == .regulator && jurisdictionIDs.contains(facility.jurisdictionID)
    }

    /// Maintaining the staff roster: the school itself.
    public func mayMaintainRoster(of facility: FacilityReference) -> Bool {
        role == .school && facilityIDs.contains(facility.id)
    }
}

/// The two facts access decisions about a facility need.
public struct FacilityReference: Hashable, Sendable {
    public var id: Facility.ID
    public var jurisdictionID: Jurisdiction.ID

    public init(id: Facility.ID, jurisdictionID: Jurisdiction.ID) {
        self.id = id
        self.jurisdictionID = jurisdictionID
    }
}

extension Facility {
    public var reference: FacilityReference { FacilityReference(id: id, jurisdictionID: jurisdictionID) }
}
