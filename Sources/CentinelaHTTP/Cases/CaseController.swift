import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Cases (docs/alerts.md, "Cases"): what a regulator works on as one matter — a facility's alerts,
/// or a pattern across facilities as one national case with the alerts of every facility it
/// covers. A regulator sees a case that touches one of their facilities: its size and every
/// jurisdiction involved (whom to contact), and of its facilities, alerts and events their own.
struct CaseController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var desk: CaseDesk { CaseDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("cases", use: list)
        routes.get("cases/{id}", use: get)
        routes.get("cases/{id}/events", use: events)
        routes.post("cases/{id}/events", use: addEvent)
        return routes
    }

    struct CaseBody: Encodable, Sendable {
        var id: String
        var kind: String
        @Nullable var pattern: String?
        var status: String
        @Nullable var referralReference: String?
        @Nullable var closure: [String: String]?
        @Nullable var mergedInto: String?
        var facilityCount: Int
        var jurisdictions: [[String: String]]
        var yourFacilities: [FacilityBrief]
        var alertCount: Int
        var openedAt: Date
        var updatedAt: Date
        @Nullable var closedAt: Date?

        init(_ record: CaseRecord) {
            id = record.id.description
            kind = record.kind.rawValue
            pattern = record.patternID?.uuidString.lowercased()
            status = record.status.rawValue
            referralReference = record.referralReference
            closure = record.closeReason.map { ["reason": $0.rawValue, "note": record.closeNote ?? ""] }
            mergedInto = record.mergedInto?.description
            facilityCount = record.facilityCount
            jurisdictions = record.jurisdictions.map { ["code": $0.code, "name": $0.name] }
            yourFacilities = record.visibleFacilities.map {
                FacilityBrief(id: $0.id.description, code: $0.code, name: $0.name, jurisdiction: $0.jurisdictionCode)
            }
            alertCount = record.alertCount
            openedAt = record.openedAt
            updatedAt = record.updatedAt
            closedAt = record.closedAt
        }
    }

    struct EventBody: Encodable, Sendable {
        var id: String
        var `case`: String
        var kind: String
        var actor: [String: String]
        var at: Date
        @Nullable var alert: String?
        var details: JSONValue

        init(_ event: CaseEventRecord) {
            id = String(event.id)
            `case` = event.caseID.description
            kind = event.kind.rawValue
            actor = ["holder": event.actor].merging(event.actorID.map { ["id": $0.description] } ?? [:]) { first, _ in first }
            at = event.at
            alert = event.alertID?.description
            details = (try? JSONValue.parse(Data(event.detailsJSON.utf8))) ?? .object([:])
        }
    }

    struct Detail: Encodable, Sendable {
        var `case`: CaseBody
        /// Its alerts at the caller's facilities, oldest first.
        var alerts: [AlertController.AlertBody]
        /// Its history, as far as the caller may see it.
        var events: [EventBody]
    }

    struct Events: Encodable, Sendable {
        var items: [EventBody]
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<CaseBody>> {
        let principal = try context.requireRegulator("Cases")
        var query = QueryReader(request)
        let statuses = query.codes("status", Case.Status.self) ?? []
        let kind = query.codes("kind", Case.Kind.self) ?? []
        if kind.count > 1 { query.fail("kind", "give one kind, facility or pattern") }
        let limit = query.limit()
        var after: InstantCursor?
        if let text = query.cursor() {
            if let decoded = InstantCursor(text: text) {
                after = decoded
            } else {
                query.fail("cursor", "is not a cursor this server issued")
            }
        }
        let total = query.total()
        try query.finish()
        let (cases, count) = try await desk.list(
            status: statuses, kind: kind.first, after: after, limit: limit + 1, total: total, caller: context.caller(principal))
        return JSONResponse(
            body: Page(
                rows: cases, limit: limit, total: count, position: { InstantCursor($0.updatedAt, id: $0.id.rawValue).text },
                item: CaseBody.init))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Detail> {
        let principal = try context.requireRegulator("Cases")
        let id = try context.caseID()
        try QueryReader(request).finish()
        let dossier = try await desk.dossier(id, caller: context.caller(principal))
        return JSONResponse(
            body: Detail(
                case: CaseBody(dossier.record), alerts: dossier.alerts.map(AlertController.AlertBody.init),
                events: dossier.events.map(EventBody.init)))
    }

    @Sendable func events(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Events> {
        let principal = try context.requireRegulator("Cases")
        let id = try context.caseID()
        try QueryReader(request).finish()
        let events = try await desk.events(of: id, caller: context.caller(principal))
        return JSONResponse(body: Events(items: events.map(EventBody.init)))
    }

    /// A regulator's step in the case's life, named by the event it appends: `{"kind":
    /// "acknowledged" | "referred" | "closed" | "reopened" | "comment", ...}`. Answers 201 with it.
    @Sendable func addEvent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireRegulator("Cases")
        let id = try context.caseID()
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        var transition: CaseTransition?
        switch body.string("kind", required: true, maxLength: 20) {
        case "acknowledged":
            transition = .acknowledge
        case "referred":
            if let reference = body.string("reference", required: true, maxLength: 200) { transition = .refer(reference: reference) }
        case "closed":
            let reason = body.code("reason", Case.CloseReason.self, required: true)
            let note = body.string("note", required: true, maxLength: 5000)
            if reason == .merged { body.fail("reason", "merged is the service's own; choose another") }
            if let reason, let note, reason != .merged { transition = .close(reason, note: note) }
        case "reopened":
            if let note = body.string("note", required: true, maxLength: 5000) { transition = .reopen(note: note) }
        case "comment":
            if let text = body.string("text", required: true, maxLength: 5000) { transition = .comment(text) }
        case nil:
            break
        case let other?:
            body.fail("kind", "must be one of acknowledged, referred, closed, reopened, comment (not \(other))")
        }
        try body.finish()
        guard let transition else { throw Problem.badRequest("The event is invalid.") }
        let event = try await desk.apply(transition, to: id, caller: context.caller(principal))
        return try JSONResponse(status: .created, body: EventBody(event)).response(from: request, context: context)
    }
}

extension AppRequestContext {
    /// The case named by the path's `{id}`; a malformed id is simply not found.
    func caseID() throws(Problem) -> Case.ID {
        guard let text = parameters.get("id"), let id = Case.ID(uuidString: text) else { throw Problem.notFound("No case with this id.") }
        return id
    }
}

extension CaseDesk.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .caseNotFound: .notFound("No case with this id.")
        }
    }
}

extension CaseStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .transition(let refusal): .conflict("\(refusal).")
        case .anotherCaseOpen: .conflict("Another case of this facility is open: work on that one.")
        case .merged(let into): .conflict("This case joined case \(into); work on that one.")
        }
    }
}
