import CentinelaCore
import CentinelaStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Incident reports: submitted by schools (and regulators' intake staff), read by those who may,
/// never altered: corrections are amendments, decisions are status changes.
struct ReportController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    let metrics: ServiceMetrics
    let intake: ReportIntake
    var desk: ReportDesk { ReportDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("reports", use: submit)
        routes.get("reports", use: list)
        routes.get("reports/{id}", use: get)
        routes.post("reports/{id}/amendments", use: amend)
        routes.post("reports/{id}/status", use: changeStatus)
        routes.post("reports:import", use: importReports)
        return routes
    }

    // MARK: Submission

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireCaseHandler("Reports")
        let key = try idempotencyKey(request)
        var request = request
        let (json, bytes) = try await request.jsonBodyAndBytes(limit: limits.maximumBodySize)
        var body = try ObjectReader.body(json)
        let submission = Self.readSubmission(&body)
        try body.finish()
        guard let submission else { throw Problem.validation([]) }
        let issues = submission.validate(today: CalendarDate.today())
        guard issues.isEmpty else { throw Problem.validation(issues.map { .init(field: $0.field, message: $0.message) }) }

        let fingerprint = Data(SHA256.hash(data: Data("POST /v1/reports\n".utf8) + bytes))
        let filed = try await intake.file(
            submission, idempotency: key.map { .init(key: $0, fingerprint: fingerprint) }, caller: context.caller(principal))
        // Once committed; a replay of an earlier submission is not a new report.
        if filed.isNew { metrics.reportIngested(submission.category, by: submission.reporterType) }
        var response = Response(
            status: .created,
            headers: [.contentType: "application/json; charset=utf-8", .location: "/v1/reports/\(filed.receipt.id)"],
            body: .init(byteBuffer: ByteBuffer(bytes: filed.json)))
        if let key { response.headers[.idempotencyKeyHeader] = key }
        return response
    }

    private func idempotencyKey(_ request: Request) throws(Problem) -> String? {
        guard let key = request.headers[.idempotencyKeyHeader] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw Problem.badRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                errors: [.init(field: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters")])
        }
        return key
    }

    // MARK: Reading

    struct ReportBody: Encodable, Sendable {
        struct Occurred: Encodable, Sendable {
            var from: String
            var to: String
            var approximate: Bool
        }
        struct AdultBody: Encodable, Sendable {
            var adultId: String?
            var staffRef: String?
            var name: String
            var role: String
        }
        struct ChildBody: Encodable, Sendable {
            var ref: String
            var age: Int
        }
        struct StatusBody: Encodable, Sendable {
            var status: String
            var reason: String?
            var changedAt: Date
            var changedBy: String?
        }
        struct AmendmentBody: Encodable, Sendable {
            var id: String
            var changes: EmbeddedJSON
            var note: String?
            var amendedAt: Date
            var amendedBy: String?
        }
        var id: String
        var facility: FacilityBrief
        var jurisdiction: String
        var receivedAt: Date
        var occurred: Occurred
        var discoveredOn: String
        var category: String
        var reporterType: String
        var adults: [AdultBody]
        var children: [ChildBody]
        var modusOperandi: [String]
        var narrative: String
        var submittedBy: String?
        @Nullable var imported: ImportedBody?
        var status: String
        var statusHistory: [StatusBody]
        var amendments: [AmendmentBody]

        init(_ r: ReportRecord) {
            id = r.summary.id.description
            facility = .brief(of: r.summary)
            jurisdiction = r.summary.jurisdictionCode
            receivedAt = r.summary.receivedAt
            occurred = Occurred(from: r.occurredFrom.description, to: r.occurredTo.description, approximate: r.occurredApproximate)
            discoveredOn = r.discoveredOn.description
            category = r.summary.category.rawValue
            reporterType = r.summary.reporterType.rawValue
            adults = r.adults.map { .init(adultId: $0.adultID?.description, staffRef: $0.staffRef, name: $0.name, role: $0.role) }
            children = r.children.map { .init(ref: $0.reference, age: $0.ageYears) }
            modusOperandi = r.modusOperandi
            narrative = r.narrative
            submittedBy = r.submittedBy
            imported = r.summary.imported.map(ImportedBody.init)
            status = r.summary.status.rawValue
            statusHistory = r.statusHistory.map {
                .init(status: $0.status.rawValue, reason: $0.reason, changedAt: $0.changedAt, changedBy: $0.changedBy)
            }
            amendments = r.amendments.map {
                .init(
                    id: $0.id.uuidString.lowercased(), changes: EmbeddedJSON($0.changes), note: $0.note, amendedAt: $0.amendedAt,
                    amendedBy: $0.amendedBy)
            }
        }
    }

    struct SummaryBody: Encodable, Sendable {
        var id: String
        var facility: FacilityBrief
        var jurisdiction: String
        var receivedAt: Date
        var category: String
        var reporterType: String
        var status: String
        var adultCount: Int
        var childCount: Int
        @Nullable var imported: ImportedBody?

        init(_ s: ReportSummary) {
            id = s.id.description
            facility = .brief(of: s)
            jurisdiction = s.jurisdictionCode
            receivedAt = s.receivedAt
            category = s.category.rawValue
            reporterType = s.reporterType.rawValue
            status = s.status.rawValue
            adultCount = s.adultCount
            childCount = s.childCount
            imported = s.imported.map(ImportedBody.init)
        }
    }

    /// An imported report's source, and when it was imported (`receivedAt` is the original receipt).
    struct ImportedBody: Encodable, Sendable {
        var system: String
        var id: String
        var at: Date

        init(_ source: (system: String, id: String, at: Date)) {
            (system, id, at) = (source.system, source.id, source.at)
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ReportBody> {
        let principal = try context.requireCaseHandler("Reports")
        try QueryReader(request).finish()
        let id = try reportID(context)
        let record = try await desk.report(id, caller: context.caller(principal))
        return JSONResponse(body: ReportBody(record))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<SummaryBody>> {
        let principal = try context.requireCaseHandler("Reports")
        var query = QueryReader(request)
        var filter = ReportFilter()
        if let text = query.string("facility") {
            if let id = Facility.ID(uuidString: text) { filter.facilityID = id } else { query.fail("facility", "must be a facility id") }
        }
        filter.jurisdictionCode = query.string("jurisdiction", maxLength: 32)
        filter.category = query.code("category", IncidentReport.Category.self)
        for (name, keyPath) in [("from", \ReportFilter.receivedFrom), ("to", \ReportFilter.receivedTo)] {
            if let text = query.string(name, maxLength: 10) {
                if let date = CalendarDate(text) {
                    filter[keyPath: keyPath] = date
                } else {
                    query.fail(name, "must be a date as YYYY-MM-DD")
                }
            }
        }
        let limit = query.limit()
        var cursor: InstantCursor?
        if let text = query.cursor() {
            if let decoded = InstantCursor(text: text) {
                cursor = decoded
            } else {
                query.fail("cursor", "is not a cursor this server issued")
            }
        }
        let total = query.total()
        try query.finish()
        let (summaries, count) = try await desk.list(
            filter, after: cursor, limit: limit + 1, shown: limit, total: total, caller: context.caller(principal))
        return JSONResponse(
            body: Page(
                rows: summaries, limit: limit, total: count,
                position: { InstantCursor(microseconds: $0.receivedAtMicroseconds, id: $0.id.rawValue).text },
                item: SummaryBody.init))
    }

    // MARK: Amendments and decisions

    struct AmendmentReceipt: Encodable, Sendable {
        var id: String
        var amendedAt: Date
    }

    @Sendable func amend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireCaseHandler("Reports")
        let id = try reportID(context)
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let note = body.string("note", maxLength: 5000)
        var changesJSON: String?
        if var changes = body.object("changes", required: true) {
            let before = changes.hasErrors
            let encoded = Self.readAmendableFields(&changes)
            changes.refuseUnknownFields()
            if encoded.isEmpty && !before { body.fail("changes", "must correct at least one field") }
            changesJSON = String(
                decoding: try JSONSerialization.data(withJSONObject: encoded, options: [.sortedKeys]), as: UTF8.self)
        }
        try body.finish()
        let amendment = try await desk.amend(id, changes: changesJSON ?? "{}", note: note, caller: context.caller(principal))
        return try JSONResponse(
            status: .created,
            body: AmendmentReceipt(id: amendment.id.uuidString.lowercased(), amendedAt: amendment.amendedAt)
        ).response(from: request, context: context)
    }

    struct StatusReceipt: Encodable, Sendable {
        var status: String
    }

    @Sendable func changeStatus(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireCaseHandler("Reports")
        let id = try reportID(context)
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let status = body.code("status", IncidentReport.Status.self, required: true)
        let reason = body.string("reason", maxLength: 5000)
        try body.finish()
        guard let status else { throw Problem.validation([]) }
        try await desk.changeStatus(id, to: status, reason: reason, caller: context.caller(principal))
        return try JSONResponse(status: .created, body: StatusReceipt(status: status.rawValue)).response(from: request, context: context)
    }

    // MARK: Input

    private func reportID(_ context: AppRequestContext) throws(Problem) -> IncidentReport.ID {
        guard let text = context.parameters.get("id"), let id = IncidentReport.ID(uuidString: text) else {
            throw Problem.notFound("No report with this id.")
        }
        return id
    }

    static func readSubmission(_ body: inout ObjectReader) -> ReportSubmission? {
        var facility: Facility.ID?
        if let text = body.string("facility", required: true, maxLength: 36) {
            facility = Facility.ID(uuidString: text)
            if facility == nil { body.fail("facility", "must be a facility id") }
        }
        let occurred = readOccurred(&body, required: true)
        let discovered = body.date("discoveredOn", required: true)
        let category = body.code("category", IncidentReport.Category.self, required: true)
        let reporter = body.code("reporterType", IncidentReport.ReporterType.self, required: true)
        let adults = readAdults(&body) ?? []
        let children = readChildren(&body) ?? []
        let tags = readTags(&body) ?? []
        let narrative = body.string("narrative", required: true, maxLength: ReportSubmission.maximumNarrative, trimmed: false)
        guard let facility, let occurred, let discovered, let category, let reporter, let narrative else { return nil }
        return ReportSubmission(
            facilityID: facility, occurredFrom: occurred.from, occurredTo: occurred.to, occurredApproximate: occurred.approximate,
            discoveredOn: discovered, category: category, reporterType: reporter, adults: adults, children: children,
            modusOperandi: tags, narrative: narrative)
    }

    /// `{"on": "2026-03-01"}` for a single day, or `{"from": …, "to": …}`; `approximate` either way.
    private static func readOccurred(
        _ body: inout ObjectReader, required: Bool
    ) -> (from: CalendarDate, to: CalendarDate, approximate: Bool)? {
        guard var occurred = body.object("occurred", required: required) else { return nil }
        let on = occurred.date("on")
        let from = occurred.date("from")
        let to = occurred.date("to")
        let approximate = occurred.bool("approximate") ?? false
        occurred.refuseUnknownFields()
        switch (on, from, to) {
        case (let day?, nil, nil): return (day, day, approximate)
        case (nil, let from?, let to?): return (from, to, approximate)
        case (nil, let from?, nil): return (from, from, approximate)
        default:
            if !occurred.hasErrors { body.fail("occurred", "give either on, or from (and optionally to)") }
            return nil
        }
    }

    private static func readAdults(_ body: inout ObjectReader) -> [ReportSubmission.ImplicatedAdult]? {
        body.arrayItems("adults", maxCount: ReportSubmission.maximumAdults)?.compactMap { value, pointer in
            guard var adult = body.element(value, at: pointer) else { return nil }
            let staffRef = adult.string("staffRef", maxLength: 64)
            let name = adult.string("name", maxLength: 200)
            let role = adult.code("role", Adult.Role.self)
            adult.refuseUnknownFields()
            switch (staffRef, name, role) {
            case (let ref?, nil, nil): return .rostered(staffRef: ref)
            case (nil, let name?, let role?): return .described(name: name, role: role)
            default:
                adult.fail(at: pointer, "give either staffRef (on the roster), or name and role")
                return nil
            }
        }
    }

    private static func readChildren(_ body: inout ObjectReader) -> [ReportSubmission.AffectedChild]? {
        body.arrayItems("children", maxCount: ReportSubmission.maximumChildren)?.compactMap { value, pointer in
            guard var child = body.element(value, at: pointer) else { return nil }
            let ref = child.string("ref", required: true, maxLength: 64)
            let age = child.integer("age", required: true, range: 0...17)
            child.refuseUnknownFields()
            guard let ref, let age else { return nil }
            return .init(reference: ref, ageYears: age)
        }
    }

    private static func readTags(_ body: inout ObjectReader) -> [IncidentReport.ModusOperandi]? {
        body.codes("modusOperandi", IncidentReport.ModusOperandi.self, maxCount: 20)
    }

    /// The fields an amendment may correct, validated like a submission's; returned as JSON-ready values.
    private static func readAmendableFields(_ changes: inout ObjectReader) -> [String: Any] {
        var result: [String: Any] = [:]
        let today = CalendarDate.today()
        if let occurred = readOccurred(&changes, required: false) {
            if occurred.to < occurred.from { changes.fail("occurred", "to must not be before from") }
            if occurred.to > today { changes.fail("occurred", "must not be in the future") }
            result["occurred"] = ["from": occurred.from.description, "to": occurred.to.description, "approximate": occurred.approximate]
        }
        if let discovered = changes.date("discoveredOn") {
            if discovered > today { changes.fail("discoveredOn", "must not be in the future") }
            result["discoveredOn"] = discovered.description
        }
        if let category = changes.code("category", IncidentReport.Category.self) { result["category"] = category.rawValue }
        if let adults = readAdults(&changes) {
            result["adults"] = adults.map { adult -> [String: String] in
                switch adult {
                case .rostered(let ref): ["staffRef": ref]
                case .described(let name, let role): ["name": name, "role": role.rawValue]
                }
            }
        }
        if let children = readChildren(&changes) {
            for (index, child) in children.enumerated() {
                if let problem = ReportSubmission.childReferenceProblem(child.reference) {
                    changes.fail(at: changes.path("children") + "/\(index)/ref", problem)
                }
            }
            result["children"] = children.map { ["ref": $0.reference, "age": $0.ageYears] as [String: Any] }
        }
        if let tags = readTags(&changes) { result["modusOperandi"] = tags.map(\.rawValue) }
        if let narrative = changes.string("narrative", maxLength: ReportSubmission.maximumNarrative, trimmed: false) {
            result["narrative"] = narrative
        }
        return result
    }
}

extension Problem {
    static let idempotencyMismatch = Problem(
        type: typeBase + "idempotency-key-reused", title: "Idempotency-Key reused", status: .unprocessableContent,
        detail: "This Idempotency-Key was used with a different request; use a new key for a new report.")
}

extension ReportDesk.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .reportNotFound: .notFound("No report with this id.")
        case .notTheFacilitysRegulator: .forbidden("Only the facility's regulators decide on its reports.")
        case .statusCannotChange(let from, let to): .conflict("A report that is \(from.rawValue) cannot become \(to.rawValue).")
        }
    }
}

extension ReportIntake.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .facilityNotFound: .notFound("No facility with this id.")
        case .keyReusedForAnotherRequest: .idempotencyMismatch
        case .keyInFlight: .conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
        }
    }
}

extension ReportStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .unknownStaff(let indexes):
            .validation(indexes.map { .init(field: "/adults/\($0)/staffRef", message: "is not on the facility's staff roster") })
        }
    }
}

extension HTTPField.Name {
    static let idempotencyKeyHeader = Self("Idempotency-Key")!
}
