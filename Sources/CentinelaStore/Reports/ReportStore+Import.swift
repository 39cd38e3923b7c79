import CentinelaCore
import Foundation
import PostgresNIO

/// What an import stored: for each report in input order, its id and whether it is new (a report
/// already imported from the same source at the same facility is left as it was).
public struct ImportOutcome: Sendable {
    public var ids: [IncidentReport.ID]
    public var new: [Bool]
    public var imported: Int { new.filter { $0 }.count }
}

/// Why an import was refused as a whole: for each report (by its index), the field and why.
public struct ImportRefusal: Error, Sendable {
    public var problems: [(index: Int, field: String, message: String)]
}

extension ReportStore {
    /// Rows per statement: large enough that a national backlog is a few hundred statements.
    static let importChunk = 5_000

    /// Stores reports from another system with their original receipt times and decisions, in the
    /// caller's transaction: all of them, or (throwing `ImportRefusal`) none. A report whose source
    /// was imported at its facility before is not stored again.
    public func importReports(
        _ reports: [ImportedReport], by principal: Principal, on connection: PostgresConnection
    ) async throws
        -> ImportOutcome
    {
        var problems: [(Int, String, String)] = []
        // Facilities the caller may file reports for, and their rosters' references.
        let facilityIDs = Array(Set(reports.map(\.submission.facilityID.rawValue)))
        var visible: Set<UUID> = []
        for try await id in try await connection.query(
            "SELECT id FROM facilities WHERE id = ANY(\(facilityIDs)::uuid[]) AND centinela_may_see_reports_of(id)", logger: logger
        ).decode(UUID.self) { visible.insert(id) }
        var staff: [String: UUID] = [:]
        let referenced = reports.contains { $0.submission.adults.contains { if case .rostered = $0 { true } else { false } } }
        if referenced {
            for try await (facility, ref, id) in try await connection.query(
                "SELECT facility_id, staff_ref, id FROM adults WHERE facility_id = ANY(\(Array(visible))::uuid[])", logger: logger
            ).decode((UUID, String, UUID).self) { staff[facility.uuidString + "|" + ref] = id }
        }
        for (index, report) in reports.enumerated() {
            let facility = report.submission.facilityID.rawValue
            guard visible.contains(facility) else {
                problems.append((index, "/facility", "no facility with this id in your jurisdictions"))
                continue
            }
            for (position, adult) in report.submission.adults.enumerated() {
                if case .rostered(let ref) = adult, staff[facility.uuidString + "|" + ref] == nil {
                    problems.append((index, "/adults/\(position)/staffRef", "is not on the facility's roster"))
                }
            }
        }
        // The same source twice in one file is one report told twice: refused, not guessed at.
        var seen: [String: Int] = [:]
        for (index, report) in reports.enumerated() {
            let key = "\(report.submission.facilityID)|\(report.sourceSystem)|\(report.sourceID)"
            if let first = seen[key] {
                problems.append((index, "/source/id", "repeats the source of line item \(first + 1)"))
            } else {
                seen[key] = index
            }
        }
        guard problems.isEmpty else { throw ImportRefusal(problems: problems) }

        // Reports imported before, by facility and source.
        var existing: [String: UUID] = [:]
        for start in stride(from: 0, to: reports.count, by: Self.importChunk) {
            // A large file takes tens of seconds: a stop (SIGTERM's drain) cancels it between
            // chunks, and the transaction takes nothing with it.
            try Task.checkCancellation()
            let chunk = reports[start..<min(start + Self.importChunk, reports.count)]
            for try await (facility, system, source, id) in try await connection.query(
                """
                SELECT r.facility_id, r.source_system, r.source_id, r.id
                FROM unnest(\(chunk.map(\.submission.facilityID.rawValue))::uuid[], \(chunk.map(\.sourceSystem))::text[],
                            \(chunk.map(\.sourceID))::text[]) AS x(f, s, i)
                JOIN incident_reports r ON r.facility_id = x.f AND r.source_system = x.s AND r.source_id = x.i
                """, logger: logger
            ).decode((UUID, String, String, UUID).self) { existing["\(Facility.ID(facility))|\(system)|\(source)"] = id }
        }
        var ids: [IncidentReport.ID] = []
        var new: [Bool] = []
        var fresh: [(IncidentReport.ID, ImportedReport)] = []
        for report in reports {
            if let id = existing["\(report.submission.facilityID)|\(report.sourceSystem)|\(report.sourceID)"] {
                ids.append(.init(id))
                new.append(false)
            } else {
                let id = IncidentReport.ID(UUID())
                ids.append(id)
                new.append(true)
                fresh.append((id, report))
            }
        }
        // report_current and the rescore marks are brought up to date once a chunk, not by the
        // triggers once a statement and a row (migration 0016).
        try await connection.run("SELECT set_config('centinela.bulk_write', 'on', true)", logger: logger)
        for start in stride(from: 0, to: fresh.count, by: Self.importChunk) {
            try Task.checkCancellation()
            let chunk = fresh[start..<min(start + Self.importChunk, fresh.count)]
            try await insert(chunk, staff: staff, by: principal, on: connection)
            try Task.checkCancellation()
            try await connection.run(
                "SELECT centinela_finish_bulk_write(\(chunk.map(\.0.rawValue))::uuid[])", logger: logger)
        }
        try await connection.run("SELECT set_config('centinela.bulk_write', 'off', true)", logger: logger)
        return ImportOutcome(ids: ids, new: new)
    }

    /// One chunk: the reports, then their adults, children and decisions, a statement each.
    private func insert(
        _ chunk: ArraySlice<(IncidentReport.ID, ImportedReport)>, staff: [String: UUID], by principal: Principal,
        on connection: PostgresConnection
    ) async throws {
        let reports = chunk.map(\.1)
        let ids = chunk.map(\.0.rawValue)
        let submissions = reports.map(\.submission)
        // Arrays of arrays do not unnest row by row: tags travel as comma-separated text.
        try await connection.run(
            """
            INSERT INTO incident_reports
                (id, facility_id, received_at, occurred_from, occurred_to, occurred_approximate, discovered_on, category,
                 reporter_type, mo_tags, narrative, submitted_by, source_system, source_id, imported_at)
            SELECT id, f, received, o_from::date, o_to::date, approx, discovered::date, category, reporter,
                   coalesce(string_to_array(nullif(tags, ''), ','), '{}'), narrative, \(principal.id.rawValue), system, source, now()
            FROM unnest(\(ids)::uuid[], \(submissions.map(\.facilityID.rawValue))::uuid[], \(reports.map(\.receivedAt))::timestamptz[],
                        \(submissions.map(\.occurredFrom.description))::text[], \(submissions.map(\.occurredTo.description))::text[],
                        \(submissions.map(\.occurredApproximate))::boolean[], \(submissions.map(\.discoveredOn.description))::text[],
                        \(submissions.map(\.category.rawValue))::text[], \(submissions.map(\.reporterType.rawValue))::text[],
                        \(submissions.map { $0.modusOperandi.map(\.rawValue).joined(separator: ",") })::text[],
                        \(submissions.map(\.narrative))::text[], \(reports.map(\.sourceSystem))::text[], \(reports.map(\.sourceID))::text[])
                 AS x(id, f, received, o_from, o_to, approx, discovered, category, reporter, tags, narrative, system, source)
            """, logger: logger)
        // Absent values travel as '' (arrays of optionals do not bind).
        var adultReport: [UUID] = []
        var adultPosition: [Int] = []
        var adultID: [String] = []
        var adultName: [String] = []
        var adultRole: [String] = []
        var childReport: [UUID] = []
        var childRef: [String] = []
        var childAge: [Int] = []
        var decisionReport: [UUID] = []
        var decisionStatus: [String] = []
        var decisionAt: [Date] = []
        var decisionReason: [String] = []
        for (id, report) in chunk {
            let facility = report.submission.facilityID.rawValue.uuidString
            for (index, adult) in report.submission.adults.enumerated() {
                adultReport.append(id.rawValue)
                adultPosition.append(index + 1)
                switch adult {
                case .rostered(let ref):
                    adultID.append(staff[facility + "|" + ref]?.uuidString ?? "")
                    adultName.append("")
                    adultRole.append("")
                case .described(let name, let role):
                    adultID.append("")
                    adultName.append(name.trimmingCharacters(in: .whitespacesAndNewlines))
                    adultRole.append(role.rawValue)
                }
            }
            for child in report.submission.children {
                childReport.append(id.rawValue)
                childRef.append(child.reference)
                childAge.append(child.ageYears)
            }
            for decision in report.decisions {
                decisionReport.append(id.rawValue)
                decisionStatus.append(decision.status.rawValue)
                decisionAt.append(decision.at)
                decisionReason.append(decision.reason ?? "")
            }
        }
        try Task.checkCancellation()
        if !adultReport.isEmpty {
            try await connection.run(
                """
                INSERT INTO report_adults (report_id, position, adult_id, mentioned_name, mentioned_role)
                SELECT r, p, nullif(a, '')::uuid, nullif(n, ''), nullif(role, '')
                FROM unnest(\(adultReport)::uuid[], \(adultPosition)::smallint[], \(adultID)::text[], \(adultName)::text[],
                            \(adultRole)::text[]) AS x(r, p, a, n, role)
                """, logger: logger)
        }
        try Task.checkCancellation()
        if !childReport.isEmpty {
            try await connection.run(
                """
                INSERT INTO report_children (report_id, child_ref, age_years)
                SELECT * FROM unnest(\(childReport)::uuid[], \(childRef)::text[], \(childAge)::smallint[])
                """, logger: logger)
        }
        try Task.checkCancellation()
        if !decisionReport.isEmpty {
            try await connection.run(
                """
                INSERT INTO report_status_changes (report_id, status, reason, changed_at, changed_by)
                SELECT r, s, nullif(reason, ''), at, \(principal.id.rawValue)
                FROM unnest(\(decisionReport)::uuid[], \(decisionStatus)::text[], \(decisionReason)::text[], \(decisionAt)::timestamptz[])
                     AS x(r, s, reason, at)
                """, logger: logger)
        }
    }
}
