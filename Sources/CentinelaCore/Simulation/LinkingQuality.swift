/// How well linking recovers what a simulation planted: the same person's roster records across
/// facilities, and multi-facility rings as patterns.
///
/// Adults: pairwise precision and recall over pairs of roster records put in one person, and
/// B-cubed F1 over every record that is in a multi-record person in the truth or the prediction
/// (the millions of records alone in both would push it towards 1 and say nothing). Patterns: a
/// ring spanning two or more facilities is recovered when a pattern, more than half of whose
/// reports are the ring's, spans at least two of its facilities; a pattern more than half of whose
/// reports belong to no single ring is false.
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

    /// A found pattern: report ids and facility codes.
    public struct FoundPattern: Sendable {
        public var reports: Set<String>
        public var facilities: Set<String>
        public init(reports: Set<String>, facilities: Set<String>) {
            self.reports = reports
            self.facilities = facilities
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

    public var pairPrecision: Double { foundPairs == 0 ? 1 : Double(correctPairs) / Double(foundPairs) }
    public var pairRecall: Double { truePairs == 0 ? 1 : Double(correctPairs) / Double(truePairs) }
    public var ringRecall: Double { multiFacilityRings == 0 ? 1 : Double(ringsRecovered) / Double(multiFacilityRings) }
    public var falsePatternsPer10kFacilities: Double { facilities == 0 ? 0 : Double(falsePatterns) * 10_000 / Double(facilities) }

    public init(persons found: [[Record]], patterns: [FoundPattern], truth: GroundTruth) {
        let truePersons = truth.samePerson.map { $0.records.map { Record(facility: $0.facility, staffRef: $0.staffRef) } }
        func pairs(_ groups: [[Record]]) -> Set<[Record]> {
            var all: Set<[Record]> = []
            for group in groups where group.count > 1 {
                let sorted = group.sorted { ($0.facility, $0.staffRef) < ($1.facility, $1.staffRef) }
                for i in sorted.indices { for j in sorted.index(after: i)..<sorted.endIndex { all.insert([sorted[i], sorted[j]]) } }
            }
            return all
        }
        let expected = pairs(truePersons), predicted = pairs(found)
        truePairs = expected.count
        foundPairs = predicted.count
        correctPairs = expected.intersection(predicted).count
        // B-cubed over records in a multi-record person on either side.
        var trueCluster: [Record: Int] = [:], foundCluster: [Record: Int] = [:]
        for (index, group) in truePersons.enumerated() where group.count > 1 { for record in group { trueCluster[record] = index } }
        for (index, group) in found.enumerated() where group.count > 1 { for record in group { foundCluster[record] = index } }
        let trueMembers = Dictionary(grouping: trueCluster.keys) { trueCluster[$0]! }
        let foundMembers = Dictionary(grouping: foundCluster.keys) { foundCluster[$0]! }
        let considered = Set(trueCluster.keys).union(foundCluster.keys)
        var precision = 0.0, recall = 0.0
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
        var recovered: Set<Int> = []
        var falseCount = 0
        for pattern in patterns {
            let counts = Dictionary(grouping: pattern.reports.compactMap { ringOfReport[$0] }) { $0 }.mapValues(\.count)
            guard let (ring, count) = counts.max(by: { $0.value < $1.value }), 2 * count > pattern.reports.count else {
                falseCount += 1
                continue
            }
            if pattern.facilities.intersection(truth.rings[ring].facilities).count >= 2 { recovered.insert(ring) }
        }
        // Spanning two of a ring's facilities implies the ring spans two or more.
        ringsRecovered = recovered.count
        self.patterns = patterns.count
        falsePatterns = falseCount
        facilities = truth.counts.facilities
    }
}
