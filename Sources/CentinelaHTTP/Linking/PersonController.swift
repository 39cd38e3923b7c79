import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One adult as one person across facilities (docs/linking.md), for regulators: their records and
/// reports at the caller's facilities, and every jurisdiction holding a record of them — a person
/// linked across states shows each regulator only their side, and whom to contact for the rest.
struct PersonController {
    let database: ServiceDatabase
    var desk: LinkingDesk { LinkingDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("adults/{id}", use: get)
        return routes
    }

    struct Body: Encodable, Sendable {
        struct Report: Encodable, Sendable {
            var id: String
            var facility: FacilityBrief
            var receivedAt: Date
            var category: String
            var status: String
        }

        struct Link: Encodable, Sendable {
            var records: [String]
            /// Posterior log2-odds that the two are one person.
            var score: Double
            /// Linked on less than 32 to 1: open to a regulator in the review queue.
            var weak: Bool
            var comparisons: JSONValue
        }

        @Nullable var person: String?
        var records: [AdultRecordBody]
        var links: [Link]
        var reports: [Report]
        var jurisdictions: [[String: String]]

    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Body> {
        let principal = try context.requireRegulator("Linked adults")
        guard let id = context.parameters.get("id").flatMap(AdultRecord.ID.init(uuidString:)) else {
            throw Problem.notFound("No adult with this id.")
        }
        try QueryReader(request).finish()
        let person = try await desk.person(of: id, caller: context.caller(principal))
        return JSONResponse(
            body: Body(
                person: person.personID.map { $0.uuidString.lowercased() },
                records: person.records.map(AdultRecordBody.init),
                links: person.links.map {
                    .init(
                        records: [$0.records.0.description, $0.records.1.description], score: $0.score.bits,
                        weak: $0.score < LinkageModel.v1.confirmThreshold,
                        comparisons: .comparisons($0.comparisonsJSON))
                },
                reports: person.reports.map {
                    .init(
                        id: $0.id.description,
                        facility: FacilityBrief(
                            id: $0.facilityID.description, code: $0.facilityCode, name: $0.facilityName, jurisdiction: $0.jurisdictionCode),
                        receivedAt: $0.receivedAt, category: $0.category,
                        status: $0.status)
                },
                jurisdictions: person.jurisdictions.map { ["code": $0.code, "name": $0.name] }))
    }
}
