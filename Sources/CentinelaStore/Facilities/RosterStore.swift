import CentinelaCore
import Crypto
import Foundation
import Logging
import PostgresNIO

/// One adult on a facility's staff roster, as stored (the national identifier only as a keyed hash).
public struct RosterEntry: Sendable, Equatable {
    public var id: Adult.ID
    public var facilityID: Facility.ID
    public var staffRef: String
    public var fullName: String
    public var role: Adult.Role
    public var hasNationalID: Bool
    public var dateOfBirth: CalendarDate?
    public var startsOn: CalendarDate?
    public var endsOn: CalendarDate?
    public var createdAt: Date
    public var updatedAt: Date
}

/// The fields of a roster entry a school writes; nil leaves a field as it is on update.
public struct RosterDraft: Sendable, Equatable {
    public var fullName: String?
    public var role: Adult.Role?
    /// HMAC-SHA-256 of the normalised national identifier (see ``NationalIDHasher``).
    public var nationalIDHash: Data?
    public var dateOfBirth: CalendarDate?
    public var startsOn: CalendarDate?
    public var endsOn: CalendarDate?

    public init(
        fullName: String? = nil, role: Adult.Role? = nil, nationalIDHash: Data? = nil, dateOfBirth: CalendarDate? = nil,
        startsOn: CalendarDate? = nil, endsOn: CalendarDate? = nil
    ) {
        self.fullName = fullName
        self.role = role
        self.nationalIDHash = nationalIDHash
        self.dateOfBirth = dateOfBirth
        self.startsOn = startsOn
        self.endsOn = endsOn
    }
}

/// Keyed hashing of national identifiers (e.g. a CURP): equal identifiers match across facilities,
/// while a stolen database does not reveal them and cannot be searched by guessing without the key.
public struct NationalIDHasher: Sendable {
    let key: SymmetricKey

    /// The key must be at least 32 bytes.
    public init?(key: Data) {
        guard key.count >= 32 else { return nil }
        self.key = SymmetricKey(data: key)
    }

    /// Upper-cased, spaces and hyphens removed: "gode 561231-hdfrrl09" and "GODE561231HDFRRL09" match.
    public static func normalise(_ identifier: String) -> String {
        identifier.uppercased().filter { $0 != " " && $0 != "-" }
    }

    /// Nil when the text cannot be a national identifier (4 to 32 letters and digits once normalised).
    public func hash(_ identifier: String) -> Data? {
        let normalised = Self.normalise(identifier)
        guard (4...32).contains(normalised.count), normalised.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        return Data(HMAC<SHA256>.authenticationCode(for: Data(normalised.utf8), using: key))
    }
}

public enum RosterStoreError: Error, Equatable {
    case duplicateStaffRef(String)
    case endsBeforeStart
}

/// Staff rosters, on a connection scoped to the caller.
public struct RosterStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func entries(of facility: Facility.ID, on connection: PostgresConnection) async throws -> [RosterEntry] {
        try await read("WHERE facility_id = \(facility.rawValue) ORDER BY staff_ref", on: connection)
    }

    public func entry(of facility: Facility.ID, staffRef: String, on connection: PostgresConnection) async throws -> RosterEntry? {
        try await read("WHERE facility_id = \(facility.rawValue) AND staff_ref = \(staffRef)", on: connection).first
    }

    public func add(
        to facility: Facility.ID, staffRef: String, _ draft: RosterDraft, on connection: PostgresConnection
    ) async throws -> RosterEntry? {
        if let start = draft.startsOn, let end = draft.endsOn, end < start { throw RosterStoreError.endsBeforeStart }
        do {
            try await connection.query(
                """
                INSERT INTO adults (facility_id, staff_ref, full_name, role, national_id_hmac, date_of_birth, starts_on, ends_on)
                VALUES (\(facility.rawValue), \(staffRef), \(draft.fullName ?? ""), \(draft.role?.rawValue ?? Adult.Role.other.rawValue),
                        \(draft.nationalIDHash), \(draft.dateOfBirth?.description)::date, \(draft.startsOn?.description)::date,
                        \(draft.endsOn?.description)::date)
                """, logger: logger)
        } catch let error where DatabaseError.sqlState(of: error) == "23505" {
            throw RosterStoreError.duplicateStaffRef(staffRef)
        }
        return try await entry(of: facility, staffRef: staffRef, on: connection)
    }

    /// Nil when there is no such entry for this caller.
    public func update(
        facility: Facility.ID, staffRef: String, _ draft: RosterDraft, on connection: PostgresConnection
    ) async throws -> RosterEntry? {
        guard let current = try await entry(of: facility, staffRef: staffRef, on: connection) else { return nil }
        let starts = draft.startsOn ?? current.startsOn
        let ends = draft.endsOn ?? current.endsOn
        if let starts, let ends, ends < starts { throw RosterStoreError.endsBeforeStart }
        try await connection.query(
            """
            UPDATE adults SET
                full_name = coalesce(\(draft.fullName), full_name),
                role = coalesce(\(draft.role?.rawValue), role),
                national_id_hmac = coalesce(\(draft.nationalIDHash), national_id_hmac),
                date_of_birth = coalesce(\(draft.dateOfBirth?.description)::date, date_of_birth),
                starts_on = coalesce(\(draft.startsOn?.description)::date, starts_on),
                ends_on = coalesce(\(draft.endsOn?.description)::date, ends_on),
                updated_at = now()
            WHERE id = \(current.id.rawValue)
            """, logger: logger)
        return try await entry(of: facility, staffRef: staffRef, on: connection)
    }

    private func read(_ condition: PostgresQuery, on connection: PostgresConnection) async throws -> [RosterEntry] {
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT id, facility_id, staff_ref, full_name, role, national_id_hmac IS NOT NULL,
                       to_char(date_of_birth, 'YYYY-MM-DD'), to_char(starts_on, 'YYYY-MM-DD'), to_char(ends_on, 'YYYY-MM-DD'),
                       created_at, updated_at
                FROM adults
                """ + "\n" + condition.sql,
            binds: condition.binds)
        var entries: [RosterEntry] = []
        for try await (id, facility, ref, name, role, hasID, born, starts, ends, created, updated) in try await connection.query(
            query, logger: logger
        ).decode((UUID, UUID, String, String, String, Bool, String?, String?, String?, Date, Date).self) {
            entries.append(
                RosterEntry(
                    id: .init(id), facilityID: .init(facility), staffRef: ref, fullName: name,
                    role: Adult.Role(rawValue: role) ?? .other, hasNationalID: hasID, dateOfBirth: born.flatMap(CalendarDate.init),
                    startsOn: starts.flatMap(CalendarDate.init), endsOn: ends.flatMap(CalendarDate.init),
                    createdAt: created, updatedAt: updated))
        }
        return entries
    }
}
