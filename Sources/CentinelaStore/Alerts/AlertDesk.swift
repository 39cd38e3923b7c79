import CentinelaCore
import Foundation
import Logging

/// A regulator's work on alerts (docs/alerts.md), each step one unit: in the caller's scope and
/// one transaction, with its audit event — listing, reading one alert with its history and the
/// score behind it, appending a transition or comment, and the live stream's reads. A miss is
/// audited too, then refused.
public struct AlertDesk: Sendable {
    public enum Refusal: Error, Equatable {
        /// No alert with this id in the caller's jurisdictions.
        case alertNotFound
    }

    /// An alert as its page shows it: the alert, the score when it opened or last had news, its history.
    public struct Dossier: Sendable {
        public var alert: AlertRecord
        public var score: StoredScore?
        public var events: [AlertEventRecord]
    }

    /// What the live stream sends next: alert and case events after a position, in stream order,
    /// with the alerts and cases they belong to, read in one snapshot.
    public struct StreamPage: Sendable {
        public enum Event: Sendable {
            case alert(AlertEventRecord, AlertRecord?)
            case caseEvent(CaseEventRecord, CaseRecord?)
        }
        /// Each event with its position (the stream's SSE id).
        public var events: [(position: Int64, event: Event)]
        /// Where the next read starts: the last position of a full page, otherwise the stream's
        /// head (nothing the caller may see lies between).
        public var reached: Int64
        /// Whether the page was full, so that more may be read at once.
        public var full: Bool
    }

    public let database: ServiceDatabase
    var alerts: AlertStore { AlertStore(logger: database.logger) }
    var cases: CaseStore { CaseStore(logger: database.logger) }
    var stream: StreamStore { StreamStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    /// Alerts in the caller's jurisdictions, newest first, after the cursor; with `total`, how
    /// many the whole list holds.
    public func list(
        _ filter: AlertFilter, after cursor: (openedAtMicroseconds: Int64, id: Alert.ID)?, limit: Int, total: Bool = false,
        caller: Caller
    ) async throws -> (items: [AlertRecord], total: Int?) {
        try await database.withScope(caller.principal) { connection in
            let found = try await alerts.list(filter, after: cursor, limit: limit, on: connection)
            let count = total ? try await alerts.count(filter, on: connection) : nil
            try await database.audit(caller.event("alert.list", on: "alert", id: nil, outcome: .ok), on: connection)
            return (found, count)
        }
    }

    /// A regulator's alert inbox: the alerts of one status that pass the other filters, newest
    /// first, and how many alerts pass those filters in each status, read in one transaction.
    public func inbox(
        _ filter: AlertFilter, status: Alert.Status, after cursor: (openedAtMicroseconds: Int64, id: Alert.ID)?, limit: Int,
        caller: Caller
    ) async throws -> (items: [AlertRecord], counts: [Alert.Status: Int]) {
        try await database.withScope(caller.principal) { connection in
            var listed = filter
            listed.statuses = [status]
            let found = try await alerts.list(listed, after: cursor, limit: limit, on: connection)
            let counts = try await alerts.countsByStatus(filter, on: connection)
            try await database.audit(
                caller.event("alert.list", on: "alert", id: nil, outcome: .ok, details: ["status": status.rawValue]), on: connection)
            return (found, counts)
        }
    }

    public func dossier(_ id: Alert.ID, caller: Caller) async throws -> Dossier {
        let found = try await database.withScope(caller.principal) { connection -> Dossier? in
            let alert = try await alerts.alert(id, on: connection)
            var dossier: Dossier?
            if let alert {
                dossier = Dossier(
                    alert: alert, score: try await alerts.score(of: alert, on: connection),
                    events: try await alerts.events(of: id, on: connection))
            }
            try await database.audit(
                caller.event("alert.read", on: "alert", id: id.description, outcome: alert == nil ? .notFound : .ok), on: connection)
            return dossier
        }
        guard let found else { throw Refusal.alertNotFound }
        return found
    }

    /// Appends a regulator's transition or comment; throws `AlertStoreError` for one that cannot
    /// follow the alert's status or an assignee who may not see it.
    public func apply(_ transition: AlertTransition, to id: Alert.ID, now: Date, caller: Caller) async throws -> AlertEventRecord {
        let event = try await database.withScope(caller.principal) { connection in
            let event = try await alerts.apply(transition, to: id, by: caller.principal, now: now, on: connection)
            try await database.audit(
                caller.event(
                    "alert.\(transition.eventKind.rawValue)", on: "alert", id: id.description, outcome: event == nil ? .notFound : .ok),
                on: connection)
            return event
        }
        guard let event else { throw Refusal.alertNotFound }
        return event
    }

    /// Opens the caller's live stream (audited): where it starts, `resume` (a client's
    /// Last-Event-ID: a position) or the stream's head now.
    public func openStream(resume: Int64?, caller: Caller) async throws -> Int64 {
        try await database.withScope(caller.principal) { connection in
            let head = try await stream.head(on: connection)
            try await database.audit(
                caller.event(
                    "alert.stream", on: "alert", id: nil, outcome: .ok, details: ["last_event_id": resume.map(String.init) ?? "none"]),
                on: connection)
            return resume ?? head
        }
    }

    /// The stream's next read, in one snapshot: under READ COMMITTED each statement sees what is
    /// committed when it starts, and a report's alerts committed between two reads were skipped
    /// for good while their case events were sent.
    public func streamPage(after last: Int64, limit: Int, principal: Principal) async throws -> StreamPage {
        try await database.withSnapshot(principal) { [alerts, cases, stream] connection in
            let places = try await stream.places(after: last, limit: limit, on: connection)
            let full = places.count == limit
            let reached = full ? places.last?.position ?? last : max(last, try await stream.head(on: connection))
            let alertEvents = try await alerts.events(places.compactMap(\.alertEventID), on: connection)
            let caseEvents = try await cases.events(places.compactMap(\.caseEventID), on: connection)
            let alertByID = Dictionary(
                try await alerts.alerts(Array(Set(alertEvents.map(\.alertID))), on: connection).map { ($0.id, $0) },
                uniquingKeysWith: { first, _ in first })
            let caseByID = Dictionary(
                try await cases.cases(Array(Set(caseEvents.map(\.caseID))), on: connection).map { ($0.id, $0) },
                uniquingKeysWith: { first, _ in first })
            let alertEventByID = Dictionary(alertEvents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let caseEventByID = Dictionary(caseEvents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var events: [(position: Int64, event: StreamPage.Event)] = []
            for place in places {
                if let id = place.alertEventID, let event = alertEventByID[id] {
                    events.append((place.position, .alert(event, alertByID[event.alertID])))
                } else if let id = place.caseEventID, let event = caseEventByID[id] {
                    events.append((place.position, .caseEvent(event, caseByID[event.caseID])))
                }
            }
            return StreamPage(events: events, reached: reached, full: full)
        }
    }
}
