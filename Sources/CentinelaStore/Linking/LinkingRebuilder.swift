import CentinelaCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `centinela linking rebuild`: links adults across facilities and reports by modus operandi, in
/// full, from what the database holds now (docs/linking.md, Schema/0008_linking.sql).
///
/// Adults: every roster entry and every name written in a report is read once, its name
/// normalised and its block keys computed here (Core), and written to `adult_records` with COPY;
/// the database then groups records by block key, and each block (at most `maxBlock` records, so
/// memory stays bounded) is compared here, pair by pair, with the linkage model. Pairs sharing a
/// national identifier are found by a join instead. Persons are rebuilt from the links and the
/// regulators' decisions. Patterns: feature and tactic-combination counts over all reports, then
/// the reports with two tactics or more are loaded and grouped (Core).
public struct LinkingRebuilder: Sendable {
    public let model: LinkageModel
    public let detection: PatternDetection
    public let logger: Logger
    /// Blocks with more records than this (the commonest names) are not compared: such a name
    /// cannot link on its own, and its records still meet through their other keys.
    public var maxBlock = 100

    public init(model: LinkageModel = .v1, detection: PatternDetection = .v1, logger: Logger) {
        self.model = model
        self.detection = detection
        self.logger = logger
    }

    public struct Outcome: Sendable, Equatable {
        public var kind: RunKind = .rebuild
        /// Records read (a rebuild) or added (an update).
        public var records = 0
        public var comparisons = 0
        public var links = 0
        public var reviews = 0
        /// Persons of two or more records.
        public var persons = 0
        public var patterns = 0
        /// Facilities marked for rescoring: tied to others by linking before or after the rebuild.
        public var marked = 0
        public var seconds = 0.0
    }

    public enum Failure: Error, Equatable {
        case alreadyRunning
    }

    /// Session advisory lock: one rebuild at a time.
    static let lockKey: Int64 = 7_306_086_629_160_088_184
    static let modelID = "linkage-v1"

    /// Rebuilds everything; `reader` streams, `writer` writes. Throws `Failure.alreadyRunning`
    /// when another rebuild or update holds the lock.
    public func rebuild(reader: PostgresConnection, writer: PostgresConnection) async throws -> Outcome {
        let outcome = try await writer.withAdvisoryLock(Self.lockKey, wait: false, logger: logger) {
            try await recorded(.rebuild, on: writer) { outcome in try await rebuildLocked(reader: reader, writer: writer, outcome: &outcome)
            }
        }
        guard let outcome else { throw Failure.alreadyRunning }
        return outcome
    }

    /// Links what arrived since the last run (LinkingRebuilder+Update.swift); nil when there was
    /// no run yet (an update needs a rebuild to start from). Throws `Failure.alreadyRunning` when
    /// another run holds the lock.
    public func update(reader: PostgresConnection, writer: PostgresConnection) async throws -> Outcome? {
        let outcome = try await writer.withAdvisoryLock(Self.lockKey, wait: false, logger: logger) { () -> Outcome? in
            guard let since = try await lastRunStarted(on: writer) else { return nil }
            return try await recorded(.update, on: writer) { outcome in
                try await updateLocked(since: since, reader: reader, writer: writer, outcome: &outcome)
            }
        }
        guard let outcome else { throw Failure.alreadyRunning }
        return outcome
    }

    public enum RunKind: String, Sendable {
        case rebuild
        case update
    }

    /// Runs `body` as one recorded linking run: started, then succeeded with its counts or failed
    /// with its error.
    private func recorded(
        _ kind: RunKind, on writer: PostgresConnection, _ body: (inout Outcome) async throws -> Void
    ) async throws -> Outcome {
        let started = ContinuousClock.now
        _ = try await RecordedRuns.linking.failAbandoned(on: writer, logger: logger)
        let runID: UUID = try await writer.systemTransaction(logger: logger) {
            var id = UUID()
            for try await value in try await writer.query(
                "INSERT INTO linking_runs (kind) VALUES (\(kind.rawValue)) RETURNING id", logger: logger
            ).decode(UUID.self) { id = value }
            try await RecordedRuns.hold(id, on: writer, logger: logger)
            return id
        }
        do {
            var outcome = Outcome(kind: kind)
            try await body(&outcome)
            outcome.seconds = (ContinuousClock.now - started).seconds
            try await writer.systemTransaction(logger: logger) {
                try await writer.run(
                    """
                    UPDATE linking_runs SET finished_at = clock_timestamp(), outcome = 'succeeded', records = \(outcome.records),
                        comparisons = \(Int64(outcome.comparisons)), links = \(outcome.links), reviews = \(outcome.reviews),
                        persons = \(outcome.persons), patterns = \(outcome.patterns)
                    WHERE id = \(runID)
                    """, logger: logger)
            }
            await RecordedRuns.release(runID, on: writer, logger: logger)
            logger.info(
                kind == .rebuild ? "linking rebuilt" : "linking updated",
                metadata: [
                    "records": "\(outcome.records)", "comparisons": "\(outcome.comparisons)", "links": "\(outcome.links)",
                    "reviews": "\(outcome.reviews)", "persons": "\(outcome.persons)", "patterns": "\(outcome.patterns)",
                    "marked": "\(outcome.marked)", "seconds": "\(String(format: "%.1f", outcome.seconds))",
                ])
            return outcome
        } catch {
            _ = try? await writer.systemTransaction(logger: logger) {
                try await writer.run(
                    "UPDATE linking_runs SET finished_at = clock_timestamp(), outcome = 'failed', error = \(DatabaseError.reason(for: error)) WHERE id = \(runID)",
                    logger: logger)
            }
            await RecordedRuns.release(runID, on: writer, logger: logger)
            throw error
        }
    }

    private func rebuildLocked(reader: PostgresConnection, writer: PostgresConnection, outcome: inout Outcome) async throws {
        let tiedBefore = try await tiedFacilities(on: writer)
        let frequencies = try await refreshRecords(reader: reader, writer: writer)
        outcome.records = frequencies.records
        try await writer.run("ANALYZE adult_records", logger: logger)
        try await linkAdults(frequencies: frequencies, reader: reader, writer: writer, outcome: &outcome)
        outcome.patterns = try await rebuildPatterns(reader: reader, writer: writer)
        try await refreshLinkedAdults(on: writer)
        outcome.marked = try await markTiedFacilities(also: tiedBefore, on: writer)
    }

    /// When the last successful run (either kind) started.
    func lastRunStarted(on connection: PostgresConnection) async throws -> Date? {
        try await connection.systemTransaction(logger: logger) {
            var started: Date?
            for try await value in try await connection.query(
                "SELECT max(started_at) FROM linking_runs WHERE outcome = 'succeeded'", logger: logger
            ).decode(Date?.self) { started = value }
            return started
        }
    }

    // MARK: Records

    /// Every adult mention as it stands: roster entries, and names written in reports without a
    /// roster entry (report_current's arrays, so corrections count). With `since`, only roster
    /// entries added and reports received from then on.
    static func mentions(since: Date? = nil) -> PostgresQuery {
        guard let since else {
            // A rebuild: everything. Not a word about adult_records, which the writer has just
            // truncated: even a lock on it here would wait for the writer, which waits for these rows.
            return """
                SELECT a.id, 'roster', a.facility_id, NULL::uuid, a.full_name, a.role, a.date_of_birth::text, a.national_id_hmac FROM adults a
                UNION ALL
                SELECT centinela_mention_record_id(c.report_id, m.position::smallint), 'report', c.facility_id, c.report_id, m.name,
                       nullif(c.adult_roles[m.position], ''), NULL::text, NULL::bytea
                FROM report_current c, unnest(c.adult_ids, c.adult_names) WITH ORDINALITY AS m(adult_id, name, position)
                WHERE m.adult_id IS NULL AND m.name <> ''
                """
        }
        // An update: the mentions of reports received or imported (with their old receipt dates)
        // since. Mentions already recorded are left out here rather than by the insert's ON
        // CONFLICT. After a bulk load shortly before a rebuild, `since` (the rebuild's start less
        // ten minutes) precedes the whole load, and streaming 2.9 M recorded mentions through the
        // service only to skip them took 105 of an update's 150 s in the bench.
        // The mentions' ids are computed first (MATERIALIZED): under row-level security a join
        // condition holding a function that is not leakproof (md5, in the id) cannot reach
        // adult_records' index, and the planner compared each new mention with every record —
        // a nightly update ran for over 15 minutes in the bench before it was stopped.
        return """
            WITH mentioned AS MATERIALIZED (
                SELECT centinela_mention_record_id(c.report_id, u.position::smallint) AS record_id, c.facility_id, c.report_id, u.name,
                       nullif(c.adult_roles[u.position], '') AS role
                FROM report_current c, unnest(c.adult_ids, c.adult_names) WITH ORDINALITY AS u(adult_id, name, position)
                WHERE (c.received_at >= \(since)
                       OR c.report_id IN (SELECT i.id FROM incident_reports i WHERE i.imported_at >= \(since)))
                  AND u.adult_id IS NULL AND u.name <> ''
            )
            SELECT a.id, 'roster', a.facility_id, NULL::uuid, a.full_name, a.role, a.date_of_birth::text, a.national_id_hmac FROM adults a
            WHERE a.created_at >= \(since) AND NOT EXISTS (SELECT 1 FROM adult_records r WHERE r.id = a.id)
            UNION ALL
            SELECT m.record_id, 'report', m.facility_id, m.report_id, m.name, m.role, NULL::text, NULL::bytea
            FROM mentioned m
            WHERE NOT EXISTS (SELECT 1 FROM adult_records r WHERE r.id = m.record_id)
            """
    }

    /// Rewrites `adult_records` from the mentions; returns the name counts.
    func refreshRecords(reader: PostgresConnection, writer: PostgresConnection) async throws -> NameFrequencies {
        try await writeRecords(since: nil, reader: reader, writer: writer).frequencies
    }

    /// Writes the records of the mentions (all of them, replacing the table, when `since` is nil;
    /// else those since then that are not recorded yet). Returns the names counted and the ids of
    /// the records added (updates only).
    func writeRecords(
        since: Date?, reader: PostgresConnection, writer: PostgresConnection
    ) async throws -> (frequencies: NameFrequencies, added: [UUID]) {
        var frequencies = NameFrequencies()
        frequencies.population = .shipped
        var added: [UUID] = []
        try await writer.systemTransaction(logger: logger) {
            if since == nil {
                // TRUNCATE, not DELETE: millions of dead rows per rebuild otherwise (transactional all the same).
                try await writer.run("TRUNCATE adult_records", logger: logger)
            }
            // COPY cannot write into a table under row-level security: it fills a private
            // temporary table, copied over in one statement.
            try await writer.run(
                "CREATE TEMPORARY TABLE incoming_adult_records (LIKE adult_records INCLUDING DEFAULTS) ON COMMIT DROP", logger: logger)
            try await writer.copyFrom(
                table: "incoming_adult_records",
                columns: [
                    "id", "source", "facility_id", "report_id", "given", "paternal", "maternal", "role", "date_of_birth",
                    "national_id_hmac",
                    "block_keys", "adult_key",
                ],
                logger: logger
            ) { copy in
                var buffer: [UInt8] = []
                buffer.reserveCapacity(1 << 20)
                try await reader.systemTransaction(logger: logger) {
                    let rows = try await reader.query(Self.mentions(since: since), logger: logger)
                    for try await row in rows {
                        var cells = ColumnReader(row)
                        let id = try cells.next(UUID.self)
                        let source = try cells.next(String.self)
                        let facility = try cells.next(UUID.self)
                        let report = try cells.next(UUID?.self)
                        let written = try cells.next(String.self)
                        let role = try cells.next(String?.self)
                        let born = try cells.next(String?.self)
                        let hmac = try cells.next(Data?.self)
                        let name = NormalizedName(written)
                        guard !name.isEmpty else { continue }
                        frequencies.count(name)
                        if hmac != nil { frequencies.identifiedRecords += 1 }
                        // The key the risk evidence reader gives the same mention (RiskEvidenceReader).
                        let key: RiskEvidence.AdultKey =
                            report == nil ? .rostered(.init(id)) : .described(name: written, role: role ?? "")
                        COPYText.appendRow(
                            [
                                AdultRecord.ID(id).description, source, Facility.ID(facility).description,
                                report.map { IncidentReport.ID($0).description }, COPYText.array(name.given), name.paternal, name.maternal,
                                role,
                                born,
                                hmac.map(COPYText.bytea),
                                COPYText.array(PersonResolution.blockKeys(name, dateOfBirth: born.flatMap(CalendarDate.init)).sorted()),
                                key.description,
                            ], to: &buffer)
                        if buffer.count >= 1 << 20 {
                            try await copy.write(ByteBuffer(bytes: buffer))
                            buffer.removeAll(keepingCapacity: true)
                        }
                    }
                }
                if !buffer.isEmpty { try await copy.write(ByteBuffer(bytes: buffer)) }
            }
            if since == nil {
                // Maintaining the GIN index of block keys row by row was most of this insert (2.9 M
                // records, 20 M keys: 136 s of a 486 s rebuild; 105 s with a larger pending list):
                // the index is built afresh after the rows instead. Dropping and making an index
                // takes the table's owner — the login role, as in the sequencers' transactions —
                // for those two statements only; the table is already locked by the TRUNCATE, and a
                // failure rolls the index back with the rest.
                try await writer.run("SET LOCAL ROLE NONE", logger: logger)
                try await writer.run("DROP INDEX adult_records_block_keys_idx", logger: logger)
                try await writer.run("SET LOCAL ROLE centinela_service", logger: logger)
                try await writer.run("INSERT INTO adult_records SELECT * FROM incoming_adult_records", logger: logger)
                try await writer.run("SET LOCAL ROLE NONE", logger: logger)
                try await writer.run("SET LOCAL maintenance_work_mem = '256MB'", logger: logger)
                try await writer.run("CREATE INDEX adult_records_block_keys_idx ON adult_records USING gin (block_keys)", logger: logger)
                try await writer.run("SET LOCAL ROLE centinela_service", logger: logger)
            } else {
                for try await id in try await writer.query(
                    "INSERT INTO adult_records SELECT * FROM incoming_adult_records ON CONFLICT (id) DO NOTHING RETURNING id",
                    logger: logger
                ).decode(UUID.self) { added.append(id) }
            }
        }
        return (frequencies, added)
    }

    // MARK: Adults

    /// Records of the blocks small enough to compare, block by block (a record once per key);
    /// with `keys`, of those blocks only. Block sizes come from a window over the same sorted
    /// stream, not a join with a grouped subquery: under row-level security the planner misjudged
    /// that join's size and chose to rescan every record once per block (hours at national scale).
    static func blocks(maxBlock: Int, keys: [String]? = nil) -> PostgresQuery {
        """
        SELECT key, id, facility_id, jurisdiction_id, parent_id, given, paternal, maternal, role, born, roster, block_keys, national_id_hmac
        FROM (
            SELECT k.key, r.id, r.facility_id, f.jurisdiction_id, CASE WHEN j.level = 'municipality' THEN j.parent_id END AS parent_id,
                   r.given, r.paternal, r.maternal, r.role, r.date_of_birth - date '1970-01-01' AS born, r.source = 'roster' AS roster,
                   r.block_keys, r.national_id_hmac,
                   count(*) OVER (PARTITION BY k.key) AS n
            FROM adult_records r
            CROSS JOIN LATERAL unnest(r.block_keys) AS k(key)
            JOIN facilities f ON f.id = r.facility_id
            JOIN jurisdictions j ON j.id = f.jurisdiction_id
            WHERE \(keys)::text[] IS NULL OR (r.block_keys && \(keys)::text[] AND k.key = ANY (\(keys)::text[]))
        ) blocked
        WHERE n BETWEEN 2 AND \(maxBlock)
        ORDER BY key
        """
    }

    /// Reads a record from the next columns `id, facility_id, jurisdiction_id, parent_id, given,
    /// paternal, maternal, role, born, roster`, as `blocks` and `calibrated` select them.
    static func record(_ cells: inout ColumnReader) throws -> AdultRecord {
        let id = try cells.next(UUID.self)
        let facility = try cells.next(UUID.self)
        let jurisdiction = try cells.next(UUID.self)
        let parent = try cells.next(UUID?.self)
        let given = try cells.next([String].self)
        let paternal = try cells.next(String?.self)
        let maternal = try cells.next(String?.self)
        let role = try cells.next(String?.self)
        let born = try cells.next(Int?.self)
        let roster = try cells.next(Bool.self)
        return AdultRecord(
            id: .init(id), facility: .init(facility), jurisdiction: .init(jurisdiction), parentJurisdiction: parent.map { .init($0) },
            name: NormalizedName(given: given, paternal: paternal, maternal: maternal), role: role.flatMap(Adult.Role.init(rawValue:)),
            dateOfBirth: born.map(CalendarDate.init(daysSinceEpoch:)), fromRoster: roster)
    }

    /// The counts and the model, calibrated on the pairs whose national identifiers agree: how many
    /// there are sets the prior (``LinkageModel/prior(_:)``), how they compare as any pair would
    /// if the identifiers were not there sets each level's m
    /// (``LinkageModel/fitted(toKnownMatches:frequencies:pseudoPairs:)``).
    func calibrated(
        _ frequencies: NameFrequencies, on reader: PostgresConnection
    ) async throws
        -> (frequencies: NameFrequencies, model: LinkageModel)
    {
        var pairs: [(AdultRecord, AdultRecord)] = []
        try await reader.systemTransaction(logger: logger) {
            let rows = try await reader.query(
                """
                WITH identified AS (
                    SELECT r.id, r.facility_id, f.jurisdiction_id, CASE WHEN j.level = 'municipality' THEN j.parent_id END AS parent_id,
                           r.given, r.paternal, r.maternal, r.role, r.date_of_birth - date '1970-01-01' AS born,
                           r.source = 'roster' AS roster, r.national_id_hmac
                    FROM adult_records r
                    JOIN facilities f ON f.id = r.facility_id
                    JOIN jurisdictions j ON j.id = f.jurisdiction_id
                    WHERE r.national_id_hmac IS NOT NULL
                )
                SELECT a.id, a.facility_id, a.jurisdiction_id, a.parent_id, a.given, a.paternal, a.maternal, a.role, a.born, a.roster,
                       b.id, b.facility_id, b.jurisdiction_id, b.parent_id, b.given, b.paternal, b.maternal, b.role, b.born, b.roster
                FROM identified a JOIN identified b ON b.national_id_hmac = a.national_id_hmac AND b.id > a.id
                """, logger: logger)
            for try await row in rows {
                var cells = ColumnReader(row)
                pairs.append((try Self.record(&cells), try Self.record(&cells)))
            }
        }
        var frequencies = frequencies
        frequencies.identifiedPairs = pairs.count
        let spread = try await spread(on: reader)
        return (frequencies, model.fitted(toKnownMatches: pairs, frequencies: frequencies).measuring(spread))
    }

    /// How the records spread over places and roles (``LinkageModel/measuring(_:)``).
    func spread(on reader: PostgresConnection) async throws -> LinkageModel.Spread {
        var spread = LinkageModel.Spread(facilities: [], jurisdictions: [], parents: [], roles: [])
        try await reader.systemTransaction(logger: logger) {
            for try await (part, count) in try await reader.query(
                """
                WITH placed AS (
                    SELECT r.facility_id, r.role, f.jurisdiction_id, CASE WHEN j.level = 'municipality' THEN j.parent_id END AS parent_id
                    FROM adult_records r JOIN facilities f ON f.id = r.facility_id JOIN jurisdictions j ON j.id = f.jurisdiction_id
                )
                SELECT 'facility', count(*)::int FROM placed GROUP BY facility_id
                UNION ALL SELECT 'jurisdiction', count(*)::int FROM placed GROUP BY jurisdiction_id
                UNION ALL SELECT 'parent', count(*)::int FROM placed WHERE parent_id IS NOT NULL GROUP BY parent_id
                UNION ALL SELECT 'role', count(*)::int FROM placed WHERE role IS NOT NULL AND role <> 'other' GROUP BY role
                """, logger: logger
            ).decode((String, Int).self) {
                switch part {
                case "facility": spread.facilities.append(count)
                case "jurisdiction": spread.jurisdictions.append(count)
                case "parent": spread.parents.append(count)
                default: spread.roles.append(count)
                }
            }
        }
        return spread
    }

    /// The block keys (of `keys`, or all) held by more records than `maxBlock`: those blocks are
    /// not compared, so a pair is compared in the first *other* block it shares.
    func oversizedKeys(among keys: [String]?, on connection: PostgresConnection) async throws -> Set<String> {
        try await connection.systemTransaction(logger: logger) {
            var oversized = Set<String>()
            for try await key in try await connection.query(
                """
                SELECT k FROM adult_records r, unnest(r.block_keys) AS k
                WHERE \(keys)::text[] IS NULL OR (r.block_keys && \(keys)::text[] AND k = ANY (\(keys)::text[]))
                GROUP BY k HAVING count(*) > \(maxBlock)
                """, logger: logger
            ).decode(String.self) { oversized.insert(key) }
            return oversized
        }
    }

    struct Found {
        var pair: RecordPair
        var records: (AdultRecord, AdultRecord)
        var assessment: LinkAssessment
    }

    /// Compares the pairs of each block (of `keys`, or all) once, in the first comparable block
    /// they share; with `new`, only pairs with at least one of those records. Returns the pairs
    /// linked or for review, and how many were compared.
    func compareBlocks(
        keys: [String]?, oversized: Set<String>, new: Set<UUID>?, frequencies: NameFrequencies, model: LinkageModel,
        on reader: PostgresConnection
    ) async throws -> (found: [Found], comparisons: Int) {
        var found: [Found] = []
        var comparisons = 0
        try await reader.systemTransaction(logger: logger) {
            try await reader.run("SET LOCAL work_mem = '256MB'", logger: logger)
            var block: [(record: AdultRecord, keys: [String])] = []
            var current: String?
            func compareBlock() {
                guard block.count > 1, let key = current else { return }
                for i in block.indices {
                    for j in block.index(after: i)..<block.endIndex {
                        let (a, b) = (block[i], block[j])
                        if let new, !new.contains(a.record.id.rawValue) && !new.contains(b.record.id.rawValue) { continue }
                        // Two identifiers decide by themselves (step 2), whatever the names.
                        let bothIdentified = a.record.nationalIDHash != nil && b.record.nationalIDHash != nil
                        guard !bothIdentified, Self.firstShared(a.keys, b.keys, skipping: oversized) == key else { continue }
                        comparisons += 1
                        let assessment = model.assess(a.record, b.record, frequencies: frequencies)
                        guard assessment.verdict != .distinct else { continue }
                        found.append(
                            Found(pair: RecordPair(a.record.id, b.record.id), records: (a.record, b.record), assessment: assessment))
                    }
                }
            }
            for try await row in try await reader.query(Self.blocks(maxBlock: maxBlock, keys: keys), logger: logger) {
                var cells = ColumnReader(row)
                let key = try cells.next(String.self)
                if key != current {
                    compareBlock()
                    block.removeAll(keepingCapacity: true)
                    current = key
                }
                var record = try Self.record(&cells)
                let keys = try cells.next([String].self)
                record.nationalIDHash = try cells.next(Data?.self)
                block.append((record, keys))
            }
            compareBlock()
        }
        return (found, comparisons)
    }

    /// Pairs sharing a national identifier (the identifiers decide; names do not matter); with
    /// `new`, only pairs with one of those records, found from them through the identifier's index
    /// (a join of every identified record with every other took most of an update's time).
    func identifiedPairs(
        new: [UUID]?, frequencies: NameFrequencies, model: LinkageModel, on reader: PostgresConnection
    )
        async throws -> [Found]
    {
        var found: [Found] = []
        let query: PostgresQuery =
            if let new {
                """
                SELECT DISTINCT least(a.id, b.id), CASE WHEN a.id < b.id THEN a.facility_id ELSE b.facility_id END,
                       greatest(a.id, b.id), CASE WHEN a.id < b.id THEN b.facility_id ELSE a.facility_id END, a.national_id_hmac
                FROM adult_records a
                JOIN adult_records b ON b.national_id_hmac = a.national_id_hmac AND b.id <> a.id
                WHERE a.id = ANY (\(new)::uuid[]) AND a.national_id_hmac IS NOT NULL
                """
            } else {
                """
                SELECT a.id, a.facility_id, b.id, b.facility_id, a.national_id_hmac FROM adult_records a
                JOIN adult_records b ON b.national_id_hmac = a.national_id_hmac AND b.id > a.id
                WHERE a.national_id_hmac IS NOT NULL
                """
            }
        try await reader.systemTransaction(logger: logger) {
            for try await (a, fa, b, fb, hash) in try await reader.query(query, logger: logger).decode((UUID, UUID, UUID, UUID, Data).self)
            {
                let x = AdultRecord(
                    id: .init(a), facility: .init(fa), name: .init(given: [], paternal: nil, maternal: nil), nationalIDHash: hash)
                var y = x
                y.id = .init(b)
                y.facility = .init(fb)
                found.append(Found(pair: RecordPair(x.id, y.id), records: (x, y), assessment: model.assess(x, y, frequencies: frequencies)))
            }
        }
        return found
    }

    func linkAdults(
        frequencies counted: NameFrequencies, reader: PostgresConnection, writer: PostgresConnection, outcome: inout Outcome
    ) async throws {
        // 1. Pairs in the same block, compared once: in the first comparable block they share, by
        // the model fitted to the pairs the identifiers prove.
        let (frequencies, model) = try await calibrated(counted, on: reader)
        let oversized = try await oversizedKeys(among: nil, on: reader)
        var (found, comparisons) = try await compareBlocks(
            keys: nil, oversized: oversized, new: nil, frequencies: frequencies, model: model, on: reader)
        outcome.comparisons = comparisons
        // 2. Pairs sharing a national identifier.
        found += try await identifiedPairs(new: nil, frequencies: frequencies, model: model, on: reader)
        outcome.links = found.count { $0.assessment.verdict == .link }
        outcome.reviews = found.count { $0.assessment.verdict == .review }
        // 3. The regulators' decisions.
        let decided = try await decisions(on: writer)
        let (accepted, rejected) = (decided.accepted, decided.rejected)
        // 4. Persons from the links and accepted reviews, never across a rejection or two identifiers.
        // Every record in a pair, with its identifier hash: a person never holds two identifiers.
        var records: [AdultRecord.ID: AdultRecord] = [:]
        for link in found {
            records[link.records.0.id] = link.records.0
            records[link.records.1.id] = link.records.1
        }
        let joins = found.filter { ($0.assessment.verdict == .link || accepted.contains($0.pair)) && !rejected.contains($0.pair) }
        let ordered = records.values.sorted { $0.id.description < $1.id.description }
        let persons = PersonResolution.persons(ordered, links: joins.map { ($0.pair, $0.assessment.score) }, rejected: rejected)
            .filter { $0.count > 1 }
        outcome.persons = persons.count
        // 5. Written in one transaction: links and persons are replaced together.
        try await writer.systemTransaction(logger: logger) {
            try await writer.run("DELETE FROM adult_links", logger: logger)
            try await writer.run("DELETE FROM adult_persons", logger: logger)
            try await insertLinks(found, on: writer)
            try await insertPersons(persons, facilities: records.mapValues(\.facility), on: writer)
        }
    }

    /// The regulators' decisions on proposed pairs, and when each was taken.
    struct Decisions {
        var accepted: Set<RecordPair> = []
        var rejected: Set<RecordPair> = []
        var decidedAt: [RecordPair: Date] = [:]

        /// The pairs decided at or after `instant`.
        func decided(since instant: Date) -> [RecordPair] { decidedAt.filter { $0.value >= instant }.map(\.key) }
    }

    func decisions(on connection: PostgresConnection) async throws -> Decisions {
        try await connection.systemTransaction(logger: logger) {
            var decisions = Decisions()
            for try await (a, b, decision, at) in try await connection.query(
                "SELECT record_a, record_b, decision, decided_at FROM adult_link_decisions", logger: logger
            ).decode((UUID, UUID, String, Date).self) {
                let pair = RecordPair(.init(a), .init(b))
                if decision == "accepted" { decisions.accepted.insert(pair) } else { decisions.rejected.insert(pair) }
                decisions.decidedAt[pair] = at
            }
            return decisions
        }
    }

    /// Adds the pairs found to `adult_links`, with what explains them, in the caller's transaction.
    func insertLinks(_ found: [Found], on writer: PostgresConnection) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for chunk in stride(from: 0, to: found.count, by: 5_000).map({ found[$0..<min($0 + 5_000, found.count)] }) {
            let comparisons = try chunk.map { String(decoding: try encoder.encode($0.assessment.comparisons), as: UTF8.self) }
            try await writer.run(
                """
                INSERT INTO adult_links (record_a, record_b, verdict, score, weight, prior, comparisons, held, model_id)
                SELECT a, b, v, s, w, p, c::jsonb, NULLIF(h, ''), \(Self.modelID)
                FROM unnest(\(chunk.map(\.pair.first.rawValue))::uuid[], \(chunk.map(\.pair.second.rawValue))::uuid[],
                            \(chunk.map(\.assessment.verdict.rawValue))::text[], \(chunk.map(\.assessment.score))::float8[],
                            \(chunk.map(\.assessment.weight))::float8[], \(chunk.map(\.assessment.prior))::float8[],
                            \(comparisons)::text[], \(chunk.map { $0.assessment.heldForReview?.rawValue ?? "" })::text[])
                     AS x(a, b, v, s, w, p, c, h)
                ON CONFLICT (record_a, record_b) DO NOTHING
                """, logger: logger)
        }
    }

    /// Adds persons (each named by its first record) to `adult_persons`, then refreshes every
    /// person's jurisdictions, in the caller's transaction.
    func insertPersons(_ persons: [[AdultRecord.ID]], facilities: [AdultRecord.ID: Facility.ID], on writer: PostgresConnection) async throws
    {
        var recordIDs: [UUID] = []
        var personIDs: [UUID] = []
        var facilityIDs: [UUID] = []
        for person in persons {
            for id in person {
                guard let facility = facilities[id] else { continue }
                recordIDs.append(id.rawValue)
                personIDs.append(person[0].rawValue)
                facilityIDs.append(facility.rawValue)
            }
        }
        for start in stride(from: 0, to: recordIDs.count, by: 10_000) {
            let end = min(start + 10_000, recordIDs.count)
            try await writer.run(
                """
                INSERT INTO adult_persons (record_id, person_id, facility_id)
                SELECT * FROM unnest(\(Array(recordIDs[start..<end]))::uuid[], \(Array(personIDs[start..<end]))::uuid[],
                                     \(Array(facilityIDs[start..<end]))::uuid[])
                """, logger: logger)
        }
        try await writer.run(
            """
            UPDATE adult_persons p SET jurisdictions = s.jurisdictions
            FROM (SELECT ap.person_id, array_agg(DISTINCT f.jurisdiction_id ORDER BY f.jurisdiction_id) AS jurisdictions
                  FROM adult_persons ap JOIN facilities f ON f.id = ap.facility_id GROUP BY ap.person_id) s
            WHERE s.person_id = p.person_id AND p.jurisdictions IS DISTINCT FROM s.jurisdictions
            """, logger: logger)
    }

    /// The smallest key two sorted key lists share, of those not `skipping`.
    static func firstShared(_ a: [String], _ b: [String], skipping: Set<String> = []) -> String? {
        var (i, j) = (0, 0)
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                if !skipping.contains(a[i]) { return a[i] }
                i += 1
                j += 1
                continue
            }
            if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        return nil
    }

    // MARK: What linking feeds

    /// Rewrites `linked_adults` from the persons: each record with its facility, risk-evidence key
    /// and whether a report that is not unfounded names it.
    func refreshLinkedAdults(on writer: PostgresConnection) async throws {
        try await writer.systemTransaction(logger: logger) {
            var records: [LinkedAdults.Record] = []
            for try await (person, facility, key, implicated) in try await writer.query(
                """
                SELECT p.person_id, p.facility_id, r.adult_key,
                       CASE WHEN r.source = 'report'
                            THEN EXISTS (SELECT 1 FROM report_current c WHERE c.report_id = r.report_id AND c.status <> 'unfounded')
                            ELSE EXISTS (SELECT 1 FROM report_current c
                                         WHERE c.facility_id = p.facility_id AND r.id = ANY (c.adult_ids) AND c.status <> 'unfounded')
                       END
                FROM adult_persons p JOIN adult_records r ON r.id = p.record_id
                WHERE r.adult_key IS NOT NULL
                """, logger: logger
            ).decode((UUID, UUID, String, Bool).self) {
                guard let key = RiskEvidence.AdultKey(description: key) else { continue }
                records.append(.init(person: .init(person), facility: .init(facility), key: key, implicated: implicated))
            }
            let entries = LinkedAdults.entries(records)
            try await writer.run("DELETE FROM linked_adults", logger: logger)
            for start in stride(from: 0, to: entries.count, by: 5_000) {
                let chunk = entries[start..<min(start + 5_000, entries.count)]
                // Arrays of arrays do not go through unnest: the facility lists travel as text.
                try await writer.run(
                    """
                    INSERT INTO linked_adults (facility_id, adult_key, counting_key, implicated_here, implicated_elsewhere, rostered_elsewhere)
                    SELECT f, k, c, h, string_to_array(i, ',')::uuid[], string_to_array(r, ',')::uuid[]
                    FROM unnest(\(chunk.map(\.facility.rawValue))::uuid[], \(chunk.map(\.key.description))::text[],
                                \(chunk.map(\.linked.key.description))::text[], \(chunk.map(\.linked.implicatedHere))::bool[],
                                \(chunk.map { Self.list($0.linked.implicatedAt) })::text[], \(chunk.map { Self.list($0.linked.rosteredAt) })::text[])
                         AS x(f, k, c, h, i, r)
                    """, logger: logger)
            }
        }
    }

    static func list(_ facilities: Set<Facility.ID>) -> String {
        facilities.map(\.description).sorted().joined(separator: ",")
    }

    /// Facilities tied to another by a linked adult or a pattern.
    func tiedFacilities(on connection: PostgresConnection) async throws -> [UUID] {
        try await connection.systemTransaction(logger: logger) {
            var ids: [UUID] = []
            for try await id in try await connection.query(
                "SELECT facility_id FROM linked_adults UNION SELECT facility_id FROM pattern_reports", logger: logger
            ).decode(UUID.self) { ids.append(id) }
            return ids
        }
    }

    /// Marks for rescoring every facility tied to another before or after the rebuild, so that
    /// scores and alerts follow what linking now knows; returns how many.
    func markTiedFacilities(also before: [UUID], on connection: PostgresConnection) async throws -> Int {
        let after = try await tiedFacilities(on: connection)
        let all = Array(Set(before).union(after))
        return try await connection.systemTransaction(logger: logger) {
            var marked = 0
            for start in stride(from: 0, to: all.count, by: 10_000) {
                for try await count in try await connection.query(
                    "SELECT centinela_mark_facilities_for_rescore(\(Array(all[start..<min(start + 10_000, all.count)])))", logger: logger
                ).decode(Int.self) { marked += count }
            }
            return marked
        }
    }

    // MARK: Patterns

    /// What linking by modus operandi reads of a report (decoded by `profile`), as it stands.
    static let profileColumns =
        """
        report_id, facility_id, mo_tags, category, youngest_child_age, cardinality(adult_ids), occurred_from - date '1970-01-01', \
        status = 'unfounded'
        """

    func profile(_ cells: inout ColumnReader) throws -> CaseProfile? {
        let report = try cells.next(UUID.self)
        let facility = try cells.next(UUID.self)
        let tags = try cells.next([String].self)
        let category = try cells.next(String.self)
        let age = try cells.next(Int16?.self)
        let adults = try cells.next(Int.self)
        let occurred = try cells.next(Int.self)
        let unfounded = try cells.next(Bool.self)
        guard let category = IncidentReport.Category(rawValue: category) else { return nil }
        return CaseProfile(
            report: .init(report), facility: .init(facility), modusOperandi: tags.compactMap(IncidentReport.ModusOperandi.init(rawValue:)),
            category: category, youngestAge: age.map(Int.init), adults: adults, day: occurred, unfounded: unfounded)
    }

    /// The persons a report names, in the order named: `adult_persons.person_id`, or the record's
    /// own id for a record linked to nobody (`c` is the report_current row).
    static let namedPersons = """
        ARRAY(
            SELECT coalesce(p.person_id, x.record_id)
            FROM unnest(c.adult_ids) WITH ORDINALITY AS a(id, position)
            CROSS JOIN LATERAL (SELECT coalesce(a.id, centinela_mention_record_id(c.report_id, a.position::smallint)) AS record_id) x
            LEFT JOIN adult_persons p ON p.record_id = x.record_id
            ORDER BY a.position
        )
        """

    /// The pairs of persons waiting in the review queue, each way round (not those a regulator
    /// rejected: they said the two are different people).
    func pendingPairs(on connection: PostgresConnection) async throws -> [String: Set<String>] {
        var pending: [String: Set<String>] = [:]
        try await connection.systemTransaction(logger: logger) {
            for try await (a, b) in try await connection.query(
                """
                SELECT coalesce(pa.person_id, l.record_a), coalesce(pb.person_id, l.record_b)
                FROM adult_links l
                LEFT JOIN adult_persons pa ON pa.record_id = l.record_a
                LEFT JOIN adult_persons pb ON pb.record_id = l.record_b
                WHERE l.verdict = 'review'
                  AND NOT EXISTS (SELECT 1 FROM adult_link_decisions d
                                  WHERE d.record_a = l.record_a AND d.record_b = l.record_b AND d.decision = 'rejected')
                """, logger: logger
            ).decode((UUID, UUID).self) {
                let (a, b) = (Identifier<AdultRecord>(a).description, Identifier<AdultRecord>(b).description)
                guard a != b else { continue }
                pending[a, default: []].insert(b)
                pending[b, default: []].insert(a)
            }
        }
        return pending
    }

    /// Rewrites the patterns, of both kinds; returns how many.
    func rebuildPatterns(reader: PostgresConnection, writer: PostgresConnection) async throws -> Int {
        // Feature and combination counts over every report not found unfounded, then the reports
        // (all of them) with two tactics or more: only they can be tied by tactics.
        var weights = FeatureWeights()
        try await reader.systemTransaction(logger: logger) {
            for try await row in try await reader.query(
                "SELECT \(unescaped: Self.profileColumns) FROM report_current c WHERE status <> 'unfounded'", logger: logger)
            {
                var cells = ColumnReader(row)
                if let profile = try profile(&cells) { weights.count(profile) }
            }
        }
        let pending = try await pendingPairs(on: reader)
        var candidates: [CaseProfile] = []
        var known: [IncidentReport.ID: (facility: Facility.ID, received: Date)] = [:]
        try await reader.systemTransaction(logger: logger) {
            for try await row in try await reader.query(
                """
                SELECT \(unescaped: Self.profileColumns), received_at, \(unescaped: Self.namedPersons)
                FROM report_current c WHERE cardinality(mo_tags) >= \(detection.minimumSharedTags)
                """, logger: logger)
            {
                var cells = ColumnReader(row)
                guard var profile = try profile(&cells) else { continue }
                known[profile.report] = (profile.facility, try cells.next(Date.self))
                let persons = try cells.next([UUID].self).map { Identifier<AdultRecord>($0).description }
                profile.ties = CaseProfile.ties(persons: persons, pending: pending)
                candidates.append(profile)
            }
        }
        let alike = detection.patterns(candidates, weights: weights)
        // Networks: the persons each report names, for reports naming two or more, or anyone linked.
        var implications: [NetworkDetection.Implication] = []
        try await reader.systemTransaction(logger: logger) {
            for try await (report, facility, received, unfounded, persons) in try await reader.query(
                """
                SELECT c.report_id, c.facility_id, c.received_at, c.status = 'unfounded', array_agg(coalesce(p.person_id, x.record_id) ORDER BY x.position)
                FROM report_current c
                CROSS JOIN LATERAL (
                    SELECT coalesce(a.id, centinela_mention_record_id(c.report_id, a.position::smallint)) AS record_id, a.position
                    FROM unnest(c.adult_ids) WITH ORDINALITY AS a(id, position)
                ) x
                LEFT JOIN adult_persons p ON p.record_id = x.record_id
                GROUP BY c.report_id, c.facility_id, c.received_at, c.status
                HAVING count(*) >= 2 OR count(p.person_id) >= 1
                """, logger: logger
            ).decode((UUID, UUID, Date, Bool, [UUID]).self) {
                implications.append(
                    .init(
                        report: .init(report), facility: .init(facility), persons: persons.map { Identifier<AdultRecord>($0).description },
                        unfounded: unfounded))
                known[.init(report)] = (.init(facility), received)
            }
        }
        let networks = NetworkDetection.networks(implications)
        try await writer.systemTransaction(logger: logger) {
            try await writer.run("DELETE FROM patterns", logger: logger)
            for pattern in alike {
                try await insertPattern(
                    kind: "modus_operandi", signature: pattern.signature.sorted(), persons: [], reports: pattern.reports,
                    groups: pattern.groups,
                    where: known, on: writer)
            }
            for network in networks {
                try await insertPattern(
                    kind: "network", signature: [], persons: network.persons.sorted().compactMap(UUID.init(uuidString:)),
                    reports: network.reports,
                    groups: [network.facilities], where: known, on: writer)
            }
        }
        return alike.count + networks.count
    }

    /// One pattern, its groups (facilities, largest first) and its reports. Its id comes from its
    /// kind and its first report received, so it survives rebuilds while that report stays in it.
    private func insertPattern(
        kind: String, signature: [String], persons: [UUID], reports: [IncidentReport.ID], groups: [Set<Facility.ID>],
        where known: [IncidentReport.ID: (facility: Facility.ID, received: Date)], on writer: PostgresConnection
    ) async throws {
        let located = reports.compactMap { id in known[id].map { (id, $0) } }
        var groupOf: [Facility.ID: Int] = [:]
        for (index, group) in groups.enumerated() { for facility in group { groupOf[facility] = index } }
        guard let first = located.min(by: { ($0.1.received, $0.0.description) < ($1.1.received, $1.0.description) }) else { return }
        let times = located.map(\.1.received)
        try await writer.run(
            """
            WITH p AS (
                INSERT INTO patterns (id, kind, signature, persons, facilities, reports, jurisdictions, first_received, last_received, group_sizes)
                SELECT md5(\(kind) || ':' || \(first.0.rawValue)::text)::uuid, \(kind), \(signature)::text[], \(persons)::uuid[],
                       \(Set(located.map(\.1.facility)).count), \(located.count),
                       (SELECT array_agg(DISTINCT f.jurisdiction_id ORDER BY f.jurisdiction_id) FROM facilities f
                        WHERE f.id = ANY(\(located.map(\.1.facility.rawValue))::uuid[])),
                       \(times.min()!), \(times.max()!), \(groups.map(\.count))::integer[]
                RETURNING id
            )
            INSERT INTO pattern_reports (pattern_id, report_id, facility_id, facility_group)
            SELECT p.id, x.r, x.f, x.g FROM p,
                   unnest(\(located.map(\.0.rawValue))::uuid[], \(located.map(\.1.facility.rawValue))::uuid[],
                          \(located.map { groupOf[$0.1.facility] ?? 0 })::smallint[]) AS x(r, f, g)
            """, logger: logger)
    }
}
