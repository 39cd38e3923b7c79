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

/// What the database says about features and their combinations: how many reports (not found
/// unfounded) carry each feature, and each combination of two or more tactics (with the age band
/// and several adults, when a report has them). Rare features weigh more in similarity (inverse
/// document frequency, smoothed); a combination's counts say how surprising it is
/// (`TacticCombination.surprise`).
public struct FeatureWeights: Sendable, Equatable {
    public var counts: [String: Int]
    public var reports: Int
    /// How many reports carry each combination (a `TacticCombination` of two or more tactics).
    public var combinations: [TacticCombination: Int]

    public init(counts: [String: Int] = [:], reports: Int = 0, combinations: [TacticCombination: Int] = [:]) {
        self.counts = counts
        self.reports = reports
        self.combinations = combinations
    }

    /// Counts over these reports (see `count`).
    public init(profiles: some Sequence<CaseProfile>) {
        self.init()
        for profile in profiles { count(profile) }
    }

    /// Counts one more report; unfounded ones are left out.
    public mutating func count(_ profile: CaseProfile) {
        guard !profile.unfounded else { return }
        reports += 1
        for feature in profile.features { counts[feature, default: 0] += 1 }
        TacticCombination(profile.features).forEachCombination { combinations[$0, default: 0] += 1 }
    }

    /// Takes a counted report out again: the background a later style is measured against.
    public mutating func uncount(_ profile: CaseProfile) {
        guard !profile.unfounded else { return }
        reports -= 1
        for feature in profile.features { counts[feature, default: 0] -= 1 }
        TacticCombination(profile.features).forEachCombination { combinations[$0, default: 0] -= 1 }
    }

    /// How many reports (not found unfounded) carry every feature of the combination, and maybe more.
    public func holding(_ combination: TacticCombination) -> Int { combinations[combination] ?? 0 }

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
