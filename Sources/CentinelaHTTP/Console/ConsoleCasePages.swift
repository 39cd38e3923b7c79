import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird

/// A regulator's cases in the console: the inbox (by status, with counts) and a case's page (what
/// happened, its alerts with scores, the facilities it covers, its history, and the steps a
/// regulator takes on it).
struct ConsoleCasePages {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    let feed: AlertFeed
    /// The console's sessions: the live stream asks them whether its session still holds.
    let sessions: ConsoleSessions
    var desk: CaseDesk { CaseDesk(database: database) }
    var renderer: ConsoleRenderer {
        get throws { try ConsoleRenderer.shared.get() }
    }

    static let pageSize = 50

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("cases", use: inbox)
        // The inbox's live updates: the API's own stream of alert and case events, in the
        // session's scope (console.js reloads the inbox's list when a case event arrives).
        let stream = AlertController(database: database, limits: limits, feed: feed)
        routes.get("cases/stream") { [sessions] request, context in
            _ = try context.consoleSession(for: [.regulator])
            // Ends on sign-out too, not only when the token is revoked: the session is what holds it.
            let cookie = request.cookies[ConsoleVisit.sessionCookie]?.value ?? ""
            return try await stream.stream(request, context: context, holds: { try await sessions.isAlive(cookie) })
        }
        routes.get("cases/{id}", use: casePage)
        routes.post("cases/{id}", use: act)
        return routes
    }

    // MARK: Inbox

    struct InboxPage {
        struct Tab {
            var label: String
            var count: Int
            var href: String
            var current: Bool
        }
        struct Row {
            var href: String
            var title: String
            var kind: String
            var status: String
            var jurisdictions: String
            var alertCount: Int
            var facilityCount: Int
            var updated: String
        }
        var tabs: [Tab]
        /// All cases, networks only, single schools only: links that keep the status.
        var kinds: [Tab]
        var rows: [Row]
        var empty: Bool
        var next: String?
        var heading: String
        /// The jurisdictions to filter by (the regulator's own and below); the chosen one kept by
        /// every other link of the page.
        var jurisdictions: [ConsoleChoice]
        var status: String
        var kind: String?
        var filtered: Bool
    }

    @Sendable func inbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let visit = context.visit()
        let renderer = try renderer
        let query = request.uri.queryParameters
        let status = query["status"].flatMap { Case.Status(code: String($0)) } ?? .open
        let kind = query["kind"].flatMap { Case.Kind(code: String($0)) }
        let jurisdiction = ConsoleChoice.jurisdictionFilter(request)
        let within = jurisdiction.map { "&jurisdiction=\(ConsoleFormat.queryValue($0))" } ?? ""
        let kindQuery = (kind.map { "&kind=\($0.rawValue)" } ?? "") + within
        let cursor = query["after"].flatMap { InstantCursor(text: String($0)) }
        let caller = context.caller(session.principal)
        let (items, counts) = try await desk.inbox(
            status: status, kind: kind, within: jurisdiction, after: cursor, limit: Self.pageSize + 1, caller: caller)
        let jurisdictions = try await ConsoleChoice.jurisdictions(
            database: database, session: session, caller: caller, selected: jurisdiction)
        let shown = items.prefix(Self.pageSize)
        let language = visit.language
        let page = InboxPage(
            tabs: Case.Status.allCases.map { each in
                .init(
                    label: renderer.text("case.status.\(each.rawValue)", visit), count: counts[each] ?? 0,
                    href: "/console/cases?status=\(each.rawValue)" + kindQuery, current: each == status)
            },
            kinds: ([nil] + Case.Kind.allCases.map { Optional($0) }).map { each in
                .init(
                    label: renderer.text("cases.kind.\(each?.rawValue ?? "all")", visit), count: 0,
                    href: "/console/cases?status=\(status.rawValue)" + (each.map { "&kind=\($0.rawValue)" } ?? "") + within,
                    current: each == kind)
            },
            rows: shown.map { record in
                .init(
                    href: "/console/cases/\(record.id)", title: Self.title(of: record, renderer: renderer, visit: visit),
                    kind: renderer.text("case.kind.\(record.kind.rawValue)", visit),
                    status: renderer.text("case.state.\(record.status.rawValue)", visit),
                    jurisdictions: record.jurisdictions.map(\.name).joined(separator: ", "), alertCount: record.alertCount,
                    facilityCount: record.facilityCount, updated: ConsoleFormat.instant(record.updatedAt, language))
            },
            empty: shown.isEmpty,
            next: items.count > Self.pageSize
                ? shown.last.map {
                    "/console/cases?status=\(status.rawValue)\(kindQuery)&after="
                        + InstantCursor($0.updatedAt, id: $0.id.rawValue).text
                } : nil,
            heading: renderer.text("cases.heading", visit), jurisdictions: jurisdictions, status: status.rawValue,
            kind: kind?.rawValue, filtered: jurisdiction != nil)
        return renderer.response("cases", title: page.heading, visit: visit, request: request, page: page)
    }

    /// What a case is called in lists: its facility, or the network it covers.
    static func title(of record: CaseRecord, renderer: ConsoleRenderer, visit: ConsoleVisit) -> String {
        switch record.kind {
        case .facility:
            record.visibleFacilities.first.map { "\($0.name) (\($0.code))" } ?? renderer.text("case.kind.facility", visit)
        case .pattern:
            renderer.text("case.pattern_title", visit, ["count": "\(record.facilityCount)"])
        }
    }

    // MARK: One case

    struct CasePage {
        struct FacilityLink {
            var href: String
            var name: String
            var code: String
            var jurisdiction: String
        }
        struct AlertRow {
            var rule: String
            var severity: String
            var critical: Bool
            var facility: String
            var facilityHref: String
            var score: String
            var band: String
            var bandCode: String
            var opened: String
            var reportCount: Int
        }
        struct EventRow {
            var kind: String
            var actor: String
            var at: String
            var detail: String?
        }
        typealias ReportRow = ReportWords.Row
        struct Option {
            var value: String
            var label: String
        }
        var id: String
        var heading: String
        var summary: String
        var status: String
        var statusCode: String
        var kind: String
        var opened: String
        var updated: String
        var referral: String?
        var closeReason: String?
        var facilities: [FacilityLink]
        var alerts: [AlertRow]
        /// The evidence: the reports behind the alerts, newest first.
        var reports: [ReportRow]
        var events: [EventRow]
        var canAcknowledge: Bool
        var canRefer: Bool
        var canClose: Bool
        var canReopen: Bool
        var closeReasons: [Option]
        var notice: String?
        var error: String?
        var action: String
        /// A network case: its pattern's page (what the reports share, the network drawn).
        var patternHref: String?
        /// Said when some alerts or events are not shown, with the link that shows them all.
        var more: String?
        var moreHref: String?
    }

    /// Alerts and history events a case's page shows before `?all=1`.
    static let shownAtFirst = 100
    /// Reports a case's page shows before `?all=1` (each read with its decisions' latest status
    /// and its counts: ~0.4 ms apiece nationally).
    static let reportsAtFirst = 30

    @Sendable func casePage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try Self.caseID(context)
        let notice = request.uri.queryParameters["done"].map { _ in try? renderer.text("case.action_done", context.visit()) } ?? nil
        return try await render(id, session: session, request: request, context: context, notice: notice)
    }

    private func render(
        _ id: Case.ID, session: ConsoleSession, request: Request, context: AppRequestContext, notice: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let visit = context.visit()
        let renderer = try renderer
        // A network case of many schools gathers hundreds of alerts, reports and events: the page
        // shows the first alerts and the latest reports and events, and all of them on request.
        let all = request.uri.queryParameters["all"] == "1"
        let shown = all ? Int.max : Self.shownAtFirst
        let dossier = try await desk.dossier(
            id, evidence: all ? Int.max : Self.reportsAtFirst, caller: context.caller(session.principal))
        let record = dossier.record
        let language = visit.language
        let hidden =
            max(0, dossier.alerts.count - shown) + max(0, dossier.events.count - shown)
            + max(0, dossier.reportCount - dossier.reports.count)
        let summary = renderer.text(
            record.kind == .pattern ? "case.summary.pattern" : "case.summary.facility", visit,
            [
                "facilities": "\(record.facilityCount)", "alerts": "\(record.alertCount)",
                "jurisdictions": record.jurisdictions.map(\.name).joined(separator: ", "),
                "opened": ConsoleFormat.instant(record.openedAt, language),
            ])
        let page = CasePage(
            id: record.id.description, heading: Self.title(of: record, renderer: renderer, visit: visit), summary: summary,
            status: renderer.text("case.state.\(record.status.rawValue)", visit), statusCode: record.status.rawValue,
            kind: renderer.text("case.kind.\(record.kind.rawValue)", visit), opened: ConsoleFormat.instant(record.openedAt, language),
            updated: ConsoleFormat.instant(record.updatedAt, language), referral: record.referralReference,
            closeReason: record.closeReason.map { renderer.text("case.close_reason.\($0.rawValue)", visit) },
            facilities: record.visibleFacilities.map {
                .init(href: "/console/facilities/\($0.id)", name: $0.name, code: $0.code, jurisdiction: $0.jurisdictionCode)
            },
            alerts: dossier.alerts.prefix(shown).map { alert in
                .init(
                    rule: renderer.text("alert.rule.\(alert.rule.rawValue)", visit),
                    severity: renderer.text("alert.severity.\(alert.severity.rawValue)", visit), critical: alert.severity == .critical,
                    facility: alert.facilityName, facilityHref: "/console/facilities/\(alert.facilityID)",
                    score: ConsoleFormat.points(alert.score), band: renderer.text("band.\(alert.band.rawValue)", visit),
                    bandCode: alert.band.rawValue,
                    opened: ConsoleFormat.instant(alert.openedAt, language), reportCount: alert.reports.count)
            },
            reports: dossier.reports.prefix(shown).map(ReportWords(renderer: renderer, visit: visit).row),
            events: dossier.events.reversed().prefix(shown).map { event in
                .init(
                    kind: renderer.text("case.event.\(event.kind.rawValue)", visit), actor: event.actor,
                    at: ConsoleFormat.instant(event.at, language),
                    detail: ConsoleEventWords.detail(
                        event.detailsJSON, renderer: renderer, visit: visit,
                        codes: ["reason": "case.close_reason", "rule": "alert.rule"]))
            },
            canAcknowledge: record.status == .open, canRefer: record.status != .closed, canClose: record.status != .closed,
            canReopen: record.status == .closed && record.closeReason != .merged,
            closeReasons: Case.CloseReason.allCases.filter { $0 != .merged }.map {
                .init(value: $0.rawValue, label: renderer.text("case.close_reason.\($0.rawValue)", visit))
            },
            notice: notice, error: error, action: "/console/cases/\(record.id)",
            patternHref: record.patternID.map { "/console/patterns/\($0.uuidString.lowercased())" },
            more: hidden > 0
                ? renderer.text(
                    "case.more", visit,
                    [
                        "alerts": "\(dossier.alerts.count)", "events": "\(dossier.events.count)", "reports": "\(dossier.reportCount)",
                        "shownReports": "\(Self.reportsAtFirst)",
                        "shown": "\(Self.shownAtFirst)",
                    ])
                : nil,
            moreHref: hidden > 0 ? "/console/cases/\(record.id)?all=1" : nil)
        return renderer.response("case", title: page.heading, visit: visit, request: request, page: page, status: status)
    }

    // MARK: Steps

    @Sendable func act(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try Self.caseID(context)
        let form = try await ConsoleController.checkedForm(request, context: context, limit: limits.maximumBodySize)
        let visit = context.visit()
        let renderer = try renderer
        func text(_ name: String) -> String { String((form.value(name) ?? "").prefix(5000)) }
        let transition: CaseTransition
        switch form.value("action") {
        case "acknowledge": transition = .acknowledge
        case "refer": transition = .refer(reference: String(text("reference").prefix(200)))
        case "close":
            guard let reason = form.value("reason").flatMap(Case.CloseReason.init(code:)) else {
                return try await render(
                    id, session: session, request: request, context: context, error: renderer.text("case.error.reason", visit),
                    status: .unprocessableContent)
            }
            transition = .close(reason, note: text("note"))
        case "reopen": transition = .reopen(note: text("note"))
        case "comment": transition = .comment(text("text"))
        default: throw Problem.badRequest("Unknown step.")
        }
        do {
            _ = try await desk.apply(transition, to: id, caller: context.caller(session.principal))
        } catch let error as CaseStoreError {
            let message: String
            switch error {
            case .transition(.missingText(let field)): message = renderer.text("case.error.missing", visit, ["field": field])
            case .transition(.reservedReason): message = renderer.text("case.error.reason", visit)
            case .transition(.notAllowed): message = renderer.text("case.error.not_allowed", visit)
            case .anotherCaseOpen: message = renderer.text("case.error.another_open", visit)
            case .merged: message = renderer.text("case.error.merged", visit)
            }
            return try await render(id, session: session, request: request, context: context, error: message, status: .conflict)
        }
        throw ConsoleRedirect.to("/console/cases/\(id)?done=1")
    }

    static func caseID(_ context: AppRequestContext) throws -> Case.ID {
        guard let text = context.parameters.get("id"), let id = Case.ID(uuidString: text) else { throw Problem.notFound() }
        return id
    }
}
