import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A stored jurisdiction, with its parent's code for display.
public struct JurisdictionRecord: Sendable, Equatable {
    public var jurisdiction: Jurisdiction
    public var parentCode: String?
}

/// A stored facility, with its jurisdiction's code and its timestamps.
public struct FacilityRecord: Sendable, Equatable {
    public var facility: Facility
    public var jurisdictionCode: String
    public var createdAt: Date
    public var updatedAt: Date
    /// The current risk score, when there is one the caller may see.
    public var risk: RiskSummary?
}

/// What a facility list shows of its current score.
public struct RiskSummary: Sendable, Equatable {
    public var score: Double
    /// The factors' points before the display cap of 100.
    public var total: Double
    public var band: RiskBand
    public var modelBand: RiskBand
    public var asOf: Date
}

public enum FacilityStoreError: Error, Equatable, CustomStringConvertible {
    case duplicateCode(String)
    case unknownJurisdiction(String)
    case unknownParent(String)
    case levelMismatch(String)

    public var description: String {
        switch self {
        case .duplicateCode(let code): "\(code) is already registered"
        case .unknownJurisdiction(let code): "no jurisdiction has the code \(code)"
        case .unknownParent(let code): "no jurisdiction has the code \(code)"
        case .levelMismatch(let rule): rule
        }
    }
}

/// Filters of a facility list.
public struct FacilityFilter: Sendable, Equatable {
    public var jurisdictionCode: String?
    /// A jurisdiction and everything under it (a state and its municipalities).
    public var withinCode: String?
    public var kind: Facility.Kind?
    /// Only facilities whose current band is one of these.
    public var bands: [RiskBand]?

    public init(jurisdictionCode: String? = nil, withinCode: String? = nil, kind: Facility.Kind? = nil, bands: [RiskBand]? = nil) {
        self.jurisdictionCode = jurisdictionCode
        self.withinCode = withinCode
        self.kind = kind
        self.bands = bands
    }
}

/// Where a list sorted by score ends: the last facility's score, total (the points above the
/// display cap of 100 still rank) and code.
public struct ScoreCursor: Sendable, Equatable {
    public var score: Double
    public var total: Double
    public var code: String

    public init(score: Double, total: Double, code: String) {
        self.score = score
        self.total = total
        self.code = code
    }

    public var text: String { "\(score)|\(total)|\(code)" }

    public init?(text: String) {
        let parts = text.split(separator: "|", maxSplits: 2)
        guard parts.count == 3, let score = Double(parts[0]), let total = Double(parts[1]), score >= -1, score <= 100,
            total >= -1, total.isFinite
        else { return nil }
        self.init(score: score, total: total, code: String(parts[2]))
    }
}

/// Jurisdictions and facilities. Every function runs on a connection already scoped to the caller
/// (``ServiceDatabase/withScope(_:_:)``), so row-level security decides what exists for them.
public struct FacilityStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    // MARK: Jurisdictions

    public func createJurisdiction(
        code: String, name: String, level: Jurisdiction.Level, parentCode: String?, language: String,
        on connection: PostgresConnection
    ) async throws -> JurisdictionRecord {
        var parent: JurisdictionRecord?
        if let parentCode {
            parent = try await jurisdiction(code: parentCode, on: connection)
            guard parent != nil else { throw FacilityStoreError.unknownParent(parentCode) }
        }
        switch (level, parent?.jurisdiction.level) {
        case (.country, nil), (.state, .country), (.municipality, .state): break
        case (.country, _): throw FacilityStoreError.levelMismatch("a country has no parent")
        case (.state, _): throw FacilityStoreError.levelMismatch("a state's parent must be a country")
        case (.municipality, _): throw FacilityStoreError.levelMismatch("a municipality's parent must be a state")
        }
        do {
            try await connection.query(
                """
                INSERT INTO jurisdictions (code, name, level, parent_id, language)
                VALUES (\(code), \(name), \(level.rawValue), \(parent?.jurisdiction.id.rawValue), \(language))
                """, logger: logger)
        } catch let error where DatabaseError.sqlState(of: error) == "23505" {
            throw FacilityStoreError.duplicateCode(code)
        }
        guard let created = try await jurisdiction(code: code, on: connection) else {
            throw FacilityStoreError.unknownJurisdiction(code)
        }
        return created
    }

    public func jurisdictions(on connection: PostgresConnection) async throws -> [JurisdictionRecord] {
        try await readJurisdictions(code: nil, on: connection)
    }

    public func jurisdiction(code: String, on connection: PostgresConnection) async throws -> JurisdictionRecord? {
        try await readJurisdictions(code: code, on: connection).first
    }

    private func readJurisdictions(code: String?, on connection: PostgresConnection) async throws -> [JurisdictionRecord] {
        let rows = try await connection.query(
            """
            SELECT j.id, j.code, j.name, j.level, j.parent_id, p.code, j.language
            FROM jurisdictions j LEFT JOIN jurisdictions p ON p.id = j.parent_id
            WHERE \(code)::text IS NULL OR j.code = \(code)
            ORDER BY j.code
            """, logger: logger)
        var records: [JurisdictionRecord] = []
        for try await (id, code, name, level, parentID, parentCode, language)
            in rows.decode((UUID, String, String, String, UUID?, String?, String).self)
        {
            records.append(
                JurisdictionRecord(
                    jurisdiction: Jurisdiction(
                        id: .init(id), code: code, name: name, level: Jurisdiction.Level(rawValue: level) ?? .state,
                        parentID: parentID.map(Jurisdiction.ID.init), language: language),
                    parentCode: parentCode))
        }
        return records
    }

    // MARK: Facilities

    public func createFacility(_ draft: FacilityDraft, on connection: PostgresConnection) async throws -> FacilityRecord {
        guard let jurisdiction = try await jurisdiction(code: draft.jurisdictionCode, on: connection) else {
            throw FacilityStoreError.unknownJurisdiction(draft.jurisdictionCode)
        }
        var id: UUID?
        do {
            let rows = try await connection.query(
                """
                INSERT INTO facilities (external_code, name, kind, jurisdiction_id, street, locality, postal_code, enrolment)
                VALUES (\(draft.code), \(draft.name), \(draft.kind.rawValue), \(jurisdiction.jurisdiction.id.rawValue),
                        \(draft.address.street), \(draft.address.locality), \(draft.address.postalCode), \(draft.enrolment))
                RETURNING id
                """, logger: logger)
            for try await value in rows.decode(UUID.self) { id = value }
        } catch let error where DatabaseError.sqlState(of: error) == "23505" {
            throw FacilityStoreError.duplicateCode(draft.code)
        }
        guard let id, let record = try await facility(id: .init(id), on: connection) else {
            throw FacilityStoreError.duplicateCode(draft.code)
        }
        return record
    }

    /// Replaces the described fields of a facility (its code never changes). Nil when the facility
    /// does not exist for this caller.
    public func updateFacility(
        id: Facility.ID, name: String?, kind: Facility.Kind?, jurisdictionCode: String?, address: Address?,
        enrolment: Int??, on connection: PostgresConnection
    ) async throws -> FacilityRecord? {
        guard var current = try await facility(id: id, on: connection) else { return nil }
        if let jurisdictionCode {
            guard let jurisdiction = try await jurisdiction(code: jurisdictionCode, on: connection) else {
                throw FacilityStoreError.unknownJurisdiction(jurisdictionCode)
            }
            current.facility.jurisdictionID = jurisdiction.jurisdiction.id
        }
        if let name { current.facility.name = name }
        if let kind { current.facility.kind = kind }
        if let address { current.facility.address = address }
        if let enrolment { current.facility.enrolment = enrolment }
        let f = current.facility
        try await connection.query(
            """
            UPDATE facilities SET name = \(f.name), kind = \(f.kind.rawValue), jurisdiction_id = \(f.jurisdictionID.rawValue),
                street = \(f.address.street), locality = \(f.address.locality), postal_code = \(f.address.postalCode),
                enrolment = \(f.enrolment), updated_at = now()
            WHERE id = \(id.rawValue)
            """, logger: logger)
        return try await facility(id: id, on: connection)
    }

    /// The id of the facility with this code, in the caller's scope.
    public func facilityID(code: String, on connection: PostgresConnection) async throws -> Facility.ID? {
        for try await id in try await connection.query("SELECT id FROM facilities WHERE external_code = \(code)", logger: logger)
            .decode(UUID.self)
        { return Facility.ID(id) }
        return nil
    }

    public func facility(id: Facility.ID, on connection: PostgresConnection) async throws -> FacilityRecord? {
        try await readFacilities(
            "WHERE f.id = \(id.rawValue)", on: connection
        ).first
    }

    public func facility(code: String, on connection: PostgresConnection) async throws -> FacilityRecord? {
        try await readFacilities("WHERE f.external_code = \(code)", on: connection).first
    }

    /// A page of facilities in code order, after the code `after` (the cursor), at most `limit`.
    public func facilities(
        _ filter: FacilityFilter, after: String?, limit: Int, on connection: PostgresConnection
    ) async throws -> [FacilityRecord] {
        try await list(filter, byScore: false, afterCode: after, afterScore: nil, afterTotal: nil, limit: limit, on: connection)
    }

    /// Facilities by current score, highest first (unscored ones last), then by the points above
    /// the cap, then by code.
    public func facilitiesByScore(
        _ filter: FacilityFilter, after: ScoreCursor?, limit: Int, on connection: PostgresConnection
    ) async throws -> [FacilityRecord] {
        try await list(
            filter, byScore: true, afterCode: after?.code, afterScore: after?.score, afterTotal: after?.total, limit: limit,
            on: connection)
    }

    private func list(
        _ filter: FacilityFilter, byScore: Bool, afterCode: String?, afterScore: Double?, afterTotal: Double?, limit: Int,
        on connection: PostgresConnection
    ) async throws -> [FacilityRecord] {
        try await readFacilities(
            Self.listCondition(
                filter, within: try await subtree(filter.withinCode, on: connection), byScore: byScore, afterCode: afterCode,
                afterScore: afterScore, afterTotal: afterTotal, limit: limit),
            on: connection)
    }

    /// A jurisdiction and every jurisdiction below it, by id (none for an unknown code); nil for
    /// no code. Read apart from the list, so that the list is planned knowing them: planned
    /// through a recursive CTE, a state's 8,000 facilities (nationally) were estimated at 60,000
    /// and joined to every score by a scan (0.57 s for the 50 highest).
    func subtree(_ code: String?, on connection: PostgresConnection) async throws -> [UUID]? {
        guard let code else { return nil }
        var ids: [UUID] = []
        for try await id in try await connection.query(
            """
            WITH RECURSIVE tree AS (
                SELECT id FROM jurisdictions WHERE code = \(code)
                UNION ALL
                SELECT c.id FROM jurisdictions c JOIN tree t ON c.parent_id = t.id)
            SELECT id FROM tree
            """, logger: logger
        ).decode(UUID.self) {
            ids.append(id)
        }
        return ids
    }

    /// How many facilities the list would show across all its pages (whatever its order).
    public func count(_ filter: FacilityFilter, on connection: PostgresConnection) async throws -> Int {
        let condition = Self.listCondition(
            filter, within: try await subtree(filter.withinCode, on: connection), byScore: false, afterCode: nil, afterScore: nil,
            afterTotal: nil, limit: nil)
        return try await connection.count(
            of: PostgresQuery(unsafeSQL: "SELECT 1 " + Self.listed + "\n" + condition.sql, binds: condition.binds), logger: logger)
    }

    /// What a list of facilities reads, for its rows and for its count alike.
    static let listed = """
        FROM facilities f JOIN jurisdictions j ON j.id = f.jurisdiction_id
        LEFT JOIN risk_scores s ON s.facility_id = f.id
        """

    /// `within`: the ids of `filter.withinCode`'s subtree (``subtree(_:on:)``).
    static func listCondition(
        _ filter: FacilityFilter, within: [UUID]?, byScore: Bool, afterCode: String?, afterScore: Double?, afterTotal: Double?,
        limit: Int?
    ) -> PostgresQuery {
        """
            WHERE (\(filter.jurisdictionCode)::text IS NULL OR j.code = \(filter.jurisdictionCode))
              AND (\(filter.kind?.rawValue)::text IS NULL OR f.kind = \(filter.kind?.rawValue))
              AND (\(filter.bands?.map(\.rawValue))::text[] IS NULL OR s.band = ANY(\(filter.bands?.map(\.rawValue))::text[]))
              AND (\(within)::uuid[] IS NULL OR f.jurisdiction_id = ANY(\(within)::uuid[]))
              AND (\(afterCode)::text IS NULL
                   OR (NOT \(byScore) AND f.external_code > \(afterCode))
                   OR (\(byScore) AND (coalesce(s.score, -1), coalesce(s.total, -1), \(afterCode)::text)
                                      < (\(afterScore)::float8, \(afterTotal)::float8, f.external_code)))
            ORDER BY CASE WHEN \(byScore) THEN coalesce(s.score, -1) END DESC,
                     CASE WHEN \(byScore) THEN coalesce(s.total, -1) END DESC, f.external_code
            LIMIT \(limit)
        """
    }

    /// Creates or updates every draft, all or nothing (the caller's transaction); returns how many
    /// were created and how many updated. Errors name the line of the offending row.
    public func importFacilities(
        _ drafts: [(line: Int, draft: FacilityDraft)], on connection: PostgresConnection
    ) async throws -> (created: Int, updated: Int) {
        let jurisdictions = Dictionary(
            uniqueKeysWithValues: try await jurisdictions(on: connection).map { ($0.jurisdiction.code, $0.jurisdiction.id) })
        var rowErrors: [FacilityCSV.RowError] = []
        for (line, draft) in drafts where jurisdictions[draft.jurisdictionCode] == nil {
            rowErrors.append(.init(line: line, column: "jurisdiction", message: "no jurisdiction has the code \(draft.jurisdictionCode)"))
        }
        guard rowErrors.isEmpty else { throw FacilityCSV.ImportErrors(rows: rowErrors) }

        // One statement for the whole file: arrays in, upsert out. Arrays cannot carry NULLs here,
        // so absent optional values travel as '' and -1.
        let codes = drafts.map(\.draft.code)
        let names = drafts.map(\.draft.name)
        let kinds = drafts.map(\.draft.kind.rawValue)
        let jurisdictionIDs = drafts.map { jurisdictions[$0.draft.jurisdictionCode]!.rawValue }
        let streets = drafts.map { $0.draft.address.street ?? "" }
        let localities = drafts.map { $0.draft.address.locality ?? "" }
        let postalCodes = drafts.map { $0.draft.address.postalCode ?? "" }
        let enrolments = drafts.map { $0.draft.enrolment ?? -1 }
        let rows = try await connection.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(codes)::text[], \(names)::text[], \(kinds)::text[], \(jurisdictionIDs)::uuid[],
                                     \(streets)::text[], \(localities)::text[], \(postalCodes)::text[], \(enrolments)::int[])
                    AS i(code, name, kind, jurisdiction_id, street, locality, postal_code, enrolment)
            )
            INSERT INTO facilities AS f (external_code, name, kind, jurisdiction_id, street, locality, postal_code, enrolment)
            SELECT code, name, kind, jurisdiction_id, nullif(street, ''), nullif(locality, ''), nullif(postal_code, ''),
                   nullif(enrolment, -1)
            FROM input
            ON CONFLICT (external_code) DO UPDATE SET
                name = excluded.name, kind = excluded.kind, jurisdiction_id = excluded.jurisdiction_id,
                street = excluded.street, locality = excluded.locality, postal_code = excluded.postal_code,
                enrolment = excluded.enrolment, updated_at = now()
            RETURNING (xmax = 0)
            """, logger: logger)
        var created = 0
        var updated = 0
        for try await inserted in rows.decode(Bool.self) {
            if inserted { created += 1 } else { updated += 1 }
        }
        return (created, updated)
    }

    private func readFacilities(_ condition: PostgresQuery, on connection: PostgresConnection) async throws -> [FacilityRecord] {
        // The condition's $n placeholders stay valid: its binds are the query's only ones.
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT f.id, f.external_code, f.name, f.kind, f.jurisdiction_id, j.code, f.street, f.locality,
                       f.postal_code, f.enrolment, f.created_at, f.updated_at,
                       s.score::float8, s.band, s.model_band, s.as_of, s.total::float8
                """ + "\n" + Self.listed + "\n" + condition.sql,
            binds: condition.binds)
        let rows = try await connection.query(query, logger: logger)
        var records: [FacilityRecord] = []
        for try await (
            id, code, name, kind, jurisdictionID, jurisdictionCode, street, locality, postal, enrolment, created, updated,
            score, band, modelBand, asOf, total
        )
            in rows.decode(
                (
                    UUID, String, String, String, UUID, String, String?, String?, String?, Int?, Date, Date, Double?, String?, String?,
                    Date?, Double?
                ).self)
        {
            var risk: RiskSummary?
            if let score, let band = band.flatMap(RiskBand.init(rawValue:)), let modelBand = modelBand.flatMap(RiskBand.init(rawValue:)),
                let asOf
            {
                risk = RiskSummary(score: score, total: total ?? score, band: band, modelBand: modelBand, asOf: asOf)
            }
            records.append(
                FacilityRecord(
                    facility: Facility(
                        id: .init(id), externalCode: code, name: name, kind: Facility.Kind(rawValue: kind) ?? .other,
                        jurisdictionID: .init(jurisdictionID),
                        address: Address(street: street, locality: locality, postalCode: postal), enrolment: enrolment),
                    jurisdictionCode: jurisdictionCode, createdAt: created, updatedAt: updated, risk: risk))
        }
        return records
    }
}
