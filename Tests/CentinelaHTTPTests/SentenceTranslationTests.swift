import CentinelaCore
import Foundation
import Testing

@testable import CentinelaHTTP

/// Risk reasons in Spanish (issue 23): every sentence either model writes has its template, and
/// the matching takes figures, lists and nested phrases as they come.
@Suite struct SentenceTranslationTests {
    static let asOf = Date(timeIntervalSince1970: 1_782_777_600)  // 2026-06-30
    static let facility = Facility.ID(UUID())
    static let other = Facility.ID(UUID())

    static func report(
        _ daysAgo: Double, _ category: IncidentReport.Category, by reporter: IncidentReport.ReporterType, adults: [String] = [],
        tags: Set<IncidentReport.ModusOperandi> = [], discoveredDaysEarlier: Double = 1
    ) -> RiskEvidence.Report {
        let day = CalendarDate(daysSinceEpoch: Int((asOf.timeIntervalSince1970 / 86_400 - daysAgo - 3).rounded(.down)))
        let discovered = CalendarDate(
            daysSinceEpoch: Int((asOf.timeIntervalSince1970 / 86_400 - daysAgo - discoveredDaysEarlier).rounded(.down)))
        return .init(
            id: .init(UUID()), receivedAt: asOf.addingTimeInterval(-daysAgo * 86_400), category: category, reporterType: reporter,
            modusOperandi: tags, adults: Set(adults.map { .described($0) }), youngestChildAge: 4, occurredFrom: day, occurredTo: day,
            discoveredOn: discovered)
    }

    /// Evidence that makes each model write each of its sentences at least once.
    static var evidences: [RiskEvidence] {
        let busy = [
            report(10, .sexualAbuse, by: .parent, adults: ["Hombre del disfraz", "Mujer del disfraz"], tags: [.disguise, .filming]),
            report(40, .physicalAbuse, by: .schoolStaff, adults: ["Hombre del disfraz"], discoveredDaysEarlier: 60),
            report(200, .neglect, by: .hotline, adults: ["Hombre del disfraz"]),
            report(300, .sexualAbuse, by: .whistleblower),
        ]
        let pattern = RiskEvidence.PatternMembership(
            id: UUID(), kind: .network, facilities: [facility, other], reports: [busy[0].id], lastReceivedAt: asOf)
        let shares = FeatureShares(values: [.adults(atLeast: 2): 0.05, .tag(.disguise): 0.01, .tag(.filming): 0.01], reports: 120)
        return [
            RiskEvidence(facilityID: facility),
            RiskEvidence(facilityID: facility, enrolment: 80, reports: [busy[3]]),
            RiskEvidence(facilityID: facility, enrolment: 0, reports: [busy[2]]),
            RiskEvidence(
                facilityID: facility, enrolment: 120, reports: busy,
                peerBaseline: .init(loadPerHundredChildren: 0.4, peers: 37, computedAt: asOf), featureShares: shares,
                linkedAdults: [.init(key: .described("Hombre del disfraz"), implicatedHere: true, implicatedAt: [other])],
                patterns: [pattern]),
        ]
    }

    /// Every sentence of both models is said in Spanish, and every template of the catalog is
    /// one a model writes (no template left behind by a changed sentence).
    @Test func everySentenceAModelWritesIsSaidInSpanish() throws {
        let translation = try #require(try MessageCatalog.load().reasons[.spanish])
        var used = Set<Int>()
        var seen = 0
        for model in [RiskModel.v1, RiskModel.v2] {
            for evidence in Self.evidences {
                for reason in model.assess(evidence, asOf: Self.asOf).reasons {
                    let spanish = translation.translate(reason.summary, used: &used)
                    #expect(spanish != nil, "no template says: \(reason.summary)")
                    #expect(spanish.map { !$0.contains("report(s)") && !$0.contains(" days") } ?? false, "\(spanish ?? "")")
                    seen += 1
                }
            }
        }
        #expect(seen >= 8 * 6)
        let unused = translation.templates.indices.filter { !used.contains($0) }.map {
            translation.templates[$0].literals.joined(separator: "…")
        }
        #expect(unused.isEmpty, "templates no model writes: \(unused)")
    }

    @Test func figuresListsAndNestedPhrasesAreCarriedOver() throws {
        let translation = try SentenceTranslation(table: [
            "{n} report(s) from {kinds} kinds of reporter ({list}); {points} points each.":
                "{n} reporte(s) de {kinds} tipos ({list}); {points} puntos cada uno.",
            "{n} report(s) against {peers}.": "{n} reporte(s) frente a {peers}.",
            "the peers' {n} report(s)": "los {n} reportes de las escuelas comparables",
            "Load {load}": "Carga {load}", "{p} per unit.": "{p} por unidad.",
        ])
        #expect(
            translation.translate("3 report(s) from 2 kinds of reporter (parent, school_staff); 1.5 points each.")
                == "3 reporte(s) de 2 tipos (parent, school_staff); 1.5 puntos cada uno.")
        #expect(
            translation.translate("2 report(s) against the peers' 40 report(s).")
                == "2 reporte(s) frente a los 40 reportes de las escuelas comparables.")
        // A sentence made of pieces is said piece by piece; one unknown piece leaves it in English.
        #expect(translation.translate("Load 2.5; 3 per unit.") == "Carga 2.5; 3 por unidad.")
        #expect(translation.translate("Load 2.5; something new; 3 per unit.") == nil)
        #expect(translation.translate("Something else entirely.") == nil)
        #expect(throws: (any Error).self) { try SentenceTranslation(table: ["{a}{b} adjacent": "x"]) }
    }
}

extension SentenceTranslationTests {
    /// Every message a field error is given in the sources (`fail(field, "…")`, `.add(pointer,
    /// "…")`, `message: "…"`), its interpolations read as figures, has a template in fields.es-MX.
    @Test func everyFieldMessageTheSourcesWriteCanBeSaidInSpanish() throws {
        let table = try #require(try MessageCatalog.load().fieldMessages[.spanish])
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var messages = Set<String>()
        for module in ["CentinelaHTTP", "CentinelaCore", "CentinelaStore"] {
            let folder = root.appendingPathComponent("Sources/\(module)")
            let files = try #require(FileManager.default.enumerator(atPath: folder.path))
            for case let path as String in files where path.hasSuffix(".swift") && !path.hasPrefix("Console/") {
                messages.formUnion(Self.fieldMessages(in: try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8)))
            }
        }
        #expect(messages.count >= 60, "\(messages.count) messages found")
        // Each interpolation given a figure, as a request would.
        let missing = messages.filter { table.translate($0.replacingOccurrences(of: "{}", with: "7")) == nil }.sorted()
        #expect(missing.isEmpty, "no template for: \(missing)")
    }

    /// The string literals that follow `fail(…, ` / `.add(…, ` / `message: `, each interpolation
    /// written `{}`.
    static func fieldMessages(in text: String) -> [String] {
        var found: [String] = []
        let characters = Array(text)
        for match in text.matches(of: /(?:\bfail\((?:at: )?(?:"[^"\n]*"|[^,"\n]*),\s*|\.add\([^,"\n]*,\s*|message:\s*)"/) {
            var index = text.distance(from: text.startIndex, to: match.range.upperBound)
            var literal = ""
            while index < characters.count, characters[index] != "\"" {
                if characters[index] == "\\", index + 1 < characters.count, characters[index + 1] == "(" {
                    var depth = 1
                    index += 2
                    while index < characters.count, depth > 0 {
                        switch characters[index] {
                        case "(": depth += 1
                        case ")": depth -= 1
                        case "\"":
                            index += 1
                            while index < characters.count, characters[index] != "\"" { index += 1 }
                        default: break
                        }
                        index += 1
                    }
                    literal += "{}"
                } else if characters[index] == "\\", index + 1 < characters.count {
                    literal.append(characters[index + 1])
                    index += 2
                } else {
                    literal.append(characters[index])
                    index += 1
                }
            }
            found.append(literal)
        }
        return found
    }
}
