import Foundation

/// A combination of features a report can carry: two or more tactics (modus-operandi tags),
/// possibly with the youngest child's age band and several adults implicated. Held as bits, so
/// that every combination a report carries can be counted across millions of reports.
public struct TacticCombination: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var bits: UInt32

    public init(bits: UInt32) { self.bits = bits }

    /// The features that take part in combinations, tactics first (bit i is `features[i]`).
    public static let features: [String] =
        IncidentReport.ModusOperandi.allCases.map { CaseProfile.tagPrefix + $0.rawValue }
        + ["age:under_6", "age:6_to_11", "age:12_plus", "adults:several"]
    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: features.enumerated().map { ($1, $0) })
    static let tacticBits: UInt32 = (1 << UInt32(IncidentReport.ModusOperandi.allCases.count)) - 1
    static let ageBits: UInt32 = ["age:under_6", "age:6_to_11", "age:12_plus"].reduce(0) { $0 | 1 << UInt32(index[$1]!) }

    /// The features of these that take part in combinations (category and the rest are left out).
    public init(_ features: some Sequence<String>) {
        bits = features.reduce(0) { mask, feature in Self.index[feature].map { mask | 1 << UInt32($0) } ?? mask }
    }

    /// How many tactics it holds.
    public var tactics: Int { (bits & Self.tacticBits).nonzeroBitCount }
    /// Its tactics alone.
    public var tacticsOnly: TacticCombination { .init(bits: bits & Self.tacticBits) }
    /// Its tactics and the youngest child's age band (without several adults).
    public var tacticsAndAge: TacticCombination { .init(bits: bits & (Self.tacticBits | Self.ageBits)) }
    /// The youngest child's age band alone (empty when unknown).
    public var ageBand: TacticCombination { .init(bits: bits & Self.ageBits) }
    public var isEmpty: Bool { bits == 0 }
    public var count: Int { bits.nonzeroBitCount }

    public func intersection(_ other: Self) -> Self { .init(bits: bits & other.bits) }
    public func union(_ other: Self) -> Self { .init(bits: bits | other.bits) }
    public func isSubset(of other: Self) -> Bool { bits & other.bits == bits }

    /// Jaccard similarity of the tactics alone: shared over all. Counts nothing in the database,
    /// so that adding reports never changes how alike two reports are.
    public func tacticOverlap(_ other: Self) -> Double {
        let all = (bits | other.bits) & Self.tacticBits
        return all == 0 ? 0 : Double((bits & other.bits & Self.tacticBits).nonzeroBitCount) / Double(all.nonzeroBitCount)
    }

    /// The feature names, in `features` order.
    public var names: [String] { Self.features.indices.filter { bits & 1 << UInt32($0) != 0 }.map { Self.features[$0] } }

    public var description: String { names.joined(separator: "+") }

    public static func < (a: Self, b: Self) -> Bool { a.bits < b.bits }

    /// Calls `body` with every combination inside this one that holds two or more tactics.
    public func forEachCombination(_ body: (TacticCombination) -> Void) {
        guard tactics >= 2 else { return }
        var sub = bits
        while sub != 0 {
            if (sub & Self.tacticBits).nonzeroBitCount >= 2 { body(.init(bits: sub)) }
            sub = (sub - 1) & bits
        }
    }
}

extension FeatureWeights {
    /// How many reports carry the combination (O), and how many would if each of its features
    /// turned up independently at the rate it has in the rest of the database — the reports that
    /// do not carry the whole combination, as a scan statistic compares a cluster with what lies
    /// outside it: E = N · Π (nᵢ − O + ½) / (N − O + 1), each rate smoothed by half a report so
    /// that a feature no other report has is rare, not impossible.
    ///
    /// Leaving the carriers out is what makes a ring's combination more distinctive with each
    /// report that carries it: a ring recorded consistently makes its own tactics common, but not
    /// common elsewhere. It also makes two features that are only ever ticked together (a
    /// recording habit) look rare apart, which is why `PatternDetection` also asks for a large
    /// ratio against the features' rates over the whole database (`expectedOverall`).
    public func observedAndExpected(_ combination: TacticCombination) -> (observed: Double, expected: Double) {
        let observed = Double(holding(combination))
        let outside = Double(reports) - observed
        var expected = Double(reports)
        for feature in combination.names { expected *= (Double(counts[feature] ?? 0) - observed + 0.5) / (outside + 1) }
        return (observed, expected)
    }

    /// How many reports would carry the combination if each of its features turned up
    /// independently at its rate over the whole database, carriers included:
    /// N · Π (nᵢ + ½) / (N + 1). The carriers make their own features look common, so this
    /// errs towards the ordinary.
    public func expectedOverall(_ combination: TacticCombination) -> Double {
        let total = Double(reports)
        return combination.names.reduce(total) { $0 * (Double(counts[$1] ?? 0) + 0.5) / (total + 1) }
    }

    /// How surprising it is that so many reports carry the combination: the log-likelihood ratio
    /// of a Poisson count, O · ln(O / E) − (O − E), 0 when O ≤ E (see `observedAndExpected`).
    /// Tactics that everyday complaints combine by chance (threats and isolation) score near 0; a
    /// style that only organised groups use scores in the tens or thousands. See docs/linking.md,
    /// "Distinctive against the background".
    public func surprise(_ combination: TacticCombination) -> Double {
        let (observed, expected) = observedAndExpected(combination)
        guard observed >= 2, observed > expected else { return 0 }
        return observed * Foundation.log(observed / expected) - (observed - expected)
    }
}
