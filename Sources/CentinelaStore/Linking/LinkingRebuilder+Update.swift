import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// Linking between rebuilds (`centinela linking update`, and every full `centinela rescore`):
/// the roster entries added and the names written in reports received since the last run become
/// records, compared only with the records sharing one of their block keys (found through the GIN
/// index on `block_keys`, not by reading every record); the persons they join are resolved again
/// with every link among their records; patterns, the ties between facilities and the rescoring
/// marks follow as in a rebuild.
///
/// Regulators' decisions made since the last run are applied too: the persons of the decided pairs
/// are resolved again (a rejected pair splits its person, an accepted one joins two), so that the
/// ties, patterns and scores that rest on them follow within seconds (`LinkingWorker`, in `serve`).
///
/// What an update does not revisit: corrections of names already recorded, roster entries
/// removed, and pairs of old records (their verdicts stand until the next rebuild, which decides
/// everything afresh).
extension LinkingRebuilder {
    /// Reports may commit a little after the clock time they were stamped with: mentions are
    /// looked for this long before the last run started (those already recorded are skipped).
    static let updateOverlap: TimeInterval = 600

    func updateLocked(since: Date, reader: PostgresConnection, writer: PostgresConnection, outcome: inout Outcome) async throws {
        let tiedBefore = try await tiedFacilities(on: writer)
        let (_, added) = try await writeRecords(since: since.addingTimeInterval(-Self.updateOverlap), reader: reader, writer: writer)
        outcome.records = added.count
        let decisions = try await decisions(on: writer)
        if !added.isEmpty {
            try await linkNewRecords(added, decisions: decisions, reader: reader, writer: writer, outcome: &outcome)
        }
        let decided = decisions.decided(since: since.addingTimeInterval(-Self.updateOverlap))
        if !decided.isEmpty {
            outcome.persons += try await writer.systemTransaction(logger: logger) {
                try await resolveAgain(
                    Set(decided.flatMap { [$0.first.rawValue, $0.second.rawValue] }), accepted: decisions.accepted,
                    rejected: decisions.rejected, on: writer)
            }
        }
        outcome.patterns = try await rebuildPatterns(reader: reader, writer: writer)
        try await refreshLinkedAdults(on: writer)
        outcome.marked = try await markTiedFacilities(also: tiedBefore, on: writer)
    }

    /// The names counted over every record, as a rebuild counts them while reading.
    func storedFrequencies(on connection: PostgresConnection) async throws -> NameFrequencies {
        try await connection.systemTransaction(logger: logger) {
            var frequencies = NameFrequencies()
            frequencies.population = .shipped
            for try await (part, name, count) in try await connection.query(
                """
                SELECT 'given', given[1], count(*)::int FROM adult_records WHERE cardinality(given) > 0 GROUP BY given[1]
                UNION ALL
                SELECT 'second', given[2], count(*)::int FROM adult_records WHERE cardinality(given) > 1 GROUP BY given[2]
                UNION ALL
                SELECT 'surname', s, count(*)::int FROM adult_records, unnest(ARRAY[paternal, maternal]) AS s WHERE s IS NOT NULL GROUP BY s
                UNION ALL
                SELECT 'records', '', count(*)::int FROM adult_records
                UNION ALL
                SELECT 'identified', '', count(*)::int FROM adult_records WHERE national_id_hmac IS NOT NULL
                """, logger: logger
            ).decode((String, String, Int).self) {
                switch part {
                case "given": frequencies.given[name] = count
                case "second":
                    frequencies.secondGiven[name] = count
                    frequencies.secondGivenRecords += count
                case "surname": frequencies.surnames[name] = count
                case "identified": frequencies.identifiedRecords = count
                default: frequencies.records = count
                }
            }
            return frequencies
        }
    }

    /// Compares the new records with those sharing a block key, adds the links found, and
    /// resolves again the persons they touch.
    func linkNewRecords(
        _ added: [UUID], decisions: Decisions, reader: PostgresConnection, writer: PostgresConnection, outcome: inout Outcome
    ) async throws {
        let (frequencies, model) = try await calibrated(try await storedFrequencies(on: reader), on: reader)
        var keys = Set<String>()
        try await reader.systemTransaction(logger: logger) {
            for try await recordKeys in try await reader.query(
                "SELECT block_keys FROM adult_records WHERE id = ANY (\(added)::uuid[])", logger: logger
            ).decode([String].self) { keys.formUnion(recordKeys) }
        }
        let blockKeys = keys.sorted()
        let oversized = try await oversizedKeys(among: blockKeys, on: reader)
        let comparable = blockKeys.filter { !oversized.contains($0) }
        // No comparable block: nothing to stream (an empty key list would still scan every record).
        var (found, comparisons) =
            comparable.isEmpty
            ? ([], 0)
            : try await compareBlocks(
                keys: comparable, oversized: oversized, new: Set(added), frequencies: frequencies, model: model, on: reader)
        found += try await identifiedPairs(new: added, frequencies: frequencies, model: model, on: reader)
        outcome.comparisons = comparisons
        outcome.links = found.count { $0.assessment.verdict == .link }
        outcome.reviews = found.count { $0.assessment.verdict == .review }

        let (accepted, rejected) = (decisions.accepted, decisions.rejected)
        let joining = found.filter { ($0.assessment.verdict == .link || accepted.contains($0.pair)) && !rejected.contains($0.pair) }
        try await writer.systemTransaction(logger: logger) {
            try await insertLinks(found, on: writer)
            guard !joining.isEmpty else { return }
            outcome.persons = try await resolveAgain(
                Set(joining.flatMap { [$0.pair.first.rawValue, $0.pair.second.rawValue] }), accepted: accepted, rejected: rejected,
                on: writer)
        }
    }

    /// The persons `touched` records belong to, resolved again whole — every record of theirs and
    /// every link among those records, as decided — in the caller's transaction. Returns how many
    /// persons of two or more records they now make.
    func resolveAgain(
        _ touched: Set<UUID>, accepted: Set<RecordPair>, rejected: Set<RecordPair>, on writer: PostgresConnection
    ) async throws -> Int {
        var members = touched
        for try await id in try await writer.query(
            """
            SELECT o.record_id FROM adult_persons p JOIN adult_persons o ON o.person_id = p.person_id
            WHERE p.record_id = ANY (\(Array(members))::uuid[])
            """, logger: logger
        ).decode(UUID.self) { members.insert(id) }
        let ids = Array(members)
        var records: [AdultRecord] = []
        for try await (id, facility, hash) in try await writer.query(
            "SELECT id, facility_id, national_id_hmac FROM adult_records WHERE id = ANY (\(ids)::uuid[])", logger: logger
        ).decode((UUID, UUID, Data?).self) {
            records.append(
                .init(id: .init(id), facility: .init(facility), name: .init(given: [], paternal: nil, maternal: nil), nationalIDHash: hash))
        }
        var links: [(RecordPair, Double)] = []
        for try await (a, b, verdict, score) in try await writer.query(
            """
            SELECT record_a, record_b, verdict, score FROM adult_links
            WHERE record_a = ANY (\(ids)::uuid[]) AND record_b = ANY (\(ids)::uuid[])
            """, logger: logger
        ).decode((UUID, UUID, String, Double).self) {
            let pair = RecordPair(.init(a), .init(b))
            if (verdict == "link" || accepted.contains(pair)) && !rejected.contains(pair) { links.append((pair, score)) }
        }
        let ordered = records.sorted { $0.id.description < $1.id.description }
        let persons = PersonResolution.persons(ordered, links: links, rejected: rejected).filter { $0.count > 1 }
        try await writer.run("DELETE FROM adult_persons WHERE record_id = ANY (\(ids)::uuid[])", logger: logger)
        try await insertPersons(persons, facilities: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.facility) }), on: writer)
        return persons.count
    }

    /// Whether a regulator decided on a pair after the last successful run started: what the
    /// linking worker waits for.
    public func hasUnappliedDecisions(on connection: PostgresConnection) async throws -> Bool {
        guard let since = try await lastRunStarted(on: connection) else { return false }
        return try await connection.systemTransaction(logger: logger) {
            var found = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM adult_link_decisions WHERE decided_at >= \(since) LIMIT 1", logger: logger
            ) { found = true }
            return found
        }
    }
}
