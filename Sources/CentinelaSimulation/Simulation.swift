import CentinelaCore
import Foundation

/// How big a simulated country to make. `full` is national scale: 250,000 facilities and about
/// two million reports. `network` is shaped like the case Centinela exists for: one network
/// abusing young children at 18 facilities in 7 states over about two years, among 300 ordinary
/// facilities whose complaints now and then carry the same tactics. `young` is a register in its
/// first months: 300 facilities, few of which uploaded a roster (the others' staff are registered
/// when a report names them), so few records per name; staff who moved one to three years apart,
/// written with abbreviations and nicknames; and namesakes — different people with one of the
/// commonest full names, in different states and roles.
public enum SimulationScale: String, Sendable, CaseIterable, Codable {
    case tiny, small, full, network, young
}

public struct SimulationConfiguration: Sendable, Codable, Equatable {
    public var seed: UInt64
    public var scale: SimulationScale
    public var facilities: Int
    public var rings: Int
    public var loneOffenders: Int
    /// Reports are received over this many years, up to and including `end`.
    public var years: Int
    public var end: CalendarDate
    /// Facilities of the one large network (the `network` scale), in `networkStates` states.
    public var networkFacilities: Int
    public var networkStates: Int
    /// Every ring report carries every tactic of its ring's signature (a clerk who ticks what the
    /// narrative names); otherwise each report carries each tactic with probability 0.75.
    public var consistentTactics: Bool
    /// Ordinary complaints now and then carry tactics rings use (photographs, several adults
    /// present, an outing off the premises), as real ones do.
    public var backgroundTactics: Bool
    /// A register in its first months (the `young` scale): see `SimulationScale`.
    public var youngRegister: Bool
    /// A heavier background, for checking that a risk model was not fitted to the ordinary one:
    /// twice the complaints per reporting facility, about one in ten naming a second adult (and
    /// some a third), and the tactics of `backgroundTactics`. Rings are planted exactly as without it.
    public var heavyBackground: Bool

    public init(
        seed: UInt64, scale: SimulationScale, end: CalendarDate, consistentTactics: Bool = false, backgroundTactics: Bool? = nil,
        heavyBackground: Bool = false
    ) {
        self.seed = seed
        self.scale = scale
        self.end = end
        self.years = 3
        self.consistentTactics = consistentTactics
        (networkFacilities, networkStates) = (0, 0)
        youngRegister = scale == .young
        switch scale {
        case .tiny: (facilities, rings, loneOffenders) = (300, 3, 3)
        case .small: (facilities, rings, loneOffenders) = (3_000, 6, 12)
        case .full: (facilities, rings, loneOffenders) = (250_000, 120, 600)
        case .young: (facilities, rings, loneOffenders) = (300, 3, 3)
        case .network:
            (facilities, rings, loneOffenders) = (318, 0, 6)
            (networkFacilities, networkStates) = (18, 7)
        }
        self.heavyBackground = heavyBackground
        self.backgroundTactics = backgroundTactics ?? (scale == .network || heavyBackground)
    }

    enum CodingKeys: String, CodingKey {
        case seed, scale, facilities, rings, loneOffenders, years, end, networkFacilities, networkStates, consistentTactics,
            backgroundTactics, youngRegister, heavyBackground
    }

    /// Ground truths written before the network scale have none of its keys.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seed = try c.decode(UInt64.self, forKey: .seed)
        scale = try c.decode(SimulationScale.self, forKey: .scale)
        facilities = try c.decode(Int.self, forKey: .facilities)
        rings = try c.decode(Int.self, forKey: .rings)
        loneOffenders = try c.decode(Int.self, forKey: .loneOffenders)
        years = try c.decode(Int.self, forKey: .years)
        end = try c.decode(CalendarDate.self, forKey: .end)
        networkFacilities = try c.decodeIfPresent(Int.self, forKey: .networkFacilities) ?? 0
        networkStates = try c.decodeIfPresent(Int.self, forKey: .networkStates) ?? 0
        consistentTactics = try c.decodeIfPresent(Bool.self, forKey: .consistentTactics) ?? false
        backgroundTactics = try c.decodeIfPresent(Bool.self, forKey: .backgroundTactics) ?? false
        youngRegister = try c.decodeIfPresent(Bool.self, forKey: .youngRegister) ?? false
        heavyBackground = try c.decodeIfPresent(Bool.self, forKey: .heavyBackground) ?? false
    }
}

// MARK: Rows

public struct SimulatedJurisdiction: Sendable {
    public var id: UUID
    public var code: String
    public var name: String
    public var level: Jurisdiction.Level
    public var parentID: UUID?
}

public struct SimulatedFacility: Sendable {
    public var id: UUID
    public var code: String
    public var name: String
    public var kind: Facility.Kind
    public var jurisdictionID: UUID
    public var locality: String
    public var enrolment: Int
}

public struct SimulatedAdult: Sendable {
    public var id: UUID
    public var facilityID: UUID
    public var staffRef: String
    public var fullName: String
    public var role: Adult.Role
    /// The person's synthetic national identifier, when the school recorded one.
    public var nationalID: String?
    /// The person's date of birth, when the school recorded it (most do).
    public var dateOfBirth: CalendarDate?
    public var startsOn: CalendarDate
}

public struct SimulatedReport: Sendable {
    public enum Implicated: Sendable {
        case rostered(UUID)
        case described(name: String, role: Adult.Role)
    }

    public struct StatusChange: Sendable {
        public var status: IncidentReport.Status
        public var secondsSince1970: Int64
    }

    public var id: UUID
    public var facilityID: UUID
    /// Receipt time, in seconds since 1970 (UTC).
    public var receivedAt: Int64
    public var occurredFrom: CalendarDate
    public var occurredTo: CalendarDate
    public var occurredApproximate: Bool
    public var discoveredOn: CalendarDate
    public var category: IncidentReport.Category
    public var reporterType: IncidentReport.ReporterType
    public var tags: [IncidentReport.ModusOperandi]
    public var narrative: String
    public var adults: [Implicated]
    public var children: [ReportSubmission.AffectedChild]
    public var statusChanges: [StatusChange]
}

/// Where the simulator's rows go, table by table, in an order that satisfies foreign keys:
/// jurisdictions first, then each facility followed by its staff and its reports.
public protocol SimulationSink {
    mutating func write(_ jurisdiction: SimulatedJurisdiction) throws
    mutating func write(_ facility: SimulatedFacility) throws
    mutating func write(_ adult: SimulatedAdult) throws
    mutating func write(_ report: SimulatedReport) throws
}

// MARK: Ground truth

/// What was planted, to score detection and linking against.
public struct GroundTruth: Sendable, Codable, Equatable {
    public struct Record: Sendable, Codable, Equatable, Hashable {
        public var facility: String
        public var staffRef: String
        public var name: String

        public init(facility: String, staffRef: String, name: String) {
            self.facility = facility
            self.staffRef = staffRef
            self.name = name
        }
    }

    public struct Person: Sendable, Codable, Equatable {
        public var person: String
        public var records: [Record]

        public init(person: String, records: [Record]) {
            self.person = person
            self.records = records
        }
    }

    public struct Ring: Sendable, Codable, Equatable {
        public var id: String
        public var facilities: [String]
        public var signature: [String]
        public var members: [Person]
        public var reports: [String]

        public init(id: String, facilities: [String], signature: [String], members: [Person], reports: [String]) {
            self.id = id
            self.facilities = facilities
            self.signature = signature
            self.members = members
            self.reports = reports
        }
    }

    public struct LoneOffender: Sendable, Codable, Equatable {
        public var person: Person
        public var reports: [String]
    }

    public struct Counts: Sendable, Codable, Equatable {
        public var jurisdictions = 0
        public var facilities = 0
        public var adults = 0
        public var reports = 0
        public var reportAdults = 0
        public var reportChildren = 0
        public var statusChanges = 0
    }

    public var configuration: SimulationConfiguration
    public var counts = Counts()
    public var rings: [Ring] = []
    public var loneOffenders: [LoneOffender] = []
    /// Everyone with more than one adult record (ring members who moved, and ordinary staff who
    /// changed schools): the pairs entity resolution should link.
    public var samePerson: [Person] = []
    /// Pairs of different people planted with one common full name (the `young` scale): never to
    /// be linked on names alone.
    public var namesakes: [[Record]] = []

    public init(configuration: SimulationConfiguration) {
        self.configuration = configuration
    }

    enum CodingKeys: String, CodingKey { case configuration, counts, rings, loneOffenders, samePerson, namesakes }

    /// Ground truths written before the young scale have no namesakes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try c.decode(SimulationConfiguration.self, forKey: .configuration)
        counts = try c.decode(Counts.self, forKey: .counts)
        rings = try c.decode([Ring].self, forKey: .rings)
        loneOffenders = try c.decode([LoneOffender].self, forKey: .loneOffenders)
        samePerson = try c.decode([Person].self, forKey: .samePerson)
        namesakes = try c.decodeIfPresent([[Record]].self, forKey: .namesakes) ?? []
    }
}

// MARK: The simulator

/// Generates a country's schools, staff and reports, with abuse rings planted among ordinary
/// background complaints. Deterministic for a configuration: the same seed gives the same rows.
/// Memory stays small: facilities are generated and written one at a time.
public struct Simulation: Sendable {
    public let configuration: SimulationConfiguration

    public init(_ configuration: SimulationConfiguration) {
        self.configuration = configuration
    }

    static let states: [(String, String)] = [
        ("AGU", "Aguascalientes"), ("BCN", "Baja California"), ("BCS", "Baja California Sur"), ("CAM", "Campeche"),
        ("CHP", "Chiapas"), ("CHH", "Chihuahua"), ("CMX", "Ciudad de México"), ("COA", "Coahuila"), ("COL", "Colima"),
        ("DUR", "Durango"), ("GUA", "Guanajuato"), ("GRO", "Guerrero"), ("HID", "Hidalgo"), ("JAL", "Jalisco"),
        ("MEX", "Estado de México"), ("MIC", "Michoacán"), ("MOR", "Morelos"), ("NAY", "Nayarit"), ("NLE", "Nuevo León"),
        ("OAX", "Oaxaca"), ("PUE", "Puebla"), ("QUE", "Querétaro"), ("ROO", "Quintana Roo"), ("SLP", "San Luis Potosí"),
        ("SIN", "Sinaloa"), ("SON", "Sonora"), ("TAB", "Tabasco"), ("TAM", "Tamaulipas"), ("TLA", "Tlaxcala"),
        ("VER", "Veracruz"), ("YUC", "Yucatán"), ("ZAC", "Zacatecas"),
    ]

    // Stream numbers for SeededRandom, one per part of the world.
    // Dates of birth draw from streams of their own, so that adding them changed nothing else.
    enum Stream: UInt64 {
        case ids = 1
        case rings, lone, movers, facility, facilityReports, births, personBirths, network, backgroundTactics, rosters,
            namesakes, heavyBackground
    }

    /// A young register: the share of facilities that uploaded their roster, and of the adults
    /// registered from a report whose date of birth or national identifier was written down.
    static let youngRosterShare = 0.1
    static let youngBirthRecorded = 0.35
    static let youngNationalIDRecorded = 0.15

    /// The share of roster entries with a date of birth.
    static let birthRecorded = 0.85

    /// A date of birth 20 to 64 years before the simulated period.
    func dateOfBirth(_ rng: inout SeededRandom) -> CalendarDate {
        CalendarDate(daysSinceEpoch: firstDay - 20 * 365 - rng.below(44 * 365))
    }

    /// A planted person's own date of birth: the same at every facility that records it.
    func dateOfBirth(person: String) -> CalendarDate {
        var hash = StableHash()
        for byte in person.utf8 { hash.combine(byte) }
        var rng = SeededRandom(seed: configuration.seed, stream: Stream.personBirths.rawValue, index: hash.value)
        return dateOfBirth(&rng)
    }

    /// A ring member or other person placed at a facility by the plan, with the name used there.
    struct Placement {
        var person: String
        var name: SpanishNames.PersonName
        var female: Bool
        var nationalID: String?
        var role: Adult.Role
        var ring: Int?
    }

    struct PlannedReport {
        var ring: Int?
        var lone: Int?
        var day: Int
        /// Persons implicated, by person id; a few are described by name instead of rostered.
        var persons: [String]
        var tags: [IncidentReport.ModusOperandi]
        var category: IncidentReport.Category
        var reporter: IncidentReport.ReporterType
        var dismissed: Bool
        /// An everyday complaint naming `persons` (a mover's, a namesake's): no ring's tactics.
        var ordinary = false

        static func ordinary(day: Int, person: String) -> PlannedReport {
            PlannedReport(
                ring: nil, lone: nil, day: day, persons: [person], tags: [], category: .other, reporter: .parent, dismissed: false,
                ordinary: true)
        }
    }

    struct Plan {
        var placements: [Int: [Placement]] = [:]
        var reports: [Int: [PlannedReport]] = [:]
        var truth: GroundTruth
        /// Persons planted as namesake pairs.
        var namesakes: [[String]] = []
    }

    static let rareTags: [IncidentReport.ModusOperandi] = [
        .disguise, .stagedAct, .childrenMadeToWatch, .filming, .photographing, .sedation, .offPremises,
        .removalFromClassroom,
    ]

    var firstDay: Int { configuration.end.daysSinceEpoch - configuration.years * 365 + 1 }

    /// Decides, before any facility is generated, where rings, lone offenders and movers are.
    func plan() -> Plan {
        let config = configuration
        var plan = Plan(truth: GroundTruth(configuration: config))
        let span = config.end.daysSinceEpoch - firstDay

        for ring in 0..<config.rings {
            var rng = SeededRandom(seed: config.seed, stream: Stream.rings.rawValue, index: UInt64(ring))
            let size = [2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 9, 11][rng.below(13)]
            let home = rng.below(config.facilities)
            var facilities = [home]
            if rng.chance(0.45) {
                for _ in 0..<rng.between(1...3) {
                    let other = rng.below(config.facilities)
                    if !facilities.contains(other) { facilities.append(other) }
                }
            }
            var rare = Self.rareTags
            rng.shuffle(&rare)
            var signature = Array(rare.prefix(rng.between(3...5)))
            signature.append(.severalAdultsPresent)
            let start = firstDay + rng.below(max(1, span - 240))
            var members: [GroundTruth.Person] = []
            var present: [Int: [String]] = [:]
            for member in 0..<size {
                let female = rng.chance(0.35)
                let name = SpanishNames.draw(&rng, female: female)
                let person = "R\(ring + 1)-P\(member + 1)"
                let nationalID = rng.chance(0.5) ? Self.syntheticNationalID(name, female: female, &rng) : nil
                let role: Adult.Role =
                    member == 0 && rng.chance(0.3)
                    ? .director : [.teacher, .teacher, .assistant, .caregiver, .maintenance, .security, .driver][rng.below(7)]
                for (position, facility) in facilities.enumerated() {
                    // Everyone works at the home facility; some move on to the others.
                    guard position == 0 || rng.chance(0.5) || (member == 0 && position == 1) else { continue }
                    let shown = position == 0 ? name : SpanishNames.variant(of: name, &rng)
                    plan.placements[facility, default: []].append(
                        Placement(person: person, name: shown, female: female, nationalID: nationalID, role: role, ring: ring))
                    present[facility, default: []].append(person)
                }
                // Records are filled in as the facilities are generated.
                members.append(.init(person: person, records: []))
            }
            for (position, facility) in facilities.enumerated() {
                let here = present[facility] ?? []
                guard here.count >= 1 else { continue }
                let count = position == 0 ? rng.between(3...7) : rng.between(1...3)
                var day = start + position * rng.between(90...200)
                for index in 0..<count {
                    day += rng.between(10...60)
                    var candidates = here
                    rng.shuffle(&candidates)
                    let implicated = Array(candidates.prefix(min(here.count, rng.between(2...5))))
                    let drawn = signature.filter { _ in rng.chance(0.75) }
                    let tags = config.consistentTactics ? signature : drawn
                    let category: IncidentReport.Category =
                        tags.contains(.filming) || tags.contains(.photographing)
                        ? (rng.chance(0.5) ? .productionOfAbuseImagery : .sexualAbuse)
                        : [.sexualAbuse, .sexualAbuse, .exposureToSexualContent, .inappropriateContact][rng.below(4)]
                    let reporter: IncidentReport.ReporterType =
                        [.parent, .parent, .childDisclosure, .hotline, .healthProfessional, .schoolStaff, .anonymous][rng.below(7)]
                    plan.reports[facility, default: []].append(
                        PlannedReport(
                            ring: ring, lone: nil, day: min(day, config.end.daysSinceEpoch), persons: implicated, tags: tags,
                            category: category, reporter: reporter, dismissed: index == 0 && rng.chance(0.4)))
                }
            }
            plan.truth.rings.append(
                .init(id: "R\(ring + 1)", facilities: [], signature: signature.map(\.rawValue), members: members, reports: []))
        }

        if config.networkFacilities > 0 { planNetwork(&plan) }

        for lone in 0..<config.loneOffenders {
            var rng = SeededRandom(seed: config.seed, stream: Stream.lone.rawValue, index: UInt64(lone))
            let facility = rng.below(config.facilities)
            let female = rng.chance(0.2)
            let name = SpanishNames.draw(&rng, female: female)
            let person = "L\(lone + 1)"
            plan.placements[facility, default: []].append(
                Placement(person: person, name: name, female: female, nationalID: nil, role: .teacher, ring: nil))
            var day = firstDay + rng.below(max(1, span - 400))
            for _ in 0..<rng.between(2...5) {
                day += rng.between(30...200)
                let category: IncidentReport.Category = [.grooming, .inappropriateContact, .physicalAbuse, .emotionalAbuse][rng.below(4)]
                plan.reports[facility, default: []].append(
                    PlannedReport(
                        ring: nil, lone: lone, day: min(day, config.end.daysSinceEpoch), persons: [person],
                        tags: rng.chance(0.5) ? [.giftsGrooming] : [.isolation], category: category,
                        reporter: [.parent, .parent, .childDisclosure, .schoolStaff][rng.below(4)], dismissed: rng.chance(0.5)))
            }
            plan.truth.loneOffenders.append(.init(person: .init(person: person, records: []), reports: []))
        }

        // Ordinary staff who changed schools: the same person on two rosters, written differently.
        // In a young register, each is named in a complaint at both schools, one to three years
        // apart (that is how they came into the register), in the same role.
        var rng = SeededRandom(seed: config.seed, stream: Stream.movers.rawValue, index: 0)
        for mover in 0..<(config.facilities / (config.youngRegister ? 10 : 25)) {
            let female = rng.chance(0.6)
            let name = SpanishNames.draw(&rng, female: female)
            let nationalID = rng.chance(0.4) ? Self.syntheticNationalID(name, female: female, &rng) : nil
            let person = "M\(mover + 1)"
            let first = rng.below(config.facilities)
            // Most transfers stay within a state's school system (facility i is in state i mod 32).
            let states = Self.states.count
            var second =
                rng.chance(0.75) && config.facilities > 2 * states
                ? first % states + states * rng.below(config.facilities / states)
                : rng.below(config.facilities)
            if second == first { second = (first + states) % config.facilities }
            let role: Adult.Role = config.youngRegister ? Self.staffRoles[rng.below(Self.staffRoles.count)] : .teacher
            plan.placements[first, default: []].append(
                Placement(person: person, name: name, female: female, nationalID: nationalID, role: role, ring: nil))
            plan.placements[second, default: []].append(
                Placement(
                    person: person, name: SpanishNames.variant(of: name, shortForms: config.youngRegister, &rng), female: female,
                    nationalID: nationalID, role: role, ring: nil))
            if config.youngRegister {
                let before = firstDay + rng.below(max(1, span - 400))
                let after = before + rng.between(365...max(365, min(1095, config.end.daysSinceEpoch - before)))
                plan.reports[first, default: []].append(.ordinary(day: before, person: person))
                plan.reports[second, default: []].append(.ordinary(day: after, person: person))
            }
        }
        if config.youngRegister { planNamesakes(&plan) }
        return plan
    }

    static let staffRoles: [Adult.Role] = [.teacher, .teacher, .teacher, .assistant, .caregiver, .administrative, .cook, .maintenance]

    /// Different people with one of the commonest full names, in different states and different
    /// roles, each named in a complaint at their own facility: the pairs linking must not join on
    /// names alone.
    func planNamesakes(_ plan: inout Plan) {
        let config = configuration
        let states = Self.states.count
        for pair in 0..<(config.facilities / 20) {
            var rng = SeededRandom(seed: config.seed, stream: Stream.namesakes.rawValue, index: UInt64(pair))
            let female = rng.chance(0.6)
            let name = SpanishNames.drawCommon(&rng, female: female)
            let here = rng.below(config.facilities)
            var there = rng.below(config.facilities)
            while there % states == here % states { there = rng.below(config.facilities) }
            let roles: [Adult.Role] = [.teacher, [.cook, .maintenance, .administrative, .security][rng.below(4)]]
            for (index, facility) in [here, there].enumerated() {
                let person = "H\(pair + 1)-\(index == 0 ? "a" : "b")"
                plan.placements[facility, default: []].append(
                    Placement(person: person, name: name, female: female, nationalID: nil, role: roles[index], ring: nil))
                plan.reports[facility, default: []].append(
                    .ordinary(day: firstDay + rng.below(config.end.daysSinceEpoch - firstDay + 1), person: person))
            }
            plan.namesakes.append(["H\(pair + 1)-a", "H\(pair + 1)-b"])
        }
    }

    static let kinds: [Facility.Kind] = [
        .daycare, .daycare, .preschool, .preschool, .preschool, .primary, .primary, .primary, .secondary, .upperSecondary,
        .specialEducation,
    ]

    /// The kind of facility `index` (its generator's first draw), known before it is generated.
    func kind(ofFacility index: Int) -> Facility.Kind {
        var rng = SeededRandom(seed: configuration.seed, stream: Stream.facility.rawValue, index: UInt64(index))
        return Self.kinds[rng.below(Self.kinds.count)]
    }

    /// The one large network: daycares and preschools in a few states, each with its own staff
    /// abusing children together (two to four adults a report), a few members moving on to a
    /// second or third school, reports spread over about two years, all with one style.
    func planNetwork(_ plan: inout Plan) {
        let config = configuration
        var rng = SeededRandom(seed: config.seed, stream: Stream.network.rawValue, index: 0)
        let ring = config.rings
        let stateCount = Self.states.count
        var states = Array(0..<stateCount)
        rng.shuffle(&states)
        states = Array(states.prefix(config.networkStates))
        // Young children's facilities in those states (facility i is in state i mod 32).
        var pool = (0..<config.facilities).filter {
            states.contains($0 % stateCount) && [.daycare, .preschool].contains(kind(ofFacility: $0))
        }
        rng.shuffle(&pool)
        // At least one facility in each state, the rest anywhere among them.
        var facilities: [Int] = []
        for state in states { if let first = pool.first(where: { $0 % stateCount == state }) { facilities.append(first) } }
        facilities += pool.filter { !facilities.contains($0) }.prefix(max(0, config.networkFacilities - facilities.count))
        var rare = Self.rareTags
        rng.shuffle(&rare)
        let signature = Array(rare.prefix(4)) + [.severalAdultsPresent]
        let span = 2 * 365
        let start = config.end.daysSinceEpoch - span - rng.below(60)
        var members: [GroundTruth.Person] = []
        var staffAt: [Int: [String]] = [:]
        var movers: [(person: String, name: SpanishNames.PersonName, female: Bool, nationalID: String?, role: Adult.Role)] = []
        for (position, facility) in facilities.enumerated() {
            for member in 0..<rng.between(2...4) {
                let female = rng.chance(0.5)
                let name = SpanishNames.draw(&rng, female: female)
                let person = "N\(ring + 1)-F\(position + 1)-P\(member + 1)"
                let role: Adult.Role =
                    member == 0 && rng.chance(0.4)
                    ? .director : [.teacher, .teacher, .assistant, .caregiver, .caregiver, .maintenance, .cook][rng.below(7)]
                let nationalID = rng.chance(0.4) ? Self.syntheticNationalID(name, female: female, &rng) : nil
                plan.placements[facility, default: []].append(
                    Placement(person: person, name: name, female: female, nationalID: nationalID, role: role, ring: ring))
                staffAt[facility, default: []].append(person)
                members.append(.init(person: person, records: []))
                if rng.chance(0.15) { movers.append((person, name, female, nationalID, role)) }
            }
        }
        // Some members work at a second school of the network later, written differently there.
        for mover in movers {
            let facility = facilities[rng.below(facilities.count)]
            guard staffAt[facility]?.contains(mover.person) != true else { continue }
            plan.placements[facility, default: []].append(
                Placement(
                    person: mover.person, name: SpanishNames.variant(of: mover.name, &rng), female: mover.female,
                    nationalID: mover.nationalID, role: mover.role, ring: ring))
            staffAt[facility, default: []].append(mover.person)
        }
        for facility in facilities {
            let here = staffAt[facility] ?? []
            var day = start + rng.below(span - 60)
            for _ in 0..<[1, 1, 1, 2, 2, 3][rng.below(6)] {
                var candidates = here
                rng.shuffle(&candidates)
                let implicated = Array(candidates.prefix(min(here.count, rng.between(2...4))))
                var tags = signature.filter { _ in rng.chance(0.75) }
                if config.consistentTactics || tags.count < 2 { tags = signature }
                let category: IncidentReport.Category =
                    tags.contains(.filming) || tags.contains(.photographing)
                    ? (rng.chance(0.5) ? .productionOfAbuseImagery : .sexualAbuse) : .sexualAbuse
                plan.reports[facility, default: []].append(
                    PlannedReport(
                        ring: ring, lone: nil, day: min(day, config.end.daysSinceEpoch), persons: implicated, tags: tags,
                        category: category, reporter: [.parent, .parent, .parent, .childDisclosure, .healthProfessional][rng.below(5)],
                        dismissed: rng.chance(0.3)))
                day += rng.between(20...120)
            }
        }
        plan.truth.rings.append(
            .init(id: "N\(ring + 1)", facilities: [], signature: signature.map(\.rawValue), members: members, reports: []))
    }

    /// Tactics an ordinary complaint may carry besides its everyday ones, with how often (drawn
    /// from a stream of their own, so that turning them on changes nothing else).
    static let backgroundTacticRates: [(IncidentReport.ModusOperandi, Double)] = [
        (.severalAdultsPresent, 0.02), (.offPremises, 0.01), (.photographing, 0.005), (.filming, 0.002), (.sedation, 0.001),
        (.childrenMadeToWatch, 0.001), (.disguise, 0.0005), (.stagedAct, 0.0005),
    ]

    /// A CURP-shaped identifier: 4 letters from the name, birth date, sex, state, consonants, digits.
    static func syntheticNationalID(_ name: SpanishNames.PersonName, female: Bool, _ rng: inout SeededRandom) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        func initial(_ text: String) -> Character {
            let plain = SpanishNames.stripAccents(text).uppercased()
            return plain.first.flatMap { letters.contains($0) ? $0 : nil } ?? "X"
        }
        let year = rng.between(55...99)
        let month = rng.between(1...12)
        let day = rng.between(1...28)
        let date = String(format: "%02d%02d%02d", year, month, day)
        let tail = (0..<5).map { _ in String(letters[rng.below(26)]) }.joined()
        return
            "\(initial(name.paternal))X\(initial(name.maternal ?? "X"))\(initial(name.given))\(date)\(female ? "M" : "H")\(tail)\(rng.below(10))"
    }

    /// Generates everything into `sink` and returns the ground truth.
    public func run<Sink: SimulationSink>(into sink: inout Sink) throws -> GroundTruth {
        let config = configuration
        var plan = plan()
        var truth = plan.truth
        var idRNG = SeededRandom(seed: config.seed, stream: Stream.ids.rawValue, index: 0)

        let country = SimulatedJurisdiction(
            id: UUID(uuid: uuidTuple(idRNG.uuidBytes())), code: "MX", name: "México", level: .country, parentID: nil)
        try sink.write(country)
        var states: [SimulatedJurisdiction] = []
        for (code, name) in Self.states {
            let state = SimulatedJurisdiction(
                id: UUID(uuid: uuidTuple(idRNG.uuidBytes())), code: "MX-\(code)", name: name, level: .state,
                parentID: country.id)
            try sink.write(state)
            states.append(state)
        }
        truth.counts.jurisdictions = 1 + states.count

        // Where each planted person ended up: person → records, filled in as facilities are made.
        var records: [String: [GroundTruth.Record]] = [:]
        var reportIDsByRing: [Int: [String]] = [:]
        var reportIDsByLone: [Int: [String]] = [:]
        var facilitiesByRing: [Int: [String]] = [:]

        for index in 0..<config.facilities {
            var rng = SeededRandom(seed: config.seed, stream: Stream.facility.rawValue, index: UInt64(index))
            let state = states[index % states.count]
            let kind = Self.kinds[rng.below(Self.kinds.count)]
            let typical: Double =
                switch kind {
                case .daycare: 60
                case .preschool: 90
                case .primary: 240
                case .secondary: 380
                case .upperSecondary: 450
                case .specialEducation, .other: 50
                }
            let enrolment = max(8, min(3000, Int(typical * _exp(0.55 * rng.normal()))))
            let code = String(
                format: "%02d%@%05d%@", (index % 32) + 1, Self.kindCode(kind), index % 100_000,
                String(UnicodeScalar(UInt8(65 + (index / 100_000) % 26))))
            let facility = SimulatedFacility(
                id: UUID(uuid: uuidTuple(rng.uuidBytes())), code: code,
                name: "\(Self.kindName(kind)) \(Self.patrons[rng.below(Self.patrons.count)])",
                kind: kind, jurisdictionID: state.id, locality: state.name, enrolment: enrolment)
            try sink.write(facility)
            truth.counts.facilities += 1

            // The roster: ordinary staff, then anyone the plan placed here.
            var staff: [(adult: SimulatedAdult, person: String?)] = []
            var births = SeededRandom(seed: config.seed, stream: Stream.births.rawValue, index: UInt64(index))
            let young = kind == .daycare || kind == .preschool
            let staffCount = max(2, enrolment / (young ? 10 : 22))
            for n in 0..<staffCount {
                let female = rng.chance(young ? 0.85 : 0.6)
                let name = SpanishNames.draw(&rng, female: female)
                let role: Adult.Role =
                    n == 0
                    ? .director
                    : [
                        .teacher, .teacher, .teacher, .assistant, young ? .caregiver : .teacher, .administrative, .cook,
                        .maintenance, .security,
                    ][rng.below(9)]
                let adult = SimulatedAdult(
                    id: UUID(uuid: uuidTuple(rng.uuidBytes())), facilityID: facility.id,
                    staffRef: String(format: "S-%04d", n + 1), fullName: name.full, role: role,
                    nationalID: rng.chance(0.3) ? Self.syntheticNationalID(name, female: female, &rng) : nil,
                    dateOfBirth: births.chance(Self.birthRecorded) ? dateOfBirth(&births) : nil,
                    startsOn: CalendarDate(daysSinceEpoch: firstDay - rng.below(3650)))
                staff.append((adult, nil))
            }
            for placement in plan.placements[index] ?? [] {
                let adult = SimulatedAdult(
                    id: UUID(uuid: uuidTuple(rng.uuidBytes())), facilityID: facility.id,
                    staffRef: String(format: "S-%04d", staff.count + 1), fullName: placement.name.full, role: placement.role,
                    nationalID: placement.nationalID,
                    dateOfBirth: births.chance(Self.birthRecorded) ? dateOfBirth(person: placement.person) : nil,
                    startsOn: CalendarDate(daysSinceEpoch: firstDay - rng.below(700)))
                staff.append((adult, placement.person))
            }

            // Planted reports, then background complaints.
            var reports: [SimulatedReport] = []
            for planned in plan.reports[index] ?? [] {
                var report = backgroundReport(facility: facility, kind: kind, staff: staff.map(\.adult), rng: &rng, day: planned.day)
                if !planned.ordinary {
                    report.category = planned.category
                    report.reporterType = planned.reporter
                    report.tags = planned.tags
                    report.narrative = Self.plantedNarrative(planned, &rng)
                }
                report.adults = planned.persons.compactMap { person in
                    guard let adult = staff.first(where: { $0.person == person })?.adult else { return nil }
                    // A parent rarely knows the roster: some adults are described, not named from it.
                    return rng.chance(0.2) ? .described(name: adult.fullName, role: adult.role) : .rostered(adult.id)
                }
                if planned.ordinary {
                    reports.append(report)
                    continue
                }
                report.children = Self.children(kind: kind, count: rng.between(1...4), &rng)
                report.statusChanges =
                    planned.dismissed
                    ? [
                        .init(
                            status: rng.chance(0.5) ? .unfounded : .unsubstantiated,
                            secondsSince1970: report.receivedAt + 86_400 * Int64(rng.between(10...60)))
                    ]
                    : (rng.chance(0.5)
                        ? [.init(status: .underReview, secondsSince1970: report.receivedAt + 86_400 * Int64(rng.between(1...20)))] : [])
                if let ring = planned.ring { reportIDsByRing[ring, default: []].append(report.id.uuidString.lowercased()) }
                if let lone = planned.lone { reportIDsByLone[lone, default: []].append(report.id.uuidString.lowercased()) }
                reports.append(report)
            }
            var reportRNG = SeededRandom(seed: config.seed, stream: Stream.facilityReports.rawValue, index: UInt64(index))
            // A young register holds its first months' complaints: fewer schools, fewer each.
            let (reporting, mean) = config.youngRegister ? (0.4, 3.0) : (0.55, config.heavyBackground ? 29 : 14.5)
            if reportRNG.chance(reporting) {
                // Geometric count with mean ≈ 14.5: most reporting schools have a few, some many.
                let count = min(200, Int(_log(max(reportRNG.unit(), 1e-12)) / _log(1 - 1 / mean)) + 1)
                var tactics = SeededRandom(seed: config.seed, stream: Stream.backgroundTactics.rawValue, index: UInt64(index))
                var heavy = SeededRandom(seed: config.seed, stream: Stream.heavyBackground.rawValue, index: UInt64(index))
                for _ in 0..<count {
                    let day = firstDay + reportRNG.below(config.end.daysSinceEpoch - firstDay + 1)
                    var report = backgroundReport(facility: facility, kind: kind, staff: staff.map(\.adult), rng: &reportRNG, day: day)
                    if config.backgroundTactics {
                        for (tag, rate) in Self.backgroundTacticRates where tactics.chance(rate) && !report.tags.contains(tag) {
                            report.tags.append(tag)
                        }
                    }
                    if config.heavyBackground, staff.count >= 2, heavy.chance(0.1) {
                        // A complaint about a classroom, its teacher and assistant; now and then a third.
                        var others = staff.map(\.adult).filter { adult in
                            !report.adults.contains { if case .rostered(let id) = $0 { id == adult.id } else { false } }
                        }
                        heavy.shuffle(&others)
                        let extra = (report.adults.isEmpty ? 2 : 1) + (heavy.chance(0.2) ? 1 : 0)
                        report.adults += others.prefix(extra).map { .rostered($0.id) }
                    }
                    reports.append(report)
                }
            }
            // The roster as the register holds it: every entry when the school uploaded it; in a
            // young register otherwise only the adults a report names, registered from the
            // report (a date of birth or identifier seldom written down there).
            var rosterRNG = SeededRandom(seed: config.seed, stream: Stream.rosters.rawValue, index: UInt64(index))
            let uploaded = !config.youngRegister || rosterRNG.chance(Self.youngRosterShare)
            let named = Set(
                reports.flatMap { report in
                    report.adults.compactMap { if case .rostered(let id) = $0 { id } else { nil } }
                })
            let namedByName = Set(
                reports.flatMap { report in
                    report.adults.compactMap { if case .described(let name, _) = $0 { name } else { nil } }
                })
            for (var adult, person) in staff where uploaded || named.contains(adult.id) || namedByName.contains(adult.fullName) {
                if !uploaded {
                    if !rosterRNG.chance(Self.youngBirthRecorded) { adult.dateOfBirth = nil }
                    if !rosterRNG.chance(Self.youngNationalIDRecorded) { adult.nationalID = nil }
                }
                try sink.write(adult)
                truth.counts.adults += 1
                guard let person else { continue }
                records[person, default: []].append(.init(facility: code, staffRef: adult.staffRef, name: adult.fullName))
                if let ring = plan.placements[index]?.first(where: { $0.person == person })?.ring,
                    facilitiesByRing[ring]?.contains(code) != true
                {
                    facilitiesByRing[ring, default: []].append(code)
                }
            }

            // Decisions not yet taken by the last day are not in the data.
            let lastSecond = Int64(config.end.daysSinceEpoch + 1) * 86_400 - 1
            for i in reports.indices { reports[i].statusChanges.removeAll { $0.secondsSince1970 > lastSecond } }
            reports.sort { ($0.receivedAt, $0.id.uuidString) < ($1.receivedAt, $1.id.uuidString) }
            for report in reports {
                try sink.write(report)
                truth.counts.reports += 1
                truth.counts.reportAdults += report.adults.count
                truth.counts.reportChildren += report.children.count
                truth.counts.statusChanges += report.statusChanges.count
            }
        }

        for ring in truth.rings.indices {
            truth.rings[ring].facilities = facilitiesByRing[ring] ?? []
            truth.rings[ring].reports = reportIDsByRing[ring] ?? []
            for member in truth.rings[ring].members.indices {
                truth.rings[ring].members[member].records = records[truth.rings[ring].members[member].person] ?? []
            }
        }
        for lone in truth.loneOffenders.indices {
            truth.loneOffenders[lone].person.records = records[truth.loneOffenders[lone].person.person] ?? []
            truth.loneOffenders[lone].reports = reportIDsByLone[lone] ?? []
        }
        truth.namesakes = plan.namesakes.compactMap { persons in
            let pair = persons.compactMap { records[$0]?.first }
            return pair.count == 2 ? pair : nil
        }
        truth.samePerson = records.filter { $0.value.count > 1 }.map { GroundTruth.Person(person: $0.key, records: $0.value) }
            .sorted { $0.person < $1.person }
        plan.placements = [:]
        return truth
    }

    /// An ordinary complaint: mostly neglect, rough treatment or conflict, some dismissed.
    func backgroundReport(
        facility: SimulatedFacility, kind: Facility.Kind, staff: [SimulatedAdult], rng: inout SeededRandom, day: Int
    ) -> SimulatedReport {
        let category: IncidentReport.Category = [
            .neglect, .neglect, .neglect, .physicalAbuse, .physicalAbuse, .emotionalAbuse, .emotionalAbuse, .emotionalAbuse,
            .other, .other, .inappropriateContact, .grooming, .exposureToSexualContent, .sexualAbuse,
        ][rng.below(14)]
        let reporter: IncidentReport.ReporterType = [
            .parent, .parent, .parent, .parent, .schoolStaff, .schoolStaff, .schoolStaff, .childDisclosure, .hotline, .hotline,
            .anonymous, .anonymous, .healthProfessional, .police, .whistleblower,
        ][rng.below(15)]
        let occurredTo = CalendarDate(daysSinceEpoch: day - rng.below(20))
        let occurredFrom = CalendarDate(daysSinceEpoch: occurredTo.daysSinceEpoch - (rng.chance(0.3) ? rng.below(30) : 0))
        // School staff sometimes report late: a delay the risk model reads as silence.
        let delay = reporter == .schoolStaff && rng.chance(0.1) ? rng.between(31...90) : rng.below(5)
        let discovered = CalendarDate(daysSinceEpoch: min(day, occurredTo.daysSinceEpoch + rng.below(10)))
        // Nothing is received after the simulation's last day.
        let receivedDay = min(max(day, discovered.daysSinceEpoch + delay), configuration.end.daysSinceEpoch)
        let received = Int64(receivedDay) * 86_400 + Int64(rng.below(86_400))
        var tags: [IncidentReport.ModusOperandi] = []
        for (tag, probability) in [
            (IncidentReport.ModusOperandi.threats, 0.08), (.isolation, 0.08), (.giftsGrooming, 0.03), (.removalFromClassroom, 0.04),
        ]
        where rng.chance(probability) { tags.append(tag) }
        var adults: [SimulatedReport.Implicated] = []
        if rng.chance(0.5), let adult = staff.isEmpty ? nil : staff[rng.below(staff.count)] {
            adults.append(.rostered(adult.id))
        }
        var changes: [SimulatedReport.StatusChange] = []
        if rng.chance(0.6) {
            let status: IncidentReport.Status = [
                .unfounded, .unfounded, .unsubstantiated, .unsubstantiated, .unsubstantiated, .substantiated, .substantiated, .underReview,
                .underReview, .underReview,
            ][rng.below(10)]
            changes.append(.init(status: status, secondsSince1970: received + 86_400 * Int64(rng.between(1...90))))
        }
        return SimulatedReport(
            id: UUID(uuid: uuidTuple(rng.uuidBytes())), facilityID: facility.id, receivedAt: received,
            occurredFrom: occurredFrom, occurredTo: occurredTo, occurredApproximate: occurredFrom != occurredTo,
            discoveredOn: discovered, category: category, reporterType: reporter, tags: tags,
            narrative: Self.backgroundNarratives[category]?[rng.below(3)] ?? "Reporte simulado.", adults: adults,
            children: Self.children(kind: kind, count: rng.between(1...2), &rng), statusChanges: changes)
    }

    static func children(kind: Facility.Kind, count: Int, _ rng: inout SeededRandom) -> [ReportSubmission.AffectedChild] {
        let ages: ClosedRange<Int> =
            switch kind {
            case .daycare: 1...3
            case .preschool: 3...5
            case .primary: 6...11
            case .secondary: 12...14
            case .upperSecondary: 15...17
            case .specialEducation, .other: 4...15
            }
        var seen = Set<String>()
        return (0..<count).compactMap { _ in
            let ref = "NNA-\(rng.between(1...9999))"
            guard seen.insert(ref).inserted else { return nil }
            return .init(reference: ref, ageYears: rng.between(ages))
        }
    }

    static func plantedNarrative(_ planned: PlannedReport, _ rng: inout SeededRandom) -> String {
        let openings = [
            "Reporte simulado. Una niña relató en casa que",
            "Reporte simulado. Varios padres señalan que",
            "Reporte simulado. Un niño dijo a su médica que",
            "Reporte simulado. Una trabajadora de la escuela observó que",
        ]
        var details: [String] = ["varios adultos estaban presentes"]
        if planned.tags.contains(.disguise) { details.append("uno de ellos llevaba disfraz") }
        if planned.tags.contains(.stagedAct) { details.append("hicieron una especie de ceremonia") }
        if planned.tags.contains(.filming) { details.append("grabaron con un teléfono") }
        if planned.tags.contains(.photographing) { details.append("tomaron fotografías") }
        if planned.tags.contains(.childrenMadeToWatch) { details.append("obligaron a otros niños a mirar") }
        if planned.tags.contains(.sedation) { details.append("les dieron algo de tomar que les dio sueño") }
        if planned.tags.contains(.offPremises) { details.append("los llevaron fuera de la escuela") }
        if planned.tags.contains(.removalFromClassroom) { details.append("los sacaron del salón") }
        return "\(openings[rng.below(openings.count)]) \(details.joined(separator: ", "))."
    }

    static let backgroundNarratives: [IncidentReport.Category: [String]] = [
        .neglect: [
            "Reporte simulado. Un alumno quedó sin supervisión en el patio.", "Reporte simulado. No se atendió una lesión a tiempo.",
            "Reporte simulado. Falta de higiene en el área de bebés.",
        ],
        .physicalAbuse: [
            "Reporte simulado. Un adulto jaló del brazo a un alumno.", "Reporte simulado. Se reporta un golpe durante el recreo.",
            "Reporte simulado. Un alumno llegó a casa con moretones.",
        ],
        .emotionalAbuse: [
            "Reporte simulado. Gritos e insultos frecuentes en el salón.",
            "Reporte simulado. Un maestro humilla a un alumno frente al grupo.", "Reporte simulado. Amenazas de castigo excesivas.",
        ],
        .other: [
            "Reporte simulado. Conflicto entre familias y la dirección.", "Reporte simulado. Queja por trato inadecuado.",
            "Reporte simulado. Incidente no clasificado.",
        ],
        .inappropriateContact: [
            "Reporte simulado. Contacto físico inapropiado señalado por un padre.",
            "Reporte simulado. Un adulto abraza de forma incómoda a alumnas.", "Reporte simulado. Comentarios y contacto inapropiados.",
        ],
        .grooming: [
            "Reporte simulado. Un adulto da regalos y pide secretos.", "Reporte simulado. Mensajes de un adulto a un alumno.",
            "Reporte simulado. Atención especial insistente a un niño.",
        ],
        .exposureToSexualContent: [
            "Reporte simulado. Se mostró contenido inapropiado en clase.",
            "Reporte simulado. Imágenes inapropiadas en un dispositivo escolar.", "Reporte simulado. Lenguaje sexual frente a los niños.",
        ],
        .sexualAbuse: [
            "Reporte simulado. Una madre denuncia un posible abuso.", "Reporte simulado. Relato de un niño sobre un abuso.",
            "Reporte simulado. Denuncia de abuso por un tercero.",
        ],
        .productionOfAbuseImagery: [
            "Reporte simulado. Se sospecha que se tomaron imágenes.", "Reporte simulado. Fotografías indebidas.",
            "Reporte simulado. Grabación indebida.",
        ],
    ]

    static let patrons = [
        "Benito Juárez", "Miguel Hidalgo", "Josefa Ortiz de Domínguez", "Sor Juana Inés de la Cruz", "Emiliano Zapata",
        "Niños Héroes", "Rosaura Zapata", "Gabriela Mistral", "Lázaro Cárdenas", "Leona Vicario", "Vicente Guerrero",
        "José María Morelos", "Ignacio Zaragoza", "Frida Kahlo", "Octavio Paz", "Amado Nervo", "Eva Sámano",
        "Francisco I. Madero", "Cuauhtémoc", "Netzahualcóyotl", "Las Flores", "Arcoíris", "Mis Primeros Pasos",
    ]

    static func kindCode(_ kind: Facility.Kind) -> String {
        switch kind {
        case .daycare: "DDI"
        case .preschool: "DJN"
        case .primary: "DPR"
        case .secondary: "DES"
        case .upperSecondary: "EMS"
        case .specialEducation: "DML"
        case .other: "XXX"
        }
    }

    static func kindName(_ kind: Facility.Kind) -> String {
        switch kind {
        case .daycare: "Estancia Infantil"
        case .preschool: "Jardín de Niños"
        case .primary: "Escuela Primaria"
        case .secondary: "Escuela Secundaria"
        case .upperSecondary: "Bachillerato"
        case .specialEducation: "Centro de Atención Múltiple"
        case .other: "Centro Educativo"
        }
    }
}

func uuidTuple(_ b: [UInt8]) -> uuid_t {
    (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}
