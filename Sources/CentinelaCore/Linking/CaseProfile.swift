import Foundation

/// A report as modus-operandi linking sees it: a set of features — its MO tags, its category, the
/// youngest victim's age band and whether several adults were implicated — and who it names.
public struct CaseProfile: Hashable, Sendable {
    public var report: IncidentReport.ID
    public var facility: Facility.ID
    public var features: Set<String>
    /// When it happened, in days since 1970-01-01 (the start of the reported period), if known.
    public var day: Int?
    /// Keys for the adults it names: each one's person, and one key per pair of persons waiting in
    /// the review queue with one of them. Two reports sharing a key are tied by an adult who is, or
    /// may be, the same person (see `PatternDetection`).
    public var ties: Set<String>
    /// Found unfounded: kept as history in a pattern, never enough to make one.
    public var unfounded: Bool

    public init(
        report: IncidentReport.ID, facility: Facility.ID, features: Set<String>, day: Int? = nil, ties: Set<String> = [],
        unfounded: Bool = false
    ) {
        self.report = report
        self.facility = facility
        self.features = features
        self.day = day
        self.ties = ties
        self.unfounded = unfounded
    }

    public init(
        report: IncidentReport.ID, facility: Facility.ID, modusOperandi: some Sequence<IncidentReport.ModusOperandi>,
        category: IncidentReport.Category, youngestAge: Int?, adults: Int, day: Int? = nil, ties: Set<String> = [],
        unfounded: Bool = false
    ) {
        var features = Set(modusOperandi.map { Self.tagPrefix + $0.rawValue })
        features.insert("category:" + category.rawValue)
        if let age = youngestAge { features.insert("age:" + (age < 6 ? "under_6" : age < 12 ? "6_to_11" : "12_plus")) }
        if adults >= 2 { features.insert("adults:several") }
        self.init(report: report, facility: facility, features: features, day: day, ties: ties, unfounded: unfounded)
    }

    /// The tie keys of reports naming these persons, given the pairs of persons in the review queue.
    public static func ties(persons: some Sequence<String>, pending: [String: Set<String>]) -> Set<String> {
        var keys: Set<String> = []
        for person in persons {
            keys.insert(person)
            for other in pending[person] ?? [] { keys.insert("review:" + min(person, other) + ":" + max(person, other)) }
        }
        return keys
    }

    static let tagPrefix = "mo:"

    /// The MO tags among the features.
    public var tags: Set<String> { features.filter { $0.hasPrefix(Self.tagPrefix) } }
}

/// How much agreement on each feature says: rare features weigh more (inverse document frequency,
/// smoothed). Common features are weighted down, never dropped, so that in a young database with
/// tens of reports — where every tag looks common — similarity still works.
public struct FeatureWeights: Sendable, Equatable {
    public var counts: [String: Int]
    public var reports: Int
    /// How many reports carry exactly each set of MO tags (at most 2^12 sets), to count how many
    /// hold a combination.
    public var tagSets: [Set<String>: Int]

    public init(counts: [String: Int], reports: Int, tagSets: [Set<String>: Int]) {
        self.counts = counts
        self.reports = reports
        self.tagSets = tagSets
    }

    /// Counts over these reports (see `count`).
    public init(profiles: some Sequence<CaseProfile>) {
        self.init(counts: [:], reports: 0, tagSets: [:])
        for profile in profiles { count(profile) }
    }

    /// Counts one more report; unfounded ones are left out.
    public mutating func count(_ profile: CaseProfile) {
        guard !profile.unfounded else { return }
        reports += 1
        for feature in profile.features { counts[feature, default: 0] += 1 }
        tagSets[profile.tags, default: 0] += 1
    }

    /// How many reports (not found unfounded) carry all of these tags, and maybe more.
    public func holding(_ tags: Set<String>) -> Int {
        tagSets.reduce(0) { $0 + (tags.isSubset(of: $1.key) ? $1.value : 0) }
    }

    /// ln(1 + N / (1 + df)): about ln 2 for a feature every report has, more the rarer it is.
    public func weight(_ feature: String) -> Double {
        log(1 + Double(reports) / Double(1 + (counts[feature] ?? 0)))
    }

    /// The share of reports that have the feature.
    public func share(_ feature: String) -> Double {
        reports == 0 ? 0 : Double(counts[feature] ?? 0) / Double(reports)
    }

    /// Weighted Jaccard similarity: the weight of the shared features over the weight of all.
    public func similarity(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b)
        guard !union.isEmpty else { return 0 }
        let shared = a.intersection(b).reduce(0) { $0 + weight($1) }
        return shared / union.reduce(0) { $0 + weight($1) }
    }
}
