import CentinelaCore
import Foundation
import Logging

/// Reading a facility's risk score and setting its band by hand (docs/risk-model.md), each step
/// one unit in the caller's scope with its audit event. A miss is audited too, then refused.
public struct RiskDesk: Sendable {
    public enum Refusal: Error, Equatable {
        /// No facility with this id in the caller's scope.
        case facilityNotFound
        /// The facility has no score yet (new facilities and reports are scored within seconds).
        case notScoredYet
        /// Only the facility's regulators set its band by hand.
        case notTheFacilitysRegulator
    }

    public let database: ServiceDatabase
    var scores: ScoreStore { ScoreStore(logger: database.logger) }
    var facilities: FacilityStore { FacilityStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    /// The facility's current score, and the spread of every facility's at the last full rescoring.
    public func current(
        _ id: Facility.ID, caller: Caller
    ) async throws
        -> (facility: FacilityRecord, score: StoredScore, among: ScoreDistribution?)
    {
        let (facility, stored, distribution) = try await database.withScope(caller.principal) { connection in
            let facility = try await facilities.facility(id: id, on: connection)
            let stored = facility == nil ? nil : try await scores.current(id, on: connection)
            try await database.audit(
                caller.event("risk.read", on: "facility", id: id.description, outcome: stored == nil ? .notFound : .ok), on: connection)
            return (facility, stored, stored == nil ? nil : try await scores.distribution(on: connection))
        }
        guard let facility else { throw Refusal.facilityNotFound }
        guard let stored else { throw Refusal.notScoredYet }
        return (facility, stored, distribution)
    }

    /// The facility's past scores, newest first, before the cursor.
    public func history(
        _ id: Facility.ID, before cursor: Int64?, limit: Int, total: Bool = false, caller: Caller
    ) async throws
        -> (facility: FacilityRecord, rows: [(id: Int64, score: StoredScore)], total: Int?)
    {
        let (facility, rows, count) = try await database.withScope(caller.principal) { connection in
            let facility = try await facilities.facility(id: id, on: connection)
            let rows = facility == nil ? [] : try await scores.history(id, before: cursor, limit: limit, on: connection)
            let count = facility != nil && total ? try await scores.historyCount(id, on: connection) : nil
            try await database.audit(
                caller.event("risk.history", on: "facility", id: id.description, outcome: facility == nil ? .notFound : .ok),
                on: connection)
            return (facility, rows, count)
        }
        guard let facility else { throw Refusal.facilityNotFound }
        return (facility, rows, count)
    }

    /// The facility's past scores as points (when, score, band), newest first, at most `limit`;
    /// audited as the history it is.
    public func trail(_ id: Facility.ID, limit: Int, caller: Caller) async throws -> (facility: FacilityRecord, points: [ScorePoint]) {
        let (facility, points) = try await database.withScope(caller.principal) { connection in
            let facility = try await facilities.facility(id: id, on: connection)
            let points = facility == nil ? [] : try await scores.trail(id, limit: limit, on: connection)
            try await database.audit(
                caller.event("risk.history", on: "facility", id: id.description, outcome: facility == nil ? .notFound : .ok),
                on: connection)
            return (facility, points)
        }
        guard let facility else { throw Refusal.facilityNotFound }
        return (facility, points)
    }

    /// Sets (or, with no band, clears) the facility's manual band; the band follows within seconds.
    public func setOverride(
        facility id: Facility.ID, band: RiskBand?, reason: String, expiresAt: Date?, caller: Caller
    ) async throws
        -> (id: UUID, setAt: Date, facility: FacilityRecord)
    {
        let recorded: (id: UUID, setAt: Date, facility: FacilityRecord)? = try await database.withScope(caller.principal) { connection in
            guard let facility = try await facilities.facility(id: id, on: connection) else {
                try await database.audit(
                    caller.event("risk.override", on: "facility", id: id.description, outcome: .notFound), on: connection)
                return nil
            }
            guard caller.principal.mayDecideOnReports(of: facility.facility.reference) else { throw Refusal.notTheFacilitysRegulator }
            let recorded = try await scores.recordOverride(
                facility: id, band: band, reason: reason, expiresAt: expiresAt, by: caller.principal, on: connection)
            try await database.audit(
                caller.event(
                    "risk.override", on: "facility", id: id.description, outcome: .ok,
                    details: ["band": band?.rawValue ?? "cleared", "expires_at": expiresAt.map { $0.formatted(.iso8601) } ?? ""]),
                on: connection)
            return (recorded.id, recorded.setAt, facility)
        }
        guard let recorded else { throw Refusal.facilityNotFound }
        return recorded
    }
}
