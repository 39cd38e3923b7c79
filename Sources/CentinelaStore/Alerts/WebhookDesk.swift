import CentinelaCore
import Foundation
import Logging

/// A regulator's webhooks (docs/alerts.md, "Webhooks"): registering, removing, and looking after
/// deliveries; each step one unit in the caller's scope, changes audited.
public struct WebhookDesk: Sendable {
    public enum Refusal: Error, Equatable {
        /// No webhook with this id in the caller's scope.
        case webhookNotFound
        /// No delivery with this id of that webhook.
        case deliveryNotFound
        /// Only the regulator who registered a webhook removes it.
        case notTheOwner
    }

    public let database: ServiceDatabase
    var store: WebhookStore { WebhookStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    public func endpoints(caller: Caller) async throws -> [WebhookEndpoint] {
        try await database.withScope(caller.principal) { connection in try await store.endpoints(on: connection) }
    }

    /// Registers a receiver for alerts in the caller's jurisdictions (and below), filtered;
    /// `secret` signs every delivery.
    public func register(url: String, secret: String, filters: WebhookFilters, caller: Caller) async throws -> WebhookEndpoint {
        try await database.withScope(caller.principal) { connection in
            let endpoint = try await store.register(url: url, secret: secret, filters: filters, by: caller.principal, on: connection)
            try await database.audit(
                caller.event(
                    "webhook.register", on: "webhook", id: endpoint.id.uuidString.lowercased(), outcome: .ok, details: ["url": endpoint.url]
                ),
                on: connection)
            return endpoint
        }
    }

    public func disable(_ id: UUID, caller: Caller) async throws {
        try await database.withScope(caller.principal) { connection in
            guard let endpoint = try await store.endpoint(id, on: connection) else { throw Refusal.webhookNotFound }
            guard endpoint.ownerID == caller.principal.id else { throw Refusal.notTheOwner }
            try await store.disable(id, on: connection)
            try await database.audit(
                caller.event("webhook.disable", on: "webhook", id: id.uuidString.lowercased(), outcome: .ok), on: connection)
        }
    }

    /// A webhook's latest deliveries, optionally of one status.
    public func deliveries(of id: UUID, status: WebhookDelivery.Status?, limit: Int, caller: Caller) async throws -> [WebhookDelivery] {
        try await database.withScope(caller.principal) { connection in
            guard try await store.endpoint(id, on: connection) != nil else { throw Refusal.webhookNotFound }
            return try await store.deliveries(of: id, status: status, limit: limit, on: connection)
        }
    }

    /// Queues a delivery again at once, with a fresh retry window and the same webhook-id.
    public func redeliver(_ delivery: UUID, of id: UUID, caller: Caller) async throws {
        let found = try await database.withScope(caller.principal) { connection in
            let found = try await store.redeliver(delivery, of: id, on: connection)
            try await database.audit(
                caller.event(
                    "webhook.redeliver", on: "webhook_delivery", id: delivery.uuidString.lowercased(), outcome: found ? .ok : .notFound),
                on: connection)
            return found
        }
        guard found else { throw Refusal.deliveryNotFound }
    }

    /// Queues every dead delivery of a webhook again; returns how many.
    public func recover(_ id: UUID, caller: Caller) async throws -> Int {
        try await database.withScope(caller.principal) { connection in
            guard try await store.endpoint(id, on: connection) != nil else { throw Refusal.webhookNotFound }
            let queued = try await store.redeliverDead(of: id, on: connection)
            try await database.audit(
                caller.event(
                    "webhook.recover", on: "webhook", id: id.uuidString.lowercased(), outcome: .ok, details: ["queued": "\(queued)"]),
                on: connection)
            return queued
        }
    }
}
