import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Facility risk scores with their reasons, their history, and regulators' manual bands. Readable
/// by whoever may read the facility's reports (docs/risk-model.md explains every field).
struct RiskController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var desk: RiskDesk { RiskDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("facilities/{id}/risk", use: current)
        routes.get("facilities/{id}/risk/history", use: history)
        routes.post("facilities/{id}/risk/overrides", use: setOverride)
        return routes
    }

    /// A stored assessment as the API shows it.
    struct RiskBody: Encodable, Sendable {
        var facility: FacilityBrief
        var modelId: String
        var asOf: Date
        var recordedAt: Date
        var score: Double
        var total: Double
        var band: String
        var modelBand: String
        @Nullable var floor: RiskAssessment.BandFloor?
        @Nullable var manualOverride: RiskEvidence.ManualOverride?
        /// Where the score stands among every facility's at the last full rescoring (current scores only).
        @Nullable var standing: Standing?
        var reasons: [RiskAssessment.Reason]

        struct Standing: Encodable, Sendable {
            /// The share of facilities scoring less, in percent: 99.5 is the top 0.5 %.
            var percentile: Double
            var facilityCount: Int
            var modelId: String
            var computedAt: Date
        }

        /// `for` a school: the CROSS_FACILITY evidence (which of its adults or reports linking tied
        /// to other facilities, and which patterns) is for regulators only. The school's own staff
        /// may be the adults concerned; its points and summary stay, as the score depends on them.
        ///
        /// `in` a language other than English: each reason's summary said in it (the codes, the
        /// figures and the evidence stay as they are).
        init(
            _ stored: StoredScore, of facility: FacilityBrief, for principal: Principal, among distribution: ScoreDistribution? = nil,
            in language: ConsoleLanguage? = nil
        ) {
            let a = stored.assessment
            self.facility = facility
            modelId = a.modelID
            asOf = a.asOf
            recordedAt = stored.recordedAt
            score = a.score
            total = a.total
            band = a.band.rawValue
            modelBand = a.modelBand.rawValue
            floor = a.floor
            manualOverride = a.manualOverride
            // Only against a spread of the same model's totals: another model's are another scale.
            standing = distribution.flatMap { spread in
                spread.modelID == a.modelID
                    ? Standing(
                        percentile: spread.percentile(of: a.total), facilityCount: spread.facilities, modelId: spread.modelID,
                        computedAt: spread.computedAt)
                    : nil
            }
            reasons = a.reasons
            if let language, language != .english, let catalog = try? ConsoleRenderer.shared.get().catalog {
                for index in reasons.indices { reasons[index].summary = catalog.reasonSummary(reasons[index].summary, language) }
            }
            if principal.role != .regulator {
                for index in reasons.indices where reasons[index].code == .crossFacility && !reasons[index].evidence.isEmpty {
                    reasons[index].omittedEvidence = (reasons[index].omittedEvidence ?? 0) + reasons[index].evidence.count
                    reasons[index].evidence = []
                }
            }
        }
    }

    @Sendable func current(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RiskBody> {
        let principal = try context.requireCaseHandler("Risk scores")
        let id = try context.facilityID()
        try QueryReader(request).finish()
        let (facility, stored, distribution) = try await desk.current(id, caller: context.caller(principal))
        let language = request.reasonLanguage
        return JSONResponse(
            body: RiskBody(stored, of: .brief(of: facility), for: principal, among: distribution, in: language),
            language: language ?? .english)
    }

    @Sendable func history(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<RiskBody>> {
        let principal = try context.requireCaseHandler("Risk scores")
        let id = try context.facilityID()
        var query = QueryReader(request)
        let limit = query.limit(default: 20, maximum: 100)
        var before: Int64?
        if let cursor = query.cursor() {
            if let value = Int64(cursor), value > 0 { before = value } else { query.fail("cursor", "is not a cursor this server issued") }
        }
        let total = query.total()
        try query.finish()
        let (facility, rows, count) = try await desk.history(
            id, before: before, limit: limit + 1, total: total, caller: context.caller(principal))
        let language = request.reasonLanguage
        return JSONResponse(
            body: Page(rows: rows, limit: limit, total: count, position: { String($0.id) }) {
                RiskBody($0.score, of: .brief(of: facility), for: principal, in: language)
            }, language: language ?? .english)
    }

    struct OverrideReceipt: Encodable, Sendable {
        var id: String
        var facility: FacilityBrief
        @Nullable var band: String?
        var reason: String
        @Nullable var expiresAt: Date?
        var setAt: Date

    }

    /// The longest a manual band may stand before a regulator must look again.
    static let longestOverride = 366

    /// Sets (a band, a reason, an expiry day) or clears (`"band": null`, a reason) a facility's
    /// manual band. The score is recomputed within seconds; the receipt says what was recorded.
    @Sendable func setOverride(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireCaseHandler("Risk scores")
        let id = try context.facilityID()
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let clearing = body.isNull("band")
        // Required: a band to set one, or an explicit null to clear the current one.
        let band = clearing ? nil : body.code("band", RiskBand.self, required: true)
        let reason = body.string("reason", required: true, maxLength: 2000)
        // An instant, as it comes back (`expiresAt`), like an alert's snooze.
        let expiresAt = body.instant("expiresAt")
        let now = Date()
        if band != nil {
            if let expiresAt {
                if expiresAt <= now { body.fail("expiresAt", "must be in the future") }
                if expiresAt.timeIntervalSince(now) > Double(Self.longestOverride) * 86_400 {
                    body.fail("expiresAt", "must be within \(Self.longestOverride) days: a manual band needs a fresh look at least yearly")
                }
            } else {
                body.fail("expiresAt", "is required with a band: a manual band always expires")
            }
        } else if expiresAt != nil {
            body.fail("expiresAt", "must be absent when clearing an override")
        }
        try body.finish()
        let (overrideID, setAt, facility) = try await desk.setOverride(
            facility: id, band: band, reason: reason!, expiresAt: expiresAt, caller: context.caller(principal))
        let receipt = OverrideReceipt(
            id: overrideID.uuidString.lowercased(), facility: .brief(of: facility), band: band?.rawValue, reason: reason!,
            expiresAt: expiresAt, setAt: setAt)
        return try JSONResponse(status: .created, body: receipt).response(from: request, context: context)
    }

}

extension RiskDesk.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .facilityNotFound: .notFound("No facility with this id.")
        case .notScoredYet: .notScoredYet
        case .notTheFacilitysRegulator: .forbidden("Only the facility's regulators set its band by hand.")
        }
    }
}

extension Problem {
    static let notScoredYet = Problem(
        type: typeBase + "not-scored-yet", title: "Not scored yet", status: .notFound,
        detail: "This facility has no risk score yet; new facilities and new reports are scored within seconds.")
}

extension Request {
    /// The language risk reasons are said in: the first of `Accept-Language` the catalogs speak,
    /// or nil (English, the models' own).
    var reasonLanguage: ConsoleLanguage? { ConsoleLanguage.preferred(acceptLanguage: headers[.acceptLanguage]) }
}
