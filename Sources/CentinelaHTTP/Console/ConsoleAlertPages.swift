import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird

/// A regulator's alerts in the console: the alert inbox (by status, with counts, filtered by
/// severity, rule and jurisdiction) and an alert's page (what fired, the score behind it, its
/// history, and every step the API offers: acknowledge, assign, refer, snooze, resolve, comment).
struct ConsoleAlertPages {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var desk: AlertDesk { AlertDesk(database: database) }
    var renderer: ConsoleRenderer {
        get throws { try ConsoleRenderer.shared.get() }
    }

    static let pageSize = 50

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("alerts", use: inbox)
        routes.get("alerts/{id}", use: alertPage)
        routes.post("alerts/{id}", use: act)
        return routes
    }

    // MARK: Inbox

    /// The inbox's filters as the query string carries them; unknown values are ignored (a
    /// bookmarked link keeps working when a rule is renamed), never an error.
    struct Filters {
        var status: Alert.Status = .open
        var severity: Alert.Severity?
        var rule: Alert.Rule?
        var jurisdiction: String?

        init(_ request: Request) {
            let query = request.uri.queryParameters
            status = query["status"].flatMap { Alert.Status(code: String($0)) } ?? .open
            severity = query["severity"].flatMap { Alert.Severity(code: String($0)) }
            rule = query["rule"].flatMap { Alert.Rule(code: String($0)) }
            jurisdiction = ConsoleChoice.jurisdictionFilter(request)
        }

        var store: AlertFilter {
            AlertFilter(severities: severity.map { [$0] }, rules: rule.map { [$0] }, jurisdictionCode: jurisdiction)
        }

        /// The query string of these filters with `status` instead.
        func query(status: Alert.Status) -> String {
            var parts = ["status=\(status.rawValue)"]
            if let severity { parts.append("severity=\(severity.rawValue)") }
            if let rule { parts.append("rule=\(rule.rawValue)") }
            if let jurisdiction { parts.append("jurisdiction=\(ConsoleFormat.queryValue(jurisdiction))") }
            return "?" + parts.joined(separator: "&")
        }
    }

    struct InboxPage {
        typealias Option = ConsoleChoice
        struct Row {
            var href: String
            var summary: String
            var rule: String
            var severity: String
            var critical: Bool
            var facility: String
            var jurisdiction: String
            var band: String
            var bandCode: String
            var opened: String
            var held: String?
        }
        var heading: String
        var status: String
        var tabs: [ConsoleCasePages.InboxPage.Tab]
        var severities: [Option]
        var rules: [Option]
        var jurisdictions: [Option]
        var filtered: Bool
        var rows: [Row]
        var empty: Bool
        var next: String?
    }

    @Sendable func inbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let visit = context.visit()
        let renderer = try renderer
        let query = request.uri.queryParameters
        let filters = Filters(request)
        let cursor = query["after"].flatMap { InstantCursor(text: String($0)) }
        let caller = context.caller(session.principal)
        let (items, counts) = try await desk.inbox(
            filters.store, status: filters.status, after: cursor.map { ($0.microseconds, Alert.ID($0.id)) },
            limit: Self.pageSize + 1, caller: caller)
        let shown = items.prefix(Self.pageSize)
        let language = visit.language
        let jurisdictionOptions = try await ConsoleChoice.jurisdictions(
            database: database, session: session, caller: caller, selected: filters.jurisdiction)
        let page = InboxPage(
            heading: renderer.text("alerts.heading", visit), status: filters.status.rawValue,
            tabs: Alert.Status.allCases.map { each in
                .init(
                    label: renderer.text("alert.status.\(each.rawValue)", visit), count: counts[each] ?? 0,
                    href: "/console/alerts" + filters.query(status: each), current: each == filters.status)
            },
            severities: Alert.Severity.allCases.reversed().map {
                .init(value: $0.rawValue, label: renderer.text("alert.severity.\($0.rawValue)", visit), selected: $0 == filters.severity)
            },
            rules: Alert.Rule.allCases.map {
                .init(value: $0.rawValue, label: renderer.text("alert.rule.\($0.rawValue)", visit), selected: $0 == filters.rule)
            },
            jurisdictions: jurisdictionOptions,
            filtered: filters.severity != nil || filters.rule != nil || filters.jurisdiction != nil,
            rows: shown.map { alert in
                .init(
                    href: "/console/alerts/\(alert.id)", summary: alert.summary(in: language.alertLanguage),
                    rule: renderer.text("alert.rule.\(alert.rule.rawValue)", visit),
                    severity: renderer.text("alert.severity.\(alert.severity.rawValue)", visit), critical: alert.severity == .critical,
                    facility: "\(alert.facilityName) (\(alert.facilityCode))", jurisdiction: alert.jurisdictionCode,
                    band: renderer.text("band.\(alert.band.rawValue)", visit), bandCode: alert.band.rawValue,
                    opened: ConsoleFormat.instant(alert.openedAt, language),
                    held: alert.assignee.map { renderer.text("alert.assigned_to", visit, ["holder": $0]) })
            },
            empty: shown.isEmpty,
            next: items.count > Self.pageSize
                ? shown.last.map {
                    "/console/alerts" + filters.query(status: filters.status) + "&after="
                        + InstantCursor($0.openedAt, id: $0.id.rawValue).text
                } : nil)
        return renderer.response("alerts", title: page.heading, visit: visit, request: request, page: page)
    }

    // MARK: One alert

    struct AlertPage {
        struct Option {
            var value: String
            var label: String
        }
        struct EventRow {
            var kind: String
            var actor: String
            var at: String
            var detail: String?
        }
        var id: String
        var heading: String
        var summary: String
        var rule: String
        var ruleExplained: String
        var severity: String
        var critical: Bool
        var status: String
        var statusCode: String
        var facility: String
        var facilityHref: String
        var jurisdiction: String
        var score: String
        var band: String
        var bandCode: String
        /// The score's factors when the alert opened or last had news, as bars that make its total.
        var factors: [FactorBar]
        var total: String
        var hasReasons: Bool
        var reportCount: Int
        var firstEvidence: String?
        var lastEvidence: String?
        var opened: String
        var assignee: String?
        var referral: String?
        var resolution: String?
        var snoozedUntil: String?
        var events: [EventRow]
        var canAcknowledge: Bool
        var canAssign: Bool
        var canRefer: Bool
        var canSnooze: Bool
        var canResolve: Bool
        var assignedToMe: Bool
        var referrals: [Option]
        var resolutions: [Option]
        var snoozeMin: String
        var snoozeMax: String
        var notice: String?
        var error: String?
        var action: String
    }

    @Sendable func alertPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try Self.alertID(context)
        let notice = request.uri.queryParameters["done"].map { _ in try? renderer.text("case.action_done", context.visit()) } ?? nil
        return try await render(id, session: session, request: request, context: context, notice: notice)
    }

    private func render(
        _ id: Alert.ID, session: ConsoleSession, request: Request, context: AppRequestContext, notice: String? = nil,
        error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let visit = context.visit()
        let renderer = try renderer
        let dossier = try await desk.dossier(id, caller: context.caller(session.principal))
        let alert = dossier.alert
        let language = visit.language
        let now = Date()
        let snoozed = alert.snoozedUntil.flatMap { $0 > now ? $0 : nil }
        let factors = FactorBar.bars(of: dossier.score?.assessment, renderer: renderer, visit: visit)
        let page = AlertPage(
            id: alert.id.description, heading: renderer.text("alert.rule.\(alert.rule.rawValue)", visit) + " — " + alert.facilityName,
            summary: alert.summary(in: language.alertLanguage), rule: renderer.text("alert.rule.\(alert.rule.rawValue)", visit),
            ruleExplained: renderer.text("alert.explain.\(alert.rule.rawValue)", visit),
            severity: renderer.text("alert.severity.\(alert.severity.rawValue)", visit), critical: alert.severity == .critical,
            status: renderer.text("alert.state.\(alert.status.rawValue)", visit), statusCode: alert.status.rawValue,
            facility: "\(alert.facilityName) (\(alert.facilityCode))", facilityHref: "/console/facilities/\(alert.facilityID)",
            jurisdiction: alert.jurisdictionCode, score: ConsoleFormat.points(alert.score),
            band: renderer.text("band.\(alert.band.rawValue)", visit), bandCode: alert.band.rawValue,
            factors: factors, total: ConsoleFormat.points(dossier.score?.assessment.total ?? 0), hasReasons: !factors.isEmpty,
            reportCount: alert.reports.count,
            firstEvidence: alert.firstEvidenceAt.map { ConsoleFormat.instant($0, language) },
            lastEvidence: alert.lastEvidenceAt.map { ConsoleFormat.instant($0, language) },
            opened: ConsoleFormat.instant(alert.openedAt, language), assignee: alert.assignee,
            referral: alert.referral.map {
                renderer.text("alert.referral.\($0.rawValue)", visit) + (alert.referralReference.map { " — \($0)" } ?? "")
            },
            resolution: alert.resolution.map {
                renderer.text("alert.resolution.\($0.rawValue)", visit) + (alert.resolutionNote.map { " — \($0)" } ?? "")
            },
            snoozedUntil: snoozed.map { ConsoleFormat.instant($0, language) },
            events: dossier.events.reversed().map { event in
                .init(
                    kind: renderer.text("alert.event.\(event.kind.rawValue)", visit), actor: event.actor,
                    at: ConsoleFormat.instant(event.at, language),
                    detail: ConsoleEventWords.detail(
                        event.detailsJSON, renderer: renderer, visit: visit,
                        codes: ["to": "alert.referral", "resolution": "alert.resolution", "rule": "alert.rule"]))
            },
            canAcknowledge: alert.status == .open, canAssign: alert.status != .resolved,
            canRefer: alert.status != .resolved && alert.status != .open, canSnooze: alert.status != .resolved,
            canResolve: alert.status != .resolved, assignedToMe: alert.assigneeID == session.principal.id,
            referrals: Alert.Referral.allCases.map {
                .init(value: $0.rawValue, label: renderer.text("alert.referral.\($0.rawValue)", visit))
            },
            resolutions: Alert.Resolution.allCases.filter { $0 != .quiet }.map {
                .init(value: $0.rawValue, label: renderer.text("alert.resolution.\($0.rawValue)", visit))
            },
            snoozeMin: ConsoleFormat.day(now.addingTimeInterval(86_400)),
            snoozeMax: ConsoleFormat.day(now.addingTimeInterval(AlertTransition.longestSnooze)),
            notice: notice, error: error, action: "/console/alerts/\(alert.id)")
        return renderer.response("alert", title: page.heading, visit: visit, request: request, page: page, status: status)
    }

    // MARK: Steps

    @Sendable func act(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try Self.alertID(context)
        let form = try await ConsoleController.checkedForm(request, context: context, limit: limits.maximumBodySize)
        let visit = context.visit()
        let renderer = try renderer
        let now = Date()
        func text(_ name: String, _ limit: Int = 5000) -> String { String((form.value(name) ?? "").prefix(limit)) }
        func refuse(_ key: String, _ values: [String: String] = [:]) async throws -> Response {
            try await render(
                id, session: session, request: request, context: context, error: renderer.text(key, visit, values),
                status: .unprocessableContent)
        }
        let transition: AlertTransition
        switch form.value("action") {
        case "acknowledge": transition = .acknowledge
        case "assign":
            // "To me", or to a colleague named by their token id (the id the operator gave them).
            let named = text("assignee", 64).trimmingCharacters(in: .whitespaces)
            if named.isEmpty {
                transition = .assign(to: session.principal.id)
            } else if let other = Principal.ID(uuidString: named) {
                transition = .assign(to: other)
            } else {
                return try await refuse("alert.error.assignee")
            }
        case "refer":
            guard let to = form.value("to").flatMap(Alert.Referral.init(code:)) else { return try await refuse("alert.error.referral") }
            transition = .refer(to: to, reference: text("reference", 200))
        case "resolve":
            guard let resolution = form.value("resolution").flatMap(Alert.Resolution.init(code:)), resolution != .quiet else {
                return try await refuse("alert.error.resolution")
            }
            transition = .resolve(resolution, note: text("note"))
        case "snooze":
            guard let until = CalendarDate(text("until", 10)).map(ConsoleFormat.endOfDay), until > now,
                until.timeIntervalSince(now) <= AlertTransition.longestSnooze + 86_400
            else { return try await refuse("alert.error.snooze") }
            transition = .snooze(until: min(until, now.addingTimeInterval(AlertTransition.longestSnooze)), reason: text("reason", 1000))
        case "comment": transition = .comment(text("text"))
        default: throw Problem.badRequest("Unknown step.")
        }
        do {
            _ = try await desk.apply(transition, to: id, now: now, caller: context.caller(session.principal))
        } catch let error as AlertStoreError {
            let message: String
            switch error {
            case .transition(.missingText(let field)):
                message = renderer.text("case.error.missing", visit, ["field": renderer.text("alert.field.\(field)", visit)])
            case .transition(.notAllowed): message = renderer.text("alert.error.not_allowed", visit)
            case .transition(.reservedResolution): message = renderer.text("alert.error.resolution", visit)
            case .transition(.snoozeOutOfRange): message = renderer.text("alert.error.snooze", visit)
            case .assigneeCannotSee: message = renderer.text("alert.error.assignee", visit)
            }
            return try await render(id, session: session, request: request, context: context, error: message, status: .conflict)
        }
        throw ConsoleRedirect.to("/console/alerts/\(id)?done=1")
    }

    static func alertID(_ context: AppRequestContext) throws -> Alert.ID {
        guard let text = context.parameters.get("id"), let id = Alert.ID(uuidString: text) else { throw Problem.notFound() }
        return id
    }
}

/// The words of an event's details that a person wrote or chose (a comment, a reference, a
/// reason and note), with coded values in the reader's language; the service's own details
/// (ids, counts) are not shown.
enum ConsoleEventWords {
    /// `codes` names the fields whose values are codes, with the catalog prefix that says them.
    static func detail(_ json: String, renderer: ConsoleRenderer, visit: ConsoleVisit, codes: [String: String]) -> String? {
        guard let data = json.data(using: .utf8), let details = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return nil
        }
        var parts: [String] = []
        for (field, prefix) in codes.sorted(by: { $0.key < $1.key }) {
            guard let code = details[field] as? String else { continue }
            let key = "\(prefix).\(code)"
            let label = renderer.text(key, visit)
            parts.append(label == key ? code : label)
        }
        for key in ["reference", "reason", "note", "text"] {
            if let text = details[key] as? String, !text.isEmpty, codes[key] == nil { parts.append(text) }
        }
        return parts.isEmpty ? nil : parts.joined(separator: " — ")
    }
}

extension ConsoleLanguage {
    /// The language an alert's summary is written in.
    var alertLanguage: AlertLanguage { self == .spanish ? .es : .en }
}
