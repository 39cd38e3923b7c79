import CentinelaCore
import CentinelaStore
import Foundation
import Prometheus
import Synchronization

/// The service's metrics, exposed in Prometheus' text format at `/metrics` (docs/operations.md
/// lists them). Labels hold route patterns, methods, status codes and controlled vocabularies only:
/// never an id, a name, a path as requested, or anything from a body.
///
/// Two kinds: what this process does (requests, reports it received, webhook attempts), counted
/// as it happens; and what the database holds (facilities by band, open alerts, the outbox, the
/// last rescoring and linking runs, which the cron runs in other processes), set from
/// ``ServiceFigures`` at each scrape.
public final class ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let lastUsage = Mutex(DatabaseUsage.Snapshot(inUse: 0, peakSinceLastSnapshot: 0, acquisitions: 0, heldSeconds: 0))

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        // Series that exist from the start at zero, so that rates and sums see them before the
        // first event, and a dashboard shows 0 rather than "no data".
        for category in IncidentReport.Category.allCases {
            for reporter in IncidentReport.ReporterType.allCases {
                _ = registry.makeCounter(descriptor: Self.reportsIngested.descriptor, labels: Self.reportLabels(category, reporter))
            }
        }
        for outcome in WebhookOutcome.allCases {
            _ = registry.makeCounter(descriptor: Self.webhookDeliveries.descriptor, labels: [("outcome", outcome.rawValue)])
        }
        record(ServiceFigures(), databaseReachable: false)
    }

    // MARK: Names

    /// A metric's name parts and help text (swift-prometheus' descriptor is not Sendable).
    struct Name: Sendable {
        let name: String
        let unit: String
        let help: String
        var descriptor: MetricNameDescriptor {
            MetricNameDescriptor(namespace: "centinela", metricName: name, unitName: unit, helpText: help)
        }
    }

    static func descriptor(_ name: String, unit: String = "", _ help: String) -> Name {
        Name(name: name, unit: unit, help: help)
    }

    static let requests = descriptor("http_requests", unit: "total", "HTTP requests answered, by route pattern, method and status.")
    static let requestDuration = descriptor(
        "http_request_duration", unit: "seconds",
        "Time from a request to its response (a live stream: to its start), by route pattern, method and status.")
    static let reportsIngested = descriptor(
        "reports_ingested", unit: "total", "Incident reports received by this process, by category and reporter type.")
    static let facilities = descriptor("facilities", "Facilities by current risk band (unscored: never scored).")
    static let alertsOpen = descriptor("alerts_open", "Alerts not resolved, by rule and severity.")
    static let webhookDeliveries = descriptor(
        "webhook_deliveries", unit: "total",
        "Webhook delivery attempts by this process, by outcome (delivered, retrying: failed and will be retried, given_up).")
    static let webhookQueueDepth = descriptor("webhook_queue_depth", "Webhook deliveries waiting to be sent or retried.")
    static let webhookDead = descriptor("webhook_deliveries_dead", "Webhook deliveries given up, waiting for a regulator to redeliver.")
    static let webhookOldest = descriptor(
        "webhook_oldest_pending", unit: "seconds", "Age of the oldest webhook delivery waiting (0 with none).")
    static let sequencerPending = descriptor(
        "sequencer_pending_events",
        "Events the audit log's sequencer (sequencer=audit: events and reports to seal) or the live stream's (stream) has not taken yet.")
    static let sequencerOldest = descriptor(
        "sequencer_oldest_pending", unit: "seconds", "Age of the oldest event a sequencer has not taken yet (0 with none), by sequencer.")
    static let rescoreDuration = descriptor(
        "rescore_last_run_duration", unit: "seconds", "Duration of the latest finished-or-running full rescoring run (0 while running).")
    static let rescoreFacilities = descriptor(
        "rescore_last_run_facilities_scored", "Facilities scored by the latest full rescoring run.")
    static let rescoreSucceeded = descriptor(
        "rescore_last_run_succeeded", "1 if the latest full rescoring run succeeded, 0 if it failed or is still running.")
    static let rescoreLastSuccess = descriptor(
        "rescore_last_success", unit: "timestamp_seconds", "When the latest successful full rescoring run finished (0: never).")
    static let linkingRebuildDuration = descriptor(
        "patterns_rebuild_last_duration", unit: "seconds", "Duration of the latest finished full linking and linking rebuild.")
    static let linkingLastSuccess = descriptor(
        "patterns_last_success", unit: "timestamp_seconds",
        "When the latest successful linking run of each kind (rebuild, update) finished (0: never).")
    static let databaseUp = descriptor("database_up", "1 if the database answered the last scrape's queries, else 0.")
    static let connectionsInUse = descriptor("db_connections_in_use", "Pooled database connections held by this process now.")
    static let connectionsPeak = descriptor(
        "db_connections_in_use_peak", "Most pooled connections held at once since the previous scrape.")
    static let connectionsMax = descriptor("db_connections_max", "The pool's configured maximum (DATABASE_MAX_CONNECTIONS).")
    static let connectionAcquisitions = descriptor(
        "db_connection_acquisitions", unit: "total", "Units of work that took a pooled connection.")
    static let connectionHeld = descriptor(
        "db_connection_held_seconds", unit: "total",
        "Seconds pooled connections were held, summed: its rate is the mean number in use.")

    /// Upper bounds for request durations: an API answer should take milliseconds; the long tail
    /// is for large imports.
    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(60),
    ]

    static func reportLabels(_ category: IncidentReport.Category, _ reporter: IncidentReport.ReporterType) -> [(String, String)] {
        [("category", category.rawValue), ("reporter_type", reporter.rawValue)]
    }

    // MARK: Events of this process

    /// `route` is the matched route's pattern (`/v1/reports/{id}`), never the requested path.
    func requestAnswered(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(descriptor: Self.requests.descriptor, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.requestDuration.descriptor, labels: labels, buckets: Self.latencyBuckets)
            .record(duration)
    }

    func reportIngested(_ category: IncidentReport.Category, by reporter: IncidentReport.ReporterType) {
        registry.makeCounter(descriptor: Self.reportsIngested.descriptor, labels: Self.reportLabels(category, reporter)).increment()
    }

    enum WebhookOutcome: String, CaseIterable {
        case delivered
        case retrying
        case givenUp = "given_up"
    }

    func webhookAttempted(_ outcome: WebhookOutcome) {
        registry.makeCounter(descriptor: Self.webhookDeliveries.descriptor, labels: [("outcome", outcome.rawValue)]).increment()
    }

    // MARK: State, at each scrape

    /// Sets the gauges read from the database. Every known label value is set, to zero when
    /// absent, so a series never goes stale at its last value when its count falls to nothing.
    /// When the database could not be read, only `database_up` changes: the rest keep their last
    /// values rather than dropping to a misleading zero.
    func record(_ figures: ServiceFigures, databaseReachable: Bool) {
        registry.makeGauge(descriptor: Self.databaseUp.descriptor).record(databaseReachable ? 1.0 : 0.0)
        guard databaseReachable else { return }
        for band in RiskBand.allCases {
            registry.makeGauge(descriptor: Self.facilities.descriptor, labels: [("band", band.rawValue)])
                .record(Double(figures.facilitiesByBand[band] ?? 0))
        }
        registry.makeGauge(descriptor: Self.facilities.descriptor, labels: [("band", "unscored")]).record(
            Double(figures.unscoredFacilities))
        for rule in Alert.Rule.allCases {
            for severity in Alert.Severity.allCases {
                registry.makeGauge(
                    descriptor: Self.alertsOpen.descriptor, labels: [("rule", rule.rawValue), ("severity", severity.rawValue)]
                )
                .record(Double(figures.openAlerts[.init(rule: rule, severity: severity)] ?? 0))
            }
        }
        registry.makeGauge(descriptor: Self.webhookQueueDepth.descriptor).record(Double(figures.webhookPending))
        registry.makeGauge(descriptor: Self.webhookDead.descriptor).record(Double(figures.webhookDead))
        registry.makeGauge(descriptor: Self.webhookOldest.descriptor).record(figures.webhookOldestPendingSeconds)
        for sequencer in ServiceFigures.Sequencer.allCases {
            let backlog = figures.sequencerBacklog[sequencer]
            registry.makeGauge(descriptor: Self.sequencerPending.descriptor, labels: [("sequencer", sequencer.rawValue)])
                .record(Double(backlog?.pending ?? 0))
            registry.makeGauge(descriptor: Self.sequencerOldest.descriptor, labels: [("sequencer", sequencer.rawValue)])
                .record(backlog?.oldestSeconds ?? 0)
        }

        let rescore = figures.lastFullRescore
        registry.makeGauge(descriptor: Self.rescoreDuration.descriptor).record(rescore?.duration ?? 0)
        registry.makeGauge(descriptor: Self.rescoreFacilities.descriptor).record(Double(rescore?.items ?? 0))
        registry.makeGauge(descriptor: Self.rescoreSucceeded.descriptor).record(rescore?.succeeded == true ? 1.0 : 0.0)
        registry.makeGauge(descriptor: Self.rescoreLastSuccess.descriptor)
            .record(figures.lastSuccessfulFullRescore?.timeIntervalSince1970 ?? 0)
        registry.makeGauge(descriptor: Self.linkingRebuildDuration.descriptor).record(figures.lastLinkingRebuild?.duration ?? 0)
        for kind in ["rebuild", "update"] {
            registry.makeGauge(descriptor: Self.linkingLastSuccess.descriptor, labels: [("kind", kind)])
                .record(figures.lastSuccessfulLinking[kind]?.timeIntervalSince1970 ?? 0)
        }
    }

    func record(_ usage: DatabaseUsage.Snapshot, maximum: Int) {
        registry.makeGauge(descriptor: Self.connectionsInUse.descriptor).record(Double(usage.inUse))
        registry.makeGauge(descriptor: Self.connectionsPeak.descriptor).record(Double(usage.peakSinceLastSnapshot))
        registry.makeGauge(descriptor: Self.connectionsMax.descriptor).record(Double(maximum))
        // The usage keeps running totals; counters move by what was added since the last scrape.
        let previous = lastUsage.withLock { last in
            defer { last = usage }
            return last
        }
        registry.makeCounter(descriptor: Self.connectionAcquisitions.descriptor)
            .increment(by: Int64(max(0, usage.acquisitions - previous.acquisitions)))
        registry.makeCounter(descriptor: Self.connectionHeld.descriptor).increment(by: max(0, usage.heldSeconds - previous.heldSeconds))
    }

    /// The text exposition of every metric.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
