import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Patterns spanning facilities (docs/linking.md): reports alike in modus operandi, and networks of
/// adults accused together. A regulator sees a pattern that touches one of their facilities, the
/// reports at their facilities, and which other jurisdictions hold the rest — so that they know
/// whom to call, without seeing other jurisdictions' cases.
struct PatternController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var desk: LinkingDesk { LinkingDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("patterns", use: list)
        routes.get("patterns/{id}", use: get)
        return routes
    }

    static let kinds: Set<String> = ["modus_operandi", "network"]

    struct PatternBody: Encodable, Sendable {
        var id: String
        var kind: String
        var signature: [String]
        var facilityCount: Int
        var reportCount: Int
        var jurisdictions: [[String: String]]
        var yourFacilities: [FacilityBrief]
        var groups: [GroupBody]
        var firstReceived: Date
        var lastReceived: Date
        var foundAt: Date

        init(_ pattern: PatternRecord) {
            id = pattern.id.uuidString.lowercased()
            kind = pattern.kind
            signature = pattern.signature
            facilityCount = pattern.facilities
            reportCount = pattern.reports
            jurisdictions = pattern.jurisdictions.map { ["code": $0.code, "name": $0.name] }
            yourFacilities = pattern.visibleFacilities.map {
                FacilityBrief(id: $0.id.description, code: $0.code, name: $0.name, jurisdiction: $0.jurisdictionCode)
            }
            groups = pattern.groupSizes.enumerated().map { index, size in
                GroupBody(
                    facilityCount: size,
                    yourFacilities: pattern.visibleFacilities.filter { $0.group == index }.map { $0.id.description })
            }
            firstReceived = pattern.firstReceived
            lastReceived = pattern.lastReceived
            foundAt = pattern.foundAt
        }
    }

    /// Facilities inside a pattern that an adult ties together (a network is one group).
    struct GroupBody: Encodable, Sendable {
        var facilityCount: Int
        /// Ids of the caller's facilities in the group (see `yourFacilities`).
        var yourFacilities: [String]
    }

    struct ReportBody: Encodable, Sendable {
        var id: String
        var facility: FacilityBrief
        var receivedAt: Date
        var category: String
        var status: String
        var modusOperandi: [String]
    }

    struct Detail: Encodable, Sendable {
        var pattern: PatternBody
        /// Its reports at the caller's facilities, oldest first.
        var reports: [ReportBody]
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<PatternBody>> {
        let principal = try context.requireRegulator("Patterns")
        var query = QueryReader(request)
        let kind = query.string("kind", maxLength: 20)
        if let kind, !Self.kinds.contains(kind) { query.fail("kind", "must be modus_operandi or network") }
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
        let (patterns, count) = try await desk.patterns(
            kind: kind, after: after, limit: limit + 1, total: total, caller: context.caller(principal))
        return JSONResponse(
            body: Page(
                rows: patterns, limit: limit, total: count, position: { InstantCursor($0.lastReceived, id: $0.id).text },
                item: PatternBody.init))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Detail> {
        let principal = try context.requireRegulator("Patterns")
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw Problem.notFound("No pattern with this id.")
        }
        try QueryReader(request).finish()
        let (pattern, reports) = try await desk.pattern(id, caller: context.caller(principal))
        return JSONResponse(
            body: Detail(
                pattern: PatternBody(pattern),
                reports: reports.map {
                    ReportBody(
                        id: $0.id.description,
                        facility: FacilityBrief(
                            id: $0.facilityID.description, code: $0.facilityCode, name: $0.facilityName, jurisdiction: $0.jurisdictionCode),
                        receivedAt: $0.receivedAt, category: $0.category,
                        status: $0.status, modusOperandi: $0.modusOperandi)
                }))
    }
}
