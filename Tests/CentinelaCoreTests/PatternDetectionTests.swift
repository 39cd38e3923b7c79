import CentinelaCore
import Foundation
import Testing

/// Linking reports at different facilities by modus operandi, and grouping them into patterns.
@Suite struct PatternDetectionTests {
    typealias MO = IncidentReport.ModusOperandi
    let detection = PatternDetection.v1

    func profile(_ facility: Facility.ID, _ tags: [MO], category: IncidentReport.Category = .sexualAbuse, age: Int? = 4, adults: Int = 2) -> CaseProfile {
        CaseProfile(report: .random(), facility: facility, modusOperandi: tags, category: category, youngestAge: age, adults: adults)
    }

    /// Three preschools in different towns, the same tactics: disguises, a staged act, children
    /// made to watch, several adults; among ordinary complaints at twenty other schools.
    func scenario() -> (ring: [CaseProfile], background: [CaseProfile]) {
        let schools = (0..<3).map { _ in Facility.ID.random() }
        let ring = [
            profile(schools[0], [.disguise, .stagedAct, .childrenMadeToWatch, .severalAdultsPresent]),
            profile(schools[0], [.disguise, .childrenMadeToWatch, .severalAdultsPresent]),
            profile(schools[1], [.disguise, .stagedAct, .severalAdultsPresent]),
            profile(schools[2], [.stagedAct, .childrenMadeToWatch, .severalAdultsPresent, .filming]),
            profile(schools[2], [.disguise, .stagedAct, .childrenMadeToWatch]),
        ]
        let background = (0..<20).map { n in
            profile(.random(), n % 3 == 0 ? [.threats, .isolation] : n % 3 == 1 ? [.isolation] : [],
                    category: n % 2 == 0 ? .neglect : .physicalAbuse, age: 8, adults: 1)
        }
        return (ring, background)
    }

    @Test func severalSchoolsSharingTacticsAreOnePattern() throws {
        let (ring, background) = scenario()
        let all = background + ring
        let patterns = detection.patterns(all, weights: FeatureWeights(profiles: all))
        let pattern = try #require(patterns.first)
        #expect(patterns.count == 1, "\(patterns)")
        #expect(Set(pattern.reports) == Set(ring.map(\.report)))
        #expect(pattern.facilities == Set(ring.map(\.facility)))
        #expect(pattern.signature.isSuperset(of: ["mo:disguise", "mo:staged_act", "mo:children_made_to_watch", "mo:several_adults_present"]))
        #expect(!pattern.signature.contains("mo:filming"))
    }

    @Test func aYoungDatabaseWhereEveryTagIsCommonStillFindsThePattern() {
        // Fifteen reports: the ring's five and ten others; each ring tag is in over a quarter of them.
        let (ring, background) = scenario()
        let all = ring + background.prefix(10)
        let weights = FeatureWeights(profiles: all)
        #expect(weights.share("mo:disguise") > detection.blockingShareLimit)
        let patterns = detection.patterns(all, weights: weights)
        // With so few reports, two tags held by a quarter of them each could meet by chance: a
        // ring report sharing only two tags with the other schools' reports stays out; the three
        // schools are found, and nothing else is.
        #expect(patterns.count == 1, "\(patterns)")
        #expect(patterns.first.map { Set($0.reports).isSubset(of: ring.map(\.report)) && $0.reports.count >= 4 } == true)
        #expect(patterns.first?.facilities == Set(ring.map(\.facility)))
    }

    @Test func rareTagsWeighMoreThanCommonOnes() {
        let (ring, background) = scenario()
        let weights = FeatureWeights(profiles: ring + background)
        #expect(weights.weight("mo:disguise") < weights.weight("mo:filming"))
        #expect(weights.weight("mo:isolation") < weights.weight("mo:filming"))
        #expect(weights.weight("category:neglect") > 0)
        #expect(weights.similarity(["a"], ["a"]) == 1 && weights.similarity([], []) == 0)
    }

    @Test func reportsAtOneFacilityAreNotAPattern() {
        let school = Facility.ID.random()
        let reports = (0..<4).map { _ in profile(school, [.disguise, .stagedAct, .sedation]) }
        #expect(detection.patterns(reports, weights: FeatureWeights(profiles: reports)).isEmpty)
    }

    @Test func everydayTacticsTogetherAreNotAPattern() {
        // Threats and isolation at many schools: similar reports, but nothing unlikely in common.
        let (_, background) = scenario()
        let weights = FeatureWeights(profiles: background)
        #expect(detection.expectedByChance(["mo:threats", "mo:isolation"], weights: weights) >= detection.chanceLimit)
        #expect(detection.patterns(background, weights: weights).isEmpty)
    }

    @Test func tacticsAlikeYearsApartAreNotLinked() {
        let (ring, background) = scenario()
        // The same three schools' reports, but the third school's two years later.
        let moved = ring.map { profile -> CaseProfile in
            var profile = profile
            profile.day = profile.facility == ring[3].facility ? 20_000 + 730 : 20_000
            return profile
        }
        let all = background + moved
        let patterns = detection.patterns(all, weights: FeatureWeights(profiles: all))
        #expect(patterns.count == 1 && patterns[0].facilities == Set(ring.prefix(3).map(\.facility)), "\(patterns)")
    }

    @Test func categoryAndAgeAloneMakeNoPattern() {
        let reports = (0..<6).map { _ in profile(.random(), [.filming]) }
        #expect(detection.edges(reports, weights: FeatureWeights(profiles: reports)).isEmpty)
    }

    @Test func aChainOfLooseResemblancesIsNotOnePattern() {
        // A shares nothing with D; each neighbour shares three tags.
        let tags: [[MO]] = [
            [.disguise, .stagedAct, .sedation, .offPremises],
            [.stagedAct, .sedation, .offPremises, .photographing],
            [.sedation, .offPremises, .photographing, .filming],
            [.offPremises, .photographing, .filming, .childrenMadeToWatch],
            [.photographing, .filming, .childrenMadeToWatch, .giftsGrooming],
            [.filming, .childrenMadeToWatch, .giftsGrooming, .removalFromClassroom],
        ]
        let chain = tags.map { profile(.random(), $0, category: .other, age: nil, adults: 1) }
        // Among sixty other reports, so that these tactics are rare.
        let others = (0..<60).map { _ in profile(.random(), [.threats], category: .neglect, age: 9, adults: 1) }
        let weights = FeatureWeights(profiles: chain + others)
        let edges = detection.edges(chain, weights: weights)
        #expect(edges.count >= 5, "the chain is connected: \(edges)")
        let patterns = detection.patterns(chain, weights: weights)
        for pattern in patterns {
            let members = Set(pattern.reports)
            #expect(!(members.contains(chain[0].report) && members.contains(chain[5].report)), "\(patterns)")
        }
    }

    /// Ten groups, each at two schools, all with the same style: disguises, staged acts, children
    /// made to watch. Tactics alone cannot tell the groups apart, so they make no pattern; an adult
    /// named at both schools of a group — the same person, or a pair waiting in the review queue —
    /// makes each group its own pattern, and none mixes two groups.
    @Test func aStyleSharedByManyGroupsNeedsAnAdultToTieTheSchools() {
        let style: [MO] = [.disguise, .stagedAct, .childrenMadeToWatch, .severalAdultsPresent]
        let groups = (0..<10).map { _ in (0..<2).map { _ in Facility.ID.random() } }
        func reports(tied: Bool) -> [CaseProfile] {
            groups.enumerated().flatMap { index, schools in
                schools.enumerated().map { position, school in
                    var report = profile(school, style)
                    // The first school names person A; the second a record B the review queue holds as maybe A.
                    let pending = ["g\(index)-0": Set(["g\(index)-1"]), "g\(index)-1": ["g\(index)-0"]]
                    if tied { report.ties = CaseProfile.ties(persons: ["g\(index)-\(position)"], pending: pending) }
                    return report
                }
            }
        }
        let others = (0..<200).map { n in profile(.random(), n % 2 == 0 ? [.threats] : [], category: .neglect, age: 9, adults: 1) }
        let untied = reports(tied: false) + others
        let weights = FeatureWeights(profiles: untied)
        #expect(weights.holding(["mo:disguise", "mo:staged_act"]) == 20)
        #expect(detection.expectedByChance(Set(style.map { "mo:" + $0.rawValue }), weights: weights) < detection.chanceLimit)
        #expect(detection.patterns(untied, weights: weights).isEmpty)

        let tied = reports(tied: true) + others
        let patterns = detection.patterns(tied, weights: FeatureWeights(profiles: tied))
        #expect(patterns.count == 10, "\(patterns)")
        #expect(Set(patterns.map(\.facilities)) == Set(groups.map { Set($0) }))
    }

    @Test func theSamePersonOrAReviewPairTiesTwoReports() {
        let pending: [String: Set<String>] = ["p2": ["q9"], "q9": ["p2"]]
        let ties = CaseProfile.ties(persons: ["p1", "p2"], pending: pending)
        #expect(ties == ["p1", "p2", "review:p2:q9"])
        #expect(!ties.isDisjoint(with: CaseProfile.ties(persons: ["q9"], pending: pending)))
        #expect(!ties.isDisjoint(with: CaseProfile.ties(persons: ["p1"], pending: pending)))
        #expect(ties.isDisjoint(with: CaseProfile.ties(persons: ["q8"], pending: pending)))
    }

    @Test func anUnfoundedReportJoinsAPatternButCannotMakeOne() {
        let (ring, background) = scenario()
        // The third school's reports were found unfounded: they still belong with the other two.
        let dismissed = ring.map { report -> CaseProfile in
            var report = report
            report.unfounded = report.facility == ring[3].facility
            return report
        }
        let all = background + dismissed
        let weights = FeatureWeights(profiles: all)
        #expect(weights.reports == background.count + 3)
        let patterns = detection.patterns(all, weights: weights)
        #expect(patterns.count == 1 && patterns.first?.facilities == Set(ring.map(\.facility)), "\(patterns)")
        // Every one of them unfounded: nothing.
        let allDismissed = ring.map { report -> CaseProfile in
            var report = report
            report.unfounded = true
            return report
        }
        #expect(detection.patterns(background + allDismissed, weights: FeatureWeights(profiles: background + ring)).isEmpty)
    }
}

/// Adults implicated together, across facilities.
@Suite struct NetworkDetectionTests {
    typealias I = NetworkDetection.Implication

    @Test func adultsAccusedTogetherAndAgainElsewhereAreANetwork() {
        let (a, b, c) = (Facility.ID.random(), Facility.ID.random(), Facility.ID.random())
        let reports = (0..<6).map { _ in IncidentReport.ID.random() }
        let implications = [
            I(report: reports[0], facility: a, persons: ["p1", "p2"]),  // together at A
            I(report: reports[1], facility: b, persons: ["p2"]),  // one of them again at B
            I(report: reports[2], facility: c, persons: ["p3"]),  // a mover accused alone at C...
            I(report: reports[3], facility: a, persons: ["p3"]),  // ...and alone at A: not a network
            I(report: reports[4], facility: c, persons: ["p4", "p5"]),  // two together at one school only
            I(report: reports[5], facility: c, persons: []),
        ]
        let networks = NetworkDetection.networks(implications)
        #expect(networks.count == 1)
        #expect(networks.first?.reports == [reports[0], reports[1]])
        #expect(networks.first?.facilities == [a, b] && networks.first?.persons == ["p1", "p2"])
    }

    @Test func complaintsAgainstOneMemberWhereTheGroupWasAccusedTogetherStayOutOfTheNetwork() {
        let (a, b) = (Facility.ID.random(), Facility.ID.random())
        let reports = (0..<5).map { _ in IncidentReport.ID.random() }
        let implications = [
            I(report: reports[0], facility: a, persons: ["p1", "p2"]),  // together at A
            I(report: reports[1], facility: a, persons: ["p1"]),  // a neglect complaint against p1 at A
            I(report: reports[2], facility: b, persons: ["p2", "p1"]),  // together again at B
            I(report: reports[3], facility: b, persons: ["p2"]),
            I(report: reports[4], facility: a, persons: ["p9"]),
        ]
        let networks = NetworkDetection.networks(implications)
        #expect(networks.count == 1 && networks.first?.reports == [reports[0], reports[2]], "\(networks)")
    }

    @Test func aComplaintDismissedAtTheFirstSchoolComesBackThroughTheNetwork() {
        let (a, b) = (Facility.ID.random(), Facility.ID.random())
        let reports = (0..<3).map { _ in IncidentReport.ID.random() }
        let dismissed = I(report: reports[0], facility: a, persons: ["p1", "p2"], unfounded: true)
        let networks = NetworkDetection.networks([dismissed, I(report: reports[1], facility: b, persons: ["p1", "p2"])])
        #expect(networks.count == 1 && networks.first?.facilities == [a, b])
        // Unfounded at both schools: not a network.
        #expect(NetworkDetection.networks([dismissed, I(report: reports[2], facility: b, persons: ["p1", "p2"], unfounded: true)]).isEmpty)
    }
}
