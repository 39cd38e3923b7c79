import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A facility's assessment with what is needed to file it.
public struct ScoredFacility: Sendable {
    public var subject: ScoringSubject
    public var assessment: RiskAssessment
    /// What a stored score is compared with: the assessment's change fingerprint and the
    /// facility's jurisdiction (a move re-files the score under the new one).
    public let fingerprint: Int64

    public init(subject: ScoringSubject, assessment: RiskAssessment) {
        self.subject = subject
        self.assessment = assessment
        var hash = assessment.changeFingerprint
        hash.combine(subject.jurisdictionID.description)
        self.fingerprint = Int64(bitPattern: hash.value)
    }

    /// Whether the stored score is already this one.
    var isUnchanged: Bool { subject.storedFingerprint == fingerprint }
}

/// A stored score: the assessment as computed, and when it was recorded.
public struct StoredScore: Sendable, Equatable {
    public var assessment: RiskAssessment
    public var recordedAt: Date

    public init(assessment: RiskAssessment, recordedAt: Date) {
        self.assessment = assessment
        self.recordedAt = recordedAt
    }
}

/// One past score as a chart or a table shows it.
public struct ScorePoint: Sendable, Equatable {
    public var asOf: Date
    public var score: Double
    public var band: RiskBand
}

/// Scores as stored: written by rescoring (system scope), read by the API (caller's scope).
public struct ScoreStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Files live scores, keeping only real changes: a facility's row is replaced, and a history row
    /// appended, only when its fingerprint (points, bands, model, jurisdiction, manual band)
    /// differs and the new assessment is not older than the stored one (a slower run never
    /// overwrites a newer score). Returns how many changed.
    /// Facilities whose stored fingerprint already matches are not even sent. The jurisdiction is
    /// the facility's as this statement runs, not as the evidence was read: a regulator reads
    /// scores by it (Schema/0025), and a facility moved since would otherwise be written back
    /// into its old jurisdiction until its next rescoring.
    func writeLive(_ scored: [ScoredFacility], on connection: PostgresConnection) async throws -> Int {
        let batch = scored.filter { !$0.isUnchanged }
        guard !batch.isEmpty else { return 0 }
        let encoded = try batch.map { try Self.encode($0.assessment) }
        let rows = try await connection.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(batch.map(\.subject.facilityID.rawValue))::uuid[], \(batch.map(\.subject.jurisdictionID.rawValue))::uuid[],
                                     \(batch.map(\.assessment.modelID))::text[], \(batch.map(\.assessment.asOf))::timestamptz[],
                                     \(batch.map(\.assessment.score))::float8[], \(batch.map(\.assessment.total))::float8[],
                                     \(batch.map(\.assessment.band.rawValue))::text[], \(batch.map(\.assessment.modelBand.rawValue))::text[],
                                     \(batch.map(\.assessment.load))::float8[], \(encoded.map(\.points))::jsonb[], \(encoded.map(\.assessment))::json[],
                                     \(batch.map(\.fingerprint))::int8[])
                    AS i(facility_id, jurisdiction_id, model_id, as_of, score, total, band, model_band, load, points, assessment, fingerprint)
            ), changed AS (
                INSERT INTO risk_scores AS s (facility_id, jurisdiction_id, model_id, as_of, score, total, band, model_band, load, points, assessment, fingerprint)
                SELECT i.facility_id, f.jurisdiction_id, i.model_id, i.as_of, i.score, i.total, i.band, i.model_band, i.load, i.points,
                       i.assessment, i.fingerprint
                FROM input i JOIN facilities f ON f.id = i.facility_id
                ON CONFLICT (facility_id) DO UPDATE
                    SET jurisdiction_id = excluded.jurisdiction_id, model_id = excluded.model_id, as_of = excluded.as_of,
                        score = excluded.score, total = excluded.total, band = excluded.band, model_band = excluded.model_band,
                        load = excluded.load, points = excluded.points, assessment = excluded.assessment,
                        fingerprint = excluded.fingerprint, recorded_at = now()
                    WHERE s.as_of <= excluded.as_of AND s.fingerprint IS DISTINCT FROM excluded.fingerprint
                RETURNING s.facility_id, s.model_id, s.as_of, s.score, s.total, s.band, s.model_band, s.points, s.assessment
            ), history AS (
                INSERT INTO risk_score_history (facility_id, model_id, as_of, score, total, band, model_band, points, assessment)
                SELECT * FROM changed
                RETURNING 1
            )
            SELECT count(*)::int FROM history
            """, logger: logger)
        var changed = 0
        for try await count in rows.decode(Int.self) { changed = count }
        return changed
    }

    /// Files a back-test's scores under its run. Facilities scoring zero are left out: absent means 0.
    func writeBacktest(_ batch: [ScoredFacility], run: UUID, on connection: PostgresConnection) async throws {
        let kept = batch.filter { $0.assessment.total > 0 || $0.assessment.band != .low }
        guard !kept.isEmpty else { return }
        let encoded = try kept.map { try Self.encode($0.assessment) }
        try await connection.run(
            """
            INSERT INTO backtest_scores (run_id, facility_id, score, band, model_band, points, assessment)
            SELECT \(run), facility_id, score, band, model_band, points, assessment
            FROM unnest(\(kept.map(\.subject.facilityID.rawValue))::uuid[], \(kept.map(\.assessment.score))::float8[],
                        \(kept.map(\.assessment.band.rawValue))::text[], \(kept.map(\.assessment.modelBand.rawValue))::text[],
                        \(encoded.map(\.points))::jsonb[], \(encoded.map(\.assessment))::json[])
                AS i(facility_id, score, band, model_band, points, assessment)
            """, logger: logger)
    }

    /// The published peer baselines, for the facilities given (nil: all of them): their loads
    /// (unless `loads` is false: back-tests) and, for a v2 model, their report shares.
    func baselines(
        for facilities: [Facility.ID]?, model: RiskModel, loads: Bool = true, on connection: PostgresConnection
    ) async throws -> PeerBaselines {
        let only = facilities?.map(\.rawValue)
        var values: [PeerBaselines.Group: RiskEvidence.PeerBaseline] = [:]
        if loads {
            for try await (kind, jurisdiction, perHundred, peers, computedAt) in try await connection.query(
                """
                SELECT b.kind, b.jurisdiction_id, b.load_per_hundred, b.peers, b.computed_at FROM risk_peer_baselines b
                WHERE \(only)::uuid[] IS NULL
                   OR (b.kind, b.jurisdiction_id) IN (SELECT f.kind, f.jurisdiction_id FROM facilities f WHERE f.id = ANY(\(only)::uuid[]))
                """, logger: logger
            ).decode((String, UUID, Double, Int, Date).self) {
                values[PeerBaselines.Group(Facility.Kind(rawValue: kind) ?? .other, Jurisdiction.ID(jurisdiction))] =
                    .init(loadPerHundredChildren: perHundred, peers: peers, computedAt: computedAt)
            }
        }
        var baselines = PeerBaselines(values: values)
        guard let surprise = model.surprise else { return baselines }
        // The national and per-kind totals are published beside the groups (jurisdiction NULL), so
        // that scoring a few facilities reads a few rows.
        var national: ReportShares?
        var byKind: [Facility.Kind: ReportShares] = [:]
        var groups: [PeerBaselines.Group: ReportShares] = [:]
        for try await (kind, jurisdiction, reports, counts) in try await connection.query(
            """
            SELECT s.kind, s.jurisdiction_id, s.reports, s.counts::text FROM risk_report_shares s
            WHERE s.jurisdiction_id IS NULL OR \(only)::uuid[] IS NULL
               OR (s.kind, s.jurisdiction_id) IN (SELECT f.kind, f.jurisdiction_id FROM facilities f WHERE f.id = ANY(\(only)::uuid[]))
            """, logger: logger
        ).decode((String, UUID?, Double, String).self) {
            let shares = ReportShares(
                reports: reports, counts: (try? JSONDecoder().decode([String: Double].self, from: Data(counts.utf8))) ?? [:])
            switch (kind, jurisdiction) {
            case (Self.allKinds, nil): national = shares
            case (_, nil): byKind[Facility.Kind(rawValue: kind) ?? .other] = shares
            case (_, let jurisdiction?):
                groups[PeerBaselines.Group(Facility.Kind(rawValue: kind) ?? .other, Jurisdiction.ID(jurisdiction))] = shares
            }
        }
        // Before the first full run has counted anything: the model's defaults, worked out once
        // here rather than for every facility scored.
        guard let national else {
            baselines.nationalShares = FeatureShares.shrunk([], model: surprise)
            return baselines
        }
        baselines.nationalShares = FeatureShares.shrunk([national], model: surprise)
        for (kind, shares) in byKind { baselines.kindShares[kind] = FeatureShares.shrunk([national, shares], model: surprise) }
        for (group, shares) in groups {
            baselines.groupShares[group] = FeatureShares.shrunk([national, byKind[group.kind] ?? .init(), shares], model: surprise)
        }
        return baselines
    }

    /// Records how the totals are spread now (after a full run): every facility, unscored as 0.
    func publishDistribution(modelID: String, computedAt: Date, on connection: PostgresConnection) async throws {
        try await connection.run(
            """
            INSERT INTO risk_score_distribution AS d (id, model_id, facilities, quantiles, computed_at)
            SELECT true, \(modelID), count(*)::int,
                   percentile_disc((SELECT array_agg(i / 1000.0 ORDER BY i) FROM generate_series(0, 1000) AS i))
                       WITHIN GROUP (ORDER BY coalesce(s.total, 0)),
                   \(computedAt)
            FROM facilities f LEFT JOIN risk_scores s ON s.facility_id = f.id
            HAVING count(*) > 0
            ON CONFLICT (id) DO UPDATE
                SET model_id = excluded.model_id, facilities = excluded.facilities, quantiles = excluded.quantiles,
                    computed_at = excluded.computed_at
            """, logger: logger)
    }

    /// The spread of totals at the last full run, in any scope; nil before the first.
    public func distribution(on connection: PostgresConnection) async throws -> ScoreDistribution? {
        for try await (model, facilities, quantiles, computedAt) in try await connection.query(
            "SELECT model_id, facilities, quantiles, computed_at FROM risk_score_distribution", logger: logger
        ).decode((String, Int, [Double], Date).self) {
            return ScoreDistribution(modelID: model, facilities: facilities, quantiles: quantiles, computedAt: computedAt)
        }
        return nil
    }

    /// The `kind` of the row holding the whole country's report shares.
    static let allKinds = "*"

    /// Replaces the published report shares with a full run's counts: one row per kind and
    /// jurisdiction, one per kind for the whole country and one for everything.
    func publishShares(_ shares: [PeerBaselines.Group: ReportShares], computedAt: Date, on connection: PostgresConnection) async throws {
        var national = ReportShares()
        var byKind: [Facility.Kind: ReportShares] = [:]
        for (group, counts) in shares {
            national.merge(counts)
            byKind[group.kind, default: .init()].merge(counts)
        }
        var rows: [(kind: String, jurisdiction: UUID?, shares: ReportShares)] = [(Self.allKinds, nil, national)]
        rows += byKind.map { ($0.key.rawValue, nil, $0.value) }
        rows += shares.filter { $0.value.reports > 0 }.map { ($0.key.kind.rawValue, $0.key.jurisdiction.rawValue, $0.value) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let counts = try rows.map { String(decoding: try encoder.encode($0.shares.counts), as: UTF8.self) }
        try await connection.run("DELETE FROM risk_report_shares", logger: logger)
        try await connection.run(
            """
            INSERT INTO risk_report_shares (kind, jurisdiction_id, reports, counts, computed_at)
            SELECT kind, nullif(jurisdiction_id, '')::uuid, reports, counts, \(computedAt)
            FROM unnest(\(rows.map(\.kind))::text[], \(rows.map { $0.jurisdiction?.uuidString ?? "" })::text[],
                        \(rows.map(\.shares.reports))::float8[], \(counts)::jsonb[])
                AS i(kind, jurisdiction_id, reports, counts)
            """, logger: logger)
    }

    /// Recomputes the peer baselines from the stored loads: the median load per 100 children of
    /// each kind of facility in each jurisdiction, over facilities with a known enrolment. Groups of
    /// fewer than `minimumPeers` get none: a median of one or two facilities says little.
    func publishBaselines(computedAt: Date, minimumPeers: Int = 5, on connection: PostgresConnection) async throws {
        try await connection.run(
            """
            WITH medians AS (
                SELECT f.kind, f.jurisdiction_id,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.load * 100.0 / f.enrolment) AS load_per_hundred,
                       count(*)::int AS peers
                FROM risk_scores s JOIN facilities f ON f.id = s.facility_id
                WHERE f.enrolment > 0
                GROUP BY f.kind, f.jurisdiction_id
                HAVING count(*) >= \(minimumPeers)
            ), stale AS (
                DELETE FROM risk_peer_baselines b
                WHERE NOT EXISTS (SELECT 1 FROM medians m WHERE m.kind = b.kind AND m.jurisdiction_id = b.jurisdiction_id)
            )
            INSERT INTO risk_peer_baselines AS b (kind, jurisdiction_id, load_per_hundred, peers, computed_at)
            SELECT kind, jurisdiction_id, load_per_hundred, peers, \(computedAt) FROM medians
            ON CONFLICT (kind, jurisdiction_id) DO UPDATE
                SET load_per_hundred = excluded.load_per_hundred, peers = excluded.peers, computed_at = excluded.computed_at
            """, logger: logger)
    }

    // MARK: Reading, in the caller's scope

    /// The facility's current score, if it has one the caller may see.
    public func current(_ facility: Facility.ID, on connection: PostgresConnection) async throws -> StoredScore? {
        try await stored(
            "SELECT assessment::text, recorded_at FROM risk_scores WHERE facility_id = \(facility.rawValue)", on: connection
        ).first
    }

    /// The facility's score changes, newest first, before `cursor` (a history row id).
    public func history(
        _ facility: Facility.ID, before cursor: Int64?, limit: Int, on connection: PostgresConnection
    )
        async throws -> [(id: Int64, score: StoredScore)]
    {
        var result: [(Int64, StoredScore)] = []
        for try await (id, json, recordedAt) in try await connection.query(
            """
            SELECT id, assessment::text, recorded_at FROM risk_score_history
            WHERE facility_id = \(facility.rawValue) AND (\(cursor)::bigint IS NULL OR id < \(cursor)::bigint)
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger
        ).decode((Int64, String, Date).self) {
            result.append((id, try Self.decode(json, recordedAt: recordedAt)))
        }
        return result
    }

    /// The facility's past scores as a line to draw (when, score, band), newest first: the
    /// columns only, without reading each assessment (a chart of 120 decoded 120 of ~2 kB).
    public func trail(_ facility: Facility.ID, limit: Int, on connection: PostgresConnection) async throws -> [ScorePoint] {
        var points: [ScorePoint] = []
        for try await (asOf, score, band) in try await connection.query(
            """
            SELECT as_of, score::float8, band FROM risk_score_history
            WHERE facility_id = \(facility.rawValue) ORDER BY id DESC LIMIT \(Int32(clamping: limit))
            """, logger: logger
        ).decode((Date, Double, String).self) {
            points.append(ScorePoint(asOf: asOf, score: score, band: RiskBand(rawValue: band) ?? .low))
        }
        return points
    }

    /// How many past scores the facility's history holds.
    public func historyCount(_ facility: Facility.ID, on connection: PostgresConnection) async throws -> Int {
        try await connection.count(of: "SELECT 1 FROM risk_score_history WHERE facility_id = \(facility.rawValue)", logger: logger)
    }

    private func stored(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [StoredScore] {
        var result: [StoredScore] = []
        for try await (json, recordedAt) in try await connection.query(query, logger: logger).decode((String, Date).self) {
            result.append(try Self.decode(json, recordedAt: recordedAt))
        }
        return result
    }

    static func decode(_ json: String, recordedAt: Date) throws -> StoredScore {
        StoredScore(assessment: try RiskAssessment.decoder.decode(RiskAssessment.self, from: Data(json.utf8)), recordedAt: recordedAt)
    }

    static func encode(_ assessment: RiskAssessment) throws -> (points: String, assessment: String) {
        let points = assessment.reasons.sorted { $0.code.rawValue < $1.code.rawValue }
            .map { "\"\($0.code.rawValue)\":\($0.points)" }.joined(separator: ",")
        return ("{\(points)}", assessment.canonicalJSON)
    }
}

extension ScoreStore {
    /// Appends a regulator's manual band (or, with no band, the end of the current one).
    public func recordOverride(
        facility: Facility.ID, band: RiskBand?, reason: String, expiresAt: Date?, by principal: Principal,
        on connection: PostgresConnection
    ) async throws -> (id: UUID, setAt: Date) {
        for try await row in try await connection.query(
            """
            INSERT INTO risk_band_overrides (facility_id, band, reason, expires_at, set_by)
            VALUES (\(facility.rawValue), \(band?.rawValue), \(reason), \(expiresAt), \(principal.id.rawValue))
            RETURNING id, set_at
            """, logger: logger
        ).decode((UUID, Date).self) { return row }
        throw DatabaseError.queryFailed(reason: "the override was not stored")
    }
}
