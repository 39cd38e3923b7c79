import CentinelaCore
import Foundation
import Logging

/// A regulator's work on cases (docs/alerts.md, "Cases"), each step one unit: in the caller's
/// scope and one transaction, with its audit event. A miss is audited too, then refused.
public struct CaseDesk: Sendable {
    public enum Refusal: Error, Equatable {
        /// No case with this id that the caller may see.
        case caseNotFound
    }

    /// A case as its page shows it: the case, its alerts at the caller's facilities (oldest
    /// first) and its history as far as the caller may see it.
    public struct Dossier: Sendable {
        public var record: CaseRecord
        public var alerts: [AlertRecord]
        public var events: [CaseEventRecord]
        /// Reports behind the case's alerts the caller may see, newest first: its evidence (at most
        /// the number asked for, from the latest alerts' reports).
        public var reports: [ReportSummary] = []
        /// How many distinct reports the case's alerts rest on.
        public var reportCount = 0
    }

    public let database: ServiceDatabase
    var cases: CaseStore { CaseStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    /// Cases the caller may see, most recently updated first, after the cursor.
    public func list(
        status: [Case.Status], kind: Case.Kind?, after cursor: InstantCursor?, limit: Int, total: Bool = false, caller: Caller
    ) async throws
        -> (items: [CaseRecord], total: Int?)
    {
        try await database.withScope(caller.principal) { connection in
            let found = try await cases.list(status: status, kind: kind, after: cursor, limit: limit, on: connection)
            let count = total ? try await cases.count(status: status, kind: kind, on: connection) : nil
            try await database.audit(caller.event("case.list", on: "case", id: nil, outcome: .ok), on: connection)
            return (found, count)
        }
    }

    /// A regulator's inbox: the cases of one status (and kind, and covering a facility within a
    /// jurisdiction), most recently updated first, and how many cases the caller may see in each
    /// status with the same filters, read in one transaction.
    public func inbox(
        status: Case.Status, kind: Case.Kind?, within jurisdictionCode: String? = nil, after cursor: InstantCursor?, limit: Int,
        caller: Caller
    ) async throws
        -> (items: [CaseRecord], counts: [Case.Status: Int])
    {
        try await database.withScope(caller.principal) { connection in
            let within = try await FacilityStore(logger: database.logger).subtree(jurisdictionCode, on: connection)
            let found = try await cases.list(status: [status], kind: kind, within: within, after: cursor, limit: limit, on: connection)
            var counts: [Case.Status: Int] = [:]
            for each in Case.Status.allCases {
                counts[each] = try await cases.count(status: [each], kind: kind, within: within, on: connection)
            }
            try await database.audit(
                caller.event("case.list", on: "case", id: nil, outcome: .ok, details: ["status": status.rawValue]), on: connection)
            return (found, counts)
        }
    }

    /// The map's figures: cases not closed per state, in the caller's scope (audited as one read).
    public func openByState(caller: Caller) async throws -> [(state: String, cases: Int, facilities: Int)] {
        try await database.withScope(caller.principal) { connection in
            let found = try await cases.openByState(on: connection)
            try await database.audit(caller.event("case.map", on: "case", id: nil, outcome: .ok), on: connection)
            return found
        }
    }

    /// `evidence`: how many of the reports behind its alerts to read as well (none by default: a
    /// national network case rests on a thousand reports).
    public func dossier(_ id: Case.ID, evidence: Int = 0, caller: Caller) async throws -> Dossier {
        let found = try await database.withScope(caller.principal) { connection -> Dossier? in
            let record = try await cases.case(id, on: connection)
            var dossier: Dossier?
            if let record {
                let ids = try await cases.alertIDs(of: id, on: connection)
                let byID = Dictionary(try await AlertStore(logger: database.logger).alerts(ids, on: connection).map { ($0.id, $0) }) {
                    a, _ in a
                }
                let alerts = ids.compactMap { byID[$0] }
                var seen = Set<IncidentReport.ID>()
                let behind = alerts.reversed().flatMap(\.reports).filter { seen.insert($0).inserted }
                dossier = Dossier(
                    record: record, alerts: alerts, events: try await cases.events(of: id, on: connection),
                    reports: try await ReportStore(logger: database.logger).summaries(Array(behind.prefix(evidence)), on: connection),
                    reportCount: behind.count)
            }
            try await database.audit(
                caller.event("case.read", on: "case", id: id.description, outcome: record == nil ? .notFound : .ok), on: connection)
            return dossier
        }
        guard let found else { throw Refusal.caseNotFound }
        return found
    }

    public func events(of id: Case.ID, caller: Caller) async throws -> [CaseEventRecord] {
        let events = try await database.withScope(caller.principal) { connection -> [CaseEventRecord]? in
            let found = try await cases.case(id, on: connection)
            let events = found == nil ? nil : try await cases.events(of: id, on: connection)
            try await database.audit(
                caller.event("case.events", on: "case", id: id.description, outcome: found == nil ? .notFound : .ok), on: connection)
            return events
        }
        guard let events else { throw Refusal.caseNotFound }
        return events
    }

    /// Appends a regulator's step; throws `CaseStoreError` for one that cannot follow the case's
    /// status, or on a case merged into another.
    public func apply(_ transition: CaseTransition, to id: Case.ID, caller: Caller) async throws -> CaseEventRecord {
        let event = try await database.withScope(caller.principal) { connection in
            let event = try await cases.apply(transition, to: id, by: caller.principal, on: connection)
            try await database.audit(
                caller.event(
                    "case.\(transition.eventKind.rawValue)", on: "case", id: id.description, outcome: event == nil ? .notFound : .ok),
                on: connection)
            return event
        }
        guard let event else { throw Refusal.caseNotFound }
        return event
    }
}
