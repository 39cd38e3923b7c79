import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Jurisdictions and facilities: the operator registers them; schools and regulators read what is
/// theirs.
struct FacilityController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var register: FacilityRegister { FacilityRegister(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("jurisdictions", use: listJurisdictions)
        routes.post("jurisdictions", use: createJurisdiction)
        routes.get("facilities", use: listFacilities)
        routes.post("facilities", use: createFacility)
        routes.post("facilities:import", use: importFacilities)
        routes.get("facilities/{id}", use: getFacility)
        routes.patch("facilities/{id}", use: updateFacility)
        return routes
    }

    // MARK: Jurisdictions

    struct JurisdictionBody: Encodable, Sendable {
        var id: String
        var code: String
        var name: String
        var level: String
        var parent: String?
        var language: String

        init(_ record: JurisdictionRecord) {
            id = record.jurisdiction.id.description
            code = record.jurisdiction.code
            name = record.jurisdiction.name
            level = record.jurisdiction.level.rawValue
            parent = record.parentCode
            language = record.jurisdiction.language
        }
    }

    @Sendable func listJurisdictions(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<JurisdictionBody>> {
        let principal = try context.requirePrincipal()
        try QueryReader(request).finish()
        let records = try await register.jurisdictions(caller: context.caller(principal))
        return JSONResponse(body: Page(items: records.map(JurisdictionBody.init), nextCursor: nil))
    }

    @Sendable func createJurisdiction(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.mayAdminister else { throw Problem.forbidden("Only the operator registers jurisdictions.") }
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let code = body.string("code", required: true, maxLength: 32)
        if let code, let problem = FacilityRules.jurisdictionCode(code) { body.fail("code", problem) }
        let name = body.string("name", required: true, maxLength: 200)
        let level = body.code("level", Jurisdiction.Level.self, required: true)
        let parent = body.string("parent", maxLength: 32)
        let language = body.string("language", maxLength: 8) ?? "es"
        if language.range(of: "^[a-z]{2,3}(-[A-Z]{2})?$", options: .regularExpression) == nil {
            body.fail("language", "must be a language tag such as es or en")
        }
        try body.finish()
        let record = try await register.createJurisdiction(
            code: code!, name: name!, level: level!, parentCode: parent, language: language, caller: context.caller(principal))
        return try JSONResponse(status: .created, body: JurisdictionBody(record))
            .response(from: request, context: context)
            .withHeader(.location, "/v1/jurisdictions/\(record.jurisdiction.code)")
    }

    // MARK: Facilities

    struct FacilityBody: Encodable, Sendable {
        struct AddressBody: Encodable, Sendable {
            var street: String?
            var locality: String?
            var postalCode: String?
        }
        var id: String
        var code: String
        var name: String
        var kind: String
        var jurisdiction: String
        var address: AddressBody
        var enrolment: Int?
        var createdAt: Date
        var updatedAt: Date
        /// The current score in brief (GET /v1/facilities/{id}/risk has the reasons); null when the
        /// facility is not scored yet or the caller reads no case (the operator).
        @Nullable var risk: RiskBrief?

        struct RiskBrief: Encodable, Sendable {
            var score: Double
            var total: Double
            var band: String
            var modelBand: String
            var asOf: Date
        }

        init(_ record: FacilityRecord) {
            let f = record.facility
            id = f.id.description
            code = f.externalCode
            name = f.name
            kind = f.kind.rawValue
            jurisdiction = record.jurisdictionCode
            address = AddressBody(street: f.address.street, locality: f.address.locality, postalCode: f.address.postalCode)
            enrolment = f.enrolment
            createdAt = record.createdAt
            updatedAt = record.updatedAt
            risk = record.risk.map {
                .init(score: $0.score, total: $0.total, band: $0.band.rawValue, modelBand: $0.modelBand.rawValue, asOf: $0.asOf)
            }
        }
    }

    /// Facilities the caller may see, by code or, for case handlers, by risk score (`sort=-score`),
    /// optionally only those in some bands (`band=high,critical`) or under a jurisdiction (`within`).
    @Sendable func listFacilities(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<FacilityBody>> {
        let principal = try context.requirePrincipal()
        var query = QueryReader(request)
        let bands = query.codes("band", RiskBand.self)
        let filter = FacilityFilter(
            jurisdictionCode: query.string("jurisdiction", maxLength: 32), withinCode: query.string("within", maxLength: 32),
            kind: query.code("kind", Facility.Kind.self), bands: bands)
        let sort = query.string("sort", maxLength: 10) ?? "code"
        if sort != "code" && sort != "-score" { query.fail("sort", "must be code or -score") }
        let limit = query.limit()
        let after = query.cursor()
        var scoreCursor: ScoreCursor?
        if sort == "-score", let after {
            scoreCursor = ScoreCursor(text: after)
            if scoreCursor == nil { query.fail("cursor", "is not a cursor this server issued") }
        }
        let total = query.total()
        try query.finish()
        if sort == "-score" || bands != nil { _ = try context.requireCaseHandler("Risk scores") }
        let order: FacilityRegister.Order = sort == "-score" ? .score(after: scoreCursor) : .code(after: after)
        let (records, count) = try await register.facilities(
            filter, order: order, limit: limit + 1, total: total, caller: context.caller(principal))
        return JSONResponse(
            body: Page(
                rows: records, limit: limit, total: count,
                position: { last in
                    sort == "-score"
                        ? ScoreCursor(score: last.risk?.score ?? -1, total: last.risk?.total ?? -1, code: last.facility.externalCode).text
                        : last.facility.externalCode
                }, item: FacilityBody.init))
    }

    @Sendable func getFacility(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<FacilityBody> {
        let principal = try context.requirePrincipal()
        let id = try context.facilityID()
        try QueryReader(request).finish()
        let record = try await register.facility(id, caller: context.caller(principal))
        return JSONResponse(body: FacilityBody(record))
    }

    @Sendable func createFacility(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.mayAdminister else { throw Problem.forbidden("Only the operator registers facilities.") }
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let draft = readDraft(&body)
        try body.finish()
        let record = try await register.createFacility(draft!, caller: context.caller(principal))
        return try JSONResponse(status: .created, body: FacilityBody(record))
            .response(from: request, context: context)
            .withHeader(.location, "/v1/facilities/\(record.facility.id)")
    }

    @Sendable func updateFacility(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<FacilityBody> {
        let principal = try context.requirePrincipal()
        let id = try context.facilityID()
        guard principal.mayAdminister else { throw Problem.forbidden("Only the operator changes facilities.") }
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let name = body.string("name", maxLength: 300)
        let kind = body.code("kind", Facility.Kind.self)
        let jurisdiction = body.string("jurisdiction", maxLength: 32)
        var address: Address?
        if var fields = body.object("address") {
            address = readAddress(&fields)
            fields.refuseUnknownFields()
        }
        // Absent leaves the enrolment as it is; null clears it (unknown); a number sets it.
        var enrolment: Int??
        if body.isNull("enrolment") {
            enrolment = .some(nil)
        } else if let value = body.integer("enrolment", range: FacilityRules.enrolmentRange) {
            enrolment = .some(value)
        }
        if body.value("code") != nil { body.fail("code", "cannot be changed; register a new facility instead") }
        try body.finish()
        let record = try await register.updateFacility(
            id, name: name, kind: kind, jurisdictionCode: jurisdiction, address: address, enrolment: enrolment,
            caller: context.caller(principal))
        return JSONResponse(body: FacilityBody(record))
    }

    struct ImportResult: Encodable, Sendable {
        var created: Int
        var updated: Int
    }

    /// All-or-nothing CSV import (see FacilityCSV for the columns).
    @Sendable func importFacilities(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ImportResult> {
        let principal = try context.requirePrincipal()
        guard principal.mayAdminister else { throw Problem.forbidden("Only the operator imports facilities.") }
        try request.requireMediaType("text/csv")
        var request = request
        // Imports are files: allow far more than a JSON request.
        let buffer = try await request.collectBody(limit: max(limits.maximumBodySize, 64 << 20))
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw Problem.badRequest("The file is not valid UTF-8 text.")
        }
        let drafts = try FacilityCSV.drafts(from: text)
        let result = try await register.importFacilities(drafts, caller: context.caller(principal))
        return JSONResponse(body: ImportResult(created: result.created, updated: result.updated))
    }

    // MARK: Reading input

    private func readDraft(_ body: inout ObjectReader) -> FacilityDraft? {
        let code = body.string("code", required: true, maxLength: 40)
        if let code, let problem = FacilityRules.code(code) { body.fail("code", problem) }
        let name = body.string("name", required: true, maxLength: 300)
        let kind = body.code("kind", Facility.Kind.self, required: true)
        let jurisdiction = body.string("jurisdiction", required: true, maxLength: 32)
        var address = Address()
        if var fields = body.object("address") {
            address = readAddress(&fields)
            fields.refuseUnknownFields()
        }
        let enrolment = body.integer("enrolment", range: FacilityRules.enrolmentRange)
        guard let code, let name, let kind, let jurisdiction else { return nil }
        return FacilityDraft(code: code, name: name, kind: kind, jurisdictionCode: jurisdiction, address: address, enrolment: enrolment)
    }

    private func readAddress(_ fields: inout ObjectReader) -> Address {
        let street = fields.string("street", maxLength: 300)
        let locality = fields.string("locality", maxLength: 200)
        let postalCode = fields.string("postalCode", maxLength: 12)
        if let postalCode, let problem = FacilityRules.postalCode(postalCode) { fields.fail("postalCode", problem) }
        return Address(street: street, locality: locality, postalCode: postalCode)
    }
}

extension FacilityRegister.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .facilityNotFound: .notFound("No facility with this id.")
        }
    }
}

extension FacilityStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .duplicateCode: .conflict(description)
        case .unknownJurisdiction(let code):
            .validation([.init(field: "/jurisdiction", message: "no jurisdiction has the code \(code)")])
        case .unknownParent(let code):
            .validation([.init(field: "/parent", message: "no jurisdiction has the code \(code)")])
        case .levelMismatch(let rule):
            .validation([.init(field: "/parent", message: rule)])
        }
    }
}

extension FacilityCSV.ImportErrors: ProblemConvertible {
    var problem: Problem {
        let errors = rows.map { Problem.FieldError(field: $0.column ?? "", message: $0.message, line: $0.line) }
        var problem = Problem.validation(errors)
        problem.detail = "\(rows.count) problem(s) in the file; nothing was imported."
        // In the file's order, by line, rather than validation's order by field.
        problem.errors = errors
        return problem
    }
}
