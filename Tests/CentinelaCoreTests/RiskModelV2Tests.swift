import CentinelaCore
import Foundation
import Testing

/// Risk model v2: surprise against the peers, so that what makes a ring different lifts it above a
/// busy school's routine complaints (docs/risk-model.md, "v2").
@Suite struct RiskModelV2Tests {
    typealias F = RiskFixture
    let model = RiskModel.v2

    /// A large, busy school (1,200 children; its peers' median load 2 per 100): sixty routine
    /// complaints in a year, each against one adult (twelve adults), from every kind of reporter,
    /// some with the everyday tactics (threats, isolation).
    var busySchool: [RiskEvidence.Report] {
        let categories: [IncidentReport.Category] = [
            .neglect, .physicalAbuse, .emotionalAbuse, .other, .inappropriateContact, .sexualAbuse,
        ]
        let reporters: [IncidentReport.ReporterType] = [.parent, .schoolStaff, .hotline, .childDisclosure, .anonymous]
        return (0..<60).map { n in
            F.report(
                n, daysAgo: Double(n * 6 + 1), categories[n % categories.count], status: n % 3 == 0 ? .substantiated : .received,
                by: reporters[n % reporters.count], tags: n % 7 == 0 ? [.threats] : (n % 11 == 0 ? [.isolation] : []),
                adults: [n % 12 + 1])
        }
    }

    /// One report, under review, of three adults together abusing children, with a disguise and filming.
    var ringReport: RiskEvidence.Report {
        F.report(
            100, daysAgo: 10, .sexualAbuse, status: .underReview, by: .parent, tags: [.disguise, .filming, .severalAdultsPresent],
            adults: [1, 2, 3], youngest: 4)
    }

    @Test func oneRingReportOutweighsABusySchoolsRoutineYear() {
        let baseline = RiskEvidence.PeerBaseline(loadPerHundredChildren: 2, peers: 40, computedAt: F.asOf)
        let busy = F.assess(busySchool, enrolment: 1200, baseline: baseline, model: model)
        let ring = F.assess([ringReport], model: model)
        #expect(
            ring.total > busy.total, "ring \(ring.total) vs busy \(busy.total): \(busy.reasons.map { "\($0.code.rawValue) \($0.points)" })")
        #expect(ring.modelBand >= .high)
        #expect(busy.modelBand <= .elevated, "\(busy.reasons.map { "\($0.code.rawValue) \($0.points) \($0.value)" })")
        // …and a busy school where the same happens is above both.
        #expect(F.assess(busySchool + [ringReport], enrolment: 1200, baseline: baseline, model: model).total > ring.total)
    }

    @Test func theScoreIsContinuousAndStrictlyIncreasingInTheTotal() {
        // Two decimals tell every tenth of a point apart up to a total of 130, far above where the
        // bands' limits are; above it (rings), the total shown beside the score orders them.
        let totals = stride(from: 0.0, through: 2000, by: 0.1).map { ($0 * 10).rounded() / 10 }
        var previous = -1.0
        for total in totals {
            let score = (100 * total / (total + model.surprise!.displayHalfTotal) * 100).rounded() / 100
            if total <= 130 { #expect(score > previous, "\(total) ties its predecessor at \(score)") } else { #expect(score >= previous) }
            #expect(score < 100)
            previous = score
        }
        let result = F.assess([ringReport], model: model)
        #expect(result.score == (100 * result.total / (result.total + 25) * 100).rounded() / 100)
        #expect(result.total == (result.reasons.reduce(0) { $0 + $1.points } * 10).rounded() / 10)
        #expect(
            result.reasons.map(\.code).sorted { $0.rawValue < $1.rawValue }
                == RiskAssessment.FactorCode.of(model).sorted { $0.rawValue < $1.rawValue })
        #expect(result.reasons.allSatisfy { $0.cap == nil })
        #expect(result.modelID == "v2" && result.floor == nil)
    }

    @Test func whatIsCommonAmongThePeersWeighsLess() {
        // Where one report in five names two adults (a heavier background), naming two adults is
        // ordinary: TOGETHER weighs little; where one in a thousand does, it weighs a lot.
        func together(sharing share: Double) -> Double {
            var counted = ReportShares(reports: 100_000)
            for feature in ReportShares.Feature.all {
                counted.counts[feature.description] = model.surprise!.defaultShare(feature) * 100_000
            }
            counted.counts["adults>=2"] = share * 100_000
            counted.counts["adults>=3"] = share * 20_000
            let evidence = RiskEvidence(
                facilityID: F.facility, reports: [F.report(1, daysAgo: 5, .sexualAbuse, tags: [.filming], adults: [1, 2])],
                featureShares: FeatureShares.shrunk([counted], model: model.surprise!))
            return model.assess(evidence, asOf: F.asOf).points(.together)
        }
        #expect(together(sharing: 0.2) < 1)
        #expect(together(sharing: 0.001) > 3)
        #expect(together(sharing: 0.001) > 3 * together(sharing: 0.2))
    }

    @Test func aSmallGroupFollowsItsParentAndThresholdsStayNested() {
        let surprise = model.surprise!
        var country = ReportShares(reports: 1_000_000)
        country.counts = ["adults>=2": 10_000, "adults>=3": 2_000, "severity>=4": 70_000, "tag:filming": 2_000]
        var small = ReportShares(reports: 3)
        small.counts = ["adults>=2": 0, "adults>=3": 3, "tag:filming": 3]
        let shares = FeatureShares.shrunk([country, small], model: surprise)
        // Three reports barely move the country's shares…
        #expect(abs(shares[.tag(.filming)] - 0.002) < 0.011)
        // …and three adults are never more common than two.
        #expect(shares[.adults(atLeast: 3)] <= shares[.adults(atLeast: 2)])
        #expect(shares[.severity(atLeast: 4)] <= shares[.severity(atLeast: 3)])
        // A feature nobody has seen is floored, never infinitely surprising.
        var none = ReportShares(reports: 10_000_000)
        none.counts = [:]
        #expect(FeatureShares.shrunk([none], model: surprise)[.tag(.sedation)] == surprise.shareFloor)
    }

    @Test func tiesToOtherFacilitiesCountByStrength() {
        let other1 = Facility.ID(UUID())
        let other2 = Facility.ID(UUID())
        func cross(_ patterns: [RiskEvidence.PatternMembership]) -> Double {
            model.assess(RiskEvidence(facilityID: F.facility, reports: [ringReport], patterns: patterns), asOf: F.asOf).points(
                .crossFacility)
        }
        let network = cross([.init(id: UUID(), kind: .network, facilities: [F.facility, other1], reports: [], lastReceivedAt: F.asOf)])
        let alike = cross([.init(id: UUID(), kind: .modusOperandi, facilities: [F.facility, other1], reports: [], lastReceivedAt: F.asOf)])
        let two = cross([.init(id: UUID(), kind: .network, facilities: [F.facility, other1, other2], reports: [], lastReceivedAt: F.asOf)])
        #expect(network == 8 && alike < network && two > network)
    }

    @Test func countingSharesTakesTheLookbackWindowOnly() {
        var shares = ReportShares()
        let evidence = RiskEvidence(facilityID: F.facility, reports: [ringReport, F.report(2, daysAgo: 400, .neglect)])
        model.countShares(evidence, asOf: F.asOf, into: &shares)
        #expect(shares.reports == 1)
        #expect(shares.count(.adults(atLeast: 3)) == 1 && shares.count(.tag(.filming)) == 1 && shares.count(.severity(atLeast: 2)) == 1)
        #expect(ReportShares.Feature.all.allSatisfy { ReportShares.Feature(description: $0.description) == $0 })
    }
}
