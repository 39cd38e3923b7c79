import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A facility's staff roster: kept by the school, read by the school and its regulators; each step
/// one unit in the caller's scope with its audit event. A national identifier is stored only as a
/// keyed hash and never read back.
public struct StaffRoster: Sendable {
    public enum Refusal: Error, Equatable {
        /// No facility with this id in the caller's scope.
        case facilityNotFound
        /// No one with this staff reference on the roster.
        case entryNotFound
        /// Rosters are read by the school and its regulators only.
        case mayNotRead
        /// Only the school maintains its roster.
        case mayNotMaintain
    }

    enum Access { case read, maintain }

    public let database: ServiceDatabase
    var store: RosterStore { RosterStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    public func entries(of facility: Facility.ID, caller: Caller) async throws -> [RosterEntry] {
        try await database.withScope(caller.principal) { connection in
            try await check(facility, caller, .read, on: connection)
            let entries = try await store.entries(of: facility, on: connection)
            try await database.audit(
                caller.event("roster.read", on: "facility", id: facility.description, outcome: .ok, details: ["count": "\(entries.count)"]),
                on: connection)
            return entries
        }
    }

    public func entry(of facility: Facility.ID, staffRef: String, caller: Caller) async throws -> RosterEntry {
        let entry = try await database.withScope(caller.principal) { connection in
            try await check(facility, caller, .read, on: connection)
            let entry = try await store.entry(of: facility, staffRef: staffRef, on: connection)
            try await database.audit(
                caller.event("adult.read", on: "adult", id: entry?.id.description, outcome: entry == nil ? .notFound : .ok), on: connection)
            return entry
        }
        guard let entry else { throw Refusal.entryNotFound }
        return entry
    }

    public func add(to facility: Facility.ID, staffRef: String, _ draft: RosterDraft, caller: Caller) async throws -> RosterEntry {
        let entry = try await database.withScope(caller.principal) { connection in
            try await check(facility, caller, .maintain, on: connection)
            let entry = try await store.add(to: facility, staffRef: staffRef, draft, on: connection)
            try await database.audit(caller.event("adult.create", on: "adult", id: entry?.id.description, outcome: .ok), on: connection)
            return entry
        }
        guard let entry else { throw Refusal.facilityNotFound }
        return entry
    }

    /// Changes what the draft gives; the staff reference never changes.
    public func update(facility: Facility.ID, staffRef: String, _ draft: RosterDraft, caller: Caller) async throws -> RosterEntry {
        let entry = try await database.withScope(caller.principal) { connection in
            try await check(facility, caller, .maintain, on: connection)
            let entry = try await store.update(facility: facility, staffRef: staffRef, draft, on: connection)
            try await database.audit(
                caller.event("adult.update", on: "adult", id: entry?.id.description, outcome: entry == nil ? .notFound : .ok),
                on: connection)
            return entry
        }
        guard let entry else { throw Refusal.entryNotFound }
        return entry
    }

    /// The facility under the caller's scope, and what the caller's role may do with its roster:
    /// not found when it is not theirs to see, refused when their role may not do this.
    private func check(_ id: Facility.ID, _ caller: Caller, _ access: Access, on connection: PostgresConnection) async throws {
        guard let record = try await FacilityStore(logger: database.logger).facility(id: id, on: connection) else {
            throw Refusal.facilityNotFound
        }
        switch access {
        case .read: guard caller.principal.mayHandleReports(of: record.facility.reference) else { throw Refusal.mayNotRead }
        case .maintain: guard caller.principal.mayMaintainRoster(of: record.facility.reference) else { throw Refusal.mayNotMaintain }
        }
    }
}
