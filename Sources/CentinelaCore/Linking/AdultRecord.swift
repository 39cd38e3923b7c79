import Foundation

/// One adult as a facility or a report knows them: a roster entry, or a name written in a report.
/// Entity resolution links these records into persons (`PersonResolution`).
public struct AdultRecord: Hashable, Sendable {
    public typealias ID = Identifier<AdultRecord>

    public var id: ID
    public var facility: Facility.ID
    /// The facility's jurisdiction, and the state above it when that jurisdiction is a municipality
    /// (a country above a state says nothing about where someone works).
    public var jurisdiction: Jurisdiction.ID?
    public var parentJurisdiction: Jurisdiction.ID?
    public var name: NormalizedName
    public var role: Adult.Role?
    public var dateOfBirth: CalendarDate?
    /// The keyed hash of a national identifier (never the identifier itself).
    public var nationalIDHash: Data?
    /// A facility's roster entry, not a name written in a report: two entries of one roster are
    /// two people, almost always.
    public var fromRoster: Bool

    public init(
        id: ID, facility: Facility.ID, jurisdiction: Jurisdiction.ID? = nil, parentJurisdiction: Jurisdiction.ID? = nil,
        name: NormalizedName, role: Adult.Role? = nil, dateOfBirth: CalendarDate? = nil, nationalIDHash: Data? = nil,
        fromRoster: Bool = false
    ) {
        self.fromRoster = fromRoster
        self.id = id
        self.facility = facility
        self.jurisdiction = jurisdiction
        self.parentJurisdiction = parentJurisdiction
        self.name = name
        self.role = role
        self.dateOfBirth = dateOfBirth
        self.nationalIDHash = nationalIDHash
    }
}

/// How often each given name and surname occurs among all records: agreement on "María" or
/// "Hernández" says much less than agreement on "Xóchitl" or "Tlacuilo".
///
/// Shares are floored, so that a name seen once is not taken for a name nobody else has: at
/// `minimumShare` (one in 10,000) in a young database, where the weights stay modest and pairs go
/// to review rather than link on their own, and at ten records' share in a large one (one in
/// 290,000 among 2.9 million records). A fixed floor would let a name weigh no more among millions
/// of records than among a hundred thousand, while the prior (how rarely two records are the same
/// person) keeps getting stricter with every record: rare names could then never link.
public struct NameFrequencies: Sendable, Equatable {
    /// First given names.
    public var given: [String: Int]
    public var surnames: [String: Int]
    /// Second given names ("Itzel" in "Gabriela Itzel Guzmán Flores"), among the records with one.
    public var secondGiven: [String: Int] = [:]
    public var secondGivenRecords = 0
    public var records: Int
    public var minimumShare: Double
    /// Records carrying a national identifier, and the pairs of them sharing one: how often two
    /// identified records are the same person estimates how often any two are (the prior,
    /// ``LinkageModel/prior(_:)``).
    public var identifiedRecords = 0
    public var identifiedPairs = 0

    /// In a large database a name is taken to be at least as common as this many records' worth.
    public static let floorRecords = 10.0
    /// How common names are in the population, blended in as if it were this many more records.
    public var population: PopulationNames?
    public static let populationRecords = 2_000.0

    public init(given: [String: Int] = [:], surnames: [String: Int] = [:], records: Int = 0, minimumShare: Double = 1e-4) {
        self.given = given
        self.surnames = surnames
        self.records = records
        self.minimumShare = minimumShare
    }

    /// Counts the names of these records.
    public init(counting names: some Sequence<NormalizedName>, minimumShare: Double = 1e-4) {
        self.init(minimumShare: minimumShare)
        for name in names { count(name) }
    }

    /// Counts one more record's names.
    public mutating func count(_ name: NormalizedName) {
        records += 1
        if let first = name.firstGiven { given[first, default: 0] += 1 }
        if name.given.count >= 2 {
            secondGiven[name.given[1], default: 0] += 1
            secondGivenRecords += 1
        }
        for surname in name.surnames { surnames[surname, default: 0] += 1 }
    }

    public func givenShare(_ name: String) -> Double {
        guard let population else { return share(given[name] ?? 0, of: records) }
        return blended(given[name] ?? 0, population.given[name] ?? LinkageModel.unknownNameShare)
    }
    public func surnameShare(_ name: String) -> Double {
        guard let population else { return share(surnames[name] ?? 0, of: records) }
        return blended(surnames[name] ?? 0, population.surnames[name] ?? 2 * LinkageModel.unknownNameShare)
    }

    /// With population tables: (n′ + K·p) / (N + K), the register's count shrunk towards the
    /// population share p as if it were K = `populationRecords` more records. n′ leaves out the
    /// record being compared (a name seen once is not evidence that anyone else has it), and a
    /// name the tables do not list has p = `LinkageModel.unknownNameShare`: in a young register a
    /// rare name seen twice is not taken as common as one in N/2. Floored like the register's own
    /// shares.
    private func blended(_ count: Int, _ p: Double) -> Double {
        let share = (Double(max(count - 1, 0)) + Self.populationRecords * p) / (Double(records) + Self.populationRecords)
        return max(share, records > 0 ? min(minimumShare, Self.floorRecords / Double(records)) : 0)
    }
    /// The share of a second given name among the records that have one.
    public func secondGivenShare(_ name: String) -> Double { share(secondGiven[name] ?? 0, of: secondGivenRecords) }

    private func share(_ count: Int, of total: Int) -> Double {
        // Before anything is counted, assume a name as common as one in a hundred.
        guard total > 0 else { return 0.01 }
        let floor = min(minimumShare, Self.floorRecords / Double(total))
        return max(floor, Double(max(count, 1)) / Double(total))
    }
}
