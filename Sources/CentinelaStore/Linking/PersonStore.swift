import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// An adult as one person across facilities, as a regulator may see them: their records at the
/// caller's facilities, the reports naming those records, and every jurisdiction holding a record
/// of the person (so that the caller knows whom to contact about the rest).
public struct PersonView: Sendable {
    public struct Report: Sendable {
        public var id: IncidentReport.ID
        public var facilityID: Facility.ID
        public var facilityCode: String
        public var facilityName: String
        public var jurisdictionCode: String
        public var receivedAt: Date
        public var category: String
        public var status: String
    }

    /// A link between two of the records shown, with what explains it.
    public struct Link: Sendable {
        public var records: (AdultRecord.ID, AdultRecord.ID)
        public var score: Double
        /// The comparisons as stored: a JSON array of {field, level, weight}.
        public var comparisonsJSON: String
    }

    /// The person's id; nil when the adult is linked to no other record.
    public var personID: UUID?
    public var records: [AdultRecordView]
    /// The links among `records` (those joining the person through records the caller may not
    /// see are not shown), strongest first.
    public var links: [Link]
    public var reports: [Report]
    /// Every jurisdiction holding a record of the person, by code and name, the caller's included.
    public var jurisdictions: [(code: String, name: String)]
}

/// Reads a person in the caller's scope (Schema/0008's policies decide what shows).
public struct PersonStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The person an adult record belongs to; nil when the caller may see no record with this id.
    public func person(of id: AdultRecord.ID, on connection: PostgresConnection) async throws -> PersonView? {
        var personID: UUID?
        var jurisdictionIDs: [UUID] = []
        for try await (person, jurisdictions) in try await connection.query(
            "SELECT person_id, jurisdictions FROM adult_persons WHERE record_id = \(id.rawValue)", logger: logger
        ).decode((UUID, [UUID]).self) {
            personID = person
            jurisdictionIDs = jurisdictions
        }
        var records: [AdultRecordView] = []
        var reportIDs: [UUID] = []
        for try await row in try await connection.query(
            """
            SELECT \(unescaped: LinkReviewStore.recordColumns("r", "f")), r.report_id, f.jurisdiction_id
            FROM adult_records r JOIN facilities f ON f.id = r.facility_id
            WHERE r.id = \(id.rawValue)
               OR (\(personID)::uuid IS NOT NULL AND r.id IN (SELECT p.record_id FROM adult_persons p WHERE p.person_id = \(personID)))
            ORDER BY f.external_code, r.id
            """, logger: logger)
        {
            var c = ColumnReader(row)
            records.append(try LinkReviewStore.record(&c))
            let report = try c.next(UUID?.self)
            let jurisdiction = try c.next(UUID.self)
            if let report { reportIDs.append(report) }
            if personID == nil { jurisdictionIDs = [jurisdiction] }
        }
        guard !records.isEmpty else { return nil }
        let ids = records.map(\.id.rawValue)
        var links: [PersonView.Link] = []
        if records.count > 1 {
            for try await (a, b, score, comparisons) in try await connection.query(
                """
                SELECT record_a, record_b, score, comparisons::text FROM adult_links
                WHERE verdict = 'link' AND record_a = ANY(\(ids)::uuid[]) AND record_b = ANY(\(ids)::uuid[])
                ORDER BY score DESC, record_a, record_b
                """, logger: logger
            ).decode((UUID, UUID, Double, String).self) {
                links.append(.init(records: (.init(a), .init(b)), score: score, comparisonsJSON: comparisons))
            }
        }
        // Reports naming the visible records: roster entries through report_adults (indexed),
        // written names through the report they come from; as each report stands now.
        let roster = records.filter { $0.source == "roster" }.map(\.id.rawValue)
        var reports: [PersonView.Report] = []
        for try await (report, facility, code, name, jurisdiction, received, category, status) in try await connection.query(
            """
            SELECT c.report_id, c.facility_id, f.external_code, f.name, j.code, c.received_at, c.category, c.status
            FROM report_current c JOIN facilities f ON f.id = c.facility_id JOIN jurisdictions j ON j.id = f.jurisdiction_id
            WHERE c.report_id IN (SELECT ra.report_id FROM report_adults ra WHERE ra.adult_id = ANY(\(roster)::uuid[])
                                  UNION SELECT unnest(\(reportIDs)::uuid[]))
            ORDER BY c.received_at, c.report_id
            """, logger: logger
        ).decode((UUID, UUID, String, String, String, Date, String, String).self) {
            reports.append(
                .init(
                    id: .init(report), facilityID: .init(facility), facilityCode: code, facilityName: name, jurisdictionCode: jurisdiction,
                    receivedAt: received, category: category, status: status))
        }
        var jurisdictions: [(code: String, name: String)] = []
        for try await (code, name) in try await connection.query(
            "SELECT code, name FROM jurisdictions WHERE id = ANY(\(jurisdictionIDs)::uuid[]) ORDER BY code", logger: logger
        ).decode((String, String).self) { jurisdictions.append((code, name)) }
        return PersonView(personID: personID, records: records, links: links, reports: reports, jurisdictions: jurisdictions)
    }
}

/// One adult the reports of a facility name, as the facility's regulator sees them: the records
/// of one person (or a lone record) at this facility, and where else the person appears.
public struct ImplicatedAdult: Sendable, Equatable {
    /// One of the person's records here: the person's page in the API (`/v1/adults/{id}`).
    public var recordID: AdultRecord.ID
    /// The names as the reports wrote them, most frequent first.
    public var writtenNames: [String]
    public var roles: [String]
    /// Reports of this facility that name the person.
    public var reports: Int
    /// Codes of the other jurisdictions holding a record of the person (whom to contact).
    public var otherJurisdictions: [String]
    /// Whether a record of the person is at another facility the caller may see.
    public var elsewhere: Bool
}

extension PersonStore {
    /// The adults this facility's reports name, most reports first: the mentions of one person
    /// (as linking grouped them, or one roster entry) together, any other mention on its own;
    /// empty when the caller may see no report there. Read from the reports as they stand, so a
    /// report's adults show before linking has run.
    public func implicated(at facility: Facility.ID, on connection: PostgresConnection) async throws -> [ImplicatedAdult] {
        struct Group {
            var record: AdultRecord.ID
            var names: [String: Int] = [:]
            var roles: Set<String> = []
            var reports: Set<UUID> = []
            var others: Set<String> = []
            var elsewhere = false
        }
        var groups: [UUID: Group] = [:]
        var order: [UUID] = []
        for try await (report, mention, roster, name, role, person, others, elsewhere) in try await connection.query(
            """
            SELECT c.report_id, centinela_mention_record_id(c.report_id, m.position::smallint), c.adult_ids[m.position],
                   coalesce(nullif(m.name, ''), (SELECT w.full_name FROM adults w WHERE w.id = c.adult_ids[m.position]), ''),
                   coalesce(c.adult_roles[m.position], ''), p.person_id,
                   coalesce((SELECT array_agg(j.code ORDER BY j.code) FROM jurisdictions j
                             WHERE j.id = ANY(p.jurisdictions) AND j.id <> f.jurisdiction_id), '{}'),
                   coalesce(EXISTS (SELECT 1 FROM adult_persons o WHERE o.person_id = p.person_id AND o.facility_id <> c.facility_id), false)
            FROM report_current c JOIN facilities f ON f.id = c.facility_id
            CROSS JOIN LATERAL unnest(c.adult_names) WITH ORDINALITY AS m(name, position)
            LEFT JOIN LATERAL (
                SELECT q.person_id, q.jurisdictions FROM adult_persons q
                WHERE q.record_id IN (centinela_mention_record_id(c.report_id, m.position::smallint), c.adult_ids[m.position])
                LIMIT 1) p ON true
            WHERE c.facility_id = \(facility.rawValue)
            ORDER BY c.received_at, c.report_id, m.position
            """, logger: logger
        ).decode((UUID, UUID, UUID?, String, String, UUID?, [String], Bool).self) {
            let key = person ?? roster ?? mention
            var group = groups[key] ?? Group(record: .init(mention))
            if groups[key] == nil { order.append(key) }
            let written = name.trimmingCharacters(in: .whitespaces)
            if !written.isEmpty { group.names[written, default: 0] += 1 }
            if !role.isEmpty { group.roles.insert(role) }
            group.reports.insert(report)
            group.others.formUnion(others)
            group.elsewhere = group.elsewhere || elsewhere
            groups[key] = group
        }
        return order.compactMap { groups[$0] }.map { group in
            ImplicatedAdult(
                recordID: group.record,
                writtenNames: group.names.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key),
                roles: group.roles.sorted(), reports: group.reports.count, otherJurisdictions: group.others.sorted(),
                elsewhere: group.elsewhere)
        }.sorted { ($0.reports, $1.writtenNames.first ?? "") > ($1.reports, $0.writtenNames.first ?? "") }
    }
}
