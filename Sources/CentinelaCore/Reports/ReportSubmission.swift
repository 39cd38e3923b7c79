/// An incident report as submitted, before it is stored. `validate(today:)` holds every rule a
/// report must meet, whoever submits it and however.
public struct ReportSubmission: Hashable, Sendable {
    /// An adult the report implicates: someone on the facility's roster, or a person described
    /// by name and role when the reporter cannot say who on the roster it is.
    public enum ImplicatedAdult: Hashable, Sendable {
        case rostered(staffRef: String)
        case described(name: String, role: Adult.Role)
    }

    /// A child affected, under a pseudonymous reference chosen by the reporter.
    public struct AffectedChild: Hashable, Sendable {
        public var reference: String
        public var ageYears: Int

        public init(reference: String, ageYears: Int) {
            self.reference = reference
            self.ageYears = ageYears
        }
    }

    public var facilityID: Facility.ID
    public var occurredFrom: CalendarDate
    public var occurredTo: CalendarDate
    public var occurredApproximate: Bool
    public var discoveredOn: CalendarDate
    public var category: IncidentReport.Category
    public var reporterType: IncidentReport.ReporterType
    public var adults: [ImplicatedAdult]
    public var children: [AffectedChild]
    public var modusOperandi: [IncidentReport.ModusOperandi]
    public var narrative: String

    public init(
        facilityID: Facility.ID, occurredFrom: CalendarDate, occurredTo: CalendarDate, occurredApproximate: Bool,
        discoveredOn: CalendarDate, category: IncidentReport.Category, reporterType: IncidentReport.ReporterType,
        adults: [ImplicatedAdult], children: [AffectedChild], modusOperandi: [IncidentReport.ModusOperandi],
        narrative: String
    ) {
        self.facilityID = facilityID
        self.occurredFrom = occurredFrom
        self.occurredTo = occurredTo
        self.occurredApproximate = occurredApproximate
        self.discoveredOn = discoveredOn
        self.category = category
        self.reporterType = reporterType
        self.adults = adults
        self.children = children
        self.modusOperandi = modusOperandi
        self.narrative = narrative
    }

    /// A rule a submission breaks: the field (a JSON pointer into the API's form) and why.
    public struct Issue: Hashable, Sendable {
        public var field: String
        public var message: String
    }

    public static let maximumAdults = 50
    public static let maximumChildren = 100
    public static let maximumNarrative = 20_000

    /// Every rule the submission breaks, given the date it is received on.
    public func validate(today: CalendarDate) -> [Issue] {
        var issues: [Issue] = []
        func fail(_ field: String, _ message: String) { issues.append(Issue(field: field, message: message)) }
        if occurredTo < occurredFrom { fail("/occurred/to", "must not be before /occurred/from") }
        if occurredFrom > today { fail("/occurred/from", "must not be in the future") }
        if occurredTo > today { fail("/occurred/to", "must not be in the future") }
        if discoveredOn > today { fail("/discoveredOn", "must not be in the future") }
        if discoveredOn < occurredFrom { fail("/discoveredOn", "must not be before the incident began (/occurred/from)") }
        if adults.count > Self.maximumAdults { fail("/adults", "must list at most \(Self.maximumAdults) adults") }
        for (index, adult) in adults.enumerated() {
            switch adult {
            case .rostered(let staffRef):
                if let problem = Self.staffRefProblem(staffRef) { fail("/adults/\(index)/staffRef", problem) }
            case .described(let name, _):
                let trimmed = name.trimmingWhitespace
                if trimmed.isEmpty || trimmed.count > 200 { fail("/adults/\(index)/name", "must be 1 to 200 characters") }
            }
        }
        if Set(adults).count != adults.count { fail("/adults", "must not name the same adult twice") }
        if children.count > Self.maximumChildren { fail("/children", "must list at most \(Self.maximumChildren) children") }
        var references = Set<String>()
        for (index, child) in children.enumerated() {
            if let problem = Self.childReferenceProblem(child.reference) { fail("/children/\(index)/ref", problem) }
            if !(0...17).contains(child.ageYears) { fail("/children/\(index)/age", "must be a child's age, 0 to 17") }
            if !references.insert(child.reference).inserted { fail("/children/\(index)/ref", "is listed twice") }
        }
        if Set(modusOperandi).count != modusOperandi.count { fail("/modusOperandi", "must not repeat a tag") }
        let narrativeLength = narrative.trimmingWhitespace.count
        if narrativeLength == 0 || narrative.count > Self.maximumNarrative {
            fail("/narrative", "must be 1 to \(Self.maximumNarrative) characters")
        }
        return issues
    }

    /// Children are never named: a reference is a short code with at least one digit (`NNA-01`,
    /// `C3`), which a name is not.
    public static func childReferenceProblem(_ reference: String) -> String? {
        let scalars = Array(reference.unicodeScalars)
        let shapeOK =
            (1...64).contains(scalars.count)
            && FacilityRules.isCodeStart(scalars[0])
            && scalars.allSatisfy { FacilityRules.isCodeStart($0) || "._-".unicodeScalars.contains($0) }
        guard shapeOK, scalars.contains(where: { ("0"..."9").contains($0) }) else {
            return "must be a pseudonymous reference such as NNA-01 (letters, digits, . _ -, with a digit); never a child's name"
        }
        return nil
    }

    public static func staffRefProblem(_ reference: String) -> String? {
        let scalars = Array(reference.unicodeScalars)
        guard (1...64).contains(scalars.count), FacilityRules.isCodeStart(scalars[0]),
            scalars.allSatisfy({ FacilityRules.isCodeStart($0) || "._/-".unicodeScalars.contains($0) })
        else { return "must be the school's staff reference: 1 to 64 letters, digits or . _ / -" }
        return nil
    }

    /// Whether any affected child is under six: the risk model weighs such incidents more.
    public var involvesChildUnderSix: Bool { children.contains { $0.ageYears < 6 } }
}

extension IncidentReport.Status {
    /// Regulators move a report along; `received` is only where it starts. Any decision can be
    /// revisited (new evidence reopens a closed case), but a status is never set to itself.
    public func mayChange(to next: IncidentReport.Status) -> Bool {
        next != .received && next != self
    }
}
