import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird

/// A school's staff roster in the console: who works there, and the forms to add someone and to
/// record that someone left (the entry stays: reports name people as they were). Through
/// `StaffRoster`, as the API: only the school maintains its roster.
struct ConsoleRosterPage {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var roster: StaffRoster { StaffRoster(database: database) }
    var register: FacilityRegister { FacilityRegister(database: database) }

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("roster", use: page)
        routes.post("roster", use: change)
        return routes
    }

    struct Page {
        struct Entry {
            var ref: String
            var name: String
            var role: String
            var started: String
            var ended: String?
            var index: Int
        }
        struct Option {
            var value: String
            var label: String
            var selected: Bool
        }
        var heading: String
        var facility: String
        var facilityID: String
        var facilities: [Option]
        var several: Bool
        var entries: [Entry]
        var empty: Bool
        var roles: [Option]
        var typed: [String: String]
        var error: String?
        var notice: String?
        var today: String
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school])
        let chosen = request.uri.queryParameters["facility"].flatMap { Facility.ID(uuidString: String($0)) }
        return try await render(
            chosen, typed: [:], session: session, request: request, context: context,
            notice: request.uri.queryParameters["done"] != nil)
    }

    private func render(
        _ chosen: Facility.ID?, typed: [String: String], session: ConsoleSession, request: Request, context: AppRequestContext,
        error: String? = nil, notice: Bool = false, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let caller = context.caller(session.principal)
        let facilities = try await register.facilities(.init(), order: .code(after: nil), limit: 100, caller: caller).items
        guard let facility = facilities.first(where: { $0.facility.id == chosen }) ?? facilities.first else { throw Problem.notFound() }
        let entries = try await roster.entries(of: facility.facility.id, caller: caller)
        let page = Page(
            heading: renderer.text("roster.heading", visit),
            facility: "\(facility.facility.name) (\(facility.facility.externalCode))", facilityID: facility.facility.id.description,
            facilities: facilities.map {
                .init(
                    value: $0.facility.id.description, label: "\($0.facility.name) (\($0.facility.externalCode))",
                    selected: $0.facility.id == facility.facility.id)
            },
            several: facilities.count > 1,
            entries: entries.sorted { ($0.endsOn == nil ? 0 : 1, $0.fullName) < ($1.endsOn == nil ? 0 : 1, $1.fullName) }.enumerated()
                .map { index, entry in
                    .init(
                        ref: entry.staffRef, name: entry.fullName, role: renderer.text("adult.role.\(entry.role.rawValue)", visit),
                        started: entry.startsOn?.description ?? "—", ended: entry.endsOn?.description, index: index)
                },
            empty: entries.isEmpty,
            roles: Adult.Role.allCases.map {
                .init(value: $0.rawValue, label: renderer.text("adult.role.\($0.rawValue)", visit), selected: typed["role"] == $0.rawValue)
            },
            typed: typed, error: error, notice: notice ? renderer.text("roster.done", visit) : nil,
            today: CalendarDate.today().description)
        return renderer.response("roster", title: page.heading, visit: visit, request: request, page: page, status: status)
    }

    @Sendable func change(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.school])
        let form = try await ConsoleController.checkedForm(request, context: context, limit: limits.maximumBodySize)
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        guard let facility = form.value("facility").flatMap(Facility.ID.init(uuidString:)) else { throw Problem.notFound() }
        let caller = context.caller(session.principal)
        let typed = ["staff_ref", "full_name", "role", "date_of_birth", "starts_on"].reduce(into: [String: String]()) {
            $0[$1] = form.value($1) ?? ""
        }
        func refuse(_ key: String) async throws -> Response {
            try await render(
                facility, typed: typed, session: session, request: request, context: context, error: renderer.text(key, visit),
                status: .unprocessableContent)
        }
        let today = CalendarDate.today()
        switch form.value("action") {
        case "add":
            guard let ref = form.value("staff_ref"), ReportSubmission.staffRefProblem(ref) == nil else {
                return try await refuse("roster.error.ref")
            }
            guard let name = form.value("full_name"), name.count <= 200 else { return try await refuse("roster.error.name") }
            guard let role = form.value("role").flatMap(Adult.Role.init(code:)) else { return try await refuse("roster.error.role") }
            var dates: [CalendarDate?] = []
            for field in ["date_of_birth", "starts_on"] {
                guard let text = form.value(field) else {
                    dates.append(nil)
                    continue
                }
                guard let date = CalendarDate(text), date <= today else { return try await refuse("roster.error.date") }
                dates.append(date)
            }
            do {
                _ = try await roster.add(
                    to: facility, staffRef: ref, RosterDraft(fullName: name, role: role, dateOfBirth: dates[0], startsOn: dates[1]),
                    caller: caller)
            } catch RosterStoreError.duplicateStaffRef {
                return try await refuse("roster.error.duplicate")
            }
        case "end":
            guard let ref = form.value("staff_ref"),
                let ended = form.value("ends_on").flatMap(CalendarDate.init), ended <= today
            else { return try await refuse("roster.error.date") }
            do {
                _ = try await roster.update(facility: facility, staffRef: ref, RosterDraft(endsOn: ended), caller: caller)
            } catch RosterStoreError.endsBeforeStart {
                return try await refuse("roster.error.ends_before_start")
            }
        default:
            throw Problem.badRequest("Unknown step.")
        }
        throw ConsoleRedirect.to("/console/roster?facility=\(facility)&done=1")
    }
}
