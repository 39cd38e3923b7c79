import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A facility as the risk model needs it, with its evidence.
public struct ScoringSubject: Sendable {
    public var facilityID: Facility.ID
    public var kind: Facility.Kind
    public var jurisdictionID: Jurisdiction.ID
    public var evidence: RiskEvidence
    /// The change fingerprint of the facility's stored score (live runs only): a new assessment
    /// with the same one need not be written.
    public var storedFingerprint: Int64?
}

/// Reads facilities' evidence as of an instant, one facility at a time, in facility-id order.
///
/// One query streams every report row; only the facility being assembled is held in memory, so a
/// full rescoring needs memory for its largest facility, not for the country. Each report is read
/// as it stands (docs/risk-model.md, "Inputs"): its latest status decision and latest correction
/// of each field.
struct RiskEvidenceReader {
    let logger: Logger

    /// Where reports are read as they stand.
    enum Source: Sendable {
        /// `report_current`, folded when each report, decision or correction was written: the
        /// reports as they stand now (live scores). One narrow row per report.
        case current
        /// The append-only tables, folded at read time up to the instant: the reports as they
        /// stood then, for back-tests. Reads and aggregates every decision and correction.
        case history
    }

    /// Which facilities to read.
    enum Selection: Sendable {
        case all
        case facilities([Facility.ID])
        /// Facilities whose id is at least `from` and below `upTo` (nil: unbounded).
        case range(from: UUID?, upTo: UUID?)
    }

    func read(
        _ selection: Selection, from source: Source, asOf: Date, baselines: PeerBaselines?, on connection: PostgresConnection,
        _ consume: (ScoringSubject) async throws -> Void
    ) async throws {
        let only: [UUID]? = if case .facilities(let ids) = selection { ids.map(\.rawValue) } else { nil }
        let (from, upTo): (UUID?, UUID?) = if case .range(let from, let upTo) = selection { (from, upTo) } else { (nil, nil) }
        var overrides: [UUID: RiskEvidence.ManualOverride] = [:]
        for try await (facility, band, reason, expires, setAt, setBy) in try await connection.query(
            """
            SELECT DISTINCT ON (o.facility_id) o.facility_id, o.band, o.reason, o.expires_at, o.set_at, o.set_by::text
            FROM risk_band_overrides o
            WHERE o.set_at < \(asOf) AND (\(only)::uuid[] IS NULL OR o.facility_id = ANY(\(only)::uuid[]))
            ORDER BY o.facility_id, o.set_at DESC, o.id DESC
            """, logger: logger
        ).decode((UUID, String?, String, Date?, Date, String?).self) {
            // Only the latest row counts: a clearing row (no band) or an expired override means none.
            guard let band = band.flatMap(RiskBand.init(rawValue:)), let expires, expires > asOf else { continue }
            overrides[facility] = .init(band: band, reason: reason, expiresAt: expires, setAt: setAt, setBy: setBy)
        }

        // What linking knows, as of its last run: live scores only (a back-test cannot know what
        // linking would have found then).
        let linking = source == .current ? try await linkingEvidence(only: only, from: from, upTo: upTo, on: connection) : [:]
        func finished(_ subject: ScoringSubject) -> ScoringSubject {
            guard let tied = linking[subject.facilityID.rawValue] else { return subject }
            var subject = subject
            subject.evidence.link(tied.adults)
            subject.evidence.patterns = tied.patterns
            return subject
        }

        let rows =
            switch source {
            case .current: try await connection.query(Self.currentQuery(asOf: asOf, only: only, from: from, upTo: upTo), logger: logger)
            case .history: try await connection.query(Self.historyQuery(asOf: asOf, only: only, from: from, upTo: upTo), logger: logger)
            }

        var current: ScoringSubject?
        for try await row in rows {
            var columns = ColumnReader(row)
            let facility = try columns.next(UUID.self)
            let kind = try columns.next(String.self)
            let jurisdiction = try columns.next(UUID.self)
            let enrolment = try columns.next(Int?.self)
            let stored = try columns.next(Int64?.self)
            if current?.facilityID.rawValue != facility {
                if let done = current { try await consume(finished(done)) }
                let kind = Facility.Kind(rawValue: kind) ?? .other
                let jurisdictionID = Jurisdiction.ID(jurisdiction)
                current = ScoringSubject(
                    facilityID: .init(facility), kind: kind, jurisdictionID: jurisdictionID,
                    evidence: RiskEvidence(
                        facilityID: .init(facility), enrolment: enrolment,
                        peerBaseline: baselines?[kind, jurisdictionID], featureShares: baselines?.shares(kind, jurisdictionID),
                        manualOverride: overrides[facility]),
                    storedFingerprint: stored)
            }
            guard let reportID = try columns.next(UUID?.self) else { continue }  // a facility without reports
            let received = try columns.next(Int64.self)
            let category = try columns.next(String.self)
            let reporter = try columns.next(String.self)
            let status = try columns.next(String.self)
            let tags = try columns.next([String].self)
            let ids = try columns.next([UUID].self)
            let names = try columns.next([String].self)
            let roles = try columns.next([String].self)
            let youngest = try columns.next(Int?.self)
            let from = try columns.next(Int.self)
            let to = try columns.next(Int.self)
            let discovered = try columns.next(Int.self)
            var adults = Set<RiskEvidence.AdultKey>()
            for (index, id) in ids.enumerated() {
                if id != Self.notRostered {
                    adults.insert(.rostered(.init(id)))
                } else if let name = names[safe: index], !name.isEmpty {
                    adults.insert(.described(name: name, role: roles[safe: index] ?? ""))
                }
            }
            current?.evidence.reports.append(
                RiskEvidence.Report(
                    id: .init(reportID), receivedAt: Date(timeIntervalSince1970: Double(received) / 1_000_000),
                    category: IncidentReport.Category(rawValue: category) ?? .other,
                    status: IncidentReport.Status(rawValue: status) ?? .received,
                    reporterType: IncidentReport.ReporterType(rawValue: reporter) ?? .anonymous,
                    modusOperandi: Set(tags.compactMap(IncidentReport.ModusOperandi.init(rawValue:))),
                    adults: adults, youngestChildAge: youngest,
                    occurredFrom: CalendarDate(daysSinceEpoch: from), occurredTo: CalendarDate(daysSinceEpoch: to),
                    discoveredOn: CalendarDate(daysSinceEpoch: discovered)))
        }
        if let done = current { try await consume(finished(done)) }
    }

    /// What ties facilities to others, by facility.
    struct Ties {
        var adults: [LinkedAdults.Entry] = []
        var patterns: [RiskEvidence.PatternMembership] = []
    }

    /// The linked adults (Schema/0009) and pattern memberships (Schema/0008) of the selected
    /// facilities: a few rows per facility tied to another, none for the rest.
    func linkingEvidence(only: [UUID]?, from: UUID?, upTo: UUID?, on connection: PostgresConnection) async throws -> [UUID: Ties] {
        var ties: [UUID: Ties] = [:]
        for try await (facility, key, counting, here, elsewhere, rostered) in try await connection.query(
            """
            SELECT facility_id, adult_key, counting_key, implicated_here, implicated_elsewhere, rostered_elsewhere FROM linked_adults
            WHERE (\(only)::uuid[] IS NULL OR facility_id = ANY(\(only)::uuid[]))
              AND (\(from)::uuid IS NULL OR facility_id >= \(from)::uuid) AND (\(upTo)::uuid IS NULL OR facility_id < \(upTo)::uuid)
            """, logger: logger
        ).decode((UUID, String, String, Bool, [UUID], [UUID]).self) {
            guard let key = RiskEvidence.AdultKey(description: key), let counting = RiskEvidence.AdultKey(description: counting) else {
                continue
            }
            ties[facility, default: .init()].adults.append(
                .init(
                    facility: .init(facility), key: key,
                    linked: .init(
                        key: counting, implicatedHere: here, implicatedAt: Set(elsewhere.map(Facility.ID.init)),
                        rosteredAt: Set(rostered.map(Facility.ID.init)))))
        }
        for try await (facility, pattern, kind, last, reports, facilities) in try await connection.query(
            """
            SELECT r.facility_id, p.id, p.kind, p.last_received, array_agg(r.report_id ORDER BY r.report_id),
                   (SELECT array_agg(DISTINCT o.facility_id) FROM pattern_reports o WHERE o.pattern_id = p.id)
            FROM pattern_reports r JOIN patterns p ON p.id = r.pattern_id
            WHERE (\(only)::uuid[] IS NULL OR r.facility_id = ANY(\(only)::uuid[]))
              AND (\(from)::uuid IS NULL OR r.facility_id >= \(from)::uuid) AND (\(upTo)::uuid IS NULL OR r.facility_id < \(upTo)::uuid)
            GROUP BY r.facility_id, p.id
            ORDER BY r.facility_id, p.id
            """, logger: logger
        ).decode((UUID, UUID, String, Date, [UUID], [UUID]).self) {
            guard let kind = RiskEvidence.PatternMembership.Kind(rawValue: kind) else { continue }
            ties[facility, default: .init()].patterns.append(
                .init(
                    id: pattern, kind: kind, facilities: Set(facilities.map(Facility.ID.init)),
                    reports: Set(reports.map(IncidentReport.ID.init)), lastReceivedAt: last))
        }
        return ties
    }
}

extension RiskEvidenceReader {
    /// Stands for "not on the roster" in the adult-id column: arrays of nullable elements are not
    /// decodable, and no roster id is all zeros.
    static let notRostered = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// What the reader selects, whichever the source of reports (`c`).
    static let columns = """
        f.id, f.kind, f.jurisdiction_id, f.enrolment, s.fingerprint,
        c.report_id, (extract(epoch FROM c.received_at) * 1000000)::bigint, c.category, c.reporter_type, c.status,
        c.mo_tags, array_replace(c.adult_ids, NULL, '\(notRostered.uuidString.lowercased())'::uuid), c.adult_names, c.adult_roles,
        c.youngest_child_age::int,
        c.occurred_from - date '1970-01-01', c.occurred_to - date '1970-01-01', c.discovered_on - date '1970-01-01'
        """

    /// Facilities in facility order, each with its reports as they stand now in received order.
    static func currentQuery(asOf: Date, only: [UUID]?, from: UUID?, upTo: UUID?) -> PostgresQuery {
        """
        SELECT \(unescaped: columns)
        FROM facilities f
        LEFT JOIN risk_scores s ON s.facility_id = f.id
        LEFT JOIN report_current c ON c.facility_id = f.id AND c.received_at < \(asOf)
            AND (\(only)::uuid[] IS NULL OR c.facility_id = ANY(\(only)::uuid[]))
            AND (\(from)::uuid IS NULL OR c.facility_id >= \(from)::uuid) AND (\(upTo)::uuid IS NULL OR c.facility_id < \(upTo)::uuid)
        WHERE (\(only)::uuid[] IS NULL OR f.id = ANY(\(only)::uuid[]))
          AND (\(from)::uuid IS NULL OR f.id >= \(from)::uuid) AND (\(upTo)::uuid IS NULL OR f.id < \(upTo)::uuid)
        ORDER BY f.id, c.received_at, c.report_id
        """
    }

    /// The same rows, with each report as it stood at `asOf`, folded from the append-only tables
    /// (Schema/0004_report_current.sql, `centinela_reports_as_of`; with a few facilities, only
    /// their reports are folded: Schema/0020).
    static func historyQuery(asOf: Date, only: [UUID]?, from: UUID?, upTo: UUID?) -> PostgresQuery {
        """
        SELECT \(unescaped: columns)
        FROM facilities f
        LEFT JOIN risk_scores s ON false
        LEFT JOIN centinela_reports_as_of(\(asOf), \(only)::uuid[]) c ON c.facility_id = f.id
            AND (\(only)::uuid[] IS NULL OR c.facility_id = ANY(\(only)::uuid[]))
            AND (\(from)::uuid IS NULL OR c.facility_id >= \(from)::uuid) AND (\(upTo)::uuid IS NULL OR c.facility_id < \(upTo)::uuid)
        WHERE (\(only)::uuid[] IS NULL OR f.id = ANY(\(only)::uuid[]))
          AND (\(from)::uuid IS NULL OR f.id >= \(from)::uuid) AND (\(upTo)::uuid IS NULL OR f.id < \(upTo)::uuid)
        ORDER BY f.id, c.received_at, c.report_id
        """
    }
}

/// Decodes a row's columns in order, each with its concrete type: PostgresRow's variadic
/// `decode` went through unspecialised generic code and was half of a national rescore's time.
struct ColumnReader {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) {
        cells = row.makeIterator()
    }

    mutating func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
        guard let cell = cells.next() else { throw DatabaseError.queryFailed(reason: "a row has fewer columns than its query selects") }
        return try cell.decode(Value.self, context: .default)
    }
}

/// What a computation compares a facility with, as last published by a full run: its peers'
/// median load (v1 and v2) and how often their reports carry each feature (v2), by kind and
/// jurisdiction.
public struct PeerBaselines: Sendable {
    public struct Group: Hashable, Sendable {
        var kind: Facility.Kind
        var jurisdiction: Jurisdiction.ID

        init(_ kind: Facility.Kind, _ jurisdiction: Jurisdiction.ID) {
            self.kind = kind
            self.jurisdiction = jurisdiction
        }
    }

    var values: [Group: RiskEvidence.PeerBaseline]
    /// v2's shares, already shrunk towards the kind's and the country's.
    var groupShares: [Group: FeatureShares] = [:]
    /// For a group that published none (no report in the window): the kind's national shares.
    var kindShares: [Facility.Kind: FeatureShares] = [:]
    /// For a kind that published none: the country's.
    var nationalShares: FeatureShares?

    subscript(kind: Facility.Kind, jurisdiction: Jurisdiction.ID) -> RiskEvidence.PeerBaseline? {
        values[Group(kind, jurisdiction)]
    }

    func shares(_ kind: Facility.Kind, _ jurisdiction: Jurisdiction.ID) -> FeatureShares? {
        groupShares[Group(kind, jurisdiction)] ?? kindShares[kind] ?? nationalShares
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
