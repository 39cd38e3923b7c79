import Foundation

/// How every facility's total was spread at the last full rescoring: the quantiles at 0 %, 0.1 % …
/// 100 %. Places one score among all facilities' without revealing any of them.
public struct ScoreDistribution: Hashable, Sendable {
    public var modelID: String
    public var facilities: Int
    /// 1,001 totals, ascending.
    public var quantiles: [Double]
    public var computedAt: Date

    public init(modelID: String, facilities: Int, quantiles: [Double], computedAt: Date) {
        self.modelID = modelID
        self.facilities = facilities
        self.quantiles = quantiles
        self.computedAt = computedAt
    }

    /// The share of facilities, in percent (one decimal), whose total was below `total`: 99.5
    /// means "in the top 0.5 %". Ties count as not below, so a facility scoring what most score
    /// (nothing, usually) is not placed above them.
    public func percentile(of total: Double) -> Double {
        guard quantiles.count > 1 else { return 0 }
        // The first quantile not below the total (binary search: the quantiles ascend).
        var low = 0
        var high = quantiles.count
        while low < high {
            let middle = (low + high) / 2
            if quantiles[middle] < total { low = middle + 1 } else { high = middle }
        }
        // Above every quantile (a total that rose since the last full run): every facility is
        // below it, 100 %, not the 100.1 one past the last quantile would give.
        return (Double(min(low, quantiles.count - 1)) / Double(quantiles.count - 1) * 1000).rounded() / 10
    }
}
