import CentinelaCore

/// How well a ranking of facilities (riskiest first) finds the planted rings of a simulation.
///
/// With k the number of distinct facilities where rings operate, the top k of the ranking is
/// compared with them: precision@k (how much of the top k is ring facilities; with this k it equals
/// recall@k, the share of ring facilities in the top k) and ring recall (the share of rings with at
/// least one facility in the top k: found, in the sense that a regulator would open the case).
public struct DetectionQuality: Sendable, Equatable, Codable {
    public var k: Int
    public var ringFacilitiesInTopK: Int
    public var ringsFound: Int
    public var rings: Int

    public var precisionAtK: Double { k == 0 ? 0 : Double(ringFacilitiesInTopK) / Double(k) }
    public var ringRecall: Double { rings == 0 ? 0 : Double(ringsFound) / Double(rings) }

    /// - Parameter ranking: facility codes, riskiest first (at least the top k).
    public init(ranking: [String], truth: GroundTruth) {
        let ringFacilities = Set(truth.rings.flatMap(\.facilities))
        k = ringFacilities.count
        let top = Set(ranking.prefix(k))
        ringFacilitiesInTopK = top.intersection(ringFacilities).count
        rings = truth.rings.count
        ringsFound = truth.rings.filter { !top.isDisjoint(with: $0.facilities) }.count
    }
}
