import CentinelaCore

/// How well linking recovers what a simulation planted: the same person's roster records across
/// facilities, and multi-facility rings as patterns.
///
/// Adults: pairwise precision and recall over pairs of roster records put in one person, and
/// B-cubed F1 over every record that is in a multi-record person in the truth or the prediction
/// (the millions of records alone in both would push it towards 1 and say nothing). Patterns: a
/// ring spanning two or more facilities is recovered when a pattern of either kind holds its
/// reports at two or more of its facilities. A style (modus-operandi) pattern is false when most
/// of its reports belong to no ring — several rings sharing a style are still the lead a
/// regulator needs; a network is false when most of its reports belong to no single ring.
public struct LinkingQuality: Sendable, Equatable, Codable {
    /// A roster record: facility code and staff reference.
    public struct Record: Hashable, Sendable {
        public var facility: String
        public var staffRef: String
        public init(facility: String, staffRef: String) {
            self.facility = facility
            self.staffRef = staffRef
        }
    }

    /// An `adult_several_facilities` alert: the facility it was raised at and the roster records of
    /// the person it is about, as linking joined them.
    public struct AdultAlert: Sendable {
        public var facility: String
        public var records: [Record]
        public init(facility: String, records: [Record]) {
            self.facility = facility
            self.records = records
        }
    }

    /// A found pattern: its kind, report ids and facility codes (of the facilities of its reports).
    public struct FoundPattern: Sendable {
        public var kind: String
        public var reports: [String: String]
        public var facilities: Set<String> { Set(reports.values) }
        /// - Parameter reports: report id → facility code.
        public init(kind: String, reports: [String: String]) {
            self.kind = kind
            self.reports = reports
        }
    }

    /// What the patterns of one kind look like.
    public struct KindFigures: Sendable, Equatable, Codable {
        public var patterns = 0
        public var falsePatterns = 0
        /// Rings with reports in each pattern that is not false, on average.
        public var ringsPerPattern = 0.0
        /// Facilities inside patterns of this kind that hold no ring (counted once).
        public var facilitiesOutsideRings = 0
        /// The most facilities one pattern spans, and that as a share of all facilities.
        public var largestFacilities = 0
        public var largestShare = 0.0
    }

    /// How one ring came out (the largest ring, for the network scale's one network).
    public struct RingFigures: Sendable, Equatable, Codable {
        public var ring: String
        public var facilities: Int
        /// Its facilities in the pattern that holds the most of them (through its reports).
        public var inLargestPattern: Int
        /// Patterns holding any of its reports.
        public var patterns: Int
        /// Facilities holding no ring inside the patterns holding its reports.
        public var otherFacilities: Int
        /// Its facilities in the open case that covers the most of them, and the open cases
        /// covering each of its facilities, on average (0 when no case was given).
        public var inLargestCase: Int
        public var casesPerFacility: Double

        public init(
            ring: String, facilities: Int, inLargestPattern: Int, patterns: Int, otherFacilities: Int, inLargestCase: Int = 0,
            casesPerFacility: Double = 0
        ) {
            self.ring = ring
            self.facilities = facilities
            self.inLargestPattern = inLargestPattern
            self.patterns = patterns
            self.otherFacilities = otherFacilities
            self.inLargestCase = inLargestCase
            self.casesPerFacility = casesPerFacility
        }
    }

    public var truePairs: Int
    public var foundPairs: Int
    public var correctPairs: Int
    public var bCubedF1: Double
    public var multiFacilityRings: Int
    public var ringsRecovered: Int
    public var patterns: Int
    public var falsePatterns: Int
    public var facilities: Int
    public var style: KindFigures
    public var network: KindFigures
    /// The ring spanning the most facilities.
    public var largestRing: RingFigures?
    /// Namesake pairs planted (different people, one common full name) and how many of them
    /// linking put into one person.
    public var namesakePairs: Int
    public var namesakePairsLinked: Int
    /// `adult_several_facilities` alerts, and those raised on a false link: no record of the
    /// person at the alert's facility is truly the same person as a record at another facility.
    public var adultAlerts: Int
    public var falseAdultAlerts: Int

    public var pairPrecision: Double { foundPairs == 0 ? 1 : Double(correctPairs) / Double(foundPairs) }
    public var pairRecall: Double { truePairs == 0 ? 1 : Double(correctPairs) / Double(truePairs) }
    public var ringRecall: Double { multiFacilityRings == 0 ? 1 : Double(ringsRecovered) / Double(multiFacilityRings) }
    public var falsePatternsPer10kFacilities: Double { facilities == 0 ? 0 : Double(falsePatterns) * 10_000 / Double(facilities) }

    /// - Parameter cases: the facility codes each open case covers.
    public init(
        persons found: [[Record]], patterns: [FoundPattern], truth: GroundTruth, cases: [Set<String>] = [],
        adultAlerts alerts: [AdultAlert] = []
    ) {
        let truePersons = truth.samePerson.map { $0.records.map { Record(facility: $0.facility, staffRef: $0.staffRef) } }
        func pairs(_ groups: [[Record]]) -> Set<[Record]> {
            var all: Set<[Record]> = []
            for group in groups where group.count > 1 {
                let sorted = group.sorted { ($0.facility, $0.staffRef) < ($1.facility, $1.staffRef) }
                for i in sorted.indices { for j in sorted.index(after: i)..<sorted.endIndex { all.insert([sorted[i], sorted[j]]) } }
            }
            return all
        }
        let expected = pairs(truePersons)
        let predicted = pairs(found)
        // Which multi-record person, true or found, each record is in (B-cubed below reads them too).
        var trueCluster: [Record: Int] = [:]
        var foundCluster: [Record: Int] = [:]
        for (index, group) in truePersons.enumerated() where group.count > 1 { for record in group { trueCluster[record] = index } }
        for (index, group) in found.enumerated() where group.count > 1 { for record in group { foundCluster[record] = index } }
        namesakePairs = truth.namesakes.count
        namesakePairsLinked =
            truth.namesakes.filter { pair in
                let records = pair.map { Record(facility: $0.facility, staffRef: $0.staffRef) }
                return records.count == 2 && foundCluster[records[0]] != nil && foundCluster[records[0]] == foundCluster[records[1]]
            }.count
        adultAlerts = alerts.count
        falseAdultAlerts =
            alerts.filter { alert in
                let here = alert.records.filter { $0.facility == alert.facility }
                let elsewhere = alert.records.filter { $0.facility != alert.facility }
                // A person linked only through written names (no roster record here) is judged on
                // all their records.
                let from = here.isEmpty ? alert.records : here
                return !from.contains { a in
                    guard let person = trueCluster[a] else { return false }
                    return elsewhere.contains { $0.facility != a.facility && trueCluster[$0] == person }
                }
            }.count
        truePairs = expected.count
        foundPairs = predicted.count
        correctPairs = expected.intersection(predicted).count
        // B-cubed over records in a multi-record person on either side.
        let trueMembers = Dictionary(grouping: trueCluster.keys) { trueCluster[$0]! }
        let foundMembers = Dictionary(grouping: foundCluster.keys) { foundCluster[$0]! }
        let considered = Set(trueCluster.keys).union(foundCluster.keys)
        var precision = 0.0
        var recall = 0.0
        for record in considered {
            let mine: Set<Record> = foundCluster[record].map { Set(foundMembers[$0]!) } ?? [record]
            let real: Set<Record> = trueCluster[record].map { Set(trueMembers[$0]!) } ?? [record]
            let shared = Double(mine.intersection(real).count)
            precision += shared / Double(mine.count)
            recall += shared / Double(real.count)
        }
        let n = Double(max(considered.count, 1))
        bCubedF1 = considered.isEmpty ? 1 : 2 * (precision / n) * (recall / n) / max(precision / n + recall / n, .leastNonzeroMagnitude)
        // Rings and patterns.
        let rings = truth.rings.filter { Set($0.facilities).count > 1 }
        multiFacilityRings = rings.count
        var ringOfReport: [String: Int] = [:]
        for (index, ring) in truth.rings.enumerated() { for report in ring.reports { ringOfReport[report] = index } }
        let ringFacilities = Set(truth.rings.flatMap(\.facilities))
        var recovered: Set<Int> = []
        var falseCount = 0
        var figures = ["modus_operandi": KindFigures(), "network": KindFigures()]
        var ringsInTruePatterns: [String: Int] = [:]
        var outside: [String: Set<String>] = [:]
        for pattern in patterns {
            let kind = pattern.kind == "network" ? "network" : "modus_operandi"
            figures[kind]!.patterns += 1
            let counts = Dictionary(grouping: pattern.reports.keys.compactMap { ringOfReport[$0] }) { $0 }.mapValues(\.count)
            let inRings = counts.values.reduce(0, +)
            let largest = counts.values.max() ?? 0
            let isFalse = kind == "network" ? 2 * largest <= pattern.reports.count : 2 * inRings <= pattern.reports.count
            if isFalse {
                falseCount += 1
                figures[kind]!.falsePatterns += 1
            } else {
                ringsInTruePatterns[kind, default: 0] += counts.count
            }
            for ring in counts.keys {
                let held = Set(pattern.reports.filter { ringOfReport[$0.key] == ring }.map(\.value))
                if held.intersection(truth.rings[ring].facilities).count >= 2 { recovered.insert(ring) }
            }
            outside[kind, default: []].formUnion(pattern.facilities.subtracting(ringFacilities))
            if pattern.facilities.count > figures[kind]!.largestFacilities { figures[kind]!.largestFacilities = pattern.facilities.count }
        }
        for kind in figures.keys {
            let truePatterns = figures[kind]!.patterns - figures[kind]!.falsePatterns
            figures[kind]!.ringsPerPattern = truePatterns == 0 ? 0 : Double(ringsInTruePatterns[kind] ?? 0) / Double(truePatterns)
            figures[kind]!.facilitiesOutsideRings = outside[kind]?.count ?? 0
            figures[kind]!.largestShare =
                truth.counts.facilities == 0 ? 0 : Double(figures[kind]!.largestFacilities) / Double(truth.counts.facilities)
        }
        style = figures["modus_operandi"]!
        network = figures["network"]!
        if let (index, ring) = truth.rings.enumerated().max(by: { Set($0.1.facilities).count < Set($1.1.facilities).count }) {
            let reports = Set(ring.reports)
            let holding = patterns.filter { !reports.isDisjoint(with: $0.reports.keys) }
            let own = Set(ring.facilities)
            largestRing = RingFigures(
                ring: ring.id, facilities: own.count,
                inLargestPattern: holding.map {
                    Set($0.reports.filter { ringOfReport[$0.key] == index }.map(\.value)).intersection(own).count
                }.max() ?? 0,
                patterns: holding.count,
                otherFacilities: Set(holding.flatMap(\.facilities)).subtracting(ringFacilities).count,
                inLargestCase: cases.map { $0.intersection(own).count }.max() ?? 0,
                casesPerFacility: own.isEmpty
                    ? 0 : Double(own.map { code in cases.filter { $0.contains(code) }.count }.reduce(0, +)) / Double(own.count))
        } else {
            largestRing = nil
        }
        // Spanning two of a ring's facilities implies the ring spans two or more.
        ringsRecovered = recovered.count
        self.patterns = patterns.count
        falsePatterns = falseCount
        facilities = truth.counts.facilities
    }
}
