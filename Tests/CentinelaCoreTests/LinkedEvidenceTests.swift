import CentinelaCore
import Foundation
import Testing

/// What linking feeds the risk model and the alert rules (docs/linking.md, "What linking feeds"),
/// without a database: persons become ties between facilities, counting keys and pattern alerts.
@Suite struct LinkedEvidenceTests {
    typealias F = RiskFixture
    static let school = F.facility
    static let other = Facility.ID(UUID(uuidString: "f0000000-0000-4000-8000-000000000002")!)
    static let third = Facility.ID(UUID(uuidString: "f0000000-0000-4000-8000-000000000003")!)
    static let person = AdultRecord.ID(UUID(uuidString: "e0000000-0000-4000-8000-000000000001")!)
    static let written = RiskEvidence.AdultKey.described(name: "Rubén Tapia", role: "teacher")

    func record(
        _ facility: Facility.ID, _ key: RiskEvidence.AdultKey, implicated: Bool, person: AdultRecord.ID = person
    ) -> LinkedAdults.Record {
        .init(person: person, facility: facility, key: key, implicated: implicated)
    }

    @Test func aPersonImplicatedAtOneSchoolAndOnAnothersRosterTiesThatOneToIt() {
        let entries = LinkedAdults.entries([
            record(Self.school, F.adult(1), implicated: true),
            record(Self.school, Self.written, implicated: true),
            record(Self.other, F.adult(2), implicated: false),
        ])
        // Here: the roster key counts for both keys; implicated here, rostered at the other school.
        let here = entries.filter { $0.facility == Self.school }
        #expect(here.map(\.key) == [F.adult(1), Self.written].sorted())
        #expect(Set(here.map(\.linked)).count == 1)
        #expect(here.first?.linked == .init(key: F.adult(1), implicatedHere: true, implicatedAt: [], rosteredAt: [Self.other]))
        // There: only on the roster, implicated here.
        #expect(
            entries.filter { $0.facility == Self.other }.map(\.linked)
                == [.init(key: F.adult(2), implicatedHere: false, implicatedAt: [Self.school], rosteredAt: [])])
    }

    @Test func personsNeverImplicatedOrWithNothingToAddAreLeftOut() {
        // On two rosters, no complaint anywhere: nothing to tie.
        #expect(
            LinkedAdults.entries([record(Self.school, F.adult(1), implicated: false), record(Self.other, F.adult(2), implicated: false)])
                .isEmpty)
        // One facility, one key.
        #expect(
            LinkedAdults.entries([record(Self.school, F.adult(1), implicated: true), record(Self.school, F.adult(1), implicated: true)])
                .isEmpty)
    }

    @Test func aKeySharedByTwoPersonsKeepsEveryTie() {
        let second = AdultRecord.ID(UUID(uuidString: "e0000000-0000-4000-8000-000000000002")!)
        let entries = LinkedAdults.entries([
            record(Self.school, Self.written, implicated: true),
            record(Self.other, F.adult(2), implicated: true),
            record(Self.school, Self.written, implicated: true, person: second),
            record(Self.third, F.adult(3), implicated: true, person: second),
        ])
        let here = entries.filter { $0.facility == Self.school }
        #expect(here.count == 1)
        #expect(here.first?.linked.implicatedAt == [Self.other, Self.third])
    }

    @Test func linkingCountsOneAdultOnceAndTiesTheFacility() {
        let reports = [
            F.report(1, daysAgo: 20, adults: [1]),
            {
                var r = F.report(2, daysAgo: 10)
                r.adults = [Self.written]
                return r
            }(),
            {
                var r = F.report(3, daysAgo: 5)
                r.adults = [Self.written]
                return r
            }(),
        ]
        let before = RiskEvidence(facilityID: Self.school, reports: reports)
        var after = before
        after.link(
            LinkedAdults.entries([
                record(Self.school, F.adult(1), implicated: true), record(Self.school, Self.written, implicated: true),
                record(Self.other, F.adult(2), implicated: true),
            ]))
        #expect(after.reports.allSatisfy { $0.adults == [F.adult(1)] })
        #expect(after.adultsElsewhere == [F.adult(1): [Self.other]])
        #expect(after.linkedFacilities == [Self.other])
        let (was, now) = (RiskModel.v1.assess(before, asOf: F.asOf), RiskModel.v1.assess(after, asOf: F.asOf))
        func reason(_ a: RiskAssessment, _ code: RiskAssessment.FactorCode) -> RiskAssessment.Reason {
            a.reasons.first { $0.code == code }!
        }
        // One adult in three complaints, not two adults: REPEAT_ADULT rises, MULTI_ADULT does not count two.
        #expect(reason(now, .repeatAdult).points > reason(was, .repeatAdult).points)
        #expect(reason(now, .multiAdult).points <= reason(was, .multiAdult).points)
        #expect(reason(was, .crossFacility).points == 0)
        let cross = reason(now, .crossFacility)
        #expect(cross.points == 10 && cross.value == 1)
        #expect(cross.evidence.map(\.adult) == [F.adult(1).description])
        #expect(cross.evidence.first?.reports == [F.id(1), F.id(2), F.id(3)])
        // The ties alert: the adult here is implicated elsewhere.
        let findings = AlertRules.v1.findings(for: after, assessment: now, model: .v1, asOf: F.asOf)
        #expect(findings.filter { $0.key.rule == .adultSeveralFacilities }.map(\.key.subject) == [F.adult(1).description])
    }

    @Test func implicatedHereAndOnlyOnAnotherRosterIsNotATieOfThisFacility() {
        var evidence = RiskEvidence(facilityID: Self.school, reports: [F.report(1, daysAgo: 5, adults: [1])])
        evidence.link(
            LinkedAdults.entries([record(Self.school, F.adult(1), implicated: true), record(Self.other, F.adult(2), implicated: false)]))
        #expect(evidence.linkedFacilities.isEmpty)
        #expect(evidence.adultsElsewhere.isEmpty)
    }

    func pattern(_ kind: RiskEvidence.PatternMembership.Kind, facilities: Int, lastDaysAgo: Double) -> RiskEvidence.PatternMembership {
        let spans = [Self.school, Self.other, Self.third, .init(UUID(uuidString: "f0000000-0000-4000-8000-000000000004")!)]
        return .init(
            id: UUID(uuidString: "b0000000-0000-4000-8000-000000000001")!, kind: kind, facilities: Set(spans.prefix(facilities)),
            reports: [F.id(1)], lastReceivedAt: F.asOf.addingTimeInterval(-lastDaysAgo * 86_400))
    }

    func patternFindings(_ membership: RiskEvidence.PatternMembership) -> [AlertFinding] {
        let evidence = RiskEvidence(
            facilityID: Self.school, reports: [F.report(1, daysAgo: 200, .sexualAbuse), F.report(2, daysAgo: 100)], patterns: [membership])
        let assessment = RiskModel.v1.assess(evidence, asOf: F.asOf)
        return AlertRules.v1.findings(for: evidence, assessment: assessment, model: .v1, asOf: F.asOf)
            .filter { $0.key.rule == .patternSeveralFacilities }
    }

    @Test func aPatternAtThreeFacilitiesAlertsEachOfThemWhileItIsCurrent() {
        let three = patternFindings(pattern(.modusOperandi, facilities: 3, lastDaysAgo: 40))
        #expect(three.map(\.key.subject) == ["pattern:b0000000-0000-4000-8000-000000000001"])
        #expect(three.first?.severity == .high)
        // Only this facility's reports of the pattern, however old: the pattern is what is new.
        #expect(three.first.map { Set($0.reports.keys) } == [F.id(1)])
        #expect(patternFindings(pattern(.network, facilities: 4, lastDaysAgo: 40)).first?.severity == .critical)
        #expect(patternFindings(pattern(.modusOperandi, facilities: 2, lastDaysAgo: 40)).isEmpty)
        #expect(patternFindings(pattern(.modusOperandi, facilities: 3, lastDaysAgo: 400)).isEmpty)
    }

    @Test func adultKeysReadBackFromTheirDescription() {
        for key in [F.adult(4), Self.written] {
            #expect(RiskEvidence.AdultKey(description: key.description) == key)
        }
        for text in ["", "adult:", "adult:nope", "described:", "person:1"] {
            #expect(RiskEvidence.AdultKey(description: text) == nil)
        }
    }
}
