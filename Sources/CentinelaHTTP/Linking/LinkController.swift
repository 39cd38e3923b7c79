import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The regulators' review queue of proposed adult links (docs/linking.md): pairs of records the
/// model can neither link nor dismiss, each with the comparisons that explain it, and the decision
/// on each, final and audited. A pair shows to a regulator who may see both records' facilities.
struct LinkController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var desk: LinkingDesk { LinkingDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("links/review", use: pending)
        routes.post("links/review/{a}/{b}", use: decide)
        return routes
    }

    struct PairBody: Encodable, Sendable {
        var records: [AdultRecordBody]
        /// Linked already on the odds (a weak link to confirm or break), or waiting to be joined.
        var linked: Bool
        /// Posterior log2-odds that the two are one person; the evidence and the prior it adds up from.
        var score: Double
        var weight: Double
        var prior: Double
        var comparisons: JSONValue
        /// Why the pair waits for a decision although its score says "link" (absent: on its score).
        var held: String?
        var foundAt: Date
    }

    struct DecisionBody: Encodable, Sendable {
        var records: [String]
        var decision: String
        var decidedAt: Date
    }

    @Sendable func pending(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<PairBody>> {
        let principal = try context.requireRegulator("Link reviews")
        var query = QueryReader(request)
        let limit = query.limit()
        var after: (score: Double, first: UUID, second: UUID)?
        if let cursor = query.cursor() {
            let parts = cursor.split(separator: "|").map(String.init)
            if parts.count == 3, let score = Double(parts[0]), score.isFinite, let a = UUID(uuidString: parts[1]),
                let b = UUID(uuidString: parts[2])
            {
                after = (score, a, b)
            } else {
                query.fail("cursor", "is not a cursor this server issued")
            }
        }
        let total = query.total()
        try query.finish()
        let (pairs, count) = try await desk.pending(after: after, limit: limit + 1, total: total, caller: context.caller(principal))
        return JSONResponse(
            body: Page(rows: pairs, limit: limit, total: count, position: { "\($0.score)|\($0.records.0.id)|\($0.records.1.id)" }) {
                PairBody(
                    records: [AdultRecordBody($0.records.0), AdultRecordBody($0.records.1)], linked: $0.linked, score: $0.score.bits,
                    weight: $0.weight.bits, prior: $0.prior.bits,
                    comparisons: .comparisons($0.comparisonsJSON), held: $0.held?.rawValue, foundAt: $0.foundAt)
            })
    }

    /// `{"decision": "accepted" | "rejected", "note": "..."}` (the words it comes back with) on the pair of records in the path (either
    /// order). Answers 201; 404 when the caller sees no such proposed pair; 409 once decided.
    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireRegulator("Link reviews")
        guard let a = context.parameters.get("a").flatMap(AdultRecord.ID.init(uuidString:)),
            let b = context.parameters.get("b").flatMap(AdultRecord.ID.init(uuidString:)), a != b
        else { throw Problem.notFound("No proposed pair of these records.") }
        let pair = RecordPair(a, b)
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        var decision: LinkReviewStore.Decision?
        switch body.string("decision", required: true, maxLength: 10) {
        case "accepted": decision = .accepted
        case "rejected": decision = .rejected
        case nil: break
        case let other?: body.fail("decision", "must be accepted or rejected (not \(other))")
        }
        let note = body.string("note", required: false, maxLength: 2000)
        try body.finish()
        guard let decision else { throw Problem.badRequest("The decision is invalid.") }
        let at = try await desk.decide(pair, decision, note: note, caller: context.caller(principal))
        return try JSONResponse(
            status: .created,
            body: DecisionBody(records: [pair.first.description, pair.second.description], decision: decision.rawValue, decidedAt: at)
        ).response(from: request, context: context)
    }
}

extension LinkingDesk.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .patternNotFound: .notFound("No pattern with this id.")
        case .adultNotFound: .notFound("No adult with this id.")
        case .pairNotFound: .notFound("No proposed pair of these records.")
        case .pairAlreadyDecided: .conflict("This pair has been decided; a decision is final.")
        }
    }
}
