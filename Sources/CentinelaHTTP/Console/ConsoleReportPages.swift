import CentinelaCore
import CentinelaStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Reports in the console: a school files one through a form (every field of the API, in plain
/// words; what was typed is kept when something must be corrected), lists its reports and reads
/// one; a regulator lists and reads the reports of their jurisdictions and files one for a
/// facility from its page (intake staff).
struct ConsoleReportPages {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    let metrics: ServiceMetrics
    var desk: ReportDesk { ReportDesk(database: database) }
    let intake: ReportIntake
    var register: FacilityRegister { FacilityRegister(database: database) }
    var roster: StaffRoster { StaffRoster(database: database) }

    static let pageSize = 50
    /// Rows offered for children and for adults typed by name; a report needing more is filed
    /// through the API or amended.
    static let childRows = 6
    static let typedAdultRows = 3

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("reports", use: list)
        routes.get("reports/new", use: newReport)
        routes.post("reports", use: file)
        routes.get("reports/{id}", use: report)
        routes.post("reports/{id}/amendments", use: amend)
        return routes
    }

    // MARK: List

    struct ListPage {
        typealias Row = ReportWords.Row
        var heading: String
        var rows: [Row]
        var empty: Bool
        var next: String?
        var mayFile: Bool
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let cursor = request.uri.queryParameters["after"].flatMap { InstantCursor(text: String($0)) }
        let (items, _) = try await desk.list(
            .init(), after: cursor, limit: Self.pageSize + 1, shown: Self.pageSize, caller: context.caller(session.principal))
        let shown = items.prefix(Self.pageSize)
        let page = ListPage(
            heading: renderer.text(session.principal.role == .school ? "reports.heading.school" : "reports.heading.regulator", visit),
            rows: shown.map(ReportWords(renderer: renderer, visit: visit).row),
            empty: shown.isEmpty,
            next: items.count > Self.pageSize
                ? shown.last.map {
                    "/console/reports?after=" + InstantCursor(microseconds: $0.receivedAtMicroseconds, id: $0.id.rawValue).text
                }
                : nil,
            mayFile: session.principal.role == .school)
        return renderer.response("reports", title: page.heading, visit: visit, request: request, page: page)
    }

    // MARK: The form

    struct FormPage {
        struct Option {
            var value: String
            var label: String
            var selected: Bool
        }
        struct RosterChoice {
            var value: String
            var label: String
            var checked: Bool
            var id: String
        }
        struct AdultRow {
            var index: Int
            var name: String
            var roles: [Option]
        }
        struct ChildRow {
            var index: Int
            var ref: String
            var age: String
        }
        struct FieldError {
            var field: String
            var message: String
        }
        var facilities: [Option]
        var oneFacility: Option?
        var occurredFrom: String
        var occurredTo: String
        var approximate: Bool
        var discoveredOn: String
        var categories: [Option]
        var reporterTypes: [Option]
        var roster: [RosterChoice]
        var noRoster: Bool
        var adults: [AdultRow]
        var children: [ChildRow]
        var tactics: [RosterChoice]
        var narrative: String
        var idempotencyKey: String
        var errors: [FieldError]
        var hasErrors: Bool
        var today: String
        /// Per field: its error message, for `aria-describedby` and the message beside it.
        var error: [String: String]
    }

    @Sendable func newReport(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        let chosen = request.uri.queryParameters["facility"].flatMap { Facility.ID(uuidString: String($0)) }
        return try await form(
            ConsoleForm(fields: chosen.map { [("facility", $0.description)] } ?? []), errors: [:], session: session,
            request: request, context: context)
    }

    private func form(
        _ typed: ConsoleForm, errors: [String: String], session: ConsoleSession, request: Request, context: AppRequestContext,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let caller = context.caller(session.principal)
        // A school picks among its facilities; a regulator files for the facility whose page they came from.
        var facilities: [FacilityRecord] = []
        if session.principal.role == .school {
            facilities = try await register.facilities(.init(), order: .code(after: nil), limit: 100, caller: caller).items
        } else if let id = typed.value("facility").flatMap(Facility.ID.init(uuidString:)) {
            facilities = [try await register.facility(id, caller: caller)]
        }
        guard !facilities.isEmpty else { throw Problem.notFound() }
        let selected = typed.value("facility").flatMap(Facility.ID.init(uuidString:)) ?? facilities[0].facility.id
        let entries = (try? await roster.entries(of: selected, caller: caller)) ?? []
        let checkedStaff = Set(typed.values("staff"))
        let names = typed.values("adult_name")
        let roles = typed.values("adult_role")
        let refs = typed.values("child_ref")
        let ages = typed.values("child_age")
        let tactics = Set(typed.values("tactic"))
        func options<Code: ControlledVocabulary>(_: Code.Type, prefix: String, selected: String?) -> [FormPage.Option] {
            Code.allCases.map {
                .init(value: $0.rawValue, label: renderer.text("\(prefix).\($0.rawValue)", visit), selected: $0.rawValue == selected)
            }
        }
        let facilityOptions = facilities.map {
            FormPage.Option(
                value: $0.facility.id.description, label: "\($0.facility.name) (\($0.facility.externalCode))",
                selected: $0.facility.id == selected)
        }
        let page = FormPage(
            facilities: facilityOptions, oneFacility: facilityOptions.count == 1 ? facilityOptions[0] : nil,
            occurredFrom: typed.value("occurred_from") ?? "", occurredTo: typed.value("occurred_to") ?? "",
            approximate: typed.value("approximate") != nil, discoveredOn: typed.value("discovered_on") ?? "",
            categories: options(IncidentReport.Category.self, prefix: "report.category", selected: typed.value("category")),
            reporterTypes: options(IncidentReport.ReporterType.self, prefix: "report.reporter", selected: typed.value("reporter_type")),
            roster: entries.filter { $0.endsOn == nil }.map {
                .init(
                    value: $0.staffRef, label: "\($0.fullName) — \(renderer.text("adult.role.\($0.role.rawValue)", visit))",
                    checked: checkedStaff.contains($0.staffRef), id: "staff-\($0.staffRef)")
            },
            noRoster: entries.isEmpty,
            adults: (0..<Self.typedAdultRows).map { index in
                .init(
                    index: index, name: index < names.count ? names[index] : "",
                    roles: options(Adult.Role.self, prefix: "adult.role", selected: index < roles.count ? roles[index] : nil))
            },
            children: (0..<Self.childRows).map { index in
                .init(index: index, ref: index < refs.count ? refs[index] : "", age: index < ages.count ? ages[index] : "")
            },
            tactics: IncidentReport.ModusOperandi.allCases.map {
                .init(
                    value: $0.rawValue, label: renderer.text("report.tactic.\($0.rawValue)", visit), checked: tactics.contains($0.rawValue),
                    id: "tactic-\($0.rawValue)")
            },
            narrative: typed.raw("narrative") ?? "",
            idempotencyKey: typed.value("idempotency_key").flatMap { RandomToken.isWellFormed($0) ? $0 : nil }
                ?? RandomToken.generate(),
            errors: errors.sorted { Self.order($0.key) < Self.order($1.key) }.map { .init(field: $0.key, message: $0.value) },
            hasErrors: !errors.isEmpty,
            today: CalendarDate.today().description, error: errors)
        return renderer.response(
            "report-form", title: renderer.text("report_form.title", visit), visit: visit, request: request, page: page, status: status)
    }

    // MARK: Filing

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        let typed = try await ConsoleController.checkedForm(request, context: context, limit: limits.maximumBodySize)
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let (submission, errors) = Self.read(typed, today: CalendarDate.today())
        guard let submission, errors.isEmpty else {
            let messages = errors.reduce(into: [String: String]()) { $0[$1] = renderer.text("report_form.error.\($1)", visit) }
            return try await form(
                typed, errors: messages, session: session, request: request, context: context, status: .unprocessableContent)
        }
        let key = typed.value("idempotency_key").flatMap { RandomToken.isWellFormed($0) ? $0 : nil }
        let fingerprint = Data(SHA256.hash(data: Data("console report\n".utf8) + Data(String(describing: submission).utf8)))
        let filed: ReportIntake.Filed
        do {
            filed = try await intake.file(
                submission, idempotency: key.map { .init(key: "console-" + $0, fingerprint: fingerprint) },
                caller: context.caller(session.principal))
        } catch ReportStoreError.unknownStaff {
            return try await form(
                typed, errors: ["staff": renderer.text("report_form.error.staff", visit)], session: session, request: request,
                context: context, status: .unprocessableContent)
        } catch ReportIntake.Refusal.keyReusedForAnotherRequest {
            var fresh = typed
            fresh.drop("idempotency_key")
            return try await form(
                fresh, errors: ["form": renderer.text("report_form.error.changed_after_sending", visit)], session: session,
                request: request, context: context, status: .conflict)
        }
        if filed.isNew { metrics.reportIngested(submission.category, by: submission.reporterType) }
        throw ConsoleRedirect.to("/console/reports/\(filed.receipt.id)?filed=1")
    }

    /// The form as a submission, and the fields that must be corrected (by form field name). Pure:
    /// the same checks as the API (``ReportSubmission/validate(today:)``) decide.
    static func read(_ form: ConsoleForm, today: CalendarDate) -> (ReportSubmission?, Set<String>) {
        var errors = Set<String>()
        let facility = form.value("facility").flatMap(Facility.ID.init(uuidString:))
        if facility == nil { errors.insert("facility") }
        let from = form.value("occurred_from").flatMap(CalendarDate.init)
        if from == nil { errors.insert("occurred_from") }
        var to = from
        if let text = form.value("occurred_to") {
            to = CalendarDate(text)
            if to == nil { errors.insert("occurred_to") }
        }
        let discovered = form.value("discovered_on").flatMap(CalendarDate.init)
        if discovered == nil { errors.insert("discovered_on") }
        let category = form.value("category").flatMap(IncidentReport.Category.init(code:))
        if category == nil { errors.insert("category") }
        let reporter = form.value("reporter_type").flatMap(IncidentReport.ReporterType.init(code:))
        if reporter == nil { errors.insert("reporter_type") }
        var adults: [ReportSubmission.ImplicatedAdult] = form.values("staff").map { .rostered(staffRef: $0) }
        let roles = form.values("adult_role")
        for (index, name) in form.values("adult_name").enumerated() {
            let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty else { continue }
            guard index < roles.count, let role = Adult.Role(code: roles[index]) else {
                errors.insert("adults")
                continue
            }
            adults.append(.described(name: name, role: role))
        }
        var children: [ReportSubmission.AffectedChild] = []
        let ages = form.values("child_age")
        for (index, ref) in form.values("child_ref").enumerated() {
            let ref = ref.trimmingCharacters(in: .whitespacesAndNewlines)
            let ageText = index < ages.count ? ages[index].trimmingCharacters(in: .whitespaces) : ""
            if ref.isEmpty && ageText.isEmpty { continue }
            guard !ref.isEmpty, let age = Int(ageText) else {
                errors.insert("children")
                continue
            }
            children.append(.init(reference: ref, ageYears: age))
        }
        var tactics: [IncidentReport.ModusOperandi] = []
        for code in form.values("tactic") {
            if let tactic = IncidentReport.ModusOperandi(code: code) { tactics.append(tactic) } else { errors.insert("tactic") }
        }
        let narrative = form.raw("narrative") ?? ""
        // Validated even when a required field is missing, with harmless stand-ins for what is
        // missing, so that every mistake is shown at once rather than one round at a time.
        let start = from ?? discovered ?? today
        let submission = ReportSubmission(
            facilityID: facility ?? Facility.ID(UUID()), occurredFrom: start, occurredTo: to ?? start,
            occurredApproximate: form.value("approximate") != nil, discoveredOn: discovered ?? max(today, start),
            category: category ?? .other, reporterType: reporter ?? .anonymous, adults: adults, children: children,
            modusOperandi: tactics, narrative: narrative)
        for issue in submission.validate(today: today) {
            let field = Self.formField(of: issue.field)
            // An end date or a discovery date is only wrong of itself: one left empty, or judged
            // against a start that is itself wrong, is not blamed for the start's mistake.
            if field == "occurred_to", form.value("occurred_to") == nil { continue }
            if field == "discovered_on", errors.contains("occurred_from") || from == nil, discovered.map({ $0 <= today }) ?? false {
                continue
            }
            errors.insert(field)
        }
        guard facility != nil, from != nil, to != nil, discovered != nil, category != nil, reporter != nil else { return (nil, errors) }
        return (submission, errors)
    }

    /// The form's fields in the order they are shown, so that the summary of errors reads down the page.
    static let fieldOrder = [
        "facility", "occurred_from", "occurred_to", "discovered_on", "category", "reporter_type", "staff", "adults", "children",
        "tactic", "narrative", "form",
    ]
    static func order(_ field: String) -> Int { fieldOrder.firstIndex(of: field) ?? fieldOrder.count }

    /// The form field a validation issue (a JSON pointer into the API's body) belongs to.
    static func formField(of pointer: String) -> String {
        switch pointer {
        case "/occurred/from": "occurred_from"
        case "/occurred/to": "occurred_to"
        case "/discoveredOn": "discovered_on"
        case "/narrative": "narrative"
        case "/modusOperandi": "tactic"
        case let path where path.hasPrefix("/adults"): "adults"
        case let path where path.hasPrefix("/children"): "children"
        default: "form"
        }
    }

    // MARK: One report

    struct ReportPage {
        struct Entry {
            var at: String
            var by: String
            var text: String
        }
        var heading: String
        var filed: Bool
        var receipt: String
        var received: String
        var facility: String
        var facilityHref: String?
        var lines: [ReportWords.Line]
        var adults: [String]
        var children: [String]
        var tactics: [String]
        var narrative: String
        var statusHistory: [Entry]
        var amendments: [Entry]
        var hasAmendments: Bool
        var amendAction: String
        var amended: Bool
        var amendError: String?
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await report(request, context: context, amendError: nil)
    }

    private func report(
        _ request: Request, context: AppRequestContext, amendError: String?, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        guard let text = context.parameters.get("id"), let id = IncidentReport.ID(uuidString: text) else { throw Problem.notFound() }
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let record = try await desk.report(id, caller: context.caller(session.principal))
        let summary = record.summary
        let language = visit.language
        let words = ReportWords(renderer: renderer, visit: visit)
        let page = ReportPage(
            heading: renderer.text(
                "report.heading", visit, ["category": renderer.text("report.category.\(summary.category.rawValue)", visit)]),
            filed: request.uri.queryParameters["filed"] != nil, receipt: summary.id.description,
            received: ConsoleFormat.instant(summary.receivedAt, language), facility: "\(summary.facilityName) (\(summary.facilityCode))",
            facilityHref: "/console/facilities/\(summary.facilityID)",
            lines: words.facts(record), adults: words.adults(record), children: words.children(record), tactics: words.tactics(record),
            narrative: record.narrative,
            statusHistory: record.statusHistory.map {
                .init(
                    at: ConsoleFormat.instant($0.changedAt, language), by: $0.changedBy ?? "",
                    text: renderer.text("report.status.\($0.status.rawValue)", visit) + ($0.reason.map { " — \($0)" } ?? ""))
            },
            amendments: record.amendments.map {
                .init(at: ConsoleFormat.instant($0.amendedAt, language), by: $0.amendedBy ?? "", text: $0.note ?? "")
            },
            hasAmendments: !record.amendments.isEmpty, amendAction: "/console/reports/\(summary.id)/amendments",
            amended: request.uri.queryParameters["amended"] != nil, amendError: amendError)
        return renderer.response("report", title: page.heading, visit: visit, request: request, page: page, status: status)
    }

    /// A correction of the account, appended as an amendment with its reason: the report as
    /// submitted never changes, and its history shows both.
    @Sendable func amend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school, .regulator])
        guard let text = context.parameters.get("id"), let id = IncidentReport.ID(uuidString: text) else { throw Problem.notFound() }
        let form = try await ConsoleController.checkedForm(request, context: context, limit: limits.maximumBodySize)
        let renderer = try ConsoleRenderer.shared.get()
        let narrative = form.raw("narrative") ?? ""
        let trimmed = narrative.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, narrative.count <= ReportSubmission.maximumNarrative, let note = form.value("note"), note.count <= 5000
        else {
            return try await report(
                request, context: context, amendError: renderer.text("report.amend_error", context.visit()), status: .unprocessableContent)
        }
        let changes = String(
            decoding: try JSONSerialization.data(withJSONObject: ["narrative": narrative], options: [.sortedKeys]), as: UTF8.self)
        _ = try await desk.amend(id, changes: changes, note: note, caller: context.caller(session.principal))
        throw ConsoleRedirect.to("/console/reports/\(id)?amended=1")
    }
}

extension ConsoleForm {
    /// The form without a field (a stale idempotency key, so that the next sending is new).
    mutating func drop(_ name: String) {
        self = ConsoleForm(fields: fields.filter { $0.name != name })
    }
}
