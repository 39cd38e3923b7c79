import AsyncHTTPClient
import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceLifecycle

/// Sends the webhook outbox, inside `serve`: woken by every alert event (through the alert feed)
/// and by a short poll for retries that fall due. Deliveries are sent concurrently, each with a
/// timeout, so a slow or failing receiver delays only its own deliveries; ingestion never waits on
/// any of this (the outbox row is all a report's transaction writes).
public struct WebhookDeliverer: Service {
    let client: PostgresClient
    let feed: AlertFeed
    let policy: WebhookRetryPolicy
    let pollInterval: Duration
    let timeout: Duration
    /// How long a new case's events wait before they are sent, so that what follows at once
    /// (the alerts of the next report, a pattern's next facility) is announced with it.
    let caseGroupWait: Duration
    let metrics: ServiceMetrics
    let usage: DatabaseUsage
    let logger: Logger
    let targets: WebhookTargets
    /// Deliveries claimed per round.
    let batch = 50

    public init(
        client: PostgresClient, feed: AlertFeed, policy: WebhookRetryPolicy = .init(), pollInterval: Duration = .seconds(1),
        timeout: Duration = .seconds(10), caseGroupWait: Duration = .seconds(30), metrics: ServiceMetrics = ServiceMetrics(),
        usage: DatabaseUsage = DatabaseUsage(maximum: 10), targets: WebhookTargets = .init(), logger: Logger
    ) {
        self.targets = targets
        self.caseGroupWait = caseGroupWait
        self.metrics = metrics
        self.usage = usage
        self.client = client
        self.feed = feed
        self.policy = policy
        self.pollInterval = pollInterval
        self.timeout = timeout
        self.logger = logger
    }

    public func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (subscription, signals) = feed.subscribe()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals { wake.yield() }
            }
            group.addTask {
                while !Task.isCancelled {
                    wake.yield()
                    try? await Task.sleep(for: pollInterval)
                }
            }
            group.addTask {
                for await _ in wakes { await deliverDue(http) }
            }
            group.addTask {
                try? await gracefulShutdown()
                wake.finish()
            }
            await group.next()
            group.cancelAll()
        }
        feed.unsubscribe(subscription)
        try? await http.shutdown()
    }

    /// Sends every due delivery, a batch at a time.
    func deliverDue(_ http: HTTPClient) async {
        do {
            while !Task.isCancelled {
                let store = WebhookStore(logger: logger)
                let alerts = AlertStore(logger: logger)
                let lease = timeout + .seconds(30)
                let (due, bodies) = try await withTimeout(.seconds(30)) { [client, logger, batch, usage, caseGroupWait] in
                    try await usage.track {
                        try await client.withConnection { connection in
                            try await connection.systemTransaction(logger: logger) {
                                let due = try await store.claimDue(limit: batch, lease: lease, caseGroupWait: caseGroupWait, on: connection)
                                let events = try await alerts.events(Array(Set(due.map(\.eventID))), on: connection)
                                let byAlert = Dictionary(
                                    try await alerts.alerts(Array(Set(events.map(\.alertID))), on: connection).map { ($0.id, $0) },
                                    uniquingKeysWith: { first, _ in first })
                                var bodies: [Int64: String] = [:]
                                for event in events {
                                    bodies[event.id] = try AlertMessage(event, alert: byAlert[event.alertID]).webhookBody()
                                }
                                // Case events share the alert events' ids: those not found above are theirs.
                                let cases = CaseStore(logger: logger)
                                let caseEvents = try await cases.events(
                                    Array(Set(due.map(\.eventID)).subtracting(bodies.keys)), on: connection)
                                let byCase = Dictionary(
                                    try await cases.cases(Array(Set(caseEvents.map(\.caseID))), on: connection).map { ($0.id, $0) },
                                    uniquingKeysWith: { first, _ in first })
                                for event in caseEvents {
                                    bodies[event.id] = try CaseMessage(event, case: byCase[event.caseID]).webhookBody()
                                }
                                return (due, bodies)
                            }
                        }
                    }
                }
                guard !due.isEmpty else { return }
                let outcomes = await withTaskGroup(of: (DueDelivery, Int?, String?).self) { group in
                    for delivery in due {
                        group.addTask { await send(delivery, body: bodies[delivery.eventID], with: http) }
                    }
                    var all: [(DueDelivery, Int?, String?)] = []
                    for await outcome in group { all.append(outcome) }
                    return all
                }
                let recorded = try await withTimeout(.seconds(30)) { [client, logger, policy, usage] in
                    try await usage.track {
                        try await client.withConnection { connection in
                            try await connection.systemTransaction(logger: logger) {
                                var recorded: [ServiceMetrics.WebhookOutcome] = []
                                for (delivery, status, error) in outcomes {
                                    let delivered = status.map { (200..<300).contains($0) } ?? false
                                    let retryAt =
                                        delivered
                                        ? nil
                                        : policy.nextAttempt(
                                            afterAttempt: delivery.attempt, queuedAt: delivery.queuedAt, now: Date(),
                                            random: Double.random(in: 0..<1))
                                    try await store.record(
                                        delivery.id, delivered: delivered, retryAt: retryAt, httpStatus: status, error: error,
                                        on: connection)
                                    if !delivered && retryAt == nil {
                                        logger.warning(
                                            "webhook delivery given up",
                                            metadata: ["delivery": "\(delivery.id)", "attempts": "\(delivery.attempt)"])
                                    }
                                    recorded.append(delivered ? .delivered : retryAt == nil ? .givenUp : .retrying)
                                }
                                return recorded
                            }
                        }
                    }
                }
                // Counted once committed: a round rolled back is attempted again, and counted then.
                for outcome in recorded { metrics.webhookAttempted(outcome) }
                if due.count < batch { return }
            }
        } catch {
            if !Task.isCancelled {
                logger.error("webhook delivery round failed; will retry", metadata: ["error": "\(DatabaseError.reason(for: error))"])
            }
        }
    }

    /// One attempt: the receiver's status, or the error when there was no answer.
    func send(_ delivery: DueDelivery, body: String?, with http: HTTPClient) async -> (DueDelivery, Int?, String?) {
        guard let body else { return (delivery, nil, "the event is no longer readable") }
        let id = delivery.id.uuidString.lowercased()
        let timestamp = Int(Date().timeIntervalSince1970)
        guard let signature = WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secret: delivery.secret) else {
            return (delivery, nil, "the endpoint's secret cannot sign")
        }
        // Checked again before every attempt: a name may resolve to an internal address later.
        if let reason = targets.refusal(of: delivery.url) {
            return (delivery, nil, "not sent: the URL \(reason)")
        }
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "centinela-webhooks")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: signature)
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await http.execute(request, timeout: .init(timeout))
            _ = try? await response.body.collect(upTo: 64 * 1024)  // read, so the connection can be reused
            return (delivery, Int(response.status.code), nil)
        } catch {
            // What the regulator sees says no more than that nothing answered: the error's details
            // could tell whether an address is reachable from inside (they are in the log).
            logger.notice("webhook delivery got no answer", metadata: ["delivery": "\(id)", "error": "\(error)"])
            let timedOut =
                (error as? HTTPClientError).map { $0 == .deadlineExceeded || $0 == .readTimeout || $0 == .connectTimeout } ?? false
            return (delivery, nil, timedOut ? "no answer within \(timeout)" : "no answer: the connection could not be made or was closed")
        }
    }
}
