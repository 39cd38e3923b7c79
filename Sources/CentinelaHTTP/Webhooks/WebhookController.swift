import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Regulators' webhook endpoints: registration (the signing secret is shown once), the list, and
/// each endpoint's deliveries, with manual redelivery of the dead ones, one or all (docs/alerts.md).
struct WebhookController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    var desk: WebhookDesk { WebhookDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("webhooks", use: list)
        routes.post("webhooks", use: register)
        routes.delete("webhooks/{id}", use: disable)
        routes.get("webhooks/{id}/deliveries", use: deliveries)
        routes.post("webhooks/{id}/deliveries/{delivery}/redeliver", use: redeliver)
        routes.post("webhooks/{id}/recover", use: recover)
        return routes
    }

    struct Recovered: Encodable, Sendable {
        var queued: Int
    }

    struct EndpointBody: Encodable, Sendable {
        var id: String
        var url: String
        var owner: [String: String]
        var jurisdictions: [String]
        var minimumSeverity: String?
        var rules: [String]?
        var events: [String]?
        var createdAt: Date
        var disabledAt: Date?
        /// Only in the answer to the registration.
        var secret: String?

        init(_ endpoint: WebhookEndpoint, secret: String? = nil) {
            id = endpoint.id.uuidString.lowercased()
            url = endpoint.url
            owner = ["id": endpoint.ownerID.description, "holder": endpoint.owner]
            jurisdictions = endpoint.jurisdictionCodes
            minimumSeverity = endpoint.minimumSeverity?.rawValue
            rules = endpoint.rules?.map(\.rawValue)
            events = endpoint.eventKinds?.map(\.rawValue)
            createdAt = endpoint.createdAt
            disabledAt = endpoint.disabledAt
            self.secret = secret
        }
    }

    struct DeliveryBody: Encodable, Sendable {
        var id: String
        var event: String
        var status: String
        var attempts: Int
        var nextAttemptAt: Date?
        var lastAttemptAt: Date?
        var lastStatus: Int?
        var lastError: String?
        var deliveredAt: Date?
        var createdAt: Date

        init(_ delivery: WebhookDelivery) {
            id = delivery.id.uuidString.lowercased()
            event = String(delivery.eventID)
            status = delivery.status.rawValue
            attempts = delivery.attempts
            nextAttemptAt = delivery.status == .pending ? delivery.nextAttemptAt : nil
            lastAttemptAt = delivery.lastAttemptAt
            lastStatus = delivery.lastStatus
            lastError = delivery.lastError
            deliveredAt = delivery.deliveredAt
            createdAt = delivery.createdAt
        }
    }

    struct Items<Item: Encodable & Sendable>: Encodable, Sendable {
        var items: [Item]
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Items<EndpointBody>> {
        let principal = try context.requireRegulator()
        try QueryReader(request).finish()
        let endpoints = try await desk.endpoints(caller: context.caller(principal))
        return JSONResponse(body: Items(items: endpoints.map { EndpointBody($0) }))
    }

    /// `{"url": "https://…", "minimumSeverity": "critical", "rules": [...], "events": [...]}`:
    /// alerts in the caller's jurisdictions (and below), filtered. Answers 201 with the secret.
    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireRegulator()
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let url = body.string("url", required: true, maxLength: 2000)
        if let url, let problem = limits.webhookTargets.refusal(of: url) { body.fail("url", problem) }
        let severity = body.code("minimumSeverity", Alert.Severity.self)
        // An empty list means no filter, as an absent one does.
        let rules = body.codes("rules", Alert.Rule.self, maxCount: 20).flatMap { $0.isEmpty ? nil : $0 }
        let kinds = body.codes("events", WebhookEventKind.self, maxCount: 30).flatMap { $0.isEmpty ? nil : $0 }
        body.refuseUnknownFields()
        try body.finish()
        let secret = WebhookSignature.newSecret()
        let endpoint = try await desk.register(
            url: url!, secret: secret, filters: .init(minimumSeverity: severity, rules: rules, eventKinds: kinds),
            caller: context.caller(principal))
        return try JSONResponse(status: .created, body: EndpointBody(endpoint, secret: secret)).response(from: request, context: context)
    }

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireRegulator()
        let id = try context.webhookID()
        try QueryReader(request).finish()
        try await desk.disable(id, caller: context.caller(principal))
        return Response(status: .noContent)
    }

    @Sendable func deliveries(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Items<DeliveryBody>> {
        let principal = try context.requireRegulator()
        let id = try context.webhookID()
        var query = QueryReader(request)
        let status = query.code("status", WebhookDelivery.Status.self)
        let limit = query.limit(default: 50, maximum: 200)
        try query.finish()
        let deliveries = try await desk.deliveries(of: id, status: status, limit: limit, caller: context.caller(principal))
        return JSONResponse(body: Items(items: deliveries.map(DeliveryBody.init)))
    }

    /// Queues a delivery again at once, with a fresh retry window and the same webhook-id.
    @Sendable func redeliver(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireRegulator()
        let id = try context.webhookID()
        guard let text = context.parameters.get("delivery"), let delivery = UUID(uuidString: text) else {
            throw Problem.notFound("No delivery with this id.")
        }
        try QueryReader(request).finish()
        try await desk.redeliver(delivery, of: id, caller: context.caller(principal))
        return Response(status: .accepted)
    }

    /// Queues every dead delivery of a webhook again, as `redeliver` does one: once its receiver,
    /// down longer than the retry window, is back. Each keeps its webhook-id, so a receiver that
    /// had in fact processed one recognises it.
    @Sendable func recover(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireRegulator()
        let id = try context.webhookID()
        try QueryReader(request).finish()
        let queued = try await desk.recover(id, caller: context.caller(principal))
        return try JSONResponse(status: .accepted, body: Recovered(queued: queued)).response(from: request, context: context)
    }
}

extension AppRequestContext {
    /// The webhook named by the path's `{id}`; a malformed id is simply not found.
    func webhookID() throws(Problem) -> UUID {
        guard let text = parameters.get("id"), let id = UUID(uuidString: text) else { throw Problem.notFound("No webhook with this id.") }
        return id
    }
}

extension WebhookDesk.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .webhookNotFound: .notFound("No webhook with this id.")
        case .deliveryNotFound: .notFound("No delivery with this id.")
        case .notTheOwner: .forbidden("Only the regulator who registered a webhook removes it.")
        }
    }
}
