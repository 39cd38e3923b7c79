import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// A case as a regulator sees it: the whole case's size and jurisdictions, and their own side.
public struct CaseRecord: Sendable {
    public var id: Case.ID
    public var kind: Case.Kind
    public var patternID: UUID?
    public var status: Case.Status
    public var referralReference: String?
    public var closeReason: Case.CloseReason?
    public var closeNote: String?
    /// A case closed as merged: the case that now holds its alerts.
    public var mergedInto: Case.ID?
    /// Over every jurisdiction.
    public var facilityCount: Int
    /// Every jurisdiction it covers, by code and name.
    public var jurisdictions: [(code: String, name: String)]
    /// Of its facilities, those the caller may see.
    public var visibleFacilities: [(id: Facility.ID, code: String, name: String, jurisdictionCode: String)]
    /// Its alerts the caller may see.
    public var alertCount: Int
    public var openedAt: Date
    public var updatedAt: Date
    public var closedAt: Date?
}

/// One event in a case's life.
public struct CaseEventRecord: Sendable {
    public var id: Int64
    public var caseID: Case.ID
    public var kind: Case.EventKind
    public var actorID: Principal.ID?
    public var actor: String
    public var at: Date
    public var alertID: Alert.ID?
    public var detailsJSON: String
}

/// An alert just opened, or with news while its case is closed, to be filed into a case.
struct FilingAlert: Sendable {
    var id: UUID
    var facilityID: UUID
    var jurisdictionID: UUID
    var rule: Alert.Rule
    var subject: String
    /// The case it was in, if any (a closed one: it has news).
    var formerCase: UUID?
}

/// Cases (docs/alerts.md, "Cases"): the service files alerts into them as it opens them
/// (`CaseRouting` says where), and regulators move them through their lives.
public struct CaseStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let serviceActor = AlertStore.serviceActor

    // MARK: Filing (the service, in the rescorer's system transaction)

    /// Files alerts into cases: pattern alerts into their pattern's national case (opened or
    /// reopened, covering the alert's facility, which brings in that facility's open case), the
    /// rest into a covering pattern case, the facility's open case, its closed case when an alert
    /// of it has news, or a new one. Appends the cases' events.
    func file(_ alerts: [FilingAlert], on connection: PostgresConnection) async throws {
        guard !alerts.isEmpty else { return }
        var touched: Set<UUID> = []
        // 1. Pattern cases: opened, or reopened by new evidence, covering each pattern alert's facility.
        var patternOf: [UUID: UUID] = [:]
        for alert in alerts {
            if case .pattern(let pattern) = CaseRouting.route(
                rule: alert.rule, subject: alert.subject, coveringPatternCase: nil, facilityCase: nil)
            {
                patternOf[alert.id] = pattern
            }
        }
        var patternCase: [UUID: UUID] = [:]
        let patterns = Array(Set(patternOf.values)).sorted { $0.uuidString < $1.uuidString }
        // The jurisdictions each new pattern case reaches at once (its webhooks need them from its
        // first event on; `cover` keeps them current).
        let reached = patterns.map { pattern in
            Set(alerts.filter { patternOf[$0.id] == pattern }.map(\.jurisdictionID)).map { $0.uuidString }.sorted().joined(separator: ",")
        }
        if !patterns.isEmpty {
            for try await (id, pattern) in try await connection.query(
                """
                INSERT INTO cases (kind, pattern_id, jurisdictions)
                SELECT 'pattern', p, string_to_array(j, ',')::uuid[] FROM unnest(\(patterns)::uuid[], \(reached)::text[]) AS x(p, j)
                ON CONFLICT (pattern_id) DO NOTHING RETURNING id, pattern_id
                """, logger: logger
            ).decode((UUID, UUID).self) {
                patternCase[pattern] = id
                try await event(.opened, case: id, details: ["pattern": pattern.uuidString.lowercased()], on: connection)
            }
            for (pattern, id, closed) in try await liveCases(of: patterns, on: connection) {
                patternCase[pattern] = id
                if closed { try await reopen(id, reason: "new evidence", on: connection) }
            }
            var covers: [(UUID, UUID, UUID)] = []
            for alert in alerts {
                if let pattern = patternOf[alert.id], let id = patternCase[pattern] {
                    covers.append((id, alert.facilityID, alert.jurisdictionID))
                }
            }
            try await cover(covers, on: connection, touched: &touched)
            // Covering may have merged one pattern's case into another's.
            for (pattern, id, _) in try await liveCases(of: patterns, on: connection) { patternCase[pattern] = id }
        }
        // 2. Where every other alert goes, from the cases open at its facility.
        let facilities = Array(Set(alerts.map(\.facilityID)))
        var (covering, open) = try await openCases(at: facilities, on: connection)
        var newFacilities: [(UUID, UUID)] = []
        var destination: [UUID: UUID] = [:]
        for alert in alerts {
            switch CaseRouting.route(
                rule: alert.rule, subject: alert.subject, coveringPatternCase: covering[alert.facilityID].map(Case.ID.init),
                facilityCase: open[alert.facilityID].map(Case.ID.init))
            {
            case .pattern(let pattern): destination[alert.id] = patternCase[pattern]
            case .existing(let id): destination[alert.id] = id.rawValue
            case .newFacilityCase: newFacilities.append((alert.facilityID, alert.jurisdictionID))
            }
        }
        // 3. New facility cases, except where an alert with news can reopen its own closed case.
        if !newFacilities.isEmpty {
            let reopening = alerts.filter { destination[$0.id] == nil && $0.formerCase != nil }
            for alert in reopening where open[alert.facilityID] == nil {
                guard let former = alert.formerCase, try await reopenFacilityCase(former, on: connection) else { continue }
                open[alert.facilityID] = former
            }
            let missing = Dictionary(newFacilities.filter { open[$0.0] == nil }, uniquingKeysWith: { first, _ in first })
            if !missing.isEmpty {
                let ids = Array(missing.keys)
                var created: [UUID] = []
                for try await (id, facility) in try await connection.query(
                    """
                    INSERT INTO cases (kind, facility_id, jurisdictions)
                    SELECT 'facility', f, ARRAY[j] FROM unnest(\(ids)::uuid[], \(ids.map { missing[$0]! })::uuid[]) AS x(f, j)
                    ON CONFLICT (facility_id) WHERE kind = 'facility' AND status <> 'closed' DO NOTHING
                    RETURNING id, facility_id
                    """, logger: logger
                ).decode((UUID, UUID).self) {
                    created.append(id)
                    open[facility] = id
                }
                try await connection.run(
                    """
                    INSERT INTO case_events (case_id, kind, actor)
                    SELECT c, 'opened', \(Self.serviceActor) FROM unnest(\(created)::uuid[]) WITH ORDINALITY AS x(c, n) ORDER BY n
                    """, logger: logger)
                // A concurrent writer's case, if it won the race.
                (covering, open) = try await openCases(at: facilities, on: connection)
                try await cover(ids.compactMap { f in open[f].map { ($0, f, missing[f]!) } }, on: connection, touched: &touched)
            }
            for alert in alerts where destination[alert.id] == nil {
                destination[alert.id] = covering[alert.facilityID] ?? open[alert.facilityID]
            }
        }
        // 4. The alerts into their cases, each an event.
        let filed = alerts.compactMap { alert in destination[alert.id].map { (alert, $0) } }
        guard !filed.isEmpty else { return }
        try await connection.run(
            """
            UPDATE alerts a SET case_id = x.c FROM unnest(\(filed.map(\.0.id))::uuid[], \(filed.map(\.1))::uuid[]) AS x(a, c)
            WHERE a.id = x.a
            """, logger: logger)
        try await connection.run(
            """
            INSERT INTO case_events (case_id, kind, actor, alert_id, jurisdiction_id, details)
            SELECT x.c, 'alert_added', \(Self.serviceActor), x.a, x.j, jsonb_build_object('rule', x.r)
            FROM unnest(\(filed.map(\.1))::uuid[], \(filed.map(\.0.id))::uuid[], \(filed.map(\.0.jurisdictionID))::uuid[],
                        \(filed.map(\.0.rule.rawValue))::text[]) WITH ORDINALITY AS x(c, a, j, r, n)
            ORDER BY n
            """, logger: logger)
        touched.formUnion(filed.map(\.1))
        try await connection.run(
            "UPDATE cases SET updated_at = now() WHERE id = ANY(\(Array(touched))::uuid[])", logger: logger)
    }

    /// For each facility, the largest pattern case not closed that covers it, and its facility
    /// case not closed.
    func openCases(at facilities: [UUID], on connection: PostgresConnection) async throws -> (covering: [UUID: UUID], open: [UUID: UUID]) {
        var covering: [UUID: UUID] = [:]
        var open: [UUID: UUID] = [:]
        for try await (facility, pattern, own) in try await connection.query(
            """
            SELECT f,
                   (SELECT c.id FROM case_facilities cf JOIN cases c ON c.id = cf.case_id
                    WHERE cf.facility_id = f AND c.kind = 'pattern' AND c.status <> 'closed'
                    ORDER BY c.facility_count DESC, c.opened_at, c.id LIMIT 1),
                   (SELECT c.id FROM cases c WHERE c.kind = 'facility' AND c.facility_id = f AND c.status <> 'closed')
            FROM unnest(\(facilities)::uuid[]) AS f
            """, logger: logger
        ).decode((UUID, UUID?, UUID?).self) {
            covering[facility] = pattern
            open[facility] = own
        }
        return (covering, open)
    }

    /// Adds facilities to cases (case, facility, jurisdiction), each new one an event. A facility
    /// a pattern case now covers brings in its open facility case: that case's alerts move to the
    /// pattern case and it is closed as merged.
    func cover(_ rows: [(UUID, UUID, UUID)], on connection: PostgresConnection, touched: inout Set<UUID>) async throws {
        guard !rows.isEmpty else { return }
        var added: [(UUID, UUID, UUID)] = []
        for try await row in try await connection.query(
            """
            INSERT INTO case_facilities (case_id, facility_id, jurisdiction_id)
            SELECT DISTINCT c, f, j FROM unnest(\(rows.map(\.0))::uuid[], \(rows.map(\.1))::uuid[], \(rows.map(\.2))::uuid[]) AS x(c, f, j)
            ON CONFLICT DO NOTHING RETURNING case_id, facility_id, jurisdiction_id
            """, logger: logger
        ).decode((UUID, UUID, UUID).self) { added.append(row) }
        guard !added.isEmpty else { return }
        try await connection.run(
            """
            INSERT INTO case_events (case_id, kind, actor, jurisdiction_id, details)
            SELECT x.c, 'facility_added', \(Self.serviceActor), x.j, jsonb_build_object('facility', x.f)
            FROM unnest(\(added.map(\.0))::uuid[], \(added.map(\.1))::uuid[], \(added.map(\.2))::uuid[]) WITH ORDINALITY AS x(c, f, j, n)
            ORDER BY n
            """, logger: logger)
        touched.formUnion(added.map(\.0))
        // A pattern case now covering a facility takes in the facility's open case, and meets any
        // other pattern case covering it: the smaller joins the larger (a network inside a style is
        // one matter).
        var mergedInto: [UUID: UUID] = [:]
        func live(_ id: UUID) -> UUID {
            var id = id
            while let next = mergedInto[id] { id = next }
            return id
        }
        var meetings: [(UUID, UUID, String)] = []
        for try await (pattern, other, kind) in try await connection.query(
            """
            SELECT x.c, o.id, o.kind
            FROM unnest(\(added.map(\.0))::uuid[], \(added.map(\.1))::uuid[]) AS x(c, f)
            JOIN cases p ON p.id = x.c AND p.kind = 'pattern'
            JOIN cases o ON o.status <> 'closed' AND o.id <> x.c
                        AND ((o.kind = 'facility' AND o.facility_id = x.f)
                             OR (o.kind = 'pattern' AND EXISTS (SELECT 1 FROM case_facilities of WHERE of.case_id = o.id AND of.facility_id = x.f)))
            ORDER BY x.c, o.id
            """, logger: logger
        ).decode((UUID, UUID, String).self) { meetings.append((pattern, other, kind)) }
        for (pattern, other, kind) in meetings {
            let (a, b) = (live(pattern), live(other))
            guard a != b else { continue }
            var target = a
            var source = b
            if kind == "pattern" {
                // The larger case stays (then the older); the other joins it.
                var sizes: [UUID: (Int, Date)] = [:]
                for try await (id, count, opened) in try await connection.query(
                    """
                    SELECT c.id, (SELECT count(*) FROM case_facilities f WHERE f.case_id = c.id)::int, c.opened_at
                    FROM cases c WHERE c.id = ANY(\([a, b])::uuid[])
                    """, logger: logger
                ).decode((UUID, Int, Date).self) { sizes[id] = (count, opened) }
                if let x = sizes[a], let y = sizes[b], (y.0, x.1, a.uuidString) > (x.0, y.1, b.uuidString) { (target, source) = (b, a) }
            }
            try await merge(source, into: target, on: connection)
            mergedInto[source] = target
            touched.insert(target)
        }
        added = added.map { (live($0.0), $0.1, $0.2) }
        // Sizes and jurisdictions, over every facility.
        try await connection.run(
            """
            UPDATE cases c SET facility_count = s.n, jurisdictions = s.j, updated_at = now()
            FROM (SELECT case_id, count(*)::int AS n, array_agg(DISTINCT jurisdiction_id ORDER BY jurisdiction_id) AS j
                  FROM case_facilities WHERE case_id = ANY(\(Array(Set(added.map(\.0))))::uuid[]) GROUP BY case_id) s
            WHERE c.id = s.case_id
            """, logger: logger)
    }

    /// The case of each pattern as it stands: the one its own case was merged into, if it was.
    func liveCases(of patterns: [UUID], on connection: PostgresConnection) async throws -> [(pattern: UUID, id: UUID, closed: Bool)] {
        var found: [(UUID, UUID, Bool)] = []
        for try await row in try await connection.query(
            """
            WITH RECURSIVE chain(pattern, id, merged_into, status, depth) AS (
                SELECT pattern_id, id, merged_into, status, 0 FROM cases WHERE pattern_id = ANY(\(patterns)::uuid[])
                UNION ALL
                SELECT chain.pattern, c.id, c.merged_into, c.status, chain.depth + 1
                FROM chain JOIN cases c ON c.id = chain.merged_into WHERE chain.depth < 100
            )
            SELECT pattern, id, status = 'closed' FROM chain WHERE merged_into IS NULL
            """, logger: logger
        ).decode((UUID, UUID, Bool).self) { found.append(row) }
        return found
    }

    /// Moves a case's alerts and facilities into another and closes it as merged, both histories
    /// saying so.
    func merge(_ source: UUID, into target: UUID, on connection: PostgresConnection) async throws {
        try await connection.run("UPDATE alerts SET case_id = \(target) WHERE case_id = \(source)", logger: logger)
        try await connection.run(
            """
            INSERT INTO case_facilities (case_id, facility_id, jurisdiction_id)
            SELECT \(target), facility_id, jurisdiction_id FROM case_facilities WHERE case_id = \(source)
            ON CONFLICT DO NOTHING
            """, logger: logger)
        try await connection.run(
            """
            UPDATE cases SET status = 'closed', close_reason = 'merged', merged_into = \(target),
                close_note = \("joined case " + target.uuidString.lowercased()), closed_at = now(), updated_at = now()
            WHERE id = \(source)
            """, logger: logger)
        try await event(.closed, case: source, details: ["reason": "merged", "into": target.uuidString.lowercased()], on: connection)
        try await event(.alertAdded, case: target, details: ["mergedCase": source.uuidString.lowercased()], on: connection)
    }

    /// Reopens a closed case on new evidence (not one merged into another).
    func reopen(_ id: UUID, reason: String, on connection: PostgresConnection) async throws {
        var reopened = false
        for try await _ in try await connection.query(
            """
            UPDATE cases SET status = 'open', closed_at = NULL, close_reason = NULL, close_note = NULL, updated_at = now()
            WHERE id = \(id) AND status = 'closed' AND close_reason <> 'merged' RETURNING id
            """, logger: logger
        ).decode(UUID.self) { reopened = true }
        if reopened { try await event(.reopened, case: id, details: ["reason": reason], on: connection) }
    }

    /// Reopens a closed facility case on new evidence, unless another case of its facility is
    /// open; whether it did.
    func reopenFacilityCase(_ id: UUID, on connection: PostgresConnection) async throws -> Bool {
        var reopened = false
        for try await _ in try await connection.query(
            """
            UPDATE cases c SET status = 'open', closed_at = NULL, close_reason = NULL, close_note = NULL, updated_at = now()
            WHERE c.id = \(id) AND c.kind = 'facility' AND c.status = 'closed' AND c.close_reason <> 'merged'
              AND NOT EXISTS (SELECT 1 FROM cases o WHERE o.kind = 'facility' AND o.facility_id = c.facility_id AND o.status <> 'closed')
            RETURNING c.id
            """, logger: logger
        ).decode(UUID.self) { reopened = true }
        if reopened { try await event(.reopened, case: id, details: ["reason": "new evidence"], on: connection) }
        return reopened
    }

    private func event(
        _ kind: Case.EventKind, case id: UUID, jurisdiction: UUID? = nil, details: [String: String], on connection: PostgresConnection
    ) async throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]), as: UTF8.self)
        try await connection.run(
            """
            INSERT INTO case_events (case_id, kind, actor, jurisdiction_id, details)
            VALUES (\(id), \(kind.rawValue), \(Self.serviceActor), \(jurisdiction), \(json)::jsonb)
            """, logger: logger)
    }

    // MARK: Reading and deciding (regulators, under their scope)

    static let columns = """
        c.id, c.kind, c.pattern_id, c.status, c.referral_reference, c.close_reason, c.close_note, c.merged_into, c.facility_count,
        c.opened_at, c.updated_at, c.closed_at, j.codes, j.names, v.ids, v.codes, v.names, v.jurisdictions,
        (SELECT count(*) FROM alerts a WHERE a.case_id = c.id)::int
        """

    static let lists = """
        CROSS JOIN LATERAL (
            SELECT coalesce(array_agg(j.code ORDER BY j.code), '{}') AS codes, coalesce(array_agg(j.name ORDER BY j.code), '{}') AS names
            FROM jurisdictions j WHERE j.id = ANY(c.jurisdictions)
        ) j
        CROSS JOIN LATERAL (
            SELECT coalesce(array_agg(f.id ORDER BY f.external_code), '{}') AS ids,
                   coalesce(array_agg(f.external_code ORDER BY f.external_code), '{}') AS codes,
                   coalesce(array_agg(f.name ORDER BY f.external_code), '{}') AS names,
                   coalesce(array_agg(fj.code ORDER BY f.external_code), '{}') AS jurisdictions
            FROM facilities f JOIN jurisdictions fj ON fj.id = f.jurisdiction_id WHERE f.id IN (SELECT cf.facility_id FROM case_facilities cf WHERE cf.case_id = c.id)
        ) v
        """

    /// Cases the caller may see, most recently updated first, after the cursor.
    /// `within`: only cases covering a facility in one of these jurisdictions (nil: any).
    public func list(
        status: [Case.Status], kind: Case.Kind?, within: [UUID]? = nil, after cursor: InstantCursor?, limit: Int,
        on connection: PostgresConnection
    ) async throws -> [CaseRecord] {
        try await records(Self.listQuery(status: status, kind: kind, within: within, after: cursor, limit: limit), on: connection)
    }

    /// Cases not closed, per state: each state (a jurisdiction of level `state`) with how many
    /// such cases cover a facility in it or below it, and how many of its facilities they cover,
    /// as far as the caller may see. A network case across states counts in each.
    public func openByState(on connection: PostgresConnection) async throws -> [(state: String, cases: Int, facilities: Int)] {
        var found: [(String, Int, Int)] = []
        for try await row in try await connection.query(
            """
            WITH RECURSIVE up(id, state) AS (
                SELECT id, id FROM jurisdictions WHERE level = 'state'
                UNION ALL
                SELECT j.id, up.state FROM jurisdictions j JOIN up ON j.parent_id = up.id)
            SELECT s.code, count(DISTINCT cf.case_id)::int, count(DISTINCT cf.facility_id)::int
            FROM case_facilities cf JOIN cases c ON c.id = cf.case_id
            JOIN up ON up.id = cf.jurisdiction_id JOIN jurisdictions s ON s.id = up.state
            WHERE c.status <> 'closed'
            GROUP BY s.code
            """, logger: logger
        ).decode((String, Int, Int).self) {
            found.append(row)
        }
        return found
    }

    /// How many cases the list would show across all its pages.
    public func count(
        status: [Case.Status], kind: Case.Kind?, within: [UUID]? = nil, on connection: PostgresConnection
    ) async throws -> Int {
        try await connection.count(of: Self.listQuery(status: status, kind: kind, within: within, after: nil, limit: nil), logger: logger)
    }

    /// The list's query; with no limit, the rows to count (no columns, no order).
    static func listQuery(
        status: [Case.Status], kind: Case.Kind?, within: [UUID]? = nil, after cursor: InstantCursor?, limit: Int?
    ) -> PostgresQuery {
        """
            SELECT \(unescaped: limit == nil ? "1" : Self.columns) FROM cases c \(unescaped: limit == nil ? "" : Self.lists)
            WHERE (cardinality(\(status.map(\.rawValue))::text[]) = 0 OR c.status = ANY(\(status.map(\.rawValue))::text[]))
              AND (\(kind?.rawValue)::text IS NULL OR c.kind = \(kind?.rawValue))
              AND (\(within)::uuid[] IS NULL OR EXISTS (
                    SELECT 1 FROM case_facilities w WHERE w.case_id = c.id AND w.jurisdiction_id = ANY(\(within)::uuid[])))
              AND (\(cursor?.microseconds)::bigint IS NULL
                   OR (c.updated_at, c.id) < ('epoch'::timestamptz + \(cursor?.microseconds)::bigint * interval '1 microsecond',
                                              \(cursor?.id)::uuid))
            \(unescaped: limit == nil ? "" : "ORDER BY c.updated_at DESC, c.id DESC")
            LIMIT \(limit)
        """
    }

    /// One case the caller may see; nil otherwise.
    public func `case`(_ id: Case.ID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> CaseRecord? {
        if forUpdate {
            var found = false
            for try await _ in try await connection.query("SELECT id FROM cases WHERE id = \(id.rawValue) FOR UPDATE", logger: logger)
                .decode(UUID.self)
            {
                found = true
            }
            guard found else { return nil }
        }
        return try await records(
            "SELECT \(unescaped: Self.columns) FROM cases c \(unescaped: Self.lists) WHERE c.id = \(id.rawValue)", on: connection
        )
        .first
    }

    /// The case's alerts the caller may see, oldest first.
    public func alertIDs(of id: Case.ID, on connection: PostgresConnection) async throws -> [Alert.ID] {
        var ids: [Alert.ID] = []
        for try await alert in try await connection.query(
            "SELECT id FROM alerts WHERE case_id = \(id.rawValue) ORDER BY opened_at, id", logger: logger
        ).decode(UUID.self) { ids.append(.init(alert)) }
        return ids
    }

    /// The cases with these ids that the caller may see.
    public func cases(_ ids: [Case.ID], on connection: PostgresConnection) async throws -> [CaseRecord] {
        try await records(
            "SELECT \(unescaped: Self.columns) FROM cases c \(unescaped: Self.lists) WHERE c.id = ANY(\(ids.map(\.rawValue))::uuid[])",
            on: connection)
    }

    /// The case events with these ids that the caller may see, in id order.
    public func events(_ ids: [Int64], on connection: PostgresConnection) async throws -> [CaseEventRecord] {
        guard !ids.isEmpty else { return [] }
        return try await eventRecords(
            """
            SELECT id, case_id, kind, actor_id, actor, at, alert_id, details::text FROM case_events
            WHERE id = ANY(\(ids)::bigint[]) ORDER BY id
            """, on: connection)
    }

    /// The case's events the caller may see, in order.
    public func events(of id: Case.ID, on connection: PostgresConnection) async throws -> [CaseEventRecord] {
        try await eventRecords(
            """
            SELECT id, case_id, kind, actor_id, actor, at, alert_id, details::text FROM case_events
            WHERE case_id = \(id.rawValue) ORDER BY id
            """, on: connection)
    }

    /// Applies a regulator's transition to a case they may see and appends its event; nil when
    /// there is no such case for the caller.
    public func apply(
        _ transition: CaseTransition, to id: Case.ID, by principal: Principal, on connection: PostgresConnection
    )
        async throws -> CaseEventRecord?
    {
        guard let found = try await `case`(id, forUpdate: true, on: connection) else { return nil }
        // A case that joined another is history: the work goes on in the one it joined.
        if let into = found.mergedInto { throw CaseStoreError.merged(into: into) }
        let status: Case.Status
        do {
            status = try transition.status(from: found.status)
        } catch {
            throw CaseStoreError.transition(error)
        }
        var details: [String: String] = [:]
        var reference = found.referralReference
        var reason = found.closeReason?.rawValue
        var note = found.closeNote
        switch transition {
        case .acknowledge: break
        case .refer(let text):
            reference = text
            details = ["reference": text]
        case .close(let why, let text):
            (reason, note) = (why.rawValue, text)
            details = ["reason": why.rawValue, "note": text]
        case .reopen(let text):
            (reason, note) = (nil, nil)
            details = ["note": text]
        case .comment(let text):
            details = ["text": text]
        }
        if transition.eventKind == .reopened, found.kind == .facility {
            // One facility case open at a time: a regulator reopens the facility's only open one.
            var other = false
            for try await _ in try await connection.query(
                """
                SELECT 1 FROM cases o, cases c WHERE c.id = \(id.rawValue) AND o.kind = 'facility' AND o.facility_id = c.facility_id
                  AND o.status <> 'closed' AND o.id <> c.id
                """, logger: logger
            ).decode(Int.self) { other = true }
            if other { throw CaseStoreError.anotherCaseOpen }
        }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]), as: UTF8.self)
        try await connection.run(
            """
            UPDATE cases SET status = \(status.rawValue), referral_reference = \(reference),
                close_reason = \(status == .closed ? reason : nil), close_note = \(status == .closed ? note : nil),
                closed_at = CASE WHEN \(status.rawValue) = 'closed' THEN now() END, updated_at = now()
            WHERE id = \(id.rawValue)
            """, logger: logger)
        return try await eventRecords(
            """
            INSERT INTO case_events (case_id, kind, actor_id, actor, details)
            VALUES (\(id.rawValue), \(transition.eventKind.rawValue), \(principal.id.rawValue), \(principal.holder), \(json)::jsonb)
            RETURNING id, case_id, kind, actor_id, actor, at, alert_id, details::text
            """, on: connection
        ).first
    }

    private func records(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [CaseRecord] {
        var found: [CaseRecord] = []
        for try await row in try await connection.query(query, logger: logger) {
            var c = ColumnReader(row)
            let id = try c.next(UUID.self)
            let kind = try c.next(String.self)
            let pattern = try c.next(UUID?.self)
            let status = try c.next(String.self)
            let reference = try c.next(String?.self)
            let reason = try c.next(String?.self)
            let note = try c.next(String?.self)
            let mergedInto = try c.next(UUID?.self)
            let count = try c.next(Int.self)
            let opened = try c.next(Date.self)
            let updated = try c.next(Date.self)
            let closed = try c.next(Date?.self)
            let codes = try c.next([String].self)
            let names = try c.next([String].self)
            let ids = try c.next([UUID].self)
            let facilityCodes = try c.next([String].self)
            let facilityNames = try c.next([String].self)
            let facilityJurisdictions = try c.next([String].self)
            let alerts = try c.next(Int.self)
            found.append(
                CaseRecord(
                    id: .init(id), kind: Case.Kind(rawValue: kind) ?? .facility, patternID: pattern,
                    status: Case.Status(rawValue: status) ?? .open, referralReference: reference,
                    closeReason: reason.flatMap(Case.CloseReason.init(rawValue:)), closeNote: note,
                    mergedInto: mergedInto.map(Case.ID.init),
                    facilityCount: count,
                    jurisdictions: zip(codes, names).map { ($0, $1) },
                    visibleFacilities: ids.indices.map {
                        (Facility.ID(ids[$0]), facilityCodes[$0], facilityNames[$0], facilityJurisdictions[$0])
                    },
                    alertCount: alerts, openedAt: opened, updatedAt: updated, closedAt: closed))
        }
        return found
    }

    private func eventRecords(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [CaseEventRecord] {
        var found: [CaseEventRecord] = []
        for try await (id, caseID, kind, actorID, actor, at, alertID, details) in try await connection.query(query, logger: logger)
            .decode((Int64, UUID, String, UUID?, String, Date, UUID?, String).self)
        {
            found.append(
                CaseEventRecord(
                    id: id, caseID: .init(caseID), kind: Case.EventKind(rawValue: kind) ?? .comment,
                    actorID: actorID.map(Principal.ID.init),
                    actor: actor, at: at, alertID: alertID.map(Alert.ID.init), detailsJSON: details))
        }
        return found
    }
}

public enum CaseStoreError: Error {
    case transition(CaseTransitionError)
    /// A facility case cannot be reopened while another case of its facility is open.
    case anotherCaseOpen
    /// The case joined another, where its alerts now are.
    case merged(into: Case.ID)
}
