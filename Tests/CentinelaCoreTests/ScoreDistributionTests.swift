import CentinelaCore
import Foundation
import Testing

@Suite struct ScoreDistributionTests {
    /// 1,001 quantiles of totals 0, 0.1 … 100.
    let spread = ScoreDistribution(
        modelID: "v2", facilities: 5000, quantiles: (0...1000).map { Double($0) / 10 }, computedAt: Date(timeIntervalSince1970: 0))

    @Test func placesATotalAmongTheQuantiles() {
        #expect(spread.percentile(of: 0) == 0)
        #expect(spread.percentile(of: 50) == 50)
        #expect(spread.percentile(of: 99.95) == 100)
        #expect(spread.percentile(of: 100) == 100)
    }

    /// A total that rose above every total of the last full run (a report since) is above all
    /// facilities: 100 %, never more (schemathesis found `"percentile": 100.1` against the
    /// contract's maximum of 100).
    @Test func aTotalAboveEveryQuantileIsAtOneHundred() {
        #expect(spread.percentile(of: 250) == 100)
        let allZero = ScoreDistribution(modelID: "v2", facilities: 10, quantiles: Array(repeating: 0, count: 1001), computedAt: Date())
        #expect(allZero.percentile(of: 0) == 0)
        #expect(allZero.percentile(of: 3) == 100)
    }
}
