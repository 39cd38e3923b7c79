import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird

/// A case file for a prosecutor or a hearing — one facility's (with its score and the score's
/// history) or one pattern's (the schools it spans, for a regulator): every report whole, its
/// decisions and amendments — as a page made to be printed (or saved as PDF from the browser's
/// print dialog) and as CSV. Each export is audited (`facility.export` or `pattern.export`, with
/// its format and how many reports it held).
struct ConsoleCaseFile {
    let database: ServiceDatabase
    var reports: ReportDesk { ReportDesk(database: database) }
    var risk: RiskDesk { RiskDesk(database: database) }

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("facilities/{id}/file", use: page)
        routes.get("facilities/{id}/file.csv", use: csv)
        routes.get("patterns/{id}/file", use: patternPage)
        routes.get("patterns/{id}/file.csv", use: patternCSV)
        return routes
    }

    struct Page {
        typealias Line = ReportWords.Line
        struct Report {
            var number: Int
            var receipt: String
            var received: String
            var lines: [Line]
            var adults: [String]
            var children: [String]
            var tactics: String
            var narrative: String
            var history: [String]
            /// The report's school, in a pattern's file (which spans several).
            var facility: String?
        }
        struct Score {
            var at: String
            var score: String
            var band: String
        }
        var heading: String
        /// A facility's file: the facility and its jurisdiction; a pattern's: the schools it spans.
        var facility: String?
        var jurisdiction: String?
        var facilities: [String]
        var prepared: String
        var score: String?
        var factors: [Line]
        var hasFactors: Bool
        var history: [Score]
        var hasHistory: Bool
        var reports: [Report]
        var incomplete: Bool
        var csv: String
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        let id = try context.facilityID()
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let caller = context.caller(session.principal)
        let language = visit.language
        guard let file = try await reports.caseFile(of: .facility(id), format: "html", caller: caller) else { throw Problem.notFound() }
        let record = try await FacilityRegister(database: database).facility(id, caller: caller)
        let current = try? await risk.current(id, caller: caller)
        let history = (try? await risk.trail(id, limit: 200, caller: caller).points) ?? []
        func say(_ key: String) -> String { renderer.text(key, visit) }
        let words = ReportWords(renderer: renderer, visit: visit)
        let factors: [Page.Line] = (current?.score.assessment.reasons ?? []).filter { $0.points > 0 }.map {
            .init(label: say("factor.\($0.code.rawValue)"), value: ConsoleFormat.points($0.points))
        }
        let page = Page(
            heading: renderer.text("file.heading", visit, ["facility": record.facility.name]),
            facility: "\(record.facility.name) (\(record.facility.externalCode))", jurisdiction: record.jurisdictionCode, facilities: [],
            prepared: renderer.text(
                "file.prepared", visit,
                ["when": ConsoleFormat.instant(Date(), language), "who": session.principal.holder, "count": "\(file.reports.count)"]),
            score: current.map {
                "\(ConsoleFormat.points($0.score.assessment.score)) — \(say("band.\($0.score.assessment.band.rawValue)"))"
            },
            factors: factors, hasFactors: !factors.isEmpty,
            history: history.map {
                .init(
                    at: ConsoleFormat.instant($0.asOf, language), score: ConsoleFormat.points($0.score),
                    band: say("band.\($0.band.rawValue)"))
            },
            hasHistory: !history.isEmpty,
            reports: Self.reports(file.reports, words: words, visit: visit, naming: false),
            incomplete: !file.complete, csv: "/console/facilities/\(id)/file.csv")
        return renderer.response("case-file", title: page.heading, visit: visit, request: request, page: page)
    }

    /// The reports of a file in words, oldest first; `naming` each one's school (a pattern's file).
    static func reports(_ reports: [ReportRecord], words: ReportWords, visit: ConsoleVisit, naming: Bool) -> [Page.Report] {
        let language = visit.language
        func say(_ key: String) -> String { words.renderer.text(key, visit) }
        return reports.enumerated().map { index, report in
            let summary = report.summary
            return Page.Report(
                number: index + 1, receipt: summary.id.description, received: ConsoleFormat.instant(summary.receivedAt, language),
                lines: words.facts(report), adults: words.adults(report), children: words.children(report),
                tactics: words.tactics(report).joined(separator: ", "),
                narrative: report.narrative,
                history: report.statusHistory.map {
                    "\(ConsoleFormat.instant($0.changedAt, language)): \(say("report.status.\($0.status.rawValue)"))"
                        + ($0.reason.map { " — \($0)" } ?? "")
                }
                    + report.amendments.map {
                        "\(ConsoleFormat.instant($0.amendedAt, language)): \(say("file.amendment")) \($0.changes)"
                            + ($0.note.map { " — \($0)" } ?? "")
                    },
                facility: naming
                    ? "\(summary.facilityName) (\(summary.facilityCode)) · \(summary.jurisdictionCode)" : nil)
        }
    }

    /// A pattern's file: the reports of every school it spans that the regulator may see.
    @Sendable func patternPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try ConsolePatternPages.patternID(context)
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let caller = context.caller(session.principal)
        guard let file = try await reports.caseFile(of: .pattern(id), format: "html", caller: caller) else { throw Problem.notFound() }
        let (record, _) = try await LinkingDesk(database: database).pattern(id, caller: caller)
        let title = renderer.text(
            "pattern.heading.\(record.kind)", visit, ["facilities": "\(record.facilities)", "reports": "\(record.reports)"])
        let page = Page(
            heading: renderer.text("file.heading_pattern", visit, ["pattern": title]), facility: nil, jurisdiction: nil,
            facilities: record.visibleFacilities.map { "\($0.name) (\($0.code)) · \($0.jurisdictionCode)" },
            prepared: renderer.text(
                "file.prepared", visit,
                ["when": ConsoleFormat.instant(Date(), visit.language), "who": session.principal.holder, "count": "\(file.reports.count)"]),
            score: nil, factors: [], hasFactors: false, history: [], hasHistory: false,
            reports: Self.reports(file.reports, words: ReportWords(renderer: renderer, visit: visit), visit: visit, naming: true),
            incomplete: !file.complete, csv: "/console/patterns/\(id.uuidString.lowercased())/file.csv")
        return renderer.response("case-file", title: page.heading, visit: visit, request: request, page: page)
    }

    @Sendable func patternCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try ConsolePatternPages.patternID(context)
        let caller = context.caller(session.principal)
        guard let file = try await reports.caseFile(of: .pattern(id), format: "csv", caller: caller) else { throw Problem.notFound() }
        return Self.csv(file.reports, named: "patron-\(id.uuidString.lowercased().prefix(8))")
    }

    @Sendable func csv(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        let id = try context.facilityID()
        let caller = context.caller(session.principal)
        guard let file = try await reports.caseFile(of: .facility(id), format: "csv", caller: caller) else { throw Problem.notFound() }
        return Self.csv(file.reports, named: "expediente-" + (file.reports.first?.summary.facilityCode ?? "facility"))
    }

    /// Reports as a CSV download named `name` (only its letters, digits and hyphens kept).
    static func csv(_ reports: [ReportRecord], named name: String) -> Response {
        var text = "\u{FEFF}"  // a byte-order mark, so that spreadsheet programs read UTF-8
        text += Self.header.joined(separator: ",") + "\r\n"
        for report in reports { text += Self.row(report).map(Self.field).joined(separator: ",") + "\r\n" }
        let safeName = String(name.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" })
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(safeName).csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let header = [
        "report_id", "received_at", "facility_code", "jurisdiction", "category", "status", "occurred_from", "occurred_to",
        "occurred_approximate", "discovered_on", "reporter_type", "adults", "children", "modus_operandi", "narrative", "amendments",
    ]

    static func row(_ report: ReportRecord) -> [String] {
        let summary = report.summary
        return [
            summary.id.description, summary.receivedAt.ISO8601Format(), summary.facilityCode, summary.jurisdictionCode,
            summary.category.rawValue, summary.status.rawValue, report.occurredFrom.description, report.occurredTo.description,
            report.occurredApproximate ? "true" : "false", report.discoveredOn.description, summary.reporterType.rawValue,
            report.adults.map { "\($0.name) (\($0.role))" }.joined(separator: "; "),
            report.children.map { "\($0.reference):\($0.ageYears)" }.joined(separator: "; "),
            report.modusOperandi.joined(separator: "; "), report.narrative, "\(report.amendments.count)",
        ]
    }

    /// One CSV field (RFC 4180): quoted when it must be; a leading `=`, `+`, `-` or `@` is
    /// prefixed with `'` so that a spreadsheet never runs text a school typed as a formula.
    static func field(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
