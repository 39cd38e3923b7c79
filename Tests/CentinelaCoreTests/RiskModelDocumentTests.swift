import CentinelaCore
import Foundation
import Testing

/// docs/risk-model.md's worked example is computed here: its input block is the test's input and
/// its table the expected result, so the document cannot drift from the code.
@Suite struct RiskModelDocumentTests {
    struct Example: Decodable {
        struct Report: Decodable {
            var id: String
            var receivedAt: String
            var category: IncidentReport.Category
            var status: IncidentReport.Status
            var reporter: IncidentReport.ReporterType
            var tags: [IncidentReport.ModusOperandi]
            var adults: [String]
            var youngestChildAge: Int?
            var occurred: CalendarDate
            var discovered: CalendarDate
        }
        var asOf: String
        /// The model the example is for (default v1).
        var model: String?
        var enrolment: Int?
        var peerBaseline: Double?
        var peers: Int?
        var reports: [Report]
    }

    static let document = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/risk-model.md")

    /// A fixed UUID for each label in the example ("R1", "A"...).
    static func uuid(_ label: String, prefix: String) -> UUID {
        let digits = label.unicodeScalars.map { String(format: "%02x", $0.value) }.joined()
        return UUID(uuidString: prefix + "-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits)!
    }

    static func date(_ text: String) throws -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try #require(formatter.date(from: text))
    }

    /// Each worked example: its input block, and the table that follows it (up to the next heading).
    static func examples() throws -> [(example: Example, table: [Substring])] {
        let text = try String(contentsOf: document, encoding: .utf8)
        return try text.components(separatedBy: "```json worked-example").dropFirst().map { part in
            let body = part.drop { $0 != "\n" }.dropFirst()
            let pieces = body.components(separatedBy: "```")
            let example = try JSONDecoder().decode(Example.self, from: Data(pieces[0].utf8))
            let after = pieces.dropFirst().joined(separator: "```").components(separatedBy: "\n#").first ?? ""
            return (example, after.split(separator: "\n").filter { $0.hasPrefix("| ") })
        }
    }

    @Test func theWorkedExamplesAreWhatTheModelsCompute() throws {
        let examples = try Self.examples()
        #expect(Set(examples.map { $0.example.model ?? "v1" }) == ["v1", "v2"])
        for (example, table) in examples {
            let model = try #require(RiskModel.builtIn[example.model ?? "v1"])
            try check(example, table: table, model: model)
        }
    }

    func check(_ example: Example, table: [Substring], model: RiskModel) throws {
        let asOf = try Self.date(example.asOf)
        let reports = try example.reports.map { r in
            RiskEvidence.Report(
                id: .init(Self.uuid(r.id, prefix: "00000000")), receivedAt: try Self.date(r.receivedAt), category: r.category,
                status: r.status, reporterType: r.reporter, modusOperandi: Set(r.tags),
                adults: Set(r.adults.map { .rostered(.init(Self.uuid($0, prefix: "a0000000"))) }),
                youngestChildAge: r.youngestChildAge, occurredFrom: r.occurred, occurredTo: r.occurred, discoveredOn: r.discovered)
        }
        let evidence = RiskEvidence(
            facilityID: .init(Self.uuid("F", prefix: "f0000000")), enrolment: example.enrolment, reports: reports,
            peerBaseline: example.peerBaseline.map { .init(loadPerHundredChildren: $0, peers: example.peers ?? 0, computedAt: asOf) })
        let result = model.assess(evidence, asOf: asOf)

        // | LOAD | 3.0312 | 24.2 |   and   | Score | | 87.5 |   and   | Band | | high |
        var expected: [String: (value: String, points: String)] = [:]
        for line in table {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, cells[0] != "Factor", !cells[0].hasPrefix("---") else { continue }
            expected[cells[0].replacingOccurrences(of: "`", with: "")] = (cells[1], cells[2])
        }
        var computed: [String: (value: String, points: String)] = [:]
        for reason in result.reasons {
            computed[reason.code.rawValue] = (String(format: "%.4f", reason.value), String(format: "%.1f", reason.points))
        }
        computed["Total"] = ("", String(format: "%.1f", result.total))
        computed["Score"] = ("", String(format: model.surprise == nil ? "%.1f" : "%.2f", result.score))
        computed["Band"] = ("", result.band.rawValue)
        let printable = computed.keys.sorted().map { "| \($0) | \(computed[$0]!.value) | \(computed[$0]!.points) |" }.joined(
            separator: "\n")
        #expect(
            Set(expected.keys) == Set(computed.keys), "\(model.id): the table's rows are not the model's factors; computed:\n\(printable)")
        for (key, value) in computed {
            let documented = try #require(expected[key], "docs/risk-model.md (\(model.id)) has no row for \(key); computed:\n\(printable)")
            #expect(
                documented.value == value.value && documented.points == value.points,
                "\(key) in docs/risk-model.md (\(model.id)) differs; computed:\n\(printable)")
        }
    }
}
