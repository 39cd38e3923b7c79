import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A regulator's webhook endpoint, without its secret.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: UUID
    public var ownerID: Principal.ID
    public var owner: String
    public var url: String
    public var jurisdictions: [Jurisdiction.ID]
    /// Their codes (`MX-NL`), as the API names jurisdictions everywhere.
    public var jurisdictionCodes: [String]
    public var minimumSeverity: Alert.Severity?
    public var rules: [Alert.Rule]?
    public var eventKinds: [WebhookEventKind]?
    public var createdAt: Date
    public var disabledAt: Date?
}

/// What an endpoint receives: filters on the alerts and events in its jurisdictions.
public struct WebhookFilters: Sendable, Equatable {
    public var minimumSeverity: Alert.Severity?
    public var rules: [Alert.Rule]?
    public var eventKinds: [WebhookEventKind]?

    public init(minimumSeverity: Alert.Severity? = nil, rules: [Alert.Rule]? = nil, eventKinds: [WebhookEventKind]? = nil) {
        self.minimumSeverity = minimumSeverity
        self.rules = rules
        self.eventKinds = eventKinds
    }
}

/// One event for one endpoint, and how sending it went.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, ControlledVocabulary {
        case pending
        case delivered
        case dead
    }

    public var id: UUID
    public var endpointID: UUID
    public var eventID: Int64
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastAttemptAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Date?
    public var createdAt: Date
}

/// A delivery claimed for sending: where, with which key, what.
public struct DueDelivery: Sendable {
    public var id: UUID
    public var url: String
    public var secret: String
    public var eventID: Int64
    /// Including the attempt about to be made.
    public var attempt: Int
    public var queuedAt: Date
}

/// Webhook endpoints (regulators' scope) and the delivery outbox (the system scope sends).
public struct WebhookStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    // MARK: Regulators

    /// Registers an endpoint for the caller's jurisdictions.
    public func register(
        url: String, secret: String, filters: WebhookFilters, by principal: Principal, on connection: PostgresConnection
    ) async throws -> WebhookEndpoint {
        let rows = try await endpoints(
            """
            INSERT INTO webhook_endpoints (owner_id, owner, url, secret, jurisdictions, min_severity, rules, event_kinds)
            VALUES (\(principal.id.rawValue), \(principal.holder), \(url), \(secret), \(principal.jurisdictionIDs.map(\.rawValue).sorted { $0.uuidString < $1.uuidString })::uuid[],
                    \(filters.minimumSeverity?.rawValue)::text, \(filters.rules?.map(\.rawValue))::text[], \(filters.eventKinds?.map(\.rawValue))::text[])
            RETURNING \(unescaped: Self.endpointColumns)
            """, on: connection)
        guard let endpoint = rows.first else { throw DatabaseError.queryFailed(reason: "the endpoint was not stored") }
        return endpoint
    }

    static let endpointColumns = """
        id, owner_id, owner, url, jurisdictions,
        ARRAY(SELECT j.code FROM jurisdictions j WHERE j.id = ANY (webhook_endpoints.jurisdictions) ORDER BY j.code),
        min_severity, rules, event_kinds, created_at, disabled_at
        """

    /// The endpoints registered within the caller's jurisdictions, newest first.
    public func endpoints(on connection: PostgresConnection) async throws -> [WebhookEndpoint] {
        try await endpoints("SELECT \(unescaped: Self.endpointColumns) FROM webhook_endpoints ORDER BY created_at DESC, id", on: connection)
    }

    public func endpoint(_ id: UUID, on connection: PostgresConnection) async throws -> WebhookEndpoint? {
        try await endpoints("SELECT \(unescaped: Self.endpointColumns) FROM webhook_endpoints WHERE id = \(id)", on: connection).first
    }

    /// Stops deliveries to an endpoint (its history stays). Only its owner may.
    public func disable(_ id: UUID, on connection: PostgresConnection) async throws {
        try await connection.run(
            "UPDATE webhook_endpoints SET disabled_at = coalesce(disabled_at, now()) WHERE id = \(id)", logger: logger)
    }

    /// An endpoint's deliveries, newest first, optionally of one status.
    public func deliveries(
        of endpoint: UUID, status: WebhookDelivery.Status?, limit: Int, on connection: PostgresConnection
    ) async throws -> [WebhookDelivery] {
        var result: [WebhookDelivery] = []
        for try await row in try await connection.query(
            """
            SELECT id, endpoint_id, coalesce(event_id, case_event_id), status, attempts, next_attempt_at, last_attempt_at, last_status, last_error,
                   delivered_at, created_at
            FROM webhook_deliveries
            WHERE endpoint_id = \(endpoint) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue)::text)
            ORDER BY created_at DESC, coalesce(event_id, case_event_id) DESC LIMIT \(limit)
            """, logger: logger)
        {
            var c = ColumnReader(row)
            let id = try c.next(UUID.self)
            let endpointID = try c.next(UUID.self)
            let eventID = try c.next(Int64.self)
            let status = WebhookDelivery.Status(rawValue: try c.next(String.self)) ?? .pending
            let attempts = try c.next(Int.self)
            let next = try c.next(Date.self)
            let last = try c.next(Date?.self)
            let lastStatus = try c.next(Int?.self)
            let lastError = try c.next(String?.self)
            let delivered = try c.next(Date?.self)
            let created = try c.next(Date.self)
            result.append(
                WebhookDelivery(
                    id: id, endpointID: endpointID, eventID: eventID, status: status, attempts: attempts, nextAttemptAt: next,
                    lastAttemptAt: last, lastStatus: lastStatus, lastError: lastError, deliveredAt: delivered, createdAt: created))
        }
        return result
    }

    /// Queues a dead (or delivered) delivery again, at once, with a fresh retry window; the same
    /// webhook-id is sent. False when there is no such delivery for the caller.
    public func redeliver(_ delivery: UUID, of endpoint: UUID, on connection: PostgresConnection) async throws -> Bool {
        var found = false
        for try await _ in try await connection.query(
            """
            UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), queued_at = now()
            WHERE id = \(delivery) AND endpoint_id = \(endpoint) RETURNING id
            """, logger: logger
        ) { found = true }
        return found
    }

    /// Queues every dead delivery of `endpoint` again, each as ``redeliver(_:of:on:)`` does one;
    /// answers how many.
    public func redeliverDead(of endpoint: UUID, on connection: PostgresConnection) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(
            """
            UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), queued_at = now()
            WHERE endpoint_id = \(endpoint) AND status = 'dead' RETURNING id
            """, logger: logger
        ) { count += 1 }
        return count
    }

    // MARK: The service, in the system scope

    /// Claims up to `limit` due deliveries for `lease` (a sender that dies mid-send leaves them to be
    /// tried again when the lease runs out), of endpoints still enabled whose owner's token is
    /// still valid. The events of a case opened less than `caseGroupWait` ago wait, as
    /// Alertmanager's group wait does: what arrives in that time is announced with the case.
    package func claimDue(
        limit: Int, lease: Duration, caseGroupWait: Duration = .zero, on connection: PostgresConnection
    ) async throws -> [DueDelivery] {
        let wait = Double(caseGroupWait.components.seconds) + Double(caseGroupWait.components.attoseconds) / 1e18
        var result: [DueDelivery] = []
        for try await (id, url, secret, eventID, attempt, queuedAt) in try await connection.query(
            """
            WITH due AS (
                SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND w.disabled_at IS NULL
                  AND centinela_token_is_active(w.owner_id)
                  AND (d.case_event_id IS NULL OR NOT EXISTS (
                      SELECT 1 FROM case_events e JOIN cases c ON c.id = e.case_id
                      WHERE e.id = d.case_event_id AND c.opened_at > now() - \(wait)::float8 * interval '1 second'))
                ORDER BY d.next_attempt_at, coalesce(d.event_id, d.case_event_id) LIMIT \(limit)
                FOR UPDATE OF d SKIP LOCKED
            )
            UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, last_attempt_at = now(),
                next_attempt_at = now() + \(Double(lease.components.seconds))::float8 * interval '1 second'
            FROM due, webhook_endpoints w
            WHERE d.id = due.id AND w.id = d.endpoint_id
            RETURNING d.id, w.url, w.secret, coalesce(d.event_id, d.case_event_id), d.attempts, d.queued_at
            """, logger: logger
        ).decode((UUID, String, String, Int64, Int, Date).self) {
            result.append(DueDelivery(id: id, url: url, secret: secret, eventID: eventID, attempt: attempt, queuedAt: queuedAt))
        }
        return result
    }

    /// Records an attempt's outcome: delivered, to be tried again at `retryAt`, or (no retry) dead.
    package func record(
        _ delivery: UUID, delivered: Bool, retryAt: Date?, httpStatus: Int?, error: String?, on connection: PostgresConnection
    ) async throws {
        let status = delivered ? "delivered" : (retryAt == nil ? "dead" : "pending")
        try await connection.run(
            """
            UPDATE webhook_deliveries
            SET status = \(status), last_status = \(httpStatus), last_error = left(\(error), 1000),
                delivered_at = CASE WHEN \(delivered) THEN now() ELSE delivered_at END,
                next_attempt_at = coalesce(\(retryAt)::timestamptz, next_attempt_at)
            WHERE id = \(delivery)
            """, logger: logger)
    }

    private func endpoints(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [WebhookEndpoint] {
        var result: [WebhookEndpoint] = []
        for try await row in try await connection.query(query, logger: logger) {
            var c = ColumnReader(row)
            let id = try c.next(UUID.self)
            let owner = try c.next(UUID.self)
            let holder = try c.next(String.self)
            let url = try c.next(String.self)
            let jurisdictions = try c.next([UUID].self)
            let codes = try c.next([String].self)
            let severity = try c.next(String?.self)
            let rules = try c.next([String]?.self)
            let kinds = try c.next([String]?.self)
            let created = try c.next(Date.self)
            let disabled = try c.next(Date?.self)
            result.append(
                WebhookEndpoint(
                    id: id, ownerID: .init(owner), owner: holder, url: url, jurisdictions: jurisdictions.map(Jurisdiction.ID.init),
                    jurisdictionCodes: codes,
                    minimumSeverity: severity.flatMap(Alert.Severity.init(rawValue:)),
                    rules: rules.map { $0.compactMap(Alert.Rule.init(rawValue:)) },
                    eventKinds: kinds.map { $0.compactMap(WebhookEventKind.init(rawValue:)) }, createdAt: created, disabledAt: disabled))
        }
        return result
    }
}
