import CentinelaCore
import CentinelaSimulation
import Foundation
import Testing

/// Linking reports at different facilities by modus operandi, and grouping them into patterns.
@Suite struct PatternDetectionTests {
    typealias MO = IncidentReport.ModusOperandi
    let detection = PatternDetection.v1

    func profile(
        _ facility: Facility.ID, _ tags: [MO], category: IncidentReport.Category = .sexualAbuse, age: Int? = 4, adults: Int = 2
    ) -> CaseProfile {
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
            profile(
                .random(), [[.threats, .isolation], [.isolation], [.threats], []][n % 4],
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
        #expect(
            pattern.signature.isSuperset(of: ["mo:disguise", "mo:staged_act", "mo:children_made_to_watch", "mo:several_adults_present"]))
        #expect(!pattern.signature.contains("mo:filming"))
    }

    @Test func aYoungDatabaseWhereEveryTagIsCommonStillFindsThePattern() {
        // Fifteen reports: the ring's five and ten others; each ring tag is in over a quarter of them.
        let (ring, background) = scenario()
        let all = ring + background.prefix(10)
        let weights = FeatureWeights(profiles: all)
        #expect(weights.share("mo:disguise") > 0.25)
        let patterns = detection.patterns(all, weights: weights)
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
        // Threats and isolation at many schools: similar reports, nothing unlikely in common.
        let (_, background) = scenario()
        let weights = FeatureWeights(profiles: background)
        #expect(!detection.isDistinctive(TacticCombination(["mo:threats", "mo:isolation"]), weights))
        #expect(detection.patterns(background, weights: weights).isEmpty)
        // A recording habit: the two always ticked together, on half of the complaints. Rare apart,
        // but not rare: no pattern.
        let habit = (0..<20).map { n in profile(.random(), n % 2 == 0 ? [.threats, .isolation] : [], category: .neglect, age: 8, adults: 1)
        }
        let habitWeights = FeatureWeights(profiles: habit)
        #expect(habitWeights.surprise(TacticCombination(["mo:threats", "mo:isolation"])) > detection.surpriseThreshold)
        #expect(detection.patterns(habit, weights: habitWeights).isEmpty)
    }

    /// In a national database, a mild everyday correlation is "significant" by the likelihood
    /// ratio alone (millions of reports); it is not far more frequent than chance, so it ties nothing.
    @Test func aMildCorrelationAmongMillionsIsNotDistinctive() {
        let pair = TacticCombination(["mo:threats", "mo:isolation"])
        var weights = FeatureWeights(counts: ["mo:threats": 160_000, "mo:isolation": 160_000], reports: 2_000_000)
        weights.combinations[pair] = 13_500  // independence predicts 12,800
        #expect(weights.surprise(pair) > detection.surpriseThreshold)
        #expect(!detection.isDistinctive(pair, weights))
        // Two reports sharing tactics nobody else uses are distinctive in the same database.
        let rare = TacticCombination(["mo:disguise", "mo:staged_act"])
        weights.counts["mo:disguise"] = 2
        weights.counts["mo:staged_act"] = 2
        weights.combinations[rare] = 2
        #expect(detection.isDistinctive(rare, weights))
    }

    @Test func combinationsAreTheSubsetsWithTwoTacticsOrMore() {
        let report = TacticCombination(["mo:disguise", "mo:filming", "mo:threats", "age:under_6", "category:neglect"])
        #expect(report.tactics == 3 && report.count == 4)
        var seen: [TacticCombination] = []
        report.forEachCombination { seen.append($0) }
        // 4 sets of two or three tactics, each with or without the age band.
        #expect(seen.count == 8 && Set(seen).count == 8 && seen.allSatisfy { $0.tactics >= 2 && $0.isSubset(of: report) })
        #expect(TacticCombination(["mo:disguise"]).tacticOverlap(TacticCombination(["mo:disguise", "mo:filming"])) == 0.5)
    }

    @Test func tacticsAlikeYearsApartAreNotLinked() {
        let (ring, background) = scenario()
        // The same three schools' reports, but the third school's three years later.
        let moved = ring.map { profile -> CaseProfile in
            var profile = profile
            profile.day = profile.facility == ring[3].facility ? 20_000 + 3 * 365 : 20_000
            return profile
        }
        let all = background + moved
        let patterns = detection.patterns(all, weights: FeatureWeights(profiles: all))
        #expect(patterns.count == 1 && patterns[0].facilities == Set(ring.prefix(3).map(\.facility)), "\(patterns)")
    }

    /// A ring reported steadily for three years, six schools, one report every two or three months.
    @Test func aRingReportedForThreeYearsIsOnePattern() throws {
        let schools = (0..<6).map { _ in Facility.ID.random() }
        let style: [MO] = [.disguise, .stagedAct, .filming, .severalAdultsPresent]
        var ring: [CaseProfile] = []
        var day = 19_000
        for n in 0..<15 {
            var report = profile(schools[n % schools.count], n % 3 == 0 ? Array(style.dropFirst()) : style)
            report.day = day
            day += 60 + (n * 7) % 40
            ring.append(report)
        }
        #expect(day - 19_000 > 3 * 365 - 100)
        let all = background(200) + ring
        let patterns = detection.patterns(all, weights: FeatureWeights(profiles: all))
        let pattern = try #require(patterns.first)
        #expect(patterns.count == 1 && Set(pattern.reports) == Set(ring.map(\.report)), "\(patterns)")
    }

    /// The same style by groups far apart in time: one pattern while the gap is shorter than the
    /// older group lasted, two when it is longer than that and than two years.
    @Test func theTimeWindowFitsThePatternsOwnSpan() {
        let style: [MO] = [.disguise, .sedation, .childrenMadeToWatch, .severalAdultsPresent]
        func group(start: Int, days: Int) -> [CaseProfile] {
            (0..<4).map { n in
                var report = profile(.random(), style)
                report.day = start + n * days / 3
                return report
            }
        }
        let longLived = group(start: 19_000, days: 900)
        let shortLived = group(start: 19_000, days: 90)
        let later = group(start: 19_000 + 900 + 800, days: 60)
        let others = background(200)
        let one = detection.patterns(others + longLived + later, weights: FeatureWeights(profiles: others + longLived + later))
        #expect(one.count == 1 && one[0].reports.count == 8, "\(one)")
        let laterStill = group(start: 19_000 + 90 + 800, days: 60)
        let two = detection.patterns(others + shortLived + laterStill, weights: FeatureWeights(profiles: others + shortLived + laterStill))
        #expect(two.count == 2 && two.allSatisfy { $0.reports.count == 4 }, "\(two)")
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
        let chain = tags.map { profile(.random(), $0) }
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
    /// made to watch. The style is the lead: one pattern at the twenty schools. An adult named at
    /// both schools of each group — the same person, or a pair waiting in the review queue — shows
    /// as ten groups inside it.
    @Test func aStyleSharedByManyGroupsIsOnePatternWithTheGroupsInside() throws {
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
        #expect(weights.holding(TacticCombination(["mo:disguise", "mo:staged_act"])) == 20)
        let alone = try #require(detection.patterns(untied, weights: weights).first)
        #expect(alone.facilities.count == 20 && alone.groups.count == 20 && alone.groups.allSatisfy { $0.count == 1 })

        let tied = reports(tied: true) + others
        let patterns = detection.patterns(tied, weights: FeatureWeights(profiles: tied))
        #expect(patterns.count == 1, "\(patterns)")
        #expect(Set(patterns.first?.groups ?? []) == Set(groups.map { Set($0) }))
    }

    /// A review-queue pair or the same person ties alike reports that are not distinctive, without
    /// a time limit: a ring whose members moved, years apart.
    @Test func anAdultTiesAlikeReportsYearsApart() {
        var (a, b) = (profile(.random(), [.threats, .isolation, .offPremises]), profile(.random(), [.threats, .isolation]))
        a.day = 18_000
        b.day = 18_000 + 3 * 365
        let others = background(300)
        #expect(detection.patterns(others + [a, b], weights: FeatureWeights(profiles: others + [a, b])).isEmpty)
        a.ties = ["p1"]
        b.ties = ["p1"]
        let patterns = detection.patterns(others + [a, b], weights: FeatureWeights(profiles: others + [a, b]))
        #expect(patterns.count == 1 && patterns[0].groups == [Set([a.facility, b.facility])], "\(patterns)")
    }

    /// Reports of one ring added one by one, in any order, among ordinary complaints: once its
    /// pattern forms it never splits or loses a report. Every report carries the ring's tactics
    /// (some one more); each holds the tactics its narrative names.
    @Test(arguments: 1...80) func aRingsPatternOnlyGrowsAsItsReportsArrive(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let rare: [MO] = [.disguise, .stagedAct, .childrenMadeToWatch, .filming, .photographing, .sedation, .offPremises]
        var shuffled = rare
        rng.shuffle(&shuffled)
        let style = Array(shuffled.prefix(2 + rng.below(3))) + [.severalAdultsPresent]
        let schools = (0..<(3 + rng.below(10))).map { _ in Facility.ID.random() }
        var ring = (0..<(schools.count + rng.below(8))).map { n -> CaseProfile in
            let extra = rng.chance(0.3) ? [rare[rng.below(rare.count)]] : []
            var report = profile(
                schools[n % schools.count], Array(Set(style + extra)), age: rng.chance(0.8) ? 4 : 8, adults: 2 + rng.below(3))
            report.day = 19_000 + rng.below(700)
            return report
        }
        rng.shuffle(&ring)
        let others = background(150 + rng.below(300), rng: &rng)
        // Which ring reports share a pattern: once together, always together; once in, always in.
        var together: [IncidentReport.ID: Set<IncidentReport.ID>] = [:]
        let ringReports = Set(ring.map(\.report))
        for count in 1...ring.count {
            let all = others + ring.prefix(count)
            let patterns = detection.patterns(all, weights: FeatureWeights(profiles: all))
            var now: [IncidentReport.ID: Set<IncidentReport.ID>] = [:]
            for pattern in patterns {
                let members = Set(pattern.reports).intersection(ringReports)
                for report in members { now[report] = members }
            }
            for (report, before) in together {
                #expect(now[report]?.isSuperset(of: before) == true, "seed \(seed): split or shrank at \(count) reports")
            }
            together = now
        }
        #expect(
            together[ring[0].report] == ringReports,
            "seed \(seed): \(ring.map { ($0.tags.sorted(), $0.day!, $0.features.contains("age:under_6"), ringReports.subtracting(together[ring[0].report] ?? []).contains($0.report)) })"
        )
    }

    /// The case Centinela exists for: 18 schools, 21 reports over nineteen months, among a dozen
    /// ordinary schools. However consistently the clerks ticked the tactics, one pattern.
    @Test(arguments: [false, true]) func eighteenSchoolsWithOneStyleAreOnePattern(consistent: Bool) throws {
        var rng = SeededRandom(seed: consistent ? 7 : 8)
        let style: [MO] = [.disguise, .stagedAct, .childrenMadeToWatch, .filming, .severalAdultsPresent]
        let schools = (0..<18).map { _ in Facility.ID.random() }
        let ring = (0..<21).map { n -> CaseProfile in
            var tags = style.filter { _ in rng.chance(0.75) }
            if consistent || tags.count < 2 { tags = style }
            var report = profile(schools[n % 18], tags, age: 3 + rng.below(3), adults: 2 + rng.below(3))
            report.day = 19_000 + rng.below(580)
            return report
        }
        let others = background(50, rng: &rng)
        let all = others + ring
        let weights = FeatureWeights(profiles: all)
        let patterns = detection.patterns(all, weights: weights)
        let pattern = try #require(patterns.first)
        #expect(pattern.facilities.isSubset(of: schools) && pattern.facilities.count >= 17, "\(patterns)")
        guard consistent else { return }
        // docs/linking.md's worked example: these figures are quoted there.
        let combination = TacticCombination(style.map { "mo:" + $0.rawValue })
        let (observed, expected) = weights.observedAndExpected(combination)
        #expect(weights.reports == 71 && observed == 21)
        #expect(abs(expected - 71 * pow(0.5 / 51, 5)) < 1e-15, "\(expected)")
        #expect(abs(weights.surprise(combination) - 439) < 1, "\(weights.surprise(combination))")
        #expect(pattern.facilities.count == 18)
        // One more such report: O grows, the background stays; the surprise grows.
        var more = weights
        more.count(profile(schools[0], style))
        #expect(more.surprise(combination) > weights.surprise(combination))
    }

    /// A ring at eighteen preschools, its reports carrying three (or `minimumTactics`) to five of its five tactics,
    /// among 400 ordinary complaints; returns the ring and the pattern holding most of it.
    func preschoolRing(
        _ rng: inout SeededRandom, style: [MO] = [.disguise, .stagedAct, .childrenMadeToWatch, .filming, .severalAdultsPresent],
        minimumTactics: Int = 3
    ) -> (ring: [CaseProfile], schools: [Facility.ID]) {
        let schools = (0..<18).map { _ in Facility.ID.random() }
        let ring = (0..<24).map { n -> CaseProfile in
            var tags = style.filter { _ in rng.chance(0.7) }
            if tags.count < minimumTactics { tags = style }
            var report = profile(schools[n % 18], tags, age: 3 + rng.below(3), adults: 2 + rng.below(3))
            report.day = 19_000 + rng.below(580)
            return report
        }
        return (ring, schools)
    }

    @Test func aStylesTacticsOnTeenagersAreAnotherMatter() throws {
        // Two secondary schools report two of the ring's tactics (several adults, filming) about
        // teenagers' emotional abuse. Their tactics alone would fit the ring's style; neither
        // their victims' age nor their harm does. (Whether they are a style of their own is
        // another question: see the next test.)
        var rng = SeededRandom(seed: 41)
        let (ring, schools) = preschoolRing(&rng)
        let teenagers = (0..<2).map { n -> CaseProfile in
            var report = profile(.random(), [.severalAdultsPresent, .filming], category: .emotionalAbuse, age: 14 + n, adults: 1)
            report.day = 19_200 + 30 * n
            return report
        }
        let all = background(400) + ring + teenagers
        let patterns = detection.patterns(all, weights: FeatureWeights(profiles: all))
        let pattern = try #require(patterns.first)
        #expect(pattern.facilities == Set(schools), "\(patterns)")
        #expect(Set(pattern.reports).isDisjoint(with: teenagers.map(\.report)))
        // Reports without the children's ages are judged by their tactics alone.
        let unknownAge = teenagers.map { report -> CaseProfile in
            var report = report
            report.features = report.features.filter { !$0.hasPrefix("age:") }
            return report
        }
        let withUnknown = background(400) + ring + unknownAge
        let joined = detection.patterns(withUnknown, weights: FeatureWeights(profiles: withUnknown))
        #expect(joined.first.map { Set($0.reports).isSuperset(of: unknownAge.map(\.report)) } == true, "\(joined)")
    }

    @Test func twoOrdinaryReportsDoNotBecomeAPatternOnARingsTactics() {
        // Two ordinary complaints about older children share two of the ring's tactics
        // (several adults, photographs): rare-looking only because the ring made them so. They
        // are not the ring's (neither its victims' age nor its harm); set the ring aside, and two
        // reports carrying tactics that ordinary complaints also carry are no surprise: no
        // second pattern.
        var rng = SeededRandom(seed: 43)
        let (ring, schools) = preschoolRing(
            &rng, style: [.disguise, .stagedAct, .photographing, .filming, .severalAdultsPresent], minimumTactics: 2)
        let others = [(14, IncidentReport.Category.other), (9, .emotionalAbuse)].map { age, category -> CaseProfile in
            var report = profile(.random(), [.severalAdultsPresent, .photographing], category: category, age: age, adults: 0)
            report.day = 19_300
            return report
        }
        let ordinary = background(400)
        let all = ordinary + ring + others
        let patterns = detection.patterns(all, weights: FeatureWeights(profiles: all))
        #expect(patterns.count == 1, "\(patterns.map(\.signature))")
        #expect(patterns.first.map { $0.facilities.isSuperset(of: schools) } == true)
        #expect(patterns.allSatisfy { Set($0.reports).isDisjoint(with: others.map(\.report)) })
        // The same two complaints alone, with no ring to set aside, are no pattern either.
        let alone = ordinary + others
        #expect(detection.patterns(alone, weights: FeatureWeights(profiles: alone)).isEmpty)
    }

    /// Ordinary complaints at many schools: neglect, rough treatment, threats, isolation, and now
    /// and then photographs or an outing, as real ones have.
    func background(_ count: Int) -> [CaseProfile] {
        var rng = SeededRandom(seed: UInt64(count))
        return background(count, rng: &rng)
    }

    func background(_ count: Int, rng: inout SeededRandom) -> [CaseProfile] {
        (0..<count).map { _ in
            var tags: [MO] = []
            for (tag, rate) in [(MO.threats, 0.1), (.isolation, 0.1), (.giftsGrooming, 0.05), (.photographing, 0.02), (.offPremises, 0.02)]
            where rng.chance(rate) { tags.append(tag) }
            var report = profile(
                .random(), tags, category: [.neglect, .physicalAbuse, .emotionalAbuse][rng.below(3)], age: 2 + rng.below(12), adults: 1)
            report.day = 19_000 + rng.below(900)
            return report
        }
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
        #expect(
            NetworkDetection.networks([dismissed, I(report: reports[2], facility: b, persons: ["p1", "p2"], unfounded: true)]).isEmpty)
    }
}
