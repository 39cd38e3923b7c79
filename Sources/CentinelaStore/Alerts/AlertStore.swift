import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// An alert as stored, with its facility's name and code for display.
public struct AlertRecord: Sendable, Equatable {
    public var id: Alert.ID
    public var rule: Alert.Rule
    public var facilityID: Facility.ID
    public var facilityCode: String
    public var facilityName: String
    public var subject: String
    public var jurisdictionID: Jurisdiction.ID
    /// The jurisdiction's code (`MX-NL`), as the API names jurisdictions everywhere.
    public var jurisdictionCode: String
    public var severity: Alert.Severity
    public var status: Alert.Status
    public var assigneeID: Principal.ID?
    public var assignee: String?
    public var referral: Alert.Referral?
    public var referralReference: String?
    public var resolution: Alert.Resolution?
    public var resolutionNote: String?
    public var resolvedAt: Date?
    public var snoozedUntil: Date?
    public var snoozeReason: String?
    public var reports: [IncidentReport.ID]
    public var adults: [String]
    public var firstEvidenceAt: Date?
    public var lastEvidenceAt: Date?
    public var score: Double
    public var band: RiskBand
    /// The facility's score record (with its reasons) when the alert opened or last had news.
    public var scoreHistoryID: Int64?
    public var openedAt: Date
    public var updatedAt: Date

    public func summary(in language: AlertLanguage) -> String {
        AlertSummary(rule: rule, facility: "\(facilityName) (\(facilityCode))", reports: reports.count, band: band, score: score)
            .text(in: language)
    }
}

/// One event in an alert's history.
public struct AlertEventRecord: Sendable, Equatable {
    public var id: Int64
    public var alertID: Alert.ID
    public var kind: Alert.EventKind
    public var actorID: Principal.ID?
    public var actor: String
    public var at: Date
    /// The event's particulars as a JSON object.
    public var detailsJSON: String
}

/// Filters for listing alerts; nil means any.
public struct AlertFilter: Sendable, Equatable {
    public var statuses: [Alert.Status]?
    public var severities: [Alert.Severity]?
    public var rules: [Alert.Rule]?
    /// Alerts of facilities in the jurisdiction with this code, or below it.
    public var jurisdictionCode: String?
    public var facility: Facility.ID?

    public init(
        statuses: [Alert.Status]? = nil, severities: [Alert.Severity]? = nil, rules: [Alert.Rule]? = nil,
        jurisdictionCode: String? = nil, facility: Facility.ID? = nil
    ) {
        self.statuses = statuses
        self.severities = severities
        self.rules = rules
        self.jurisdictionCode = jurisdictionCode
        self.facility = facility
    }
}

/// Why the store refused a regulator's transition.
public enum AlertStoreError: Error, Equatable, Sendable {
    case transition(AlertTransitionError)
    /// The assignee is not an active regulator whose scope covers the alert.
    case assigneeCannotSee
}

/// Alerts as stored: opened and updated by the service from the rules' decisions (system scope),
/// read and moved through their lifecycle by regulators (their scope).
public struct AlertStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The service's name in alert histories.
    static let serviceActor = "centinela"

    // MARK: The service's side

    /// The alerts of these facilities, any status, as the rules need them.
    func states(for facilities: [Facility.ID], on connection: PostgresConnection) async throws -> [Facility.ID: [AlertState]] {
        guard !facilities.isEmpty else { return [:] }
        var result: [Facility.ID: [AlertState]] = [:]
        for try await (rule, facility, subject, status, severity, reports, resolvedAt, snoozedUntil, quietSince)
            in try await connection.query(
                """
                SELECT rule, facility_id, subject, status, severity, reports, resolved_at, snoozed_until, quiet_since
                FROM alerts WHERE facility_id = ANY(\(facilities.map(\.rawValue))::uuid[])
                """, logger: logger
            ).decode((String, UUID, String, String, String, [UUID], Date?, Date?, Date?).self)
        {
            guard let rule = Alert.Rule(rawValue: rule), let status = Alert.Status(rawValue: status),
                let severity = Alert.Severity(rawValue: severity)
            else { continue }
            let id = Facility.ID(facility)
            result[id, default: []].append(
                AlertState(
                    key: .init(rule: rule, facilityID: id, subject: subject), status: status, severity: severity,
                    reports: Set(reports.map(IncidentReport.ID.init)), resolvedAt: resolvedAt, snoozedUntil: snoozedUntil,
                    quietSince: quietSince))
        }
        return result
    }

    /// Facilities whose unresolved band alert's quiet clock is running: a full run looks at them
    /// every time, score changed or not, so that they resolve once quiet for long enough. (Any
    /// other facility's alerts can only change when its score does, or with a new report, which
    /// marks it.)
    func facilitiesWithOpenBandAlerts(on connection: PostgresConnection) async throws -> Set<Facility.ID> {
        var result = Set<Facility.ID>()
        for try await id in try await connection.query(
            "SELECT facility_id FROM alerts WHERE rule = 'band' AND status <> 'resolved' AND quiet_since IS NOT NULL", logger: logger
        ).decode(UUID.self) { result.insert(.init(id)) }
        return result
    }

    /// Records the rules' decisions for scored facilities, with their events, in the caller's
    /// (system) transaction. Returns how many alerts were opened and how many events appended.
    func record(
        _ decisions: [(scored: ScoredFacility, decisions: [AlertDecision])], asOf: Date, on connection: PostgresConnection
    ) async throws -> (opened: Int, events: Int) {
        var events = 0
        // New alerts, the common case of a first national run: one statement for the batch.
        let openings = decisions.flatMap { item in item.decisions.filter(\.opens).map { (item.scored, $0) } }
        let opened = try await open(openings, on: connection)
        events += opened.count
        var withNews: [UUID] = []
        for (scored, facilityDecisions) in decisions {
            let assessment = scored.assessment
            for decision in facilityDecisions where !decision.opens {
                let key = decision.key
                let finding = decision.finding
                let times = finding.map { Array($0.reports.values) } ?? []
                let (quietSet, quietSince): (Bool, Date?) =
                    switch decision.quiet {
                    case .unchanged: (false, nil)
                    case .since(let date): (true, date)
                    case .cleared: (true, nil)
                    }
                let news = decision.notifies && decision.status != .resolved
                let endsSnooze = decision.events.contains(.snoozeEnded) || decision.events.contains(.reopened)
                let alertID = try await firstUUID(
                    """
                    UPDATE alerts SET
                        status = coalesce(\(decision.status?.rawValue)::text, status),
                        severity = coalesce(\(decision.severity?.rawValue)::text, severity),
                        resolution = CASE WHEN \(decision.status?.rawValue)::text = 'resolved' THEN \(decision.resolution?.rawValue)::text
                                          WHEN \(decision.status?.rawValue)::text IS NOT NULL THEN NULL ELSE resolution END,
                        resolution_note = CASE WHEN \(decision.status?.rawValue)::text IS NOT NULL THEN NULL ELSE resolution_note END,
                        resolved_at = CASE WHEN \(decision.status?.rawValue)::text = 'resolved' THEN \(asOf)::timestamptz
                                           WHEN \(decision.status?.rawValue)::text IS NOT NULL THEN NULL ELSE resolved_at END,
                        reports = reports || ARRAY(SELECT unnest(\(decision.newReports.map(\.rawValue).sorted())::uuid[]) EXCEPT SELECT unnest(reports)),
                        adults = ARRAY(SELECT DISTINCT unnest(adults || \(finding.map { $0.adults.sorted() } ?? [])::text[]) ORDER BY 1),
                        first_evidence_at = least(first_evidence_at, \(times.min())::timestamptz),
                        last_evidence_at = greatest(last_evidence_at, \(times.max())::timestamptz),
                        snoozed_until = CASE WHEN \(endsSnooze) THEN NULL ELSE snoozed_until END,
                        snooze_reason = CASE WHEN \(endsSnooze) THEN NULL ELSE snooze_reason END,
                        quiet_since = CASE WHEN \(quietSet) THEN \(quietSince)::timestamptz ELSE quiet_since END,
                        score = CASE WHEN \(news) THEN \(assessment.score) ELSE score END,
                        band = CASE WHEN \(news) THEN \(assessment.band.rawValue) ELSE band END,
                        score_history_id = CASE WHEN \(news) THEN (
                            SELECT h.id FROM risk_score_history h WHERE h.facility_id = alerts.facility_id
                            ORDER BY h.as_of DESC, h.id DESC LIMIT 1) ELSE score_history_id END,
                        updated_at = now()
                    WHERE rule = \(key.rule.rawValue) AND facility_id = \(key.facilityID.rawValue) AND subject = \(key.subject)
                    RETURNING id
                    """, on: connection)
                guard let alertID, !decision.events.isEmpty else { continue }
                if decision.notifies { withNews.append(alertID) }
                let details = decision.events.map { Self.details(for: $0, decision: decision, assessment: assessment) }
                try await connection.run(
                    """
                    INSERT INTO alert_events (alert_id, kind, actor, details)
                    SELECT \(alertID), kind, \(Self.serviceActor), details::jsonb
                    FROM unnest(\(decision.events.map(\.rawValue))::text[], \(details)::text[]) WITH ORDINALITY AS e(kind, details, n)
                    ORDER BY n
                    """, logger: logger)
                events += decision.events.count
            }
        }
        // Every new alert into its case, and an alert with news whose case is closed (or that has
        // none yet) into the case it belongs in now (docs/alerts.md, "Cases").
        var filing = opened
        if !withNews.isEmpty {
            for try await (id, facility, jurisdiction, rule, subject, former) in try await connection.query(
                """
                SELECT a.id, a.facility_id, a.jurisdiction_id, a.rule, a.subject, a.case_id
                FROM alerts a LEFT JOIN cases c ON c.id = a.case_id
                WHERE a.id = ANY(\(withNews)::uuid[]) AND (a.case_id IS NULL OR c.status = 'closed')
                """, logger: logger
            ).decode((UUID, UUID, UUID, String, String, UUID?).self) {
                guard let rule = Alert.Rule(rawValue: rule) else { continue }
                filing.append(
                    FilingAlert(
                        id: id, facilityID: facility, jurisdictionID: jurisdiction, rule: rule, subject: subject, formerCase: former))
            }
        }
        try await CaseStore(logger: logger).file(filing, on: connection)
        return (opened.count, events)
    }

    /// Opens new alerts, each with its `opened` event, in one statement. An alert a concurrent
    /// writer opened a moment ago is skipped: its own events tell the story. Returns those opened.
    private func open(_ openings: [(ScoredFacility, AlertDecision)], on connection: PostgresConnection) async throws -> [FilingAlert] {
        guard !openings.isEmpty else { return [] }
        // Arrays of arrays do not unnest row by row: each row's reports and adults travel as text.
        let keys = openings.map(\.1.key)
        let findings = openings.map(\.1.finding)
        let times = findings.map { $0.map { Array($0.reports.values) } ?? [] }
        var opened: [(UUID, Int)] = []
        for try await row in try await connection.query(
            """
            WITH input AS (
                SELECT * FROM unnest(
                    \(keys.map(\.rule.rawValue))::text[], \(keys.map(\.facilityID.rawValue))::uuid[], \(keys.map(\.subject))::text[],
                    \(openings.map(\.0.subject.jurisdictionID.rawValue))::uuid[],
                    \(openings.map { ($0.1.severity ?? .high).rawValue })::text[],
                    \(openings.map { $0.1.newReports.map(\.description).sorted().joined(separator: ",") })::text[],
                    \(findings.map { $0?.adults.sorted().joined(separator: ",") ?? "" })::text[],
                    \(times.map { $0.min().map(RiskAssessment.timestamp) ?? "" })::text[],
                    \(times.map { $0.max().map(RiskAssessment.timestamp) ?? "" })::text[],
                    \(openings.map(\.0.assessment.score))::float8[], \(openings.map(\.0.assessment.band.rawValue))::text[])
                    WITH ORDINALITY AS i(rule, facility_id, subject, jurisdiction_id, severity, reports, adults, first_at, last_at,
                                         score, band, n)
            ), opened AS (
                INSERT INTO alerts (rule, facility_id, subject, jurisdiction_id, severity, reports, adults,
                                    first_evidence_at, last_evidence_at, score, band, score_history_id)
                SELECT rule, i.facility_id, subject, jurisdiction_id, severity,
                       coalesce(string_to_array(nullif(reports, ''), ',')::uuid[], '{}'), coalesce(string_to_array(nullif(adults, ''), ','), '{}'),
                       nullif(first_at, '')::timestamptz, nullif(last_at, '')::timestamptz, score, band,
                       (SELECT h.id FROM risk_score_history h WHERE h.facility_id = i.facility_id ORDER BY h.as_of DESC, h.id DESC LIMIT 1)
                FROM input i ORDER BY n
                ON CONFLICT (rule, facility_id, subject) DO NOTHING
                RETURNING id, rule, facility_id, subject
            )
            SELECT o.id, i.n::int FROM opened o JOIN input i USING (rule, facility_id, subject) ORDER BY i.n
            """, logger: logger
        ).decode((UUID, Int).self) { opened.append(row) }
        guard !opened.isEmpty else { return [] }
        // Their events in a second statement: the event's row-level check must see the new alerts.
        let details = opened.map { Self.details(for: .opened, decision: openings[$0.1 - 1].1, assessment: openings[$0.1 - 1].0.assessment) }
        try await connection.run(
            """
            INSERT INTO alert_events (alert_id, kind, actor, details)
            SELECT alert_id, 'opened', \(Self.serviceActor), details::jsonb
            FROM unnest(\(opened.map(\.0))::uuid[], \(details)::text[]) WITH ORDINALITY AS e(alert_id, details, n)
            ORDER BY n
            """, logger: logger)
        return opened.map { id, n in
            let (scored, decision) = openings[n - 1]
            return FilingAlert(
                id: id, facilityID: decision.key.facilityID.rawValue, jurisdictionID: scored.subject.jurisdictionID.rawValue,
                rule: decision.key.rule, subject: decision.key.subject, formerCase: nil)
        }
    }

    /// The particulars of a service event, as a JSON object.
    static func details(for kind: Alert.EventKind, decision: AlertDecision, assessment: RiskAssessment) -> String {
        var fields: [(String, String)] = []
        func string(_ value: String) -> String { "\"\(value)\"" }  // codes and ids only: no escaping needed
        switch kind {
        case .opened, .reopened, .escalated:
            fields.append(("severity", string((decision.severity ?? decision.finding?.severity ?? .high).rawValue)))
            fields.append(("score", figureJSON(assessment.score)))
            fields.append(("band", string(assessment.band.rawValue)))
        case .evidenceAdded:
            fields.append(("reports", "[" + decision.newReports.map(\.description).sorted().map(string).joined(separator: ",") + "]"))
        case .resolved:
            fields.append(("resolution", string((decision.resolution ?? .quiet).rawValue)))
        default:
            break
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    static func figureJSON(_ value: Double) -> String { String(format: "%.1f", value) }

    private func firstUUID(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> UUID? {
        var result: UUID?
        for try await id in try await connection.query(query, logger: logger).decode(UUID.self) where result == nil { result = id }
        return result
    }
}

// MARK: Regulators' side, in the caller's scope

extension AlertStore {
    static let columns = """
        a.id, a.rule, a.facility_id, f.external_code, f.name, a.subject, a.jurisdiction_id,
        (SELECT j.code FROM jurisdictions j WHERE j.id = a.jurisdiction_id), a.severity, a.status, a.assignee_id,
        a.assignee, a.referral, a.referral_reference, a.resolution, a.resolution_note, a.resolved_at, a.snoozed_until,
        a.snooze_reason, a.reports, a.adults, a.first_evidence_at, a.last_evidence_at, a.score::float8, a.band,
        a.score_history_id, a.opened_at, a.updated_at
        """

    /// Alerts the caller may see, newest first, after the cursor (opened_at in microseconds since
    /// 1970, as stored: a Date would round it, id) when given.
    public func list(
        _ filter: AlertFilter, after cursor: (openedAtMicroseconds: Int64, id: Alert.ID)?, limit: Int, on connection: PostgresConnection
    ) async throws -> [AlertRecord] {
        try await records(Self.listQuery(filter, after: cursor, limit: limit), on: connection)
    }

    /// How many alerts the list would show across all its pages.
    public func count(_ filter: AlertFilter, on connection: PostgresConnection) async throws -> Int {
        try await connection.count(of: Self.listQuery(filter, after: nil, limit: nil), logger: logger)
    }

    /// How many alerts pass the filter's other conditions in each status, in one statement.
    public func countsByStatus(_ filter: AlertFilter, on connection: PostgresConnection) async throws -> [Alert.Status: Int] {
        var any = filter
        any.statuses = nil
        let listed = Self.listQuery(any, after: nil, limit: nil, selecting: "a.status")
        var counts: [Alert.Status: Int] = [:]
        for try await (status, count) in try await connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT status, count(*)::int FROM (\n" + listed.sql + "\n) listed GROUP BY status", binds: listed.binds),
            logger: logger
        ).decode((String, Int).self) {
            if let status = Alert.Status(rawValue: status) { counts[status] = count }
        }
        return counts
    }

    /// The list's query; with no limit, the rows to count (`selecting` the columns, by default none).
    static func listQuery(
        _ filter: AlertFilter, after cursor: (openedAtMicroseconds: Int64, id: Alert.ID)?, limit: Int?, selecting: String = "1"
    ) -> PostgresQuery {
        // The page of alerts is chosen from the alerts alone, then joined to their facilities: joined
        // first, every alert in scope met its facility's row-level check before the sort (48 ms for
        // a national regulator's 12,000 open alerts; 14 ms so).
        """
            SELECT \(unescaped: limit == nil ? selecting : Self.columns) FROM (
            SELECT a.* FROM alerts a
            WHERE (\(filter.statuses?.map(\.rawValue))::text[] IS NULL OR a.status = ANY(\(filter.statuses?.map(\.rawValue))::text[]))
              AND (\(filter.severities?.map(\.rawValue))::text[] IS NULL OR a.severity = ANY(\(filter.severities?.map(\.rawValue))::text[]))
              AND (\(filter.rules?.map(\.rawValue))::text[] IS NULL OR a.rule = ANY(\(filter.rules?.map(\.rawValue))::text[]))
              AND (\(filter.facility?.rawValue)::uuid IS NULL OR a.facility_id = \(filter.facility?.rawValue)::uuid)
              AND (\(filter.jurisdictionCode)::text IS NULL OR a.jurisdiction_id IN (
                    WITH RECURSIVE below(id) AS (
                        SELECT j.id FROM jurisdictions j WHERE j.code = \(filter.jurisdictionCode)::text
                        UNION SELECT j.id FROM jurisdictions j JOIN below ON j.parent_id = below.id)
                    SELECT id FROM below))
              AND (\(cursor?.openedAtMicroseconds)::bigint IS NULL
                   OR (a.opened_at, a.id) < ('epoch'::timestamptz + \(cursor?.openedAtMicroseconds)::bigint * interval '1 microsecond',
                                            \(cursor?.id.rawValue)::uuid))
            \(unescaped: limit == nil ? "" : "ORDER BY a.opened_at DESC, a.id DESC")
            LIMIT \(limit)) a JOIN facilities f ON f.id = a.facility_id
            \(unescaped: limit == nil ? "" : "ORDER BY a.opened_at DESC, a.id DESC")
        """
    }

    /// One alert, if the caller may see it.
    public func alert(_ id: Alert.ID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> AlertRecord? {
        try await records(
            """
            SELECT \(unescaped: Self.columns) FROM alerts a JOIN facilities f ON f.id = a.facility_id
            WHERE a.id = \(id.rawValue) \(unescaped: forUpdate ? "FOR UPDATE OF a" : "")
            """, on: connection
        ).first
    }

    /// The score record an alert refers to (the assessment's canonical JSON and when it was
    /// recorded), if the caller may see it.
    public func score(of alert: AlertRecord, on connection: PostgresConnection) async throws -> StoredScore? {
        guard let id = alert.scoreHistoryID else { return nil }
        for try await (json, recordedAt) in try await connection.query(
            "SELECT assessment::text, recorded_at FROM risk_score_history WHERE id = \(id)", logger: logger
        ).decode((String, Date).self) {
            return try ScoreStore.decode(json, recordedAt: recordedAt)
        }
        return nil
    }

    /// An alert's history, oldest first.
    public func events(of id: Alert.ID, on connection: PostgresConnection) async throws -> [AlertEventRecord] {
        try await eventRecords(
            """
            SELECT e.id, e.alert_id, e.kind, e.actor_id, e.actor, e.at, e.details::text FROM alert_events e
            WHERE e.alert_id = \(id.rawValue) ORDER BY e.id
            """, on: connection)
    }

    /// The events with these ids that the caller may see, in id order.
    public func events(_ ids: [Int64], on connection: PostgresConnection) async throws -> [AlertEventRecord] {
        guard !ids.isEmpty else { return [] }
        return try await eventRecords(
            """
            SELECT e.id, e.alert_id, e.kind, e.actor_id, e.actor, e.at, e.details::text FROM alert_events e
            WHERE e.id = ANY(\(ids)::int8[]) ORDER BY e.id
            """, on: connection)
    }

    /// The alerts with these ids that the caller may see.
    public func alerts(_ ids: [Alert.ID], on connection: PostgresConnection) async throws -> [AlertRecord] {
        guard !ids.isEmpty else { return [] }
        return try await records(
            """
            SELECT \(unescaped: Self.columns) FROM alerts a JOIN facilities f ON f.id = a.facility_id
            WHERE a.id = ANY(\(ids.map(\.rawValue))::uuid[])
            """, on: connection)
    }

    /// Applies a regulator's transition to an alert they may see and appends its event. Nil when
    /// there is no such alert for the caller.
    public func apply(
        _ transition: AlertTransition, to id: Alert.ID, by principal: Principal, now: Date, on connection: PostgresConnection
    ) async throws -> AlertEventRecord? {
        guard let alert = try await alert(id, forUpdate: true, on: connection) else { return nil }
        let status: Alert.Status
        do {
            status = try transition.status(from: alert.status, now: now)
        } catch {
            throw AlertStoreError.transition(error)
        }
        var details: [String: String] = [:]
        var assigneeID: UUID? = alert.assigneeID?.rawValue
        var assignee = alert.assignee
        var referral = alert.referral?.rawValue
        var reference = alert.referralReference
        var resolution = alert.resolution?.rawValue
        var note = alert.resolutionNote
        var snoozedUntil = alert.snoozedUntil
        var snoozeReason = alert.snoozeReason
        switch transition {
        case .acknowledge:
            break
        case .assign(let to):
            var holder: String?
            for try await value in try await connection.query(
                "SELECT centinela_regulator_covering(\(to.rawValue), \(alert.jurisdictionID.rawValue))", logger: logger
            ).decode(String?.self) { holder = value }
            guard let holder else { throw AlertStoreError.assigneeCannotSee }
            (assigneeID, assignee) = (to.rawValue, holder)
            details = ["assignee": to.description, "assigneeHolder": holder]
        case .refer(let to, let ref):
            (referral, reference) = (to.rawValue, ref)
            details = ["referral": to.rawValue, "reference": ref]
        case .resolve(let reason, let text):
            (resolution, note) = (reason.rawValue, text)
            details = ["resolution": reason.rawValue, "note": text]
        case .snooze(let until, let reason):
            (snoozedUntil, snoozeReason) = (until, reason)
            details = ["until": RiskAssessment.timestamp(until), "reason": reason]
        case .comment(let text):
            details = ["text": text]
        }
        let detailsJSON = String(decoding: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]), as: UTF8.self)
        try await connection.run(
            """
            UPDATE alerts SET status = \(status.rawValue), assignee_id = \(assigneeID), assignee = \(assignee),
                referral = \(referral), referral_reference = \(reference),
                resolution = \(status == .resolved ? resolution : nil), resolution_note = \(status == .resolved ? note : nil),
                resolved_at = CASE WHEN \(status.rawValue) = 'resolved' THEN coalesce(resolved_at, now()) END,
                snoozed_until = \(status == .resolved ? nil : snoozedUntil), snooze_reason = \(status == .resolved ? nil : snoozeReason),
                updated_at = now()
            WHERE id = \(id.rawValue)
            """, logger: logger)
        return try await eventRecords(
            """
            INSERT INTO alert_events (alert_id, kind, actor_id, actor, details)
            VALUES (\(id.rawValue), \(transition.eventKind.rawValue), \(principal.id.rawValue), \(principal.holder), \(detailsJSON)::jsonb)
            RETURNING id, alert_id, kind, actor_id, actor, at, details::text
            """, on: connection
        ).first
    }

    private func records(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [AlertRecord] {
        var result: [AlertRecord] = []
        for try await row in try await connection.query(query, logger: logger) {
            var c = ColumnReader(row)
            let id = try c.next(UUID.self)
            let rule = try c.next(String.self)
            let facility = try c.next(UUID.self)
            let code = try c.next(String.self)
            let name = try c.next(String.self)
            let subject = try c.next(String.self)
            let jurisdiction = try c.next(UUID.self)
            let jurisdictionCode = try c.next(String.self)
            let severity = try c.next(String.self)
            let status = try c.next(String.self)
            let assigneeID = try c.next(UUID?.self)
            let assignee = try c.next(String?.self)
            let referral = try c.next(String?.self)
            let reference = try c.next(String?.self)
            let resolution = try c.next(String?.self)
            let note = try c.next(String?.self)
            let resolvedAt = try c.next(Date?.self)
            let snoozedUntil = try c.next(Date?.self)
            let snoozeReason = try c.next(String?.self)
            let reports = try c.next([UUID].self)
            let adults = try c.next([String].self)
            let first = try c.next(Date?.self)
            let last = try c.next(Date?.self)
            let score = try c.next(Double.self)
            let band = try c.next(String.self)
            let scoreHistoryID = try c.next(Int64?.self)
            let openedAt = try c.next(Date.self)
            let updatedAt = try c.next(Date.self)
            guard let rule = Alert.Rule(rawValue: rule), let severity = Alert.Severity(rawValue: severity),
                let status = Alert.Status(rawValue: status), let band = RiskBand(rawValue: band)
            else { throw DatabaseError.queryFailed(reason: "an alert row holds an unknown code") }
            result.append(
                AlertRecord(
                    id: .init(id), rule: rule, facilityID: .init(facility), facilityCode: code, facilityName: name, subject: subject,
                    jurisdictionID: .init(jurisdiction), jurisdictionCode: jurisdictionCode, severity: severity, status: status,
                    assigneeID: assigneeID.map(Principal.ID.init),
                    assignee: assignee, referral: referral.flatMap(Alert.Referral.init(rawValue:)), referralReference: reference,
                    resolution: resolution.flatMap(Alert.Resolution.init(rawValue:)), resolutionNote: note, resolvedAt: resolvedAt,
                    snoozedUntil: snoozedUntil, snoozeReason: snoozeReason, reports: reports.map(IncidentReport.ID.init), adults: adults,
                    firstEvidenceAt: first, lastEvidenceAt: last, score: score, band: band, scoreHistoryID: scoreHistoryID,
                    openedAt: openedAt, updatedAt: updatedAt))
        }
        return result
    }

    private func eventRecords(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [AlertEventRecord] {
        var result: [AlertEventRecord] = []
        for try await (id, alert, kind, actorID, actor, at, details) in try await connection.query(query, logger: logger)
            .decode((Int64, UUID, String, UUID?, String, Date, String).self)
        {
            guard let kind = Alert.EventKind(rawValue: kind) else {
                throw DatabaseError.queryFailed(reason: "an alert event of unknown kind")
            }
            result.append(
                AlertEventRecord(
                    id: id, alertID: .init(alert), kind: kind, actorID: actorID.map(Principal.ID.init), actor: actor, at: at,
                    detailsJSON: details))
        }
        return result
    }
}
