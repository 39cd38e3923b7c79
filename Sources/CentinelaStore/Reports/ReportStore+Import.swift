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
        var staff: [RosterKey: UUID] = [:]
        let referenced = reports.contains { $0.submission.adults.contains { if case .rostered = $0 { true } else { false } } }
        if referenced {
            for try await (facility, ref, id) in try await connection.query(
                "SELECT facility_id, staff_ref, id FROM adults WHERE facility_id = ANY(\(Array(visible))::uuid[])", logger: logger
            ).decode((UUID, String, UUID).self) { staff[RosterKey(facility: facility, staffRef: ref)] = id }
        }
        for (index, report) in reports.enumerated() {
            let facility = report.submission.facilityID.rawValue
            guard visible.contains(facility) else {
                problems.append((index, "/facility", "no facility with this id in your jurisdictions"))
                continue
            }
            for (position, adult) in report.submission.adults.enumerated() {
                if case .rostered(let ref) = adult, staff[RosterKey(facility: facility, staffRef: ref)] == nil {
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
        // Each chunk is one bulk write: report_current and the rescore marks brought up to date
        // once a chunk, not by the triggers once a statement and a row (migration 0016).
        for start in stride(from: 0, to: fresh.count, by: Self.importChunk) {
            try Task.checkCancellation()
            let chunk = fresh[start..<min(start + Self.importChunk, fresh.count)]
            _ = try await write(
                chunk.map { ReportRows(id: $0.0.rawValue, origin: .imported($0.1)) }, rostered: staff, by: principal, on: connection)
        }
        return ImportOutcome(ids: ids, new: new)
    }
}
