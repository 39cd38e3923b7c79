/// Links reports at different facilities by their modus operandi and groups them into patterns.
///
/// Pairs are generated from shared tags, not all-pairs: each report's blocking tags are its tags
/// held by at most `blockingShareLimit` of all reports, topped up with its rarest tags to
/// `minimumBlockingTags` (in a young database every tag is common, and a rule that dropped them
/// would find nothing). A pair looks alike when it shares at least `minimumSharedTags` MO tags, the
/// tags it shares are unlikely together by chance (fewer than `chanceLimit` of all reports would
/// have them all if tags were independent: threats and isolation together are everyday, disguises
/// and staged acts together are not), its weighted Jaccard similarity reaches `similarityThreshold`,
/// and the two happened at most `maxDaysApart` days apart (a ring works for months, not decades).
///
/// Looking alike is not enough on its own once a style of abuse is shared by many groups: tags
/// are not independent (disguises, staged acts and filming come together), so the chance test
/// above underrates how common a combination is. An alike pair is an edge when either
/// - its reports are **tied by an adult**: they name the same person, or two persons waiting in the
///   review queue as possibly one (a pair of names too weak to link across the country is strong
///   next to the same tactics at both schools); or
/// - the combination of tags it shares is **distinctive**: at most `distinctiveReports` reports in
///   the whole database carry all of them (counted, not assumed independent).
/// On the simulated country, tactics alone grouped reports of up to 40 unrelated rings; with this
/// rule no pattern mixed rings (docs/linking.md, "When alike is not enough").
///
/// Patterns are the connected components of the edges, pruned against chaining: a report stays in
/// a pattern only while it is at least `signatureThreshold` similar to the pattern's signature (the
/// features most of its reports share), so A–B–C–D with nothing common to A and D does not become
/// one pattern. Reports found unfounded take part as history but a pattern needs at least one
/// report that is not. See docs/linking.md.
public struct PatternDetection: Sendable, Equatable {
    public var similarityThreshold = 0.5
    public var minimumSharedTags = 2
    public var chanceLimit = 1.0
    public var maxDaysApart = 365
    public var blockingShareLimit = 0.2
    public var minimumBlockingTags = 2
    public var signatureThreshold = 0.5
    /// Tactics alone tie two reports when at most this many reports carry all the tags they share.
    public var distinctiveReports = 3
    /// A pattern spans at least this many facilities.
    public var minimumFacilities = 2
    /// Candidate blocks larger than this are skipped (their reports meet through other tags).
    public var maxBlock = 5_000

    public init() {}

    public static let v1 = PatternDetection()

    /// Two reports at different facilities that look alike.
    public struct Edge: Sendable, Equatable {
        public var a: Int
        public var b: Int
        public var similarity: Double
    }

    public struct Pattern: Sendable, Equatable {
        /// The reports, in input order.
        public var reports: [IncidentReport.ID]
        public var facilities: Set<Facility.ID>
        /// The features at least half of its reports share, e.g. `mo:disguise`.
        public var signature: Set<String>
    }

    /// The tags a report is blocked on.
    func blockingTags(_ profile: CaseProfile, weights: FeatureWeights) -> [String] {
        let tags = profile.tags.sorted { (weights.share($0), $0) < (weights.share($1), $1) }
        let rare = tags.filter { weights.share($0) <= blockingShareLimit }
        return rare.count >= minimumBlockingTags ? rare : Array(tags.prefix(max(minimumBlockingTags, rare.count)))
    }

    /// The edges among these reports, lower index first.
    public func edges(_ profiles: [CaseProfile], weights: FeatureWeights) -> [Edge] {
        var blocks: [String: [Int]] = [:]
        for (index, profile) in profiles.enumerated() {
            for tag in blockingTags(profile, weights: weights) { blocks[tag, default: []].append(index) }
        }
        var seen: Set<Int64> = []
        var edges: [Edge] = []
        var holding: [Set<String>: Int] = [:]
        for members in blocks.values where members.count > 1 && members.count <= maxBlock {
            for i in members.indices {
                for j in members.index(after: i)..<members.endIndex {
                    let (a, b) = (min(members[i], members[j]), max(members[i], members[j]))
                    guard profiles[a].facility != profiles[b].facility, seen.insert(Int64(a) << 32 | Int64(b)).inserted else { continue }
                    if let x = profiles[a].day, let y = profiles[b].day, abs(x - y) > maxDaysApart { continue }
                    let shared = profiles[a].tags.intersection(profiles[b].tags)
                    guard shared.count >= minimumSharedTags, expectedByChance(shared, weights: weights) < chanceLimit else { continue }
                    let similarity = weights.similarity(profiles[a].features, profiles[b].features)
                    guard similarity >= similarityThreshold else { continue }
                    if profiles[a].ties.isDisjoint(with: profiles[b].ties) {
                        let count = holding[shared] ?? weights.holding(shared)
                        holding[shared] = count
                        guard count <= distinctiveReports else { continue }
                    }
                    edges.append(Edge(a: a, b: b, similarity: similarity))
                }
            }
        }
        return edges.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }

    /// How many reports would have all these tags if each report drew its tags independently.
    public func expectedByChance(_ tags: Set<String>, weights: FeatureWeights) -> Double {
        tags.reduce(Double(weights.reports)) { $0 * weights.share($1) }
    }

    /// The patterns among these reports, largest first.
    public func patterns(_ profiles: [CaseProfile], weights: FeatureWeights) -> [Pattern] {
        let edges = edges(profiles, weights: weights)
        var found: [Pattern] = []
        var pending: [Set<Int>] = components(Set(edges.flatMap { [$0.a, $0.b] }), edges: edges)
        while let group = pending.popLast() {
            let (kept, dropped) = prune(group, profiles: profiles, weights: weights)
            // What pruning set aside may still form a pattern of its own.
            if dropped.count > 1 { pending += components(dropped, edges: edges) }
            // Pruning may have cut the group in two: look at each part again.
            let parts = components(kept, edges: edges)
            guard parts == [kept] else {
                pending += parts
                continue
            }
            let ordered = kept.sorted()
            let facilities = Set(ordered.map { profiles[$0].facility })
            guard facilities.count >= minimumFacilities, kept.contains(where: { !profiles[$0].unfounded }) else { continue }
            found.append(
                Pattern(reports: ordered.map { profiles[$0].report }, facilities: facilities, signature: signature(kept, profiles)))
        }
        return found.sorted {
            $0.reports.count != $1.reports.count ? $0.reports.count > $1.reports.count : $0.reports[0].description < $1.reports[0].description
        }
    }

    /// Connected components of the edges within `nodes`.
    func components(_ nodes: Set<Int>, edges: [Edge]) -> [Set<Int>] {
        var sets = DisjointSets(nodes)
        for edge in edges where nodes.contains(edge.a) && nodes.contains(edge.b) { sets.union(edge.a, edge.b) }
        var groups: [Int: Set<Int>] = [:]
        for node in nodes { groups[sets.find(node), default: []].insert(node) }
        return groups.keys.sorted().compactMap { groups[$0] }.filter { $0.count > 1 }
    }

    /// The features at least half of the reports have.
    func signature(_ group: Set<Int>, _ profiles: [CaseProfile]) -> Set<String> {
        var counts: [String: Int] = [:]
        for i in group { for feature in profiles[i].features { counts[feature, default: 0] += 1 } }
        return Set(counts.filter { 2 * $0.value >= group.count }.keys)
    }

    /// Removes, one at a time, reports too far in time from the group's median (farthest first:
    /// edges within a year of each other chain across years otherwise), then reports too unlike
    /// the group's signature (least similar first).
    func prune(_ group: Set<Int>, profiles: [CaseProfile], weights: FeatureWeights) -> (kept: Set<Int>, dropped: Set<Int>) {
        var kept = group, dropped: Set<Int> = []
        while kept.count > 2 {
            let days = kept.compactMap { profiles[$0].day }.sorted()
            guard !days.isEmpty else { break }
            let median = days[days.count / 2]
            let distance = { (i: Int) in profiles[i].day.map { abs($0 - median) } ?? 0 }
            guard let farthest = kept.max(by: { (distance($0), $1) < (distance($1), $0) }), 2 * distance(farthest) > maxDaysApart else { break }
            kept.remove(farthest)
            dropped.insert(farthest)
        }
        while kept.count > 2 {
            let signature = signature(kept, profiles)
            let scored = kept.map { ($0, weights.similarity(profiles[$0].features, signature)) }
            guard let worst = scored.min(by: { ($0.1, $1.0) < ($1.1, $0.0) }), worst.1 < signatureThreshold else { break }
            kept.remove(worst.0)
            dropped.insert(worst.0)
        }
        return (kept, dropped)
    }
}
