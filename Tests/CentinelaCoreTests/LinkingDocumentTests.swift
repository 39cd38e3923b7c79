import CentinelaCore
import Foundation
import Testing

/// docs/linking.md's worked example is computed here: the table between its example markers is
/// the expected result, so the document cannot drift from the code.
@Suite struct LinkingDocumentTests {
    static let document = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/linking.md")

    /// The example's rows: field → (level, weight), from the document.
    func documentedRows() throws -> [String: (level: String, weight: Double)] {
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let start = try #require(text.range(of: "<!-- example -->"))
        let end = try #require(text.range(of: "<!-- end example -->"))
        var rows: [String: (String, Double)] = [:]
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| ") && !line.hasPrefix("| field")
        {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let number = cells[5].replacingOccurrences(of: "*", with: "").replacingOccurrences(of: "−", with: "-").replacingOccurrences(
                of: "+", with: "")
            rows[cells[1].replacingOccurrences(of: "*", with: "")] = (
                cells[4].replacingOccurrences(of: "*", with: ""), try #require(Double(number))
            )
        }
        return rows
    }

    @Test func theWorkedExampleIsWhatTheModelComputes() throws {
        let state = Jurisdiction.ID.random()
        let frequencies = NameFrequencies(given: ["ruben": 40], surnames: ["tapia": 30, "ochoa": 35], records: 12_000)
        let a = AdultRecord(
            id: .random(), facility: .random(), jurisdiction: .random(), parentJurisdiction: state,
            name: NormalizedName("Rubén Tapia Ochoa"),
            role: .teacher)
        let b = AdultRecord(
            id: .random(), facility: .random(), jurisdiction: .random(), parentJurisdiction: state,
            name: NormalizedName("Ruben Ochoa Tapia"),
            role: .teacher)
        let result = LinkageModel.v1.assess(a, b, frequencies: frequencies)
        let rows = try documentedRows()
        let fields: [(String, LinkAssessment.Field)] = [
            ("given name", .givenName), ("surnames", .surnames), ("role", .role), ("place", .place),
        ]
        for (label, field) in fields {
            let computed = try #require(result.comparison(field))
            let documented = try #require(rows[label])
            #expect(documented.level == computed.level, "\(label)")
            #expect(
                abs(documented.weight - computed.weight) < 0.05, "\(label): documented \(documented.weight), computed \(computed.weight)")
        }
        #expect(result.comparisons.count == fields.count)
        #expect(abs((try #require(rows["prior"])).weight - result.prior) < 0.05)
        let score = try #require(rows.first { $0.key.hasPrefix("score") }?.value)
        #expect(abs(score.weight - result.score) < 0.05, "documented \(score.weight), computed \(result.score) from \(result)")
        #expect(score.level == "linked" && result.verdict == .link)
    }
}
