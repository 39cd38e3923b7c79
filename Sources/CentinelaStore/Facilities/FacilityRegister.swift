import CentinelaCore
import Foundation
import Logging

/// The register of jurisdictions and facilities, each step one unit in the caller's scope: the
/// operator's changes are audited; reading the register is not case data and is not.
public struct FacilityRegister: Sendable {
    public enum Refusal: Error, Equatable {
        /// No facility with this id in the caller's scope.
        case facilityNotFound
    }

    /// How a list of facilities is ordered and where it resumes: by code, or by risk score.
    public enum Order: Sendable {
        case code(after: String?)
        case score(after: ScoreCursor?)
    }

    public let database: ServiceDatabase
    var store: FacilityStore { FacilityStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    public func jurisdictions(caller: Caller) async throws -> [JurisdictionRecord] {
        try await database.withScope(caller.principal) { connection in try await store.jurisdictions(on: connection) }
    }

    public func createJurisdiction(
        code: String, name: String, level: Jurisdiction.Level, parentCode: String?, language: String, caller: Caller
    ) async throws -> JurisdictionRecord {
        try await database.withScope(caller.principal) { connection in
            let record = try await store.createJurisdiction(
                code: code, name: name, level: level, parentCode: parentCode, language: language, on: connection)
            try await database.audit(
                caller.event("jurisdiction.create", on: "jurisdiction", id: record.jurisdiction.id.description, outcome: .ok),
                on: connection)
            return record
        }
    }

    /// A page of the register in the caller's scope; with `total`, how many the whole list holds.
    public func facilities(
        _ filter: FacilityFilter, order: Order, limit: Int, total: Bool = false, caller: Caller
    ) async throws
        -> (items: [FacilityRecord], total: Int?)
    {
        try await database.withScope(caller.principal) { connection in
            let found =
                switch order {
                case .code(let after): try await store.facilities(filter, after: after, limit: limit, on: connection)
                case .score(let after): try await store.facilitiesByScore(filter, after: after, limit: limit, on: connection)
                }
            return (found, total ? try await store.count(filter, on: connection) : nil)
        }
    }

    public func facility(_ id: Facility.ID, caller: Caller) async throws -> FacilityRecord {
        guard let record = try await database.withScope(caller.principal, { try await store.facility(id: id, on: $0) }) else {
            throw Refusal.facilityNotFound
        }
        return record
    }

    public func createFacility(_ draft: FacilityDraft, caller: Caller) async throws -> FacilityRecord {
        try await database.withScope(caller.principal) { connection in
            let record = try await store.createFacility(draft, on: connection)
            try await database.audit(
                caller.event("facility.create", on: "facility", id: record.facility.id.description, outcome: .ok), on: connection)
            return record
        }
    }

    /// Changes what is given (nil leaves a field as it is; `enrolment` `.some(nil)` clears it).
    public func updateFacility(
        _ id: Facility.ID, name: String?, kind: Facility.Kind?, jurisdictionCode: String?, address: Address?, enrolment: Int??,
        caller: Caller
    ) async throws -> FacilityRecord {
        let record = try await database.withScope(caller.principal) { connection in
            let record = try await store.updateFacility(
                id: id, name: name, kind: kind, jurisdictionCode: jurisdictionCode, address: address, enrolment: enrolment, on: connection)
            if let record {
                try await database.audit(
                    caller.event("facility.update", on: "facility", id: record.facility.id.description, outcome: .ok), on: connection)
            }
            return record
        }
        guard let record else { throw Refusal.facilityNotFound }
        return record
    }

    /// All or nothing: every line's facility created or updated, by its code.
    public func importFacilities(_ drafts: [(line: Int, draft: FacilityDraft)], caller: Caller) async throws -> (created: Int, updated: Int)
    {
        try await database.withScope(caller.principal) { connection in
            let counts = try await store.importFacilities(drafts, on: connection)
            try await database.audit(
                caller.event(
                    "facility.import", on: "facility", id: nil, outcome: .ok,
                    details: ["created": "\(counts.created)", "updated": "\(counts.updated)"]),
                on: connection)
            return counts
        }
    }
}
