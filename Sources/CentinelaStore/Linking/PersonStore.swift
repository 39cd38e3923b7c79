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
