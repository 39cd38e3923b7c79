import CentinelaCore
import CentinelaStore
import Foundation
import Logging
import PostgresNIO

/// Loads a simulated country into an empty database with COPY: the simulator writes one
/// tab-separated file per table (bounded memory at any scale), then each file is streamed into its
/// table, all in one transaction, so a failed load leaves nothing behind.
public struct SimulationLoader: Sendable {
    public enum LoadError: Error, CustomStringConvertible {
        case notEmpty(facilities: Int)
        case cannotWrite(String)
        case danglingReferences(String, Int)
        case notSuperuser(role: String)

        public var description: String {
            switch self {
            case .notSuperuser(let role):
                "simulate loads with COPY, which PostgreSQL refuses into tables under row-level security for any role but a "
                    + "superuser, and \(role) is not one (a database set up as Docker/ does it); run it on the embedded database "
                    + "or as a superuser; nothing was loaded"
            case .notEmpty(let count):
                "the database already holds \(count) facilities; simulate loads only into an empty database"
            case .cannotWrite(let path): "cannot write the simulation's files under \(path)"
            case .danglingReferences(let reference, let count):
                "the simulation produced \(count) rows whose \(reference) points nowhere; nothing was loaded"
            }
        }
    }

    let logger: Logger
    let nationalIDs: NationalIDHasher?

    public init(logger: Logger, nationalIDs: NationalIDHasher?) {
        self.logger = logger
        self.nationalIDs = nationalIDs
    }

    /// The tables, in foreign-key order, with the columns each file holds.
    static let tables: [(name: String, columns: [String])] = [
        ("jurisdictions", ["id", "code", "name", "level", "parent_id"]),
        ("facilities", ["id", "external_code", "name", "kind", "jurisdiction_id", "locality", "enrolment"]),
        ("adults", ["id", "facility_id", "staff_ref", "full_name", "role", "national_id_hmac", "date_of_birth", "starts_on"]),
        (
            "incident_reports",
            [
                "id", "facility_id", "received_at", "occurred_from", "occurred_to", "occurred_approximate",
                "discovered_on", "category", "reporter_type", "mo_tags", "narrative",
            ]
        ),
        ("report_adults", ["report_id", "position", "adult_id", "mentioned_name", "mentioned_role"]),
        ("report_children", ["report_id", "child_ref", "age_years"]),
        ("report_status_changes", ["report_id", "status", "changed_at"]),
    ]

    /// Generates and loads; returns the ground truth. With `history`, the reports are not loaded
    /// but written there as NDJSON lines for `POST /v1/reports:import` (source system
    /// `centinela-simulate`, the simulator's report id as source id), to come in as a regulator's
    /// historic case files would, with their real dates; jurisdictions, facilities and staff are
    /// loaded.
    public func load(_ simulation: Simulation, history: URL? = nil, on connection: PostgresConnection) async throws -> GroundTruth {
        // Asked first, before anything is generated: a role that is not a superuser cannot COPY
        // into these tables, and under row-level security it would count no facilities in a
        // database that holds some.
        var superuser = false
        var role = "?"
        for try await (name, flag) in try await connection.query(
            "SELECT rolname::text, rolsuper FROM pg_roles WHERE rolname = current_user", logger: logger
        ).decode((String, Bool).self) { (role, superuser) = (name, flag) }
        guard superuser else { throw LoadError.notSuperuser(role: role) }

        var existing = 0
        for try await count in try await connection.query("SELECT count(*) FROM facilities", logger: logger).decode(Int.self) {
            existing = count
        }
        guard existing == 0 else { throw LoadError.notEmpty(facilities: existing) }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("centinela-simulation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let started = ContinuousClock.now
        var sink = try TSVSink(folder: folder, tables: Self.tables.map(\.name), nationalIDs: nationalIDs, history: history)
        let truth = try simulation.run(into: &sink)
        try sink.close()
        logger.info(
            "simulation generated",
            metadata: [
                "reports": "\(truth.counts.reports)", "facilities": "\(truth.counts.facilities)",
                "elapsed_ms": "\(started.duration(to: .now).milliseconds)",
            ])

        try await connection.query("BEGIN", logger: logger)
        do {
            // Row-by-row foreign-key triggers dominate a national-scale COPY. The generated rows are
            // consistent by construction, and every reference is checked below in a few set-based
            // queries before commit instead.
            try await connection.query("SET LOCAL session_replication_role = replica", logger: logger)
            for (table, columns) in Self.tables {
                let copyStarted = ContinuousClock.now
                let file = folder.appendingPathComponent(table + ".tsv")
                let handle = try FileHandle(forReadingFrom: file)
                defer { try? handle.close() }
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                        try await writer.write(ByteBuffer(bytes: chunk))
                    }
                }
                logger.info("loaded \(table)", metadata: ["elapsed_ms": "\(copyStarted.duration(to: .now).milliseconds)"])
            }
            try await connection.query("SET LOCAL session_replication_role = origin", logger: logger)
            try await verifyReferences(on: connection)
            // The triggers that keep report_current were skipped too: fold every report at once,
            // with statistics on what was just loaded (else the planner expects empty tables).
            let folding = ContinuousClock.now
            try await connection.run(
                "ANALYZE incident_reports, report_adults, report_children, report_status_changes, report_amendments", logger: logger)
            try await connection.run("SELECT centinela_refresh_report_current(NULL)", logger: logger)
            logger.info("folded reports as they stand", metadata: ["elapsed_ms": "\(folding.duration(to: .now).milliseconds)"])
            // The triggers that queue reports for their audit seal were skipped too (decision 43):
            // the sequencer seals what was loaded, oldest first, in its next rounds.
            try await connection.run(
                """
                INSERT INTO audit_seal_queue (kind, id)
                SELECT kind, id FROM (
                    SELECT 'report' AS kind, id, received_at AS at FROM incident_reports
                    UNION ALL SELECT 'amendment', id, amended_at FROM report_amendments) loaded
                ORDER BY at, id
                """, logger: logger)
            try await AuditLog.append(
                .system(
                    action: "simulation.load", objectType: "database", objectID: nil,
                    details: [
                        "seed": "\(simulation.configuration.seed)", "scale": simulation.configuration.scale.rawValue,
                        "reports": history == nil ? "\(truth.counts.reports)" : "0 (written for import)",
                    ]),
                on: connection, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
        try await connection.query("ANALYZE", logger: logger)
        return truth
    }
}

extension SimulationLoader {
    /// Every reference the skipped foreign-key triggers would have checked, as set-based queries.
    func verifyReferences(on connection: PostgresConnection) async throws {
        let checks: [(String, PostgresQuery)] = [
            (
                "jurisdictions.parent_id",
                "SELECT count(*) FROM jurisdictions c WHERE c.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jurisdictions p WHERE p.id = c.parent_id)"
            ),
            (
                "facilities.jurisdiction_id",
                "SELECT count(*) FROM facilities f WHERE NOT EXISTS (SELECT 1 FROM jurisdictions j WHERE j.id = f.jurisdiction_id)"
            ),
            (
                "adults.facility_id",
                "SELECT count(*) FROM adults a WHERE NOT EXISTS (SELECT 1 FROM facilities f WHERE f.id = a.facility_id)"
            ),
            (
                "incident_reports.facility_id",
                "SELECT count(*) FROM incident_reports r WHERE NOT EXISTS (SELECT 1 FROM facilities f WHERE f.id = r.facility_id)"
            ),
            (
                "report_adults.report_id",
                "SELECT count(*) FROM report_adults x WHERE NOT EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = x.report_id)"
            ),
            (
                "report_adults.adult_id",
                "SELECT count(*) FROM report_adults x WHERE x.adult_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM adults a WHERE a.id = x.adult_id)"
            ),
            (
                "report_children.report_id",
                "SELECT count(*) FROM report_children x WHERE NOT EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = x.report_id)"
            ),
            (
                "report_status_changes.report_id",
                "SELECT count(*) FROM report_status_changes x WHERE NOT EXISTS (SELECT 1 FROM incident_reports r WHERE r.id = x.report_id)"
            ),
        ]
        for (reference, query) in checks {
            var dangling = 0
            for try await n in try await connection.query(query, logger: logger).decode(Int.self) { dangling = n }
            guard dangling == 0 else { throw LoadError.danglingReferences(reference, dangling) }
        }
    }
}

/// Writes the simulator's rows as PostgreSQL COPY text (`COPYText`), one file per table.
struct TSVSink: SimulationSink {
    final class Output {
        let handle: FileHandle
        var buffer: [UInt8] = []
        init(_ handle: FileHandle) { self.handle = handle }

        func row(_ fields: [String?]) throws {
            COPYText.appendRow(fields, to: &buffer)
            if buffer.count >= 1 << 20 { try flush() }
        }

        func flush() throws {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    var outputs: [String: Output] = [:]
    let nationalIDs: NationalIDHasher?
    /// Where reports go as import lines instead of into the tables, and the roster references
    /// they name adults by.
    var history: Output?
    var staffRefs: [UUID: String] = [:]

    init(folder: URL, tables: [String], nationalIDs: NationalIDHasher?, history: URL? = nil) throws {
        self.nationalIDs = nationalIDs
        if let history {
            guard FileManager.default.createFile(atPath: history.path, contents: nil),
                let handle = FileHandle(forWritingAtPath: history.path)
            else { throw SimulationLoader.LoadError.cannotWrite(history.path) }
            self.history = Output(handle)
        }
        for table in tables {
            let path = folder.appendingPathComponent(table + ".tsv").path
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path)
            else { throw SimulationLoader.LoadError.cannotWrite(folder.path) }
            outputs[table] = Output(handle)
        }
    }

    func close() throws {
        for output in outputs.values + (history.map { [$0] } ?? []) {
            try output.flush()
            try output.handle.close()
        }
    }

    static func id(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }

    static func timestamp(_ seconds: Int64) -> String {
        let day = CalendarDate(daysSinceEpoch: Int(seconds / 86_400))
        let rest = Int(seconds % 86_400)
        let h = rest / 3600
        let m = (rest / 60) % 60
        let s = rest % 60
        return "\(day) \(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):\(s < 10 ? "0" : "")\(s)+00"
    }

    mutating func write(_ j: SimulatedJurisdiction) throws {
        try outputs["jurisdictions"]!.row([Self.id(j.id), j.code, j.name, j.level.rawValue, j.parentID.map(Self.id)])
    }

    mutating func write(_ f: SimulatedFacility) throws {
        try outputs["facilities"]!.row([
            Self.id(f.id), f.code, f.name, f.kind.rawValue, Self.id(f.jurisdictionID), f.locality, "\(f.enrolment)",
        ])
    }

    mutating func write(_ a: SimulatedAdult) throws {
        let hash = a.nationalID.flatMap { nationalIDs?.hash($0) }.map(COPYText.bytea)
        try outputs["adults"]!.row([
            Self.id(a.id), Self.id(a.facilityID), a.staffRef, a.fullName, a.role.rawValue, hash, a.dateOfBirth?.description,
            a.startsOn.description,
        ])
        if history != nil { staffRefs[a.id] = a.staffRef }
    }

    mutating func write(_ r: SimulatedReport) throws {
        if let history {
            let line = try ImportLine(r, staffRefs: staffRefs)
            history.buffer += try Self.encoder.encode(line)
            history.buffer.append(UInt8(ascii: "\n"))
            if history.buffer.count >= 1 << 20 { try history.flush() }
            return
        }
        let id = Self.id(r.id)
        try outputs["incident_reports"]!.row([
            id, Self.id(r.facilityID), Self.timestamp(r.receivedAt), r.occurredFrom.description, r.occurredTo.description,
            r.occurredApproximate ? "t" : "f", r.discoveredOn.description, r.category.rawValue, r.reporterType.rawValue,
            "{" + r.tags.map(\.rawValue).joined(separator: ",") + "}", r.narrative,
        ])
        for (index, adult) in r.adults.enumerated() {
            switch adult {
            case .rostered(let adultID):
                try outputs["report_adults"]!.row([id, "\(index + 1)", Self.id(adultID), nil, nil])
            case .described(let name, let role):
                try outputs["report_adults"]!.row([id, "\(index + 1)", nil, name, role.rawValue])
            }
        }
        for child in r.children {
            try outputs["report_children"]!.row([id, child.reference, "\(child.ageYears)"])
        }
        for change in r.statusChanges {
            try outputs["report_status_changes"]!.row([id, change.status.rawValue, Self.timestamp(change.secondsSince1970)])
        }
    }
}

extension TSVSink {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func instant(_ seconds: Int64) -> String {
        let day = CalendarDate(daysSinceEpoch: Int(seconds / 86_400))
        let rest = Int(seconds % 86_400)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(day)T\(two(rest / 3600)):\(two((rest / 60) % 60)):\(two(rest % 60))Z"
    }

    /// One line of `POST /v1/reports:import` (docs/operations.md, "Importing history").
    struct ImportLine: Encodable {
        struct Occurred: Encodable { var from: String, to: String, approximate: Bool }
        struct ImplicatedAdult: Encodable { var staffRef: String?, name: String?, role: String? }
        struct Child: Encodable { var ref: String, age: Int }
        struct Source: Encodable { var system: String, id: String }
        struct Decision: Encodable { var status: String, at: String }

        var facility: String
        var occurred: Occurred
        var discoveredOn: String
        var category: String
        var reporterType: String
        var adults: [ImplicatedAdult]
        var children: [Child]
        var modusOperandi: [String]
        var narrative: String
        var receivedAt: String
        var source: Source
        var decisions: [Decision]

        init(_ r: SimulatedReport, staffRefs: [UUID: String]) throws {
            facility = TSVSink.id(r.facilityID)
            occurred = .init(from: r.occurredFrom.description, to: r.occurredTo.description, approximate: r.occurredApproximate)
            discoveredOn = r.discoveredOn.description
            category = r.category.rawValue
            reporterType = r.reporterType.rawValue
            adults = try r.adults.map { adult in
                switch adult {
                case .rostered(let id):
                    guard let ref = staffRefs[id] else {
                        throw SimulationLoader.LoadError.danglingReferences("report adult's staff reference", 1)
                    }
                    return .init(staffRef: ref, name: nil, role: nil)
                case .described(let name, let role): return .init(staffRef: nil, name: name, role: role.rawValue)
                }
            }
            children = r.children.map { .init(ref: $0.reference, age: $0.ageYears) }
            modusOperandi = r.tags.map(\.rawValue)
            narrative = r.narrative
            receivedAt = TSVSink.instant(r.receivedAt)
            source = .init(system: SimulationLoader.historySourceSystem, id: TSVSink.id(r.id))
            decisions = r.statusChanges.filter { $0.status != .received }.map {
                .init(status: $0.status.rawValue, at: TSVSink.instant($0.secondsSince1970))
            }
        }
    }
}

extension SimulationLoader {
    /// The source system of reports the simulator writes for import: `evaluate` reads an imported
    /// report's simulator id from its source id.
    public static let historySourceSystem = "centinela-simulate"
}
