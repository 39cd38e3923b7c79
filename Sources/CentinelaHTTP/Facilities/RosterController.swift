import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird

/// A facility's staff roster: the school maintains it; the school and its regulators read it.
struct RosterController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    let nationalIDs: NationalIDHasher?
    var roster: StaffRoster { StaffRoster(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("facilities/{id}/staff", use: list)
        routes.post("facilities/{id}/staff", use: add)
        routes.get("facilities/{id}/staff/{staffRef}", use: get)
        routes.patch("facilities/{id}/staff/{staffRef}", use: update)
        return routes
    }

    struct EntryBody: Encodable, Sendable {
        var id: String
        var staffRef: String
        var fullName: String
        var role: String
        /// The identifier itself is never returned: only whether one is on file.
        var hasNationalId: Bool
        var dateOfBirth: String?
        var startsOn: String?
        var endsOn: String?
        var createdAt: Date
        var updatedAt: Date

        init(_ e: RosterEntry) {
            id = e.id.description
            staffRef = e.staffRef
            fullName = e.fullName
            role = e.role.rawValue
            hasNationalId = e.hasNationalID
            dateOfBirth = e.dateOfBirth?.description
            startsOn = e.startsOn?.description
            endsOn = e.endsOn?.description
            createdAt = e.createdAt
            updatedAt = e.updatedAt
        }
    }

    struct ListBody: Encodable, Sendable {
        var items: [EntryBody]
    }

    /// The facility named by the path; one that cannot be an id is simply not found.
    private func facilityID(_ context: AppRequestContext) throws(Problem) -> Facility.ID {
        guard let text = context.parameters.get("id"), let id = Facility.ID(uuidString: text) else {
            throw Problem.notFound("No facility with this id.")
        }
        return id
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ListBody> {
        let principal = try context.requirePrincipal()
        try QueryReader(request).finish()
        let entries = try await roster.entries(of: try facilityID(context), caller: context.caller(principal))
        return JSONResponse(body: ListBody(items: entries.map(EntryBody.init)))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<EntryBody> {
        let principal = try context.requirePrincipal()
        try QueryReader(request).finish()
        let staffRef = context.parameters.get("staffRef") ?? ""
        let entry = try await roster.entry(of: try facilityID(context), staffRef: staffRef, caller: context.caller(principal))
        return JSONResponse(body: EntryBody(entry))
    }

    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let staffRef = body.string("staffRef", required: true, maxLength: 64)
        if let staffRef, let problem = ReportSubmission.staffRefProblem(staffRef) { body.fail("staffRef", problem) }
        var draft = readDraft(&body)
        if draft.fullName == nil && !body.hasErrors { body.fail("fullName", "is required") }
        if draft.role == nil { draft.role = body.hasErrors ? nil : .other }
        try body.finish()
        let entry = try await roster.add(to: try facilityID(context), staffRef: staffRef!, draft, caller: context.caller(principal))
        return try JSONResponse(status: .created, body: EntryBody(entry)).response(from: request, context: context)
            .withHeader(.location, "/v1/facilities/\(entry.facilityID)/staff/\(entry.staffRef)")
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<EntryBody> {
        let principal = try context.requirePrincipal()
        let staffRef = context.parameters.get("staffRef") ?? ""
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        if body.value("staffRef") != nil { body.fail("staffRef", "cannot be changed; add a new roster entry instead") }
        let draft = readDraft(&body)
        try body.finish()
        let entry = try await roster.update(facility: try facilityID(context), staffRef: staffRef, draft, caller: context.caller(principal))
        return JSONResponse(body: EntryBody(entry))
    }

    private func readDraft(_ body: inout ObjectReader) -> RosterDraft {
        var draft = RosterDraft()
        draft.fullName = body.string("fullName", maxLength: 200)
        draft.role = body.code("role", Adult.Role.self)
        if let identifier = body.string("nationalId", maxLength: 40) {
            if let nationalIDs {
                draft.nationalIDHash = nationalIDs.hash(identifier)
                if draft.nationalIDHash == nil { body.fail("nationalId", "must be 4 to 32 letters and digits (e.g. a CURP)") }
            } else {
                body.fail("nationalId", "is not accepted by this server: its operator has not set CENTINELA_NATIONAL_ID_KEY")
            }
        }
        draft.dateOfBirth = body.date("dateOfBirth")
        // Staff are adults: born at least 14 years ago (apprentices), and not before 1900.
        if let born = draft.dateOfBirth {
            let today = CalendarDate.today()
            if born.daysSinceEpoch > today.daysSinceEpoch - 14 * 365 || born.year < 1900 {
                body.fail("dateOfBirth", "must be a staff member's date of birth: from 1900 to 14 years ago")
                draft.dateOfBirth = nil
            }
        }
        draft.startsOn = body.date("startsOn")
        draft.endsOn = body.date("endsOn")
        return draft
    }
}

extension StaffRoster.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .facilityNotFound: .notFound("No facility with this id.")
        case .entryNotFound: .notFound("No one with this staff reference on the roster.")
        case .mayNotRead: .forbidden("Rosters are read by the school and its regulators only.")
        case .mayNotMaintain: .forbidden("Only the school maintains its staff roster.")
        }
    }
}

extension RosterStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .duplicateStaffRef(let ref): .conflict("\(ref) is already on the roster.")
        case .endsBeforeStart: .validation([.init(field: "/endsOn", message: "must not be before startsOn")])
        }
    }
}
