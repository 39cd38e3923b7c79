/// Links reports at different facilities by their modus operandi and groups them into patterns.
///
/// **Distinctive against the background.** Every combination of two or more tactics a report
/// carries (with its age band and several adults, when present) is counted over the database. A
/// combination is distinctive when it is both
/// - far more frequent than chance: at least `minimumRatio` times as many reports carry it as
///   would if each feature turned up independently at its rate over the whole database
///   (`FeatureWeights.expectedOverall`; the carriers inflate those rates, so this errs towards
///   the ordinary), and
/// - surely so: its Poisson log-likelihood ratio against the rest of the database — the reports
///   that do not carry it, as a scan statistic compares a cluster with what lies outside it —
///   reaches `surpriseThreshold` (`FeatureWeights.surprise`).
/// The first keeps a national database's millions of reports from making a mild everyday
/// correlation "significant", and a recording habit (two tactics always ticked together) from
/// looking rare; the second keeps two reports that meet by chance in a small database from
/// counting, and only grows as consistent reports of a ring arrive.
///
/// **Ties.** Two reports at different facilities are tied by tactics when they share at least
/// `minimumSharedTags` tactics, the tactics they share are at least `tagOverlap` of all the tactics
/// either has (a Jaccard index that counts nothing in the database, so adding reports never makes
/// two reports less alike), what they share holds a distinctive combination, and they happened at
/// most `maxDaysApart` days (two years) apart. Reports naming the same person, or two persons waiting in the
/// review queue as possibly one, are tied by alike tactics (the same two conditions on shared
/// tactics) without the distinctiveness or the time limit: a tie through an adult never expires.
///
/// **Styles.** The tied reports fall into connected groups. A group may hold several styles
/// joined by a report that carries two of them, so it is split: the tactic set (among its
/// reports' own) that covers reports at the most facilities is a style, and its reports are those
/// most of whose tactics are in it and that show at least a third of it (and two or more), unless
/// they share neither the age band of its victims nor its category (see `sameContext`); the rest
/// are looked at again. A group's further styles must be distinctive against the background
/// without the styles found before them. Styles whose signatures agree (Jaccard ≥ `mergeOverlap`) and whose
/// spans overlap, or lie closer than the longer one lasts (and at least `maxDaysApart`, two years),
/// are one pattern: a ring reported for three years is one pattern, however its reports were spread.
///
/// Reports found unfounded take part as history but a pattern needs at least one report that is
/// not. See docs/linking.md, section 2.
public struct PatternDetection: Sendable, Equatable {
    /// A combination is distinctive at this surprise (a likelihood ratio of e^10, about 22,000 to 1)...
    public var surpriseThreshold = 10.0
    /// ...when it is also at least this many times as frequent as independence predicts.
    public var minimumRatio = 10.0
    public var minimumSharedTags = 2
    /// Shared tactics over all the tactics of two reports.
    public var tagOverlap = 0.5
    /// Two reports are tied by tactics at most this many days apart; a style returning within
    /// this many days of its reports (or within its own span, if longer) is the same style.
    public var maxDaysApart = 730
    /// Styles whose tactic signatures agree this much (Jaccard) are one.
    public var mergeOverlap = 0.8
    /// A pattern spans at least this many facilities.
    public var minimumFacilities = 2
    /// Candidate blocks larger than this are skipped (their reports meet through other tags).
    public var maxBlock = 5_000

    public init() {}

    public static let v1 = PatternDetection()

    /// Two reports at different facilities tied by tactics, or by an adult and alike tactics.
    public struct Edge: Sendable, Equatable {
        public var a: Int
        public var b: Int
        /// Tied through an adult (the same person, or a review-queue pair).
        public var tied: Bool
    }

    public struct Pattern: Sendable, Equatable {
        /// The reports, in input order.
        public var reports: [IncidentReport.ID]
        public var facilities: Set<Facility.ID>
        /// The features at least half of its reports share, e.g. `mo:disguise`.
        public var signature: Set<String>
        /// The groups of facilities inside it that an adult ties together (the same person, or a
        /// review-queue pair), largest first; a facility no adult ties to another is a group alone.
        public var groups: [Set<Facility.ID>]
    }

    /// The edges among these reports, lower index first.
    public func edges(_ profiles: [CaseProfile], weights: FeatureWeights) -> [Edge] {
        let masks = profiles.map { TacticCombination($0.features) }
        // Blocks: each pair of tactics that some distinctive combination holds, and each tie key.
        var distinctivePairs: Set<UInt32> = []
        for combination in weights.combinations.keys where isDistinctive(combination, weights) {
            Self.forEachTacticPair(combination) { distinctivePairs.insert($0) }
        }
        var blocks: [UInt32: [Int]] = [:]
        var tieBlocks: [String: [Int]] = [:]
        for (index, mask) in masks.enumerated() where mask.tactics >= minimumSharedTags {
            Self.forEachTacticPair(mask) { pair in if distinctivePairs.contains(pair) { blocks[pair, default: []].append(index) } }
            for key in profiles[index].ties { tieBlocks[key, default: []].append(index) }
        }
        var distinctive: [UInt32: Bool] = [:]
        var seen: Set<Int64> = []
        var edges: [Edge] = []
        for members in Array(blocks.values) + Array(tieBlocks.values) where members.count > 1 && members.count <= maxBlock {
            for i in members.indices {
                for j in members.index(after: i)..<members.endIndex {
                    let (a, b) = (min(members[i], members[j]), max(members[i], members[j]))
                    guard profiles[a].facility != profiles[b].facility, !seen.contains(Int64(a) << 32 | Int64(b)) else { continue }
                    let shared = masks[a].intersection(masks[b])
                    guard shared.tactics >= minimumSharedTags, masks[a].tacticOverlap(masks[b]) >= tagOverlap else { continue }
                    let tied = !profiles[a].ties.isDisjoint(with: profiles[b].ties)
                    if !tied {
                        if let x = profiles[a].day, let y = profiles[b].day, abs(x - y) > maxDaysApart { continue }
                        guard holdsDistinctive(shared, weights, memo: &distinctive) else { continue }
                    }
                    seen.insert(Int64(a) << 32 | Int64(b))
                    edges.append(Edge(a: a, b: b, tied: tied))
                }
            }
        }
        return edges.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }

    /// Far more frequent than the background predicts, and surely so (see the type).
    public func isDistinctive(_ combination: TacticCombination, _ weights: FeatureWeights) -> Bool {
        Double(weights.holding(combination)) >= minimumRatio * weights.expectedOverall(combination)
            && weights.surprise(combination) >= surpriseThreshold
    }

    /// Whether some combination inside `shared` is distinctive, remembered by its bits.
    func holdsDistinctive(_ shared: TacticCombination, _ weights: FeatureWeights, memo: inout [UInt32: Bool]) -> Bool {
        if let known = memo[shared.bits] { return known }
        var found = false
        shared.forEachCombination { if !found, isDistinctive($0, weights) { found = true } }
        memo[shared.bits] = found
        return found
    }

    /// Whether two of these reports, at different facilities, share a combination that is
    /// distinctive against this background.
    func holdsDistinctivePair(_ members: Set<Int>, _ profiles: [CaseProfile], _ background: FeatureWeights) -> Bool {
        let ordered = members.sorted()
        let masks = ordered.map { TacticCombination(profiles[$0].features) }
        var memo: [UInt32: Bool] = [:]
        for i in ordered.indices {
            for j in ordered.indices where j > i && profiles[ordered[i]].facility != profiles[ordered[j]].facility {
                if holdsDistinctive(masks[i].intersection(masks[j]), background, memo: &memo) { return true }
            }
        }
        return false
    }

    /// Each pair of tactics in the combination, as a two-bit mask.
    static func forEachTacticPair(_ combination: TacticCombination, _ body: (UInt32) -> Void) {
        let tactics = combination.tacticsOnly.bits
        var rest = tactics
        while rest != 0 {
            let low = rest & (~rest &+ 1)
            rest &= ~low
            var others = rest
            while others != 0 {
                let next = others & (~others &+ 1)
                others &= ~next
                body(low | next)
            }
        }
    }

    /// The patterns among these reports, largest first.
    public func patterns(_ profiles: [CaseProfile], weights: FeatureWeights) -> [Pattern] {
        let edges = edges(profiles, weights: weights)
        let masks = profiles.map { TacticCombination($0.features).tacticsAndAge }
        var styles: [Set<Int>] = []
        for group in components(Set(edges.flatMap { [$0.a, $0.b] }), edges: edges) {
            // A group's first style is what tied it; each further style must be distinctive
            // against the background without the styles found before it, as a scan statistic's
            // secondary clusters are: a combination a ring made rare-looking does not make two
            // ordinary reports a pattern once the ring's reports are set aside.
            var background = weights
            for (index, style) in split(group, masks: masks, profiles: profiles).enumerated() {
                if index > 0 {
                    guard holdsDistinctivePair(style, profiles, background) else { continue }
                }
                styles.append(style)
                for member in style { background.uncount(profiles[member]) }
            }
        }
        let merged = merge(styles, profiles: profiles)
        var found: [Pattern] = []
        for members in merged {
            let ordered = members.sorted()
            let facilities = Set(ordered.map { profiles[$0].facility })
            guard facilities.count >= minimumFacilities, members.contains(where: { !profiles[$0].unfounded }) else { continue }
            found.append(
                Pattern(
                    reports: ordered.map { profiles[$0].report }, facilities: facilities, signature: signature(members, profiles),
                    groups: groups(ordered, profiles)))
        }
        return found.sorted {
            $0.reports.count != $1.reports.count
                ? $0.reports.count > $1.reports.count : $0.reports[0].description < $1.reports[0].description
        }
    }

    /// Whether a report with these tactics belongs to a style with these: most of its tactics are
    /// the style's, and it shows at least a third of the style (two tactics or more).
    func belongs(_ report: TacticCombination, to style: TacticCombination) -> Bool {
        let shared = report.intersection(style).tactics
        return shared >= minimumSharedTags && 2 * shared >= report.tactics && 3 * shared >= style.tactics
    }

    /// Splits a connected group into styles: the tactic set covering reports at the most
    /// facilities first (then the most reports, then the larger set), until none covers two.
    func split(_ group: Set<Int>, masks: [TacticCombination], profiles: [CaseProfile]) -> [Set<Int>] {
        var remaining = group
        var styles: [Set<Int>] = []
        while remaining.count > 1 {
            let candidates = Set(remaining.map { masks[$0].tacticsOnly }).filter { $0.tactics >= minimumSharedTags }.sorted()
            var best: (facilities: Int, reports: Int, tactics: Int, members: Set<Int>)?
            for style in candidates {
                let members = sameContext(remaining.filter { belongs(masks[$0], to: style) }, masks: masks, profiles: profiles)
                let score = (Set(members.map { profiles[$0].facility }).count, members.count, style.tactics)
                if let current = best, (score.0, score.1, score.2) <= (current.facilities, current.reports, current.tactics) { continue }
                best = (score.0, score.1, score.2, members)
            }
            guard let chosen = best, chosen.facilities >= minimumFacilities else { break }
            styles.append(chosen.members)
            remaining.subtract(chosen.members)
        }
        return styles
    }

    /// The members of a style without those that share neither its victims nor its harm: their
    /// youngest child is in another age band than most of the style's reports with a known age,
    /// and their category is not the one most of its reports have. The same two tactics in a
    /// teenager's complaint of emotional abuse are another matter than a style of sexual abuse
    /// of preschoolers; a ring's report about an older child, or filed under another category,
    /// stays. A dimension on which the style has no majority excludes nothing.
    func sameContext(_ members: Set<Int>, masks: [TacticCombination], profiles: [CaseProfile]) -> Set<Int> {
        func majority<Key: Hashable>(_ key: (Int) -> Key?) -> Key? {
            var counts: [Key: Int] = [:]
            for member in members { if let value = key(member) { counts[value, default: 0] += 1 } }
            let known = counts.values.reduce(0, +)
            guard let (value, count) = counts.max(by: { $0.value < $1.value }), 2 * count > known else { return nil }
            return value
        }
        func age(_ member: Int) -> UInt32? { masks[member].ageBand.isEmpty ? nil : masks[member].ageBand.bits }
        func category(_ member: Int) -> String? { profiles[member].features.first { $0.hasPrefix("category:") } }
        let styleAge = majority(age)
        let styleCategory = majority(category)
        return members.filter { member in
            let otherAge = styleAge != nil && age(member) != nil && age(member) != styleAge
            let otherCategory = styleCategory != nil && category(member) != nil && category(member) != styleCategory
            return !(otherAge && otherCategory)
        }
    }

    /// Joins styles whose tactic signatures agree and whose spans overlap or lie close (see the type).
    func merge(_ styles: [Set<Int>], profiles: [CaseProfile]) -> [Set<Int>] {
        var sets = DisjointSets(styles.indices)
        let signatures = styles.map { TacticCombination(signature($0, profiles)) }
        let spans = styles.map { span($0, profiles) }
        for i in styles.indices {
            for j in styles.indices where j > i {
                guard signatures[i].tacticOverlap(signatures[j]) >= mergeOverlap else { continue }
                if let x = spans[i], let y = spans[j], !within(x, y) { continue }
                sets.union(i, j)
            }
        }
        var joined: [Int: Set<Int>] = [:]
        for index in styles.indices { joined[sets.find(index), default: []].formUnion(styles[index]) }
        return joined.keys.sorted().compactMap { joined[$0] }
    }

    /// The days these reports happened on, first to last, when known.
    func span(_ members: Set<Int>, _ profiles: [CaseProfile]) -> ClosedRange<Int>? {
        let days = members.compactMap { profiles[$0].day }
        guard let low = days.min(), let high = days.max() else { return nil }
        return low...high
    }

    /// Whether two spans overlap or lie closer than the longer one lasts, and at least
    /// `maxDaysApart`: the window a pattern's own span sets.
    func within(_ x: ClosedRange<Int>, _ y: ClosedRange<Int>) -> Bool {
        let gap = max(x.lowerBound, y.lowerBound) - min(x.upperBound, y.upperBound)
        let longest = max(x.upperBound - x.lowerBound, y.upperBound - y.lowerBound)
        return gap <= max(maxDaysApart, longest)
    }

    /// The facilities of these reports that adults tie together, largest group first.
    func groups(_ members: [Int], _ profiles: [CaseProfile]) -> [Set<Facility.ID>] {
        var sets = DisjointSets<String>()
        var byKey: [String: Facility.ID] = [:]
        for i in members {
            let facility = profiles[i].facility.description
            _ = sets.find(facility)
            for key in profiles[i].ties {
                if let other = byKey[key] { sets.union(facility, other.description) } else { byKey[key] = profiles[i].facility }
            }
        }
        var grouped: [String: Set<Facility.ID>] = [:]
        for i in members { grouped[sets.find(profiles[i].facility.description), default: []].insert(profiles[i].facility) }
        return grouped.values.sorted {
            $0.count != $1.count ? $0.count > $1.count : $0.map(\.description).min()! < $1.map(\.description).min()!
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
}
