import CentinelaCore
import Foundation
import Testing

/// The alert rules over a facility's evidence and score, and how alerts evolve over simulated days.
@Suite struct AlertRulesTests {
    typealias F = RiskFixture
    let rules = AlertRules.v1

    func findings(_ reports: [RiskEvidence.Report], elsewhere: [RiskEvidence.AdultKey: Set<Facility.ID>] = [:]) -> [AlertFinding] {
        let linked = elsewhere.map { RiskEvidence.LinkedAdult(key: $0.key, implicatedHere: true, implicatedAt: $0.value) }
        let evidence = RiskEvidence(facilityID: F.facility, reports: reports, linkedAdults: linked)
        return rules.findings(for: evidence, assessment: RiskModel.v1.assess(evidence, asOf: F.asOf), model: .v1, asOf: F.asOf)
    }

    func rulesFired(_ reports: [RiskEvidence.Report]) -> Set<Alert.Rule> { Set(findings(reports).map(\.key.rule)) }

    /// Applies the decisions to the alerts, as the store would.
    func record(_ decisions: [AlertDecision], into alerts: inout [AlertState], at instant: Date) {
        for decision in decisions {
            if let index = alerts.firstIndex(where: { $0.key == decision.key }) {
                alerts[index] = alerts[index].applying(decision, at: instant)
            } else {
                #expect(decision.opens, "an update for an alert that does not exist: \(decision)")
                alerts.append(AlertState(opening: decision))
            }
        }
    }

    @Test func eachImmediateTriggerFiresOnItsOwnEvidence() {
        #expect(rulesFired([F.report(1, daysAgo: 2, .sexualAbuse, adults: [1, 2])]).contains(.severalAdultsSevere))
        #expect(!rulesFired([F.report(1, daysAgo: 2, .physicalAbuse, adults: [1, 2])]).contains(.severalAdultsSevere))
        #expect(!rulesFired([F.report(1, daysAgo: 2, .sexualAbuse, adults: [1])]).contains(.severalAdultsSevere))
        #expect(rulesFired([F.report(1, daysAgo: 2, .neglect, tags: [.photographing])]).contains(.filming))
        #expect(rulesFired([F.report(1, daysAgo: 2, .neglect, tags: [.filming])]).contains(.filming))
        #expect(!rulesFired([F.report(1, daysAgo: 2, .neglect, tags: [.threats])]).contains(.filming))
        #expect(rulesFired([F.report(1, daysAgo: 2, .sexualAbuse, youngest: 4)]).contains(.sexualAbuseUnderSix))
        #expect(!rulesFired([F.report(1, daysAgo: 2, .sexualAbuse, youngest: 6)]).contains(.sexualAbuseUnderSix))
        #expect(!rulesFired([F.report(1, daysAgo: 2, .grooming, youngest: 4)]).contains(.sexualAbuseUnderSix))
        // Older than the look-back: in the score, not a page to a regulator.
        #expect(rulesFired([F.report(1, daysAgo: 40, .neglect, tags: [.filming])]).isEmpty)
    }

    @Test func anAdultNamedInThreeReportsAndAnAdultSeenElsewhere() {
        let three = [
            F.report(1, daysAgo: 300, adults: [7]), F.report(2, daysAgo: 90, adults: [7]), F.report(3, daysAgo: 3, adults: [7, 8]),
        ]
        let repeat_ = findings(three).filter { $0.key.rule == .adultRepeat }
        #expect(repeat_.count == 1)
        #expect(repeat_.first?.key.subject == F.adult(7).description)
        #expect(repeat_.first?.reports.count == 3)
        #expect(findings(Array(three.prefix(2))).allSatisfy { $0.key.rule != .adultRepeat })
        // Three reports, none recent: no page.
        #expect(
            findings(
                three.map {
                    var r = $0
                    r.receivedAt -= 60 * 86_400
                    return r
                }
            ).allSatisfy { $0.key.rule != .adultRepeat })

        let other = Facility.ID(UUID())
        let linked = findings([F.report(1, daysAgo: 3, adults: [7])], elsewhere: [F.adult(7): [other]])
        #expect(linked.map(\.key) == [Alert.Key(rule: .adultSeveralFacilities, facilityID: F.facility, subject: F.adult(7).description)])
        #expect(findings([F.report(1, daysAgo: 3, adults: [7])], elsewhere: [F.adult(8): [other]]).isEmpty)
    }

    @Test func aRuleFiresOnceAndARepeatAddsEvidence() {
        var alerts: [AlertState] = []
        let first = [F.report(1, daysAgo: 2, .neglect, tags: [.filming])]
        let opened = rules.decide(findings(first), existing: alerts, score: 10, asOf: F.asOf)
        #expect(opened.map(\.events) == [[.opened]])
        record(opened, into: &alerts, at: F.asOf)
        #expect(rules.decide(findings(first), existing: alerts, score: 10, asOf: F.asOf).isEmpty)
        let second = first + [F.report(2, daysAgo: 1, .neglect, tags: [.photographing])]
        let added = rules.decide(findings(second), existing: alerts, score: 10, asOf: F.asOf)
        #expect(added.map(\.events) == [[.evidenceAdded]])
        #expect(added.first?.newReports == [F.id(2)])
        record(added, into: &alerts, at: F.asOf)
        #expect(alerts.count == 1 && alerts[0].reports == [F.id(1), F.id(2)])
    }

    func band(_ severity: Alert.Severity, reports: [Int] = [1]) -> AlertFinding {
        AlertFinding(
            key: .init(rule: .band, facilityID: F.facility), severity: severity,
            reports: Dictionary(uniqueKeysWithValues: reports.map { (F.id($0), F.asOf.addingTimeInterval(-86_400 * 400 + Double($0))) }),
            adults: [])
    }

    @Test func aBandAlertEscalatesOnceAndNeverDescends() {
        var alerts: [AlertState] = []
        record(rules.decide([band(.high)], existing: alerts, score: 62, asOf: F.asOf), into: &alerts, at: F.asOf)
        let escalated = rules.decide([band(.critical)], existing: alerts, score: 85, asOf: F.asOf)
        #expect(escalated.map(\.events) == [[.escalated]] && escalated.first?.severity == .critical)
        record(escalated, into: &alerts, at: F.asOf)
        #expect(rules.decide([band(.high)], existing: alerts, score: 70, asOf: F.asOf).isEmpty)
        #expect(rules.decide([band(.critical)], existing: alerts, score: 90, asOf: F.asOf).isEmpty)
        #expect(alerts.map(\.severity) == [.critical])
    }

    /// A score hovering around the thresholds for months: one alert, no flapping, resolved only
    /// after 30 days in a row below 45.
    @Test func hysteresisOverSimulatedDays() {
        var scores: [Double] = [61, 59, 62, 58, 60.5, 50]
        scores += Array(repeating: 44, count: 29) + [46]  // 29 quiet days, then a blip: the clock restarts
        let quietFrom = scores.count
        scores += Array(repeating: 40, count: 32)  // resolved 30 days after the first of these
        var alerts: [AlertState] = []
        var log: [(day: Int, events: [Alert.EventKind])] = []
        for (day, score) in scores.enumerated() {
            let now = F.asOf.addingTimeInterval(Double(day) * 86_400)
            let findings = score >= 60 ? [band(.high)] : []
            let decisions = rules.decide(findings, existing: alerts, score: score, asOf: now)
            record(decisions, into: &alerts, at: now)
            for decision in decisions where !decision.events.isEmpty { log.append((day, decision.events)) }
        }
        #expect(log.map(\.events) == [[.opened], [.resolved]], "\(log)")
        #expect(log.last?.day == quietFrom + 30)
        #expect(alerts.count == 1 && alerts[0].status == .resolved)
    }

    @Test func aHeldAlertIsNeverResolvedByTheService() {
        var alerts = [
            AlertState(key: .init(rule: .band, facilityID: F.facility), status: .acknowledged, severity: .high, reports: [F.id(1)])
        ]
        for day in 0..<60 {
            let now = F.asOf.addingTimeInterval(Double(day) * 86_400)
            let decisions = rules.decide([], existing: alerts, score: 10, asOf: now)
            #expect(decisions.allSatisfy { $0.status == nil })
            record(decisions, into: &alerts, at: now)
        }
        #expect(alerts[0].status == .acknowledged && alerts[0].quietSince != nil)
    }

    @Test func newEvidenceReopensAResolvedAlertAndEndsASnooze() {
        let resolvedAt = F.asOf.addingTimeInterval(-5 * 86_400)
        var resolved = AlertState(
            key: .init(rule: .filming, facilityID: F.facility), status: .resolved, severity: .critical, reports: [F.id(1)])
        resolved.resolvedAt = resolvedAt
        let old = [F.report(1, daysAgo: 10, .neglect, tags: [.filming])]
        #expect(rules.decide(findings(old), existing: [resolved], score: 0, asOf: F.asOf).isEmpty)
        // A report received before the resolution but not yet in the alert does not reopen it either.
        let before = old + [F.report(2, daysAgo: 6, .neglect, tags: [.filming])]
        #expect(rules.decide(findings(before), existing: [resolved], score: 0, asOf: F.asOf).isEmpty)
        let after = before + [F.report(3, daysAgo: 1, .neglect, tags: [.filming])]
        let reopened = rules.decide(findings(after), existing: [resolved], score: 0, asOf: F.asOf)
        #expect(reopened.map(\.events) == [[.reopened, .evidenceAdded]] && reopened.first?.status == .open)
        #expect(reopened.first?.newReports == [F.id(3)])
        #expect(resolved.applying(reopened[0], at: F.asOf).resolvedAt == nil)

        var snoozed = AlertState(
            key: .init(rule: .filming, facilityID: F.facility), status: .acknowledged, severity: .critical, reports: [F.id(1)])
        snoozed.snoozedUntil = F.asOf.addingTimeInterval(7 * 86_400)
        #expect(rules.decide(findings(old), existing: [snoozed], score: 0, asOf: F.asOf).isEmpty)
        let woken = rules.decide(findings(after), existing: [snoozed], score: 0, asOf: F.asOf)
        #expect(woken.map(\.events) == [[.evidenceAdded, .snoozeEnded]])
        #expect(snoozed.applying(woken[0], at: F.asOf).snoozedUntil == nil)
    }
}
