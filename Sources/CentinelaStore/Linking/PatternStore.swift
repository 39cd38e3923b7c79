import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A pattern as a regulator sees it: the whole pattern's extent, and their own side of it.
public struct PatternRecord: Sendable {
    public var id: UUID
    /// `modus_operandi` or `network`.
    public var kind: String
    public var signature: [String]
    /// Totals over every jurisdiction.
    public var facilities: Int
    public var reports: Int
    /// Every jurisdiction the pattern spans, by code and name.
    public var jurisdictions: [(code: String, name: String)]
    public var firstReceived: Date
    public var lastReceived: Date
    public var foundAt: Date
    /// Of its facilities, those the caller may see, each with the group it is in.
    public var visibleFacilities: [(id: Facility.ID, code: String, name: String, jurisdictionCode: String, group: Int)]
    /// The facilities of each group inside it, over every jurisdiction, largest first: the
    /// facilities an adult ties together; a network is one group (docs/linking.md, section 2).
    public var groupSizes: [Int]
}

/// An adult named at a facility in one of a pattern's reports: the edge of its network.
public struct PatternTie: Sendable, Hashable {
    public var facilityID: Facility.ID
    /// The person (linked records) or, unlinked, the record.
    public var person: UUID
    /// The name as the report gives it, or as the roster does for someone on it.
    public var name: String
}

/// One of a pattern's reports the caller may see.
public struct PatternReport: Sendable {
    public var id: IncidentReport.ID
    public var facilityID: Facility.ID
    public var facilityCode: String
    public var facilityName: String
    public var jurisdictionCode: String
    public var receivedAt: Date
    public var category: String
    public var status: String
    public var modusOperandi: [String]
}

/// Patterns found by the last rebuild (docs/linking.md), in the caller's scope: a regulator sees a
/// pattern that touches one of their facilities, its reports at those facilities, and which other
/// jurisdictions hold the rest.
public struct PatternStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// A pattern's columns, then its jurisdictions' codes and names, then the facilities the caller
    /// may see (ids, codes, names, jurisdictions' codes), each list gathered once.
    static let columns = """
        p.id, p.kind, p.signature, p.facilities, p.reports, p.first_received, p.last_received, p.found_at,
        j.codes, j.names, v.ids, v.codes, v.names, v.jurisdictions, v.groups, p.group_sizes
        """

    /// Joined after `patterns p` by every query that reads `columns`.
    static let lists = """
        CROSS JOIN LATERAL (
            SELECT coalesce(array_agg(j.code ORDER BY j.code), '{}') AS codes, coalesce(array_agg(j.name ORDER BY j.code), '{}') AS names
            FROM jurisdictions j WHERE j.id = ANY(p.jurisdictions)
        ) j
        CROSS JOIN LATERAL (
            SELECT coalesce(array_agg(f.id ORDER BY f.external_code), '{}') AS ids,
                   coalesce(array_agg(f.external_code ORDER BY f.external_code), '{}') AS codes,
                   coalesce(array_agg(f.name ORDER BY f.external_code), '{}') AS names,
                   coalesce(array_agg(fj.code ORDER BY f.external_code), '{}') AS jurisdictions,
                   coalesce(array_agg(g.facility_group::integer ORDER BY f.external_code), '{}') AS groups
            FROM facilities f JOIN jurisdictions fj ON fj.id = f.jurisdiction_id
            JOIN (SELECT r.facility_id, min(r.facility_group) AS facility_group FROM pattern_reports r
                  WHERE r.pattern_id = p.id GROUP BY r.facility_id) g ON g.facility_id = f.id
        ) v
        """

    /// Patterns the caller may see, most recently active first (by their last report's receipt),
    /// after the cursor.
    public func list(
        kind: String?, after cursor: InstantCursor?, limit: Int, on connection: PostgresConnection
    ) async throws -> [PatternRecord] {
        try await records(Self.listQuery(kind: kind, after: cursor, limit: limit), on: connection)
    }

    /// How many patterns the list would show across all its pages.
    public func count(kind: String?, on connection: PostgresConnection) async throws -> Int {
        try await connection.count(of: Self.listQuery(kind: kind, after: nil, limit: nil), logger: logger)
    }

    /// The list's query; with no limit, the rows to count (no columns, no order).
    static func listQuery(kind: String?, after cursor: InstantCursor?, limit: Int?) -> PostgresQuery {
        """
            SELECT \(unescaped: limit == nil ? "1" : Self.columns) FROM patterns p \(unescaped: limit == nil ? "" : Self.lists)
            WHERE (\(kind)::text IS NULL OR p.kind = \(kind))
              AND (\(cursor?.microseconds)::bigint IS NULL
                   OR (p.last_received, p.id) < ('epoch'::timestamptz + \(cursor?.microseconds)::bigint * interval '1 microsecond',
                                                 \(cursor?.id)::uuid))
            \(unescaped: limit == nil ? "" : "ORDER BY p.last_received DESC, p.id DESC")
            LIMIT \(limit)
        """
    }

    /// One pattern and its reports the caller may see; nil when the caller sees no such pattern.
    public func pattern(_ id: UUID, on connection: PostgresConnection) async throws -> (PatternRecord, [PatternReport])? {
        guard
            let pattern = try await records(
                "SELECT \(unescaped: Self.columns) FROM patterns p \(unescaped: Self.lists) WHERE p.id = \(id)", on: connection
            ).first
        else { return nil }
        var reports: [PatternReport] = []
        for try await (report, facility, code, name, jurisdiction, received, category, status, tags) in try await connection.query(
            """
            SELECT c.report_id, c.facility_id, f.external_code, f.name, j.code, c.received_at, c.category, c.status, c.mo_tags
            FROM pattern_reports r JOIN report_current c ON c.report_id = r.report_id
            JOIN facilities f ON f.id = c.facility_id JOIN jurisdictions j ON j.id = f.jurisdiction_id
            WHERE r.pattern_id = \(id)
            ORDER BY c.received_at, c.report_id
            """, logger: logger
        ).decode((UUID, UUID, String, String, String, Date, String, String, [String]).self) {
            reports.append(
                PatternReport(
                    id: .init(report), facilityID: .init(facility), facilityCode: code, facilityName: name, jurisdictionCode: jurisdiction,
                    receivedAt: received, category: category, status: status, modusOperandi: tags))
        }
        return (pattern, reports)
    }

    /// The newest `limit` reports of a pattern the caller may see, newest first.
    public func reportIDs(of pattern: UUID, newest limit: Int, on connection: PostgresConnection) async throws -> [IncidentReport.ID] {
        var ids: [IncidentReport.ID] = []
        for try await id in try await connection.query(
            """
            SELECT p.report_id FROM pattern_reports p JOIN report_current c ON c.report_id = p.report_id
            WHERE p.pattern_id = \(pattern) ORDER BY c.received_at DESC, p.report_id DESC LIMIT \(Int32(clamping: limit))
            """, logger: logger
        ).decode(UUID.self) { ids.append(.init(id)) }
        return ids
    }

    /// Who the pattern's reports name, and where: one tie for each adult named at a facility in a
    /// report of the pattern the caller may see. An adult is their person when linking joined
    /// their records (so one person named at several schools is one node), else the record.
    public func network(of id: UUID, on connection: PostgresConnection) async throws -> [PatternTie] {
        // The person of each mention is looked up by the mention's two possible record ids (its
        // roster entry, else the mention's own): joined on the one computed id instead, PostgreSQL
        // scanned every person record through its row-level check (0.1–0.2 s nationally; 10 ms so).

        var ties: [PatternTie] = []
        for try await (facility, person, name) in try await connection.query(
            """
            SELECT DISTINCT c.facility_id, coalesce(p.person_id, x.record), coalesce(nullif(c.adult_names[n.i], ''), a.full_name, '—')
            FROM pattern_reports r JOIN report_current c ON c.report_id = r.report_id
            CROSS JOIN LATERAL generate_subscripts(c.adult_names, 1) AS n(i)
            CROSS JOIN LATERAL (SELECT coalesce(c.adult_ids[n.i], centinela_mention_record_id(c.report_id, n.i::smallint))) AS x(record)
            LEFT JOIN LATERAL (
                SELECT q.person_id FROM adult_persons q
                WHERE q.record_id IN (c.adult_ids[n.i], centinela_mention_record_id(c.report_id, n.i::smallint))
                  AND (c.adult_ids[n.i] IS NULL OR q.record_id = c.adult_ids[n.i])
                LIMIT 1) p ON true
            LEFT JOIN adults a ON a.id = c.adult_ids[n.i]
            WHERE r.pattern_id = \(id)
            """, logger: logger
        ).decode((UUID, UUID, String).self) {
            ties.append(PatternTie(facilityID: .init(facility), person: person, name: name))
        }
        return ties
    }

    private func records(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PatternRecord] {
        var found: [PatternRecord] = []
        for try await row in try await connection.query(query, logger: logger) {
            var c = ColumnReader(row)
            let id = try c.next(UUID.self)
            let kind = try c.next(String.self)
            let signature = try c.next([String].self)
            let facilities = try c.next(Int.self)
            let reports = try c.next(Int.self)
            let first = try c.next(Date.self)
            let last = try c.next(Date.self)
            let foundAt = try c.next(Date.self)
            let codes = try c.next([String].self)
            let names = try c.next([String].self)
            let facilityIDs = try c.next([UUID].self)
            let facilityCodes = try c.next([String].self)
            let facilityNames = try c.next([String].self)
            let facilityJurisdictions = try c.next([String].self)
            let facilityGroups = try c.next([Int32].self)
            let groupSizes = try c.next([Int32].self)
            found.append(
                PatternRecord(
                    id: id, kind: kind, signature: signature, facilities: facilities, reports: reports,
                    jurisdictions: zip(codes, names).map { ($0, $1) }, firstReceived: first, lastReceived: last, foundAt: foundAt,
                    visibleFacilities: facilityIDs.indices.map {
                        (
                            Facility.ID(facilityIDs[$0]), facilityCodes[$0], facilityNames[$0], facilityJurisdictions[$0],
                            Int(facilityGroups[$0])
                        )
                    },
                    groupSizes: groupSizes.map(Int.init)))
        }
        return found
    }
}
