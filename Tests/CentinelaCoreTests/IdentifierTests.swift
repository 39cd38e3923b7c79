import CentinelaCore
import Foundation
import Testing

@Suite struct IdentifierTests {
    @Test func printsLowerCaseLikePostgreSQL() {
        let id = Facility.ID(UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!)
        #expect(id.description == "6f9619ff-8b86-d011-b42d-00c04fc964ff")
    }

    @Test func encodesAsABareStringAndRoundTrips() throws {
        let id = IncidentReport.ID.random()
        let data = try JSONEncoder().encode([id])
        let text = String(decoding: data, as: UTF8.self)
        #expect(text == "[\"\(id.rawValue.uuidString.lowercased())\"]", "lowercase, as every id the API writes")
        #expect(try JSONDecoder().decode([IncidentReport.ID].self, from: data) == [id])
        // What earlier builds stored (scores' reasons in capitals) still reads.
        let stored = Data("[\"\(id.rawValue.uuidString)\"]".utf8)
        #expect(try JSONDecoder().decode([IncidentReport.ID].self, from: stored) == [id])
    }

    @Test(arguments: ["", "not-a-uuid", "6f9619ff-8b86-d011-b42d-00c04fc964f", "6f9619ff8b86d011b42d00c04fc964ff0"])
    func rejectsMalformedText(_ text: String) {
        #expect(Jurisdiction.ID(uuidString: text) == nil)
    }
}

@Suite struct ControlledVocabularyTests {
    static let vocabularies: [(name: String, codes: [String])] = [
        ("facility kind", Facility.Kind.allCodes),
        ("jurisdiction level", Jurisdiction.Level.allCodes),
        ("adult role", Adult.Role.allCodes),
        ("incident category", IncidentReport.Category.allCodes),
        ("reporter type", IncidentReport.ReporterType.allCodes),
        ("report status", IncidentReport.Status.allCodes),
        ("modus operandi", IncidentReport.ModusOperandi.allCodes),
        ("alert rule", Alert.Rule.allCodes),
        ("alert severity", Alert.Severity.allCodes),
        ("alert status", Alert.Status.allCodes),
        ("alert referral", Alert.Referral.allCodes),
        ("alert resolution", Alert.Resolution.allCodes),
        ("alert event kind", Alert.EventKind.allCodes),
    ]

    @Test(arguments: vocabularies.map(\.name))
    func codesAreUniqueLowerSnakeCase(_ name: String) throws {
        let codes = try #require(Self.vocabularies.first { $0.name == name }).codes
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.range(of: "^[a-z]+(_[a-z]+)*$", options: .regularExpression) != nil, "\(code)")
        }
    }

    @Test func parsesOnlyTheStoredSpelling() {
        #expect(IncidentReport.Category(code: "sexual_abuse") == .sexualAbuse)
        #expect(IncidentReport.Category(code: "Sexual_Abuse") == nil)
        #expect(IncidentReport.Category(code: "sexualAbuse") == nil)
        #expect(Facility.Kind(code: "upper_secondary") == .upperSecondary)
    }

    @Test func theCategoriesAreTheNineOfTheReportingForm() {
        #expect(IncidentReport.Category.allCases.count == 9)
        #expect(IncidentReport.Category.allCodes.contains("production_of_abuse_imagery"))
    }

    @Test func theDescriptionIsTheLowercaseUUIDString() {
        for _ in 0..<200 {
            let uuid = UUID()
            #expect(Facility.ID(uuid).description == uuid.uuidString.lowercased())
        }
    }
}
