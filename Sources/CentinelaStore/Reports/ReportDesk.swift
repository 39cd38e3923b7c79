import CentinelaCore
import Foundation
import Logging

/// Reading reports, appending corrections and regulators' decisions: each step one unit in the
/// caller's scope with its audit event. A report never changes; a miss is audited too, then refused.
public struct ReportDesk: Sendable {
    public enum Refusal: Error, Equatable {
        /// No report with this id in the caller's scope.
        case reportNotFound
        /// Only the facility's regulators decide on its reports.
        case notTheFacilitysRegulator
        /// A decision that cannot follow the report's status.
        case statusCannotChange(from: IncidentReport.Status, to: IncidentReport.Status)
    }

    public let database: ServiceDatabase
    var store: ReportStore { ReportStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    public func report(_ id: IncidentReport.ID, caller: Caller) async throws -> ReportRecord {
        let record = try await database.withScope(caller.principal) { connection in
            let record = try await store.report(id, on: connection)
            try await database.audit(
                caller.event("report.read", on: "report", id: id.description, outcome: record == nil ? .notFound : .ok), on: connection)
            return record
        }
        guard let record else { throw Refusal.reportNotFound }
        return record
    }

    /// What a case file gathers: one facility's reports, or one pattern's.
    public enum CaseFileSubject: Sendable, Equatable {
        case facility(Facility.ID)
        case pattern(UUID)
    }

    /// A case file for a prosecutor or a hearing: the reports of a facility, or of a pattern, the
    /// caller may see, whole (narratives, adults, children's references, decisions, amendments),
    /// oldest first, at most `limit`; read in one transaction and audited as one export
    /// (`facility.export` or `pattern.export`), with its format and how many reports it holds.
    /// Nil when the caller sees no such facility, or no report of such a pattern.
    public func caseFile(
        of subject: CaseFileSubject, format: String, limit: Int = 2000, caller: Caller
    ) async throws -> (reports: [ReportRecord], complete: Bool)? {
        let found = try await database.withScope(caller.principal) { connection -> ([ReportRecord], Bool)? in
            // The newest `limit` reports (one more, to know whether any were left out), shown oldest first.
            var newest: [IncidentReport.ID] = []
            var visible = false
            switch subject {
            case .facility(let facility):
                visible = try await FacilityStore(logger: database.logger).facility(id: facility, on: connection) != nil
                if visible {
                    newest = try await store.list(.init(facilityID: facility), after: nil, limit: limit + 1, on: connection).map(\.id)
                }
            case .pattern(let pattern):
                newest = try await PatternStore(logger: database.logger).reportIDs(of: pattern, newest: limit + 1, on: connection)
                visible = !newest.isEmpty
            }
            let complete = newest.count <= limit
            let records = try await store.reports(newest.prefix(limit).reversed(), on: connection)
            let (action, object, id) =
                switch subject {
                case .facility(let facility): ("facility.export", "facility", facility.description)
                case .pattern(let pattern): ("pattern.export", "pattern", pattern.uuidString.lowercased())
                }
            try await database.audit(
                caller.event(
                    action, on: object, id: id, outcome: visible ? .ok : .notFound,
                    details: ["format": format, "reports": "\(records.count)"]),
                on: connection)
            return visible ? (records, complete) : nil
        }
        return found.map { (reports: $0.0, complete: $0.1) }
    }

    /// Reports the caller may see, newest first, after the cursor; the audit event names the
    /// filter's facility or jurisdiction and how many were shown (`shown`, at most).
    public func list(
        _ filter: ReportFilter, after cursor: InstantCursor?, limit: Int, shown: Int, total: Bool = false, caller: Caller
    ) async throws
        -> (items: [ReportSummary], total: Int?)
    {
        try await database.withScope(caller.principal) { connection in
            let summaries = try await store.list(filter, after: cursor, limit: limit, on: connection)
            let count = total ? try await store.count(filter, on: connection) : nil
            var details = ["count": "\(min(summaries.count, shown))"]
            if let facility = filter.facilityID { details["facility"] = facility.description }
            if let jurisdiction = filter.jurisdictionCode { details["jurisdiction"] = jurisdiction }
            try await database.audit(caller.event("report.list", on: "report", id: nil, outcome: .ok, details: details), on: connection)
            return (summaries, count)
        }
    }

    /// Appends a correction (`changes`, a JSON object); the original never changes.
    public func amend(_ id: IncidentReport.ID, changes: String, note: String?, caller: Caller) async throws -> ReportRecord.Amendment {
        let amendment = try await database.withScope(caller.principal) { connection in
            let amendment = try await store.amend(id, changes: changes, note: note, by: caller.principal, on: connection)
            try await database.audit(
                caller.event("report.amend", on: "report", id: id.description, outcome: amendment == nil ? .notFound : .ok),
                on: connection)
            return amendment
        }
        guard let amendment else { throw Refusal.reportNotFound }
        return amendment
    }

    /// Appends a regulator's decision on the report.
    public func changeStatus(_ id: IncidentReport.ID, to status: IncidentReport.Status, reason: String?, caller: Caller) async throws {
        let found = try await database.withScope(caller.principal) { connection in
            guard let summary = try await store.summary(id, on: connection),
                let facility = try await store.facility(summary.facilityID, on: connection)
            else {
                try await database.audit(
                    caller.event("report.status", on: "report", id: id.description, outcome: .notFound), on: connection)
                return false
            }
            guard caller.principal.mayDecideOnReports(of: facility) else { throw Refusal.notTheFacilitysRegulator }
            guard summary.status.mayChange(to: status) else { throw Refusal.statusCannotChange(from: summary.status, to: status) }
            try await store.changeStatus(id, to: status, reason: reason, by: caller.principal, on: connection)
            try await database.audit(
                caller.event("report.status", on: "report", id: id.description, outcome: .ok, details: ["status": status.rawValue]),
                on: connection)
            return true
        }
        guard found else { throw Refusal.reportNotFound }
    }
}
