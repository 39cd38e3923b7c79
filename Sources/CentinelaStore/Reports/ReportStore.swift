import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A stored report with everything appended to it since.
public struct ReportRecord: Sendable, Equatable {
    public struct Adult: Sendable, Equatable {
        public var position: Int
        public var adultID: CentinelaCore.Adult.ID?
        public var staffRef: String?
        public var name: String
        public var role: String
    }

    public struct StatusChange: Sendable, Equatable {
        public var status: IncidentReport.Status
        public var reason: String?
        public var changedAt: Date
        public var changedBy: String?
    }

    public struct Amendment: Sendable, Equatable {
        public var id: UUID
        /// The corrected fields, as JSON text.
        public var changes: String
        public var note: String?
        public var amendedAt: Date
        public var amendedBy: String?
    }

    public var summary: ReportSummary
    public var occurredFrom: CalendarDate
    public var occurredTo: CalendarDate
    public var occurredApproximate: Bool
    public var discoveredOn: CalendarDate
    public var modusOperandi: [String]
    public var narrative: String
    public var submittedBy: String?
    public var adults: [Adult]
    public var children: [ReportSubmission.AffectedChild]
    public var statusHistory: [StatusChange]
    public var amendments: [Amendment]
}

/// What lists show of a report: no narrative, no names, no child references.
public struct ReportSummary: Sendable, Equatable {
    public var id: IncidentReport.ID
    public var facilityID: Facility.ID
    public var facilityCode: String
    public var facilityName: String
    public var jurisdictionCode: String
    public var receivedAt: Date
    /// The receipt time exactly as stored, for cursors.
    public var receivedAtMicroseconds: Int64
    public var category: IncidentReport.Category
    public var reporterType: IncidentReport.ReporterType
    public var status: IncidentReport.Status
    public var adultCount: Int
    public var childCount: Int
    /// Where an imported report came from, and when it was imported (its `receivedAt` is the
    /// original receipt); nil for a report filed here.
    public var imported: (system: String, id: String, at: Date)?

    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.facilityID == b.facilityID && a.facilityCode == b.facilityCode && a.facilityName == b.facilityName
            && a.jurisdictionCode == b.jurisdictionCode
            && a.receivedAt == b.receivedAt && a.receivedAtMicroseconds == b.receivedAtMicroseconds && a.category == b.category
            && a.reporterType == b.reporterType && a.status == b.status && a.adultCount == b.adultCount && a.childCount == b.childCount
            && a.imported?.system == b.imported?.system && a.imported?.id == b.imported?.id && a.imported?.at == b.imported?.at
    }
}

public struct ReportFilter: Sendable, Equatable {
    public var facilityID: Facility.ID?
    public var jurisdictionCode: String?
    public var category: IncidentReport.Category?
    /// Received on or after this day (UTC).
    public var receivedFrom: CalendarDate?
    /// Received on or before this day (UTC).
    public var receivedTo: CalendarDate?

    public init(
        facilityID: Facility.ID? = nil, jurisdictionCode: String? = nil, category: IncidentReport.Category? = nil,
        receivedFrom: CalendarDate? = nil, receivedTo: CalendarDate? = nil
    ) {
        self.facilityID = facilityID
        self.jurisdictionCode = jurisdictionCode
        self.category = category
        self.receivedFrom = receivedFrom
        self.receivedTo = receivedTo
    }
}

public enum ReportStoreError: Error, Equatable {
    /// `staffRef`s of the submission that are not on the facility's roster, by their index.
    case unknownStaff([Int])
}

/// Incident reports, always on a connection scoped to the caller.
public struct ReportStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The facility a report is for, if the caller may see it.
    public func facility(_ id: Facility.ID, on connection: PostgresConnection) async throws -> FacilityReference? {
        let rows = try await connection.query(
            "SELECT id, jurisdiction_id FROM facilities WHERE id = \(id.rawValue)", logger: logger)
        for try await (facility, jurisdiction) in rows.decode((UUID, UUID).self) {
            return FacilityReference(id: .init(facility), jurisdictionID: .init(jurisdiction))
        }
        return nil
    }

    /// A staff reference at a facility: how a report names a rostered adult.
    struct RosterKey: Hashable {
        var facility: UUID
        var staffRef: String
    }

    /// The adults the submissions name by staff reference, by facility and reference, in one
    /// statement; a reference not on its facility's roster is absent.
    func rosteredAdults(of submissions: [ReportSubmission], on connection: PostgresConnection) async throws -> [RosterKey: UUID] {
        var facilities: [UUID] = []
        var refs: [String] = []
        for submission in submissions {
            for case .rostered(let ref) in submission.adults {
                facilities.append(submission.facilityID.rawValue)
                refs.append(ref)
            }
        }
        var rostered: [RosterKey: UUID] = [:]
        guard !refs.isEmpty else { return rostered }
        for try await (facility, ref, id) in try await connection.query(
            """
            SELECT a.facility_id, a.staff_ref, a.id
            FROM unnest(\(facilities)::uuid[], \(refs)::text[]) AS x(f, r)
            JOIN adults a ON a.facility_id = x.f AND a.staff_ref = x.r
            """, logger: logger
        ).decode((UUID, String, UUID).self) { rostered[RosterKey(facility: facility, staffRef: ref)] = id }
        return rostered
    }

    /// The positions of the submission's adults named by a staff reference its facility's roster
    /// does not hold.
    static func unknownStaff(in submission: ReportSubmission, rostered: [RosterKey: UUID]) -> [Int] {
        submission.adults.enumerated().compactMap { position, adult in
            guard case .rostered(let ref) = adult, rostered[RosterKey(facility: submission.facilityID.rawValue, staffRef: ref)] == nil
            else { return nil }
            return position
        }
    }

    /// Stores a validated submission; returns its id and receipt time.
    public func submit(
        _ submission: ReportSubmission, by principal: Principal, on connection: PostgresConnection
    )
        async throws -> (id: IncidentReport.ID, receivedAt: Date)
    {
        let rostered = try await rosteredAdults(of: [submission], on: connection)
        let unknown = Self.unknownStaff(in: submission, rostered: rostered)
        guard unknown.isEmpty else { throw ReportStoreError.unknownStaff(unknown) }
        let id = UUID()
        let receivedAt = try await submitTogether([(id, submission)], rostered: rostered, by: principal, on: connection)
        return (.init(id), receivedAt)
    }

    /// Stores validated submissions of one caller under the ids given, whatever their number (one
    /// report, or ``ReportIntake``'s groups); `rostered` holds the id of each staff reference,
    /// every one checked by the caller (`unknownStaff`). Returns when they were received (the
    /// transaction's time, the same for all).
    func submitTogether(
        _ reports: [(id: UUID, submission: ReportSubmission)], rostered: [RosterKey: UUID], by principal: Principal,
        on connection: PostgresConnection
    ) async throws -> Date {
        try await write(
            reports.map { ReportRows(id: $0.id, origin: .filed($0.submission)) }, rostered: rostered, by: principal, on: connection)
    }

    /// A report as `write` takes it: its id, and what was filed here or imported.
    struct ReportRows: Sendable {
        enum Origin: Sendable {
            case filed(ReportSubmission)
            /// With its time of receipt, source and decisions in the other system.
            case imported(ImportedReport)
        }
        var id: UUID
        var origin: Origin

        var submission: ReportSubmission {
            switch origin {
            case .filed(let submission): submission
            case .imported(let report): report.submission
            }
        }
    }

    /// Writes reports — filed here, or imported — with their adults, children and (imports)
    /// decisions, as a bulk write (their current rows and their facilities' rescore requests once
    /// for all of them): one call of `centinela_write_reports` (Schema/0034) whatever their number,
    /// the one way every report is written (the intake's groups, an import's chunks). Every staff
    /// reference must be in `rostered`. Returns the transaction's time: the time of receipt of
    /// reports filed here.
    func write(
        _ reports: [ReportRows], rostered: [RosterKey: UUID], by principal: Principal, on connection: PostgresConnection
    ) async throws -> Date {
        let submissions = reports.map(\.submission)
        let imported = reports.map { rows -> ImportedReport? in
            if case .imported(let report) = rows.origin { report } else { nil }
        }
        var adults: (reports: [UUID], positions: [Int], ids: [String], names: [String], roles: [String]) = ([], [], [], [], [])
        var children: (reports: [UUID], refs: [String], ages: [Int]) = ([], [], [])
        var decisions: (reports: [UUID], statuses: [String], reasons: [String], at: [Date]) = ([], [], [], [])
        for (rows, submission) in zip(reports, submissions) {
            for (index, adult) in submission.adults.enumerated() {
                adults.reports.append(rows.id)
                adults.positions.append(index + 1)
                switch adult {
                case .rostered(let ref):
                    guard let id = rostered[RosterKey(facility: submission.facilityID.rawValue, staffRef: ref)] else {
                        throw ReportStoreError.unknownStaff([index])
                    }
                    adults.ids.append(id.uuidString)
                    adults.names.append("")
                    adults.roles.append("")
                case .described(let name, let role):
                    adults.ids.append("")
                    adults.names.append(name.trimmingCharacters(in: .whitespacesAndNewlines))
                    adults.roles.append(role.rawValue)
                }
            }
            for child in submission.children {
                children.reports.append(rows.id)
                children.refs.append(child.reference)
                children.ages.append(child.ageYears)
            }
            if case .imported(let report) = rows.origin {
                for decision in report.decisions {
                    decisions.reports.append(rows.id)
                    decisions.statuses.append(decision.status.rawValue)
                    decisions.reasons.append(decision.reason ?? "")
                    decisions.at.append(decision.at)
                }
            }
        }
        // Absent values travel as '' (arrays of optionals do not bind), a filed report's time of
        // receipt, not read, as the epoch; arrays of arrays do not unnest row by row: tags (codes,
        // never a comma) travel as comma-separated text.
        var receivedAt: Date?
        for try await at in try await connection.query(
            """
            SELECT centinela_write_reports(
                \(reports.map(\.id))::uuid[], \(submissions.map(\.facilityID.rawValue))::uuid[],
                \(imported.map { $0?.receivedAt ?? Date(timeIntervalSince1970: 0) })::timestamptz[],
                \(submissions.map(\.occurredFrom.description))::text[], \(submissions.map(\.occurredTo.description))::text[],
                \(submissions.map(\.occurredApproximate))::boolean[], \(submissions.map(\.discoveredOn.description))::text[],
                \(submissions.map(\.category.rawValue))::text[], \(submissions.map(\.reporterType.rawValue))::text[],
                \(submissions.map { $0.modusOperandi.map(\.rawValue).joined(separator: ",") })::text[],
                \(submissions.map(\.narrative))::text[], \(imported.map { $0?.sourceSystem ?? "" })::text[],
                \(imported.map { $0?.sourceID ?? "" })::text[], \(principal.id.rawValue),
                \(adults.reports)::uuid[], \(adults.positions)::int[], \(adults.ids)::text[], \(adults.names)::text[],
                \(adults.roles)::text[],
                \(children.reports)::uuid[], \(children.refs)::text[], \(children.ages)::int[],
                \(decisions.reports)::uuid[], \(decisions.statuses)::text[], \(decisions.reasons)::text[],
                \(decisions.at)::timestamptz[])
            """, logger: logger
        ).decode(Date.self) { receivedAt = at }
        guard let receivedAt else { throw DatabaseError.queryFailed(reason: "the reports were not stored") }
        return receivedAt
    }

    /// The summaries of these reports the caller may see, newest first.
    public func summaries(_ ids: [IncidentReport.ID], on connection: PostgresConnection) async throws -> [ReportSummary] {
        guard !ids.isEmpty else { return [] }
        return try await summaries(where: "WHERE r.id = ANY(\(ids.map(\.rawValue))::uuid[])", on: connection)
            .sorted { ($0.receivedAtMicroseconds, $0.id.rawValue.uuidString) > ($1.receivedAtMicroseconds, $1.id.rawValue.uuidString) }
    }

    /// One report with its parts and history, if the caller may see it.
    public func report(_ id: IncidentReport.ID, on connection: PostgresConnection) async throws -> ReportRecord? {
        try await reports([id], on: connection).first
    }

    /// Reports with their parts and history, in the order asked, those the caller may see: six
    /// statements however many reports (a case file of 150 reports read them one by one in 900).
    public func reports(_ ids: [IncidentReport.ID], on connection: PostgresConnection) async throws -> [ReportRecord] {
        guard !ids.isEmpty else { return [] }
        let keys = ids.map(\.rawValue)
        var summaries: [UUID: ReportSummary] = [:]
        for summary in try await self.summaries(where: "WHERE r.id = ANY(\(keys)::uuid[])", on: connection) {
            summaries[summary.id.rawValue] = summary
        }
        guard !summaries.isEmpty else { return [] }
        var details: [UUID: (String, String, Bool, String, [String], String, String?)] = [:]
        for try await (id, from, to, approximate, discovered, tags, narrative, submittedBy) in try await connection.query(
            """
            SELECT r.id, to_char(r.occurred_from, 'YYYY-MM-DD'), to_char(r.occurred_to, 'YYYY-MM-DD'), r.occurred_approximate,
                   to_char(r.discovered_on, 'YYYY-MM-DD'), r.mo_tags, r.narrative, r.submitted_by::text
            FROM incident_reports r WHERE r.id = ANY(\(keys)::uuid[])
            """, logger: logger
        ).decode((UUID, String, String, Bool, String, [String], String, String?).self) {
            details[id] = (from, to, approximate, discovered, tags, narrative, submittedBy)
        }
        var adults: [UUID: [ReportRecord.Adult]] = [:]
        for try await (report, position, adultID, staffRef, name, role) in try await connection.query(
            """
            SELECT ra.report_id, ra.position, ra.adult_id, a.staff_ref, coalesce(a.full_name, ra.mentioned_name, ''),
                   coalesce(a.role, ra.mentioned_role, 'other')
            FROM report_adults ra LEFT JOIN adults a ON a.id = ra.adult_id
            WHERE ra.report_id = ANY(\(keys)::uuid[]) ORDER BY ra.report_id, ra.position
            """, logger: logger
        ).decode((UUID, Int, UUID?, String?, String, String).self) {
            adults[report, default: []].append(
                .init(position: position, adultID: adultID.map(Adult.ID.init), staffRef: staffRef, name: name, role: role))
        }
        var children: [UUID: [ReportSubmission.AffectedChild]] = [:]
        for try await (report, ref, age) in try await connection.query(
            """
            SELECT report_id, child_ref, age_years FROM report_children
            WHERE report_id = ANY(\(keys)::uuid[]) ORDER BY report_id, child_ref
            """, logger: logger
        ).decode((UUID, String, Int).self) { children[report, default: []].append(.init(reference: ref, ageYears: age)) }
        var history: [UUID: [ReportRecord.StatusChange]] = [:]
        for try await (report, status, reason, at, by) in try await connection.query(
            """
            SELECT report_id, status, reason, changed_at, changed_by::text FROM report_status_changes
            WHERE report_id = ANY(\(keys)::uuid[]) ORDER BY report_id, changed_at, id
            """, logger: logger
        ).decode((UUID, String, String?, Date, String?).self) {
            history[report, default: []].append(
                .init(status: IncidentReport.Status(rawValue: status) ?? .received, reason: reason, changedAt: at, changedBy: by))
        }
        var amendments: [UUID: [ReportRecord.Amendment]] = [:]
        for try await (report, amendmentID, changes, note, at, by) in try await connection.query(
            """
            SELECT report_id, id, changes::text, note, amended_at, amended_by::text FROM report_amendments
            WHERE report_id = ANY(\(keys)::uuid[]) ORDER BY report_id, amended_at, id
            """, logger: logger
        ).decode((UUID, UUID, String, String?, Date, String?).self) {
            amendments[report, default: []].append(.init(id: amendmentID, changes: changes, note: note, amendedAt: at, amendedBy: by))
        }
        return keys.compactMap { key -> ReportRecord? in
            guard let summary = summaries[key], let (from, to, approximate, discovered, tags, narrative, submittedBy) = details[key],
                let occurredFrom = CalendarDate(from), let occurredTo = CalendarDate(to), let discoveredOn = CalendarDate(discovered)
            else { return nil }
            return ReportRecord(
                summary: summary, occurredFrom: occurredFrom, occurredTo: occurredTo, occurredApproximate: approximate,
                discoveredOn: discoveredOn, modusOperandi: tags, narrative: narrative, submittedBy: submittedBy,
                adults: adults[key] ?? [], children: children[key] ?? [], statusHistory: history[key] ?? [],
                amendments: amendments[key] ?? [])
        }
    }

    /// A page of reports, newest first, after `cursor`.
    public func list(
        _ filter: ReportFilter, after cursor: InstantCursor?, limit: Int, on connection: PostgresConnection
    )
        async throws -> [ReportSummary]
    {
        try await summaries(where: Self.listCondition(filter, after: cursor, limit: limit), on: connection)
    }

    /// How many reports the list would show across all its pages.
    public func count(_ filter: ReportFilter, on connection: PostgresConnection) async throws -> Int {
        let condition = Self.listCondition(filter, after: nil, limit: nil)
        return try await connection.count(
            of: PostgresQuery(unsafeSQL: "SELECT 1 " + Self.listed + "\n" + condition.sql, binds: condition.binds), logger: logger)
    }

    /// What a list of reports reads, for its rows and for its count alike.
    static let listed = """
        FROM incident_reports r
        JOIN facilities f ON f.id = r.facility_id
        JOIN jurisdictions j ON j.id = f.jurisdiction_id
        """

    /// The list's condition, order and limit; with no limit, unordered (to count).
    static func listCondition(_ filter: ReportFilter, after cursor: InstantCursor?, limit: Int?) -> PostgresQuery {
        """
                WHERE (\(filter.facilityID?.rawValue)::uuid IS NULL OR r.facility_id = \(filter.facilityID?.rawValue))
                  AND (\(filter.jurisdictionCode)::text IS NULL OR j.code = \(filter.jurisdictionCode))
                  AND (\(filter.category?.rawValue)::text IS NULL OR r.category = \(filter.category?.rawValue))
                  AND (\(filter.receivedFrom?.description)::date IS NULL
                       OR r.received_at >= (\(filter.receivedFrom?.description)::date)::timestamp AT TIME ZONE 'UTC')
                  AND (\(filter.receivedTo?.description)::date IS NULL
                       OR r.received_at < (\(filter.receivedTo?.description)::date + 1)::timestamp AT TIME ZONE 'UTC')
                  AND (\(cursor?.microseconds)::bigint IS NULL
                       OR (r.received_at, r.id) < ('epoch'::timestamptz + \(cursor?.microseconds)::bigint * interval '1 microsecond',
                                                  \(cursor?.id)::uuid))
                \(unescaped: limit == nil ? "" : "ORDER BY r.received_at DESC, r.id DESC")
                LIMIT \(limit)
        """
    }

    /// Appends a correction. Nil when the report does not exist for the caller.
    public func amend(
        _ id: IncidentReport.ID, changes: String, note: String?, by principal: Principal, on connection: PostgresConnection
    ) async throws -> ReportRecord.Amendment? {
        guard try await summaries(where: "WHERE r.id = \(id.rawValue)", on: connection).first != nil else { return nil }
        for try await (amendmentID, at) in try await connection.query(
            """
            INSERT INTO report_amendments (report_id, changes, note, amended_by)
            VALUES (\(id.rawValue), \(changes)::jsonb, \(note), \(principal.id.rawValue))
            RETURNING id, amended_at
            """, logger: logger
        ).decode((UUID, Date).self) {
            return .init(id: amendmentID, changes: changes, note: note, amendedAt: at, amendedBy: principal.id.description)
        }
        return nil
    }

    /// Appends a regulator's decision.
    public func changeStatus(
        _ id: IncidentReport.ID, to status: IncidentReport.Status, reason: String?, by principal: Principal,
        on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            INSERT INTO report_status_changes (report_id, status, reason, changed_by)
            VALUES (\(id.rawValue), \(status.rawValue), \(reason), \(principal.id.rawValue))
            """, logger: logger)
    }

    public func summary(_ id: IncidentReport.ID, on connection: PostgresConnection) async throws -> ReportSummary? {
        try await summaries(where: "WHERE r.id = \(id.rawValue)", on: connection).first
    }

    private func summaries(where condition: PostgresQuery, on connection: PostgresConnection) async throws -> [ReportSummary] {
        // The condition's $n placeholders stay valid: its binds are the query's only ones.
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT r.id, r.facility_id, f.external_code, f.name, j.code, r.received_at,
                       (extract(epoch FROM r.received_at) * 1000000)::bigint, r.category, r.reporter_type,
                       coalesce((SELECT s.status FROM report_status_changes s WHERE s.report_id = r.id
                                 ORDER BY s.changed_at DESC, s.id DESC LIMIT 1), 'received'),
                       (SELECT count(*) FROM report_adults ra WHERE ra.report_id = r.id)::int,
                       (SELECT count(*) FROM report_children rc WHERE rc.report_id = r.id)::int,
                       r.source_system, r.source_id, r.imported_at
                """ + "\n" + Self.listed + "\n" + condition.sql,
            binds: condition.binds)
        var result: [ReportSummary] = []
        for try await (
            id, facility, code, name, jurisdiction, received, micros, category, reporter, status, adults, children, system, source,
            importedAt
        )
            in try await connection.query(query, logger: logger).decode(
                (UUID, UUID, String, String, String, Date, Int64, String, String, String, Int, Int, String?, String?, Date?).self)
        {
            var imported: (String, String, Date)?
            if let system, let source, let importedAt { imported = (system, source, importedAt) }
            result.append(
                ReportSummary(
                    id: .init(id), facilityID: .init(facility), facilityCode: code, facilityName: name, jurisdictionCode: jurisdiction,
                    receivedAt: received, receivedAtMicroseconds: micros, category: IncidentReport.Category(rawValue: category) ?? .other,
                    reporterType: IncidentReport.ReporterType(rawValue: reporter) ?? .anonymous,
                    status: IncidentReport.Status(rawValue: status) ?? .received, adultCount: adults, childCount: children,
                    imported: imported))
        }
        return result
    }
}
