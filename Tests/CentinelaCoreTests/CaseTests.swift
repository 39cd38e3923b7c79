import CentinelaCore
import Foundation
import Testing

/// A case's life and where an alert goes (docs/alerts.md, "Cases").
@Suite struct CaseTests {
    @Test(arguments: [
        (CaseTransition.acknowledge, Case.Status.open, Case.Status?.some(.acknowledged)),
        (.acknowledge, .acknowledged, nil),
        (.refer(reference: "FGE/1"), .open, .referred),
        (.refer(reference: "FGE/1"), .acknowledged, .referred),
        (.refer(reference: "  "), .open, nil),
        (.refer(reference: "FGE/1"), .closed, nil),
        (.close(.actionTaken, note: "hecho"), .referred, .closed),
        (.close(.actionTaken, note: ""), .open, nil),
        (.close(.merged, note: "x"), .open, nil),
        (.close(.other, note: "x"), .closed, nil),
        (.reopen(note: "nuevo"), .closed, .open),
        (.reopen(note: "nuevo"), .open, nil),
        (.reopen(note: ""), .closed, nil),
        (.comment("nota"), .referred, .referred),
        (.comment(" "), .open, nil),
    ])
    func theLifeOfACase(transition: CaseTransition, from: Case.Status, to: Case.Status?) {
        #expect((try? transition.status(from: from)) == to)
    }

    @Test func patternAlertsGoToTheirPatternsCaseAndOthersToTheCaseCoveringTheirFacility() {
        let pattern = UUID()
        let national = Case.ID.random()
        let own = Case.ID.random()
        let subject = CaseRouting.patternSubjectPrefix + pattern.uuidString.lowercased()
        #expect(
            CaseRouting.route(rule: .patternSeveralFacilities, subject: subject, coveringPatternCase: nil, facilityCase: own)
                == .pattern(pattern))
        #expect(CaseRouting.route(rule: .filming, subject: "", coveringPatternCase: national, facilityCase: own) == .existing(national))
        #expect(CaseRouting.route(rule: .filming, subject: "", coveringPatternCase: nil, facilityCase: own) == .existing(own))
        #expect(CaseRouting.route(rule: .band, subject: "", coveringPatternCase: nil, facilityCase: nil) == .newFacilityCase)
        // A pattern alert whose subject is not a pattern id is filed as any other.
        #expect(
            CaseRouting.route(rule: .patternSeveralFacilities, subject: "pattern:x", coveringPatternCase: nil, facilityCase: nil)
                == .newFacilityCase)
    }
}
