import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird

/// The review queue in the console: pairs of adult records the linking model could neither join
/// nor dismiss, strongest first, each with its comparisons in words and how likely the model finds
/// them one person; a regulator confirms or rejects each (final, audited, as through the API).
struct ConsoleReviewPage {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var desk: LinkingDesk { LinkingDesk(database: database) }

    static let pageSize = 20

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("review", use: queue)
        routes.post("review", use: decide)
        return routes
    }

    struct Page {
        struct Record {
            var name: String
            var role: String
            var facility: String
            var jurisdiction: String
            var dateOfBirth: String?
            var source: String
        }
        struct Comparison {
            var field: String
            var level: String
            var weight: String
            var favours: Bool
        }
        struct Pair {
            var first: String
            var second: String
            var records: [Record]
            var likelihood: String
            /// Why the model did not join a pair its score would have (nil: proposed on its score).
            var held: String?
            var comparisons: [Comparison]
            var index: Int
        }
        var heading: String
        var pairs: [Pair]
        var empty: Bool
        var notice: String?
        var error: String?
    }

    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await render(request: request, context: context, notice: request.uri.queryParameters["done"] != nil)
    }

    private func render(
        request: Request, context: AppRequestContext, notice: Bool = false, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let (pairs, _) = try await desk.pending(after: nil, limit: Self.pageSize, caller: context.caller(session.principal))
        func record(_ view: AdultRecordView) -> Page.Record {
            Page.Record(
                name: view.writtenName ?? view.name.description, role: view.role.map { renderer.text("adult.role.\($0)", visit) } ?? "—",
                facility: "\(view.facilityName) (\(view.facilityCode))", jurisdiction: view.jurisdictionCode,
                dateOfBirth: view.dateOfBirth, source: renderer.text("review.source.\(view.source)", visit))
        }
        let page = Page(
            heading: renderer.text("review.heading", visit),
            pairs: pairs.enumerated().map { index, pair in
                Page.Pair(
                    first: pair.records.0.id.description, second: pair.records.1.id.description,
                    records: [record(pair.records.0), record(pair.records.1)],
                    likelihood: renderer.text(
                        "review.likelihood", visit, ["percent": "\(Int((100 / (1 + pow(2, -pair.score))).rounded()))"]),
                    held: pair.held.map { renderer.text("review.held.\($0.rawValue)", visit) },
                    comparisons: Self.comparisons(pair.comparisonsJSON).map { field, level, weight in
                        let levelKey = "review.level.\(field).\(level)"
                        let said = renderer.text(levelKey, visit)
                        return Page.Comparison(
                            field: renderer.text("review.field.\(field)", visit), level: said == levelKey ? level : said,
                            weight: String(format: "%+.1f", weight), favours: weight > 0)
                    },
                    index: index)
            },
            empty: pairs.isEmpty, notice: notice ? renderer.text("review.done", visit) : nil, error: error)
        return renderer.response("review", title: page.heading, visit: visit, request: request, page: page, status: status)
    }

    /// The stored comparisons, `[{field, level, weight}]`, strongest first.
    static func comparisons(_ json: String) -> [(field: String, level: String, weight: Double)] {
        guard let items = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { return [] }
        return items.compactMap { item in
            guard let field = item["field"] as? String, let level = item["level"] as? String,
                let weight = (item["weight"] as? NSNumber)?.doubleValue
            else { return nil }
            return (field, level, weight)
        }.sorted { abs($0.weight) > abs($1.weight) }
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let form = try await ConsoleController.checkedForm(request, context: context, limit: limits.maximumBodySize)
        let renderer = try ConsoleRenderer.shared.get()
        guard let a = form.value("first").flatMap(AdultRecord.ID.init(uuidString:)),
            let b = form.value("second").flatMap(AdultRecord.ID.init(uuidString:)), a != b
        else { throw Problem.notFound() }
        let decision: LinkReviewStore.Decision
        switch form.value("decision") {
        case "accepted": decision = .accepted
        case "rejected": decision = .rejected
        default: throw Problem.badRequest("Choose accepted or rejected.")
        }
        do {
            _ = try await desk.decide(
                RecordPair(a, b), decision, note: form.value("note").map { String($0.prefix(2000)) },
                caller: context.caller(session.principal))
        } catch LinkingDesk.Refusal.pairAlreadyDecided {
            return try await render(
                request: request, context: context, error: renderer.text("review.already_decided", context.visit()), status: .conflict)
        }
        throw ConsoleRedirect.to("/console/review?done=1")
    }
}
