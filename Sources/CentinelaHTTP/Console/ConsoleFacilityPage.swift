import CentinelaCore
import CentinelaStore
import Foundation
import Hummingbird

/// A facility's page: its score now, the factors as bars that add up to it, the score's history
/// as a chart drawn on the server (SVG), and its reports. For the facility's regulators and its
/// own school; anyone else is told there is no such page.
struct ConsoleFacilityPage {
    let database: ServiceDatabase
    var risk: RiskDesk { RiskDesk(database: database) }
    var reports: ReportDesk { ReportDesk(database: database) }

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("facilities/{id}", use: page)
        return routes
    }

    struct Page {
        struct Factor {
            var label: String
            var help: String
            var points: String
            /// The bar's start and width, in percent of the total.
            var x: String
            var width: String
            var colour: Int
        }
        struct Row {
            var href: String
            var received: String
            var category: String
            var status: String
            var adults: Int
            var children: Int
        }
        var name: String
        var code: String
        var jurisdiction: String
        var scored: Bool
        var score: String
        var total: String
        var explained: String
        var band: String
        var bandCode: String
        var manualBand: String?
        var asOf: String
        var factors: [Factor]
        var chart: ScoreChart?
        var reports: [Row]
        var noReports: Bool
        var fileHref: String
        /// A regulator's intake staff file a report for this facility from here.
        var fileReportHref: String?
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        let id = try context.facilityID()
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let caller = context.caller(session.principal)
        let language = visit.language
        var found: FacilityRecord?
        var score: StoredScore?
        var history: [(id: Int64, score: StoredScore)] = []
        do {
            let current = try await risk.current(id, caller: caller)
            (found, score) = (current.facility, current.score)
            history = try await risk.history(id, before: nil, limit: 120, caller: caller).rows
        } catch RiskDesk.Refusal.notScoredYet {
            found = try await risk.history(id, before: nil, limit: 1, caller: caller).facility
        }
        guard let facility = found else { throw Problem.notFound() }
        let (rows, _) = try await reports.list(.init(facilityID: id), after: nil, limit: 100, shown: 100, caller: caller)
        let assessment = score?.assessment
        // The bars share the width in proportion to their points: together they are the total.
        let scale = max(assessment?.total ?? 0, 0.1)
        var start = 0.0
        var factors: [Page.Factor] = []
        for (index, reason) in (assessment?.reasons ?? []).enumerated() where reason.points > 0 {
            factors.append(
                .init(
                    label: renderer.text("factor.\(reason.code.rawValue)", visit),
                    help: renderer.text("factor_help.\(reason.code.rawValue)", visit), points: ConsoleFormat.points(reason.points),
                    x: ConsoleFormat.points(start / scale * 100), width: ConsoleFormat.points(reason.points / scale * 100),
                    colour: index % 6))
            start += reason.points
        }
        let page = Page(
            name: facility.facility.name, code: facility.facility.externalCode, jurisdiction: facility.jurisdictionCode,
            scored: assessment != nil, score: ConsoleFormat.points(assessment?.score ?? 0),
            total: ConsoleFormat.points(assessment?.total ?? 0),
            explained: renderer.text(
                "facility.total_explained", visit,
                ["total": ConsoleFormat.points(assessment?.total ?? 0), "score": ConsoleFormat.points(assessment?.score ?? 0)]),
            band: renderer.text("band.\((assessment?.band ?? .low).rawValue)", visit), bandCode: (assessment?.band ?? .low).rawValue,
            manualBand: assessment?.manualOverride.map { _ in renderer.text("facility.manual_band", visit) },
            asOf: assessment.map { ConsoleFormat.instant($0.asOf, language) } ?? "",
            factors: factors,
            chart: ScoreChart(history.map { ($0.score.assessment.asOf, $0.score.assessment.score) }),
            reports: rows.map {
                .init(
                    href: "/console/reports/\($0.id)", received: ConsoleFormat.instant($0.receivedAt, language),
                    category: renderer.text("report.category.\($0.category.rawValue)", visit),
                    status: renderer.text("report.status.\($0.status.rawValue)", visit), adults: $0.adultCount, children: $0.childCount)
            },
            noReports: rows.isEmpty, fileHref: "/console/facilities/\(id)/file",
            fileReportHref: session.principal.role == .regulator ? "/console/reports/new?facility=\(id)" : nil)
        return renderer.response("facility", title: page.name, visit: visit, request: request, page: page)
    }
}

/// A score's history as an SVG polyline on a 0–100 axis, oldest on the left: drawn on the server,
/// so the page needs no script and prints as it shows.
struct ScoreChart {
    struct Tick {
        var y: String
        var label: String
    }
    var points: String
    var first: String
    var last: String
    var ticks: [Tick]

    static let width = 600.0
    static let height = 160.0

    /// Nil with fewer than two scores: there is no line to draw.
    init?(_ scores: [(at: Date, score: Double)]) {
        let ordered = scores.sorted { $0.at < $1.at }
        guard ordered.count >= 2, let start = ordered.first?.at, let end = ordered.last?.at else { return nil }
        let span = max(end.timeIntervalSince(start), 1)
        points = ordered.map { at, score in
            let x = at.timeIntervalSince(start) / span * Self.width
            let y = Self.height - min(max(score, 0), 100) / 100 * Self.height
            return "\(ConsoleFormat.points(x)),\(ConsoleFormat.points(y))"
        }.joined(separator: " ")
        first = String(start.ISO8601Format().prefix(10))
        last = String(end.ISO8601Format().prefix(10))
        ticks = [0, 25, 50, 75, 100].map { Tick(y: ConsoleFormat.points(Self.height - $0 / 100 * Self.height), label: "\(Int($0))") }
    }
}
