import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird

/// A facility's page: its score now, the factors as bars that add up to it, the score's history
/// as a chart drawn on the server (SVG), and its reports. For the facility's regulators and its
/// own school; anyone else is told there is no such page. Its regulators also see the adults the
/// reports name (and where else each appears) and set or clear a band by hand, with a reason and
/// an end date.
struct ConsoleFacilityPage {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var risk: RiskDesk { RiskDesk(database: database) }
    var reports: ReportDesk { ReportDesk(database: database) }

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("facilities/{id}", use: page)
        routes.post("facilities/{id}", use: setBand)
        return routes
    }

    struct Page {
        typealias Factor = FactorBar
        struct Adult {
            var names: String
            var roles: String
            var reports: Int
            var elsewhere: String?
        }
        struct Override {
            var band: String
            var reason: String
            var setBy: String
            var until: String
        }
        struct Option {
            var value: String
            var label: String
        }
        typealias Row = ReportWords.Row
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
        var isRegulator: Bool
        var adults: [Adult]
        var noAdults: Bool
        var override: Override?
        var bands: [Option]
        var bandMin: String
        var bandMax: String
        var action: String
        var notice: String?
        var error: String?
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        let id = try context.facilityID()
        let notice =
            request.uri.queryParameters["done"].map { _ in try? ConsoleRenderer.shared.get().text("facility.band_done", context.visit()) }
            ?? nil
        return try await render(id, session: session, request: request, context: context, notice: notice)
    }

    private func render(
        _ id: Facility.ID, session: ConsoleSession, request: Request, context: AppRequestContext, notice: String? = nil,
        error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let caller = context.caller(session.principal)
        let language = visit.language
        var found: FacilityRecord?
        var score: StoredScore?
        var history: [ScorePoint] = []
        do {
            let current = try await risk.current(id, caller: caller)
            (found, score) = (current.facility, current.score)
            history = try await risk.trail(id, limit: 120, caller: caller).points
        } catch RiskDesk.Refusal.notScoredYet {
            found = try await risk.trail(id, limit: 1, caller: caller).facility
        }
        guard let facility = found else { throw Problem.notFound() }
        let (rows, _) = try await reports.list(.init(facilityID: id), after: nil, limit: 100, shown: 100, caller: caller)
        let isRegulator = session.principal.role == .regulator
        let adults = isRegulator ? try await LinkingDesk(database: database).implicated(at: id, caller: caller) : []
        let now = Date()
        let assessment = score?.assessment
        let factors = FactorBar.bars(of: assessment, renderer: renderer, visit: visit)
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
            chart: ScoreChart(history.map { ($0.asOf, $0.score) }),
            reports: rows.map(ReportWords(renderer: renderer, visit: visit).row),
            noReports: rows.isEmpty, fileHref: "/console/facilities/\(id)/file",
            fileReportHref: isRegulator ? "/console/reports/new?facility=\(id)" : nil,
            isRegulator: isRegulator,
            adults: adults.map { adult in
                .init(
                    names: adult.writtenNames.joined(separator: " / "),
                    roles: adult.roles.map { renderer.text("adult.role.\($0)", visit) }.joined(separator: ", "),
                    reports: adult.reports,
                    elsewhere: adult.otherJurisdictions.isEmpty
                        ? (adult.elsewhere ? renderer.text("facility.adult_elsewhere", visit) : nil)
                        : renderer.text(
                            "facility.adult_other_jurisdictions", visit, ["codes": adult.otherJurisdictions.joined(separator: ", ")]))
            },
            noAdults: adults.isEmpty,
            override: assessment?.manualOverride.map { manual in
                .init(
                    band: renderer.text("band.\(manual.band.rawValue)", visit), reason: manual.reason, setBy: manual.setBy ?? "",
                    until: ConsoleFormat.instant(manual.expiresAt, language))
            },
            bands: RiskBand.allCases.map { .init(value: $0.rawValue, label: renderer.text("band.\($0.rawValue)", visit)) },
            bandMin: ConsoleFormat.day(now.addingTimeInterval(86_400)),
            bandMax: ConsoleFormat.day(now.addingTimeInterval(Double(RiskController.longestOverride) * 86_400)),
            action: "/console/facilities/\(id)", notice: notice, error: error)
        return renderer.response("facility", title: page.name, visit: visit, request: request, page: page, status: status)
    }

    /// A regulator sets the facility's band by hand (with a reason and a last day) or clears it
    /// (with a reason): the same step as `POST /v1/facilities/{id}/risk/overrides`.
    @Sendable func setBand(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try context.facilityID()
        let form = try await ConsoleController.checkedForm(request, context: context, limit: limits.maximumBodySize)
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let now = Date()
        func refuse(_ key: String) async throws -> Response {
            try await render(
                id, session: session, request: request, context: context, error: renderer.text(key, visit), status: .unprocessableContent)
        }
        let reason = String((form.value("reason") ?? "").prefix(2000)).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { return try await refuse("facility.error.band_reason") }
        let band: RiskBand?
        let until: Date?
        switch form.value("action") {
        case "band":
            guard let chosen = form.value("band").flatMap(RiskBand.init(code:)) else { return try await refuse("facility.error.band") }
            guard let last = CalendarDate(String((form.value("until") ?? "").prefix(10))).map(ConsoleFormat.endOfDay), last > now,
                last.timeIntervalSince(now) <= Double(RiskController.longestOverride + 1) * 86_400
            else { return try await refuse("facility.error.band_until") }
            band = chosen
            until = min(last, now.addingTimeInterval(Double(RiskController.longestOverride) * 86_400))
        case "clear":
            band = nil
            until = nil
        default: throw Problem.badRequest("Unknown step.")
        }
        do {
            _ = try await risk.setOverride(
                facility: id, band: band, reason: reason, expiresAt: until, caller: context.caller(session.principal))
        } catch RiskDesk.Refusal.notTheFacilitysRegulator {
            return try await render(
                id, session: session, request: request, context: context, error: renderer.text("facility.error.band_regulator", visit),
                status: .forbidden)
        }
        throw ConsoleRedirect.to("/console/facilities/\(id)?done=1")
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

/// One factor of a score as the console draws it: a bar whose width is its share of the total, so
/// that the bars, laid end to end, are the total (the facility's page and an alert's).
struct FactorBar {
    var label: String
    var help: String
    /// How the model computed it, in the reader's language (the API's `summary`).
    var computed: String
    var points: String
    /// The bar's start and width, in percent of the total.
    var x: String
    var width: String
    var colour: Int

    static func bars(of assessment: RiskAssessment?, renderer: ConsoleRenderer, visit: ConsoleVisit) -> [FactorBar] {
        let language = visit.language
        // The bars share the width in proportion to their points: together they are the total.
        let scale = max(assessment?.total ?? 0, 0.1)
        var start = 0.0
        var bars: [FactorBar] = []
        for (index, reason) in (assessment?.reasons ?? []).enumerated() where reason.points > 0 {
            bars.append(
                .init(
                    label: renderer.text("factor.\(reason.code.rawValue)", visit),
                    help: renderer.text("factor_help.\(reason.code.rawValue)", visit),
                    computed: language == .english ? reason.summary : renderer.catalog.reasonSummary(reason.summary, language),
                    points: ConsoleFormat.points(reason.points),
                    x: ConsoleFormat.points(start / scale * 100), width: ConsoleFormat.points(reason.points / scale * 100),
                    colour: index % 6))
            start += reason.points
        }
        return bars
    }
}
