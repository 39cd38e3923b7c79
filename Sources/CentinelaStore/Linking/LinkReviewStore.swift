import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// One adult record as a regulator sees it (review queue, linked adults): what linking compared,
/// and where it comes from.
public struct AdultRecordView: Sendable {
    public var id: AdultRecord.ID
    /// `roster` or `report`.
    public var source: String
    public var facilityID: Facility.ID
    public var facilityCode: String
    public var facilityName: String
    public var jurisdictionCode: String
    /// The name as the roster or the report wrote it (nil should its source no longer be
    /// visible); `name` is the form linking compared.
    public var writtenName: String?
    public var name: NormalizedName
    public var role: String?
    public var dateOfBirth: String?
}

/// A pair the model proposes for review, with the comparisons that explain it.
public struct ReviewPair: Sendable {
    public var records: (AdultRecordView, AdultRecordView)
    /// Linked already (a weak link, waiting to be confirmed or broken) rather than waiting to be joined.
    public var linked: Bool
    public var score: Double
    public var weight: Double
    public var prior: Double
    /// The comparisons as stored: a JSON array of {field, level, weight}.
    public var comparisonsJSON: String
    /// Why a pair whose score says "link" waits for a decision (nil: proposed on its score).
    public var held: LinkAssessment.HoldReason?
    public var foundAt: Date
}

/// The regulators' review queue of proposed links (docs/linking.md): pairs the model put between
/// its two thresholds, and weak links (linked on the odds, below `LinkageModel.confirmThreshold`),
/// that nobody has decided yet; and the decisions, appended and never altered. Runs in the
/// caller's scope: a regulator sees a pair only when they may see both facilities.
public struct LinkReviewStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The pairs of `adult_links l` open to a decision: proposed pairs, and links scored below
    /// ``LinkageModel/confirmThreshold``. Schema/0026's partial index holds exactly these rows (its
    /// predicate repeats this one: a test holds them together), so that the queue is found without
    /// checking every pair's row-level policy.
    static let open = "(l.verdict = 'review' OR (l.verdict = 'link' AND l.score < \(LinkageModel.v1.confirmThreshold)))"

    public enum Decision: String, Sendable, CaseIterable {
        case accepted
        case rejected
    }

    public enum DecideOutcome: Sendable, Equatable {
        case recorded(Date)
        /// No proposed pair the caller may see.
        case notFound
        /// Decided before: a decision is final, and a rejected pair is never proposed again.
        case alreadyDecided
    }

    /// Pending pairs, strongest first, after `cursor` (score, first record, second record).
    public func pending(
        after cursor: (score: Double, first: UUID, second: UUID)?, limit: Int, on connection: PostgresConnection
    ) async throws -> [ReviewPair] {
        var pairs: [ReviewPair] = []
        let rows = try await connection.query(Self.pendingQuery(after: cursor, limit: limit), logger: logger)
        for try await row in rows {
            var cells = ColumnReader(row)
            let linked = try cells.next(Bool.self)
            let score = try cells.next(Double.self)
            let weight = try cells.next(Double.self)
            let prior = try cells.next(Double.self)
            let comparisons = try cells.next(String.self)
            let held = try cells.next(String?.self).flatMap(LinkAssessment.HoldReason.init(rawValue:))
            let foundAt = try cells.next(Date.self)
            let a = try Self.record(&cells)
            let b = try Self.record(&cells)
            pairs.append(
                ReviewPair(
                    records: (a, b), linked: linked, score: score, weight: weight, prior: prior, comparisonsJSON: comparisons,
                    held: held, foundAt: foundAt))
        }
        return pairs
    }

    /// How many pairs wait for a decision that the caller may see.
    public func pendingCount(on connection: PostgresConnection) async throws -> Int {
        try await connection.count(of: Self.pendingQuery(after: nil, limit: nil), logger: logger)
    }

    /// The queue's query; with no limit, the rows to count (no order).
    static func pendingQuery(after cursor: (score: Double, first: UUID, second: UUID)?, limit: Int?) -> PostgresQuery {
        let columns =
            "l.verdict = 'link', l.score, l.weight, l.prior, l.comparisons::text, l.held, l.found_at, "
            + Self.recordColumns("a", "fa") + ", " + Self.recordColumns("b", "fb")
        return """
            SELECT \(unescaped: limit == nil ? "1" : columns)
            FROM adult_links l
            JOIN adult_records a ON a.id = l.record_a JOIN facilities fa ON fa.id = a.facility_id
            JOIN adult_records b ON b.id = l.record_b JOIN facilities fb ON fb.id = b.facility_id
            WHERE \(unescaped: Self.open)
              AND NOT EXISTS (SELECT 1 FROM adult_link_decisions d WHERE d.record_a = l.record_a AND d.record_b = l.record_b)
              AND (\(cursor?.score)::float8 IS NULL
                   OR l.score < \(cursor?.score)::float8
                   OR (l.score = \(cursor?.score)::float8 AND (l.record_a, l.record_b) > (\(cursor?.first)::uuid, \(cursor?.second)::uuid)))
            \(unescaped: limit == nil ? "" : "ORDER BY l.score DESC, l.record_a, l.record_b")
            LIMIT \(limit)
            """
    }

    /// Records the caller's decision on a proposed pair.
    public func decide(
        _ pair: RecordPair, _ decision: Decision, note: String?, by principal: Principal, on connection: PostgresConnection
    ) async throws -> DecideOutcome {
        var proposed = false
        for try await _ in try await connection.query(
            """
            SELECT 1 FROM adult_links l
            WHERE l.record_a = \(pair.first.rawValue) AND l.record_b = \(pair.second.rawValue) AND \(unescaped: Self.open)
            """, logger: logger
        ) { proposed = true }
        guard proposed else { return .notFound }
        // One decision per pair; of two regulators deciding at once, the second is told it is decided.
        var at: Date?
        for try await value in try await connection.query(
            """
            INSERT INTO adult_link_decisions (record_a, record_b, decision, actor_id, actor, note)
            VALUES (\(pair.first.rawValue), \(pair.second.rawValue), \(decision.rawValue), \(principal.id.rawValue), \(principal.holder), \(note))
            ON CONFLICT (record_a, record_b) DO NOTHING
            RETURNING decided_at
            """, logger: logger
        ).decode(Date.self) { at = value }
        return at.map { .recorded($0) } ?? .alreadyDecided
    }

    /// A record's columns for ``record(_:)``, `facility` being its facility's row. The name as
    /// written comes from the roster entry, or from the report's mention as the report stands now
    /// (its id is derived from the report and the mention's position).
    static func recordColumns(_ record: String, _ facility: String) -> String {
        "\(record).id, \(record).source, \(facility).id, \(facility).external_code, \(facility).name, "
            + "(SELECT j.code FROM jurisdictions j WHERE j.id = \(facility).jurisdiction_id), "
            + "coalesce((SELECT w.full_name FROM adults w WHERE w.id = \(record).id), "
            + "(SELECT m.name FROM report_current c, unnest(c.adult_names) WITH ORDINALITY AS m(name, position) "
            + "WHERE c.report_id = \(record).report_id AND centinela_mention_record_id(c.report_id, m.position::smallint) = \(record).id)), "
            + "\(record).given, \(record).paternal, \(record).maternal, \(record).role, \(record).date_of_birth::text"
    }

    static func record(_ cells: inout ColumnReader) throws -> AdultRecordView {
        let id = try cells.next(UUID.self)
        let source = try cells.next(String.self)
        let facility = try cells.next(UUID.self)
        let code = try cells.next(String.self)
        let name = try cells.next(String.self)
        let jurisdiction = try cells.next(String.self)
        let written = try cells.next(String?.self)
        let given = try cells.next([String].self)
        let paternal = try cells.next(String?.self)
        let maternal = try cells.next(String?.self)
        let role = try cells.next(String?.self)
        let born = try cells.next(String?.self)
        return AdultRecordView(
            id: .init(id), source: source, facilityID: .init(facility), facilityCode: code, facilityName: name,
            jurisdictionCode: jurisdiction, writtenName: written,
            name: NormalizedName(given: given, paternal: paternal, maternal: maternal), role: role, dateOfBirth: born)
    }
}
