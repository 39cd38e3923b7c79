import Foundation

/// One rule's finding about a facility at an instant: what a new or open alert would carry.
public struct AlertFinding: Hashable, Sendable {
    public var key: Alert.Key
    public var severity: Alert.Severity
    /// The reports behind it, with their receipt times.
    public var reports: [IncidentReport.ID: Date]
    /// The adults implicated in those reports (their keys, as in risk reasons).
    public var adults: Set<String>

    public init(key: Alert.Key, severity: Alert.Severity, reports: [IncidentReport.ID: Date], adults: Set<String>) {
        self.key = key
        self.severity = severity
        self.reports = reports
        self.adults = adults
    }

    public var firstEvidenceAt: Date? { reports.values.min() }
    public var lastEvidenceAt: Date? { reports.values.max() }
}

/// What the service knows of an existing alert when it evaluates the rules again.
public struct AlertState: Hashable, Sendable {
    public var key: Alert.Key
    public var status: Alert.Status
    public var severity: Alert.Severity
    /// The reports already in the alert's evidence.
    public var reports: Set<IncidentReport.ID>
    public var resolvedAt: Date?
    public var snoozedUntil: Date?
    /// Band alerts: since when the facility has been seen continuously quiet (score below the
    /// quiet threshold, band below the opening one).
    public var quietSince: Date?

    public init(
        key: Alert.Key, status: Alert.Status, severity: Alert.Severity, reports: Set<IncidentReport.ID>,
        resolvedAt: Date? = nil, snoozedUntil: Date? = nil, quietSince: Date? = nil
    ) {
        self.key = key
        self.status = status
        self.severity = severity
        self.reports = reports
        self.resolvedAt = resolvedAt
        self.snoozedUntil = snoozedUntil
        self.quietSince = quietSince
    }
}

/// What to record about one alert after an evaluation: the events the service appends, and the
/// alert's new status, severity, evidence and quiet clock.
public struct AlertDecision: Hashable, Sendable {
    public enum Quiet: Hashable, Sendable {
        case unchanged
        case since(Date)
        case cleared
    }

    public var key: Alert.Key
    /// The finding behind it; nil when only the quiet clock moves or the alert resolves itself.
    public var finding: AlertFinding?
    public var events: [Alert.EventKind]
    public var status: Alert.Status?
    public var severity: Alert.Severity?
    public var resolution: Alert.Resolution?
    /// Reports that join the alert's evidence.
    public var newReports: Set<IncidentReport.ID>
    public var quiet: Quiet

    public init(
        key: Alert.Key, finding: AlertFinding? = nil, events: [Alert.EventKind], status: Alert.Status? = nil,
        severity: Alert.Severity? = nil, resolution: Alert.Resolution? = nil, newReports: Set<IncidentReport.ID>, quiet: Quiet
    ) {
        self.key = key
        self.finding = finding
        self.events = events
        self.status = status
        self.severity = severity
        self.resolution = resolution
        self.newReports = newReports
        self.quiet = quiet
    }

    /// Whether this decision opens a new alert.
    public var opens: Bool { events.first == .opened }
    /// Whether regulators are to be told (a new alert, new evidence, escalation, reopening).
    public var notifies: Bool { !events.isEmpty }
}

/// The alert rules (docs/alerts.md): which findings a facility's evidence and score give, and how
/// each finding changes the facility's alerts. Pure: the store supplies the evidence, the current
/// assessment and the existing alerts, and records the decisions.
public struct AlertRules: Hashable, Sendable {
    /// A band alert opens when the band in force reaches this...
    public var opensAt: RiskBand = .high
    /// ...and is escalated to critical when it reaches this.
    public var escalatesAt: RiskBand = .critical
    /// Hysteresis: a band alert may resolve itself only after the score has stayed below this
    /// (and the band below `opensAt`) for `quietDays`, and only while nobody holds it.
    public var quietBelowScore: Double = 45
    public var quietDays: Double = 30
    /// Immediate triggers look at reports received within this many days: older reports are in
    /// the score, and a first deployment must not page regulators about years of history.
    public var lookbackDays: Double = 30
    /// An adult named in this many reports triggers `adult_repeat`.
    public var adultRepeatReports = 3
    /// Children younger than this, for `sexual_abuse_under_six`.
    public var youngChildAge = 6
    /// The model severity at or above which `several_adults_severe` applies.
    public var severeCategory: Double = 4
    /// A pattern spanning this many facilities triggers `pattern_several_facilities`...
    public var patternFacilities = 3
    /// ...while its latest report (at any facility) is at most this many days old: a pattern is
    /// found over a year of reports (docs/linking.md), and one long over is history, not a page.
    public var patternLookbackDays: Double = 365

    public init() {}

    public static let v1 = AlertRules()

    private static let imagery: Set<IncidentReport.ModusOperandi> = [.filming, .photographing]

    /// Every rule's finding for the facility as of `asOf`, in a stable order.
    public func findings(
        for evidence: RiskEvidence, assessment: RiskAssessment, model: RiskModel, asOf: Date
    ) -> [AlertFinding] {
        let facility = evidence.facilityID
        let recent = evidence.reports.filter { asOf.timeIntervalSince($0.receivedAt) <= lookbackDays * 86_400 }
        var result: [AlertFinding] = []
        func add(_ rule: Alert.Rule, _ severity: Alert.Severity, _ reports: [RiskEvidence.Report], subject: String = "") {
            guard !reports.isEmpty || rule == .band else { return }
            result.append(
                AlertFinding(
                    key: .init(rule: rule, facilityID: facility, subject: subject), severity: severity,
                    reports: Dictionary(reports.map { ($0.id, $0.receivedAt) }, uniquingKeysWith: { first, _ in first }),
                    adults: Set(reports.flatMap { $0.adults.map(\.description) })))
        }

        if assessment.band >= opensAt {
            let cited = Set(
                assessment.reasons.flatMap { reason in
                    reason.evidence.flatMap { item in (item.report.map { [$0] } ?? []) + (item.reports ?? []) }
                })
            add(.band, assessment.band >= escalatesAt ? .critical : .high, evidence.reports.filter { cited.contains($0.id) })
        }
        add(.severalAdultsSevere, .critical, recent.filter { $0.adults.count >= 2 && (model.severity[$0.category] ?? 0) >= severeCategory })
        add(.filming, .critical, recent.filter { !$0.modusOperandi.isDisjoint(with: Self.imagery) })
        add(.sexualAbuseUnderSix, .critical, recent.filter { $0.category == .sexualAbuse && ($0.youngestChildAge ?? .max) < youngChildAge })

        var naming: [RiskEvidence.AdultKey: [RiskEvidence.Report]] = [:]
        for report in evidence.reports {
            for adult in report.adults { naming[adult, default: []].append(report) }
        }
        let recentIDs = Set(recent.map(\.id))
        for (adult, reports) in naming.sorted(by: { $0.key < $1.key }) where reports.contains(where: { recentIDs.contains($0.id) }) {
            if reports.count >= adultRepeatReports {
                add(.adultRepeat, .high, reports, subject: adult.description)
            }
            if let elsewhere = evidence.adultsElsewhere[adult], !elsewhere.isEmpty {
                add(.adultSeveralFacilities, .high, reports, subject: adult.description)
            }
        }
        for pattern in evidence.patterns
        where pattern.facilities.count >= patternFacilities
            && asOf.timeIntervalSince(pattern.lastReceivedAt) <= patternLookbackDays * 86_400
        {
            // Adults implicated together across facilities are the ring itself; alike tactics are a lead.
            add(
                .patternSeveralFacilities, pattern.kind == .network ? .critical : .high,
                evidence.reports.filter { pattern.reports.contains($0.id) }, subject: "pattern:" + pattern.id.uuidString.lowercased())
        }
        return result.sorted { $0.key < $1.key }
    }

    /// How the findings change the facility's alerts. `existing` holds its alerts (any status),
    /// `score` is its current score.
    public func decide(_ findings: [AlertFinding], existing: [AlertState], score: Double, asOf: Date) -> [AlertDecision] {
        let states = Dictionary(existing.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var decisions: [AlertDecision] = []
        for finding in findings {
            guard let state = states[finding.key] else {
                decisions.append(
                    AlertDecision(
                        key: finding.key, finding: finding, events: [.opened], status: .open, severity: finding.severity,
                        newReports: Set(finding.reports.keys), quiet: .cleared))
                continue
            }
            let fresh = Set(finding.reports.keys).subtracting(state.reports)
            let quiet: AlertDecision.Quiet = state.quietSince == nil ? .unchanged : .cleared
            if state.status == .resolved {
                // Only evidence received after the resolution reopens an alert: the score staying
                // high on the evidence a regulator already closed on does not.
                let resolvedAt = state.resolvedAt ?? .distantPast
                let after = fresh.filter { (finding.reports[$0] ?? .distantPast) > resolvedAt }
                guard !after.isEmpty else { continue }
                decisions.append(
                    AlertDecision(
                        key: finding.key, finding: finding, events: [.reopened, .evidenceAdded], status: .open,
                        severity: finding.severity, newReports: after, quiet: .cleared))
                continue
            }
            var events: [Alert.EventKind] = []
            if !fresh.isEmpty { events.append(.evidenceAdded) }
            let escalates = finding.severity > state.severity
            if escalates { events.append(.escalated) }
            if !fresh.isEmpty, let until = state.snoozedUntil, until > asOf { events.append(.snoozeEnded) }
            guard !events.isEmpty || quiet != .unchanged else { continue }
            decisions.append(
                AlertDecision(
                    key: finding.key, finding: finding, events: events, status: nil, severity: escalates ? finding.severity : nil,
                    newReports: fresh, quiet: quiet))
        }

        // A band alert with no finding: the facility is below the opening band. The quiet clock
        // runs only while the score is also below the quiet threshold; hovering between the two
        // neither resolves nor re-opens anything.
        for state in existing
        where state.key.rule == .band && state.status != .resolved
            && !findings.contains(where: { $0.key == state.key })
        {
            guard score < quietBelowScore else {
                if state.quietSince != nil {
                    decisions.append(.init(key: state.key, events: [], newReports: [], quiet: .cleared))
                }
                continue
            }
            let since = state.quietSince ?? asOf
            if !state.status.isHeld && asOf.timeIntervalSince(since) >= quietDays * 86_400 {
                decisions.append(
                    .init(key: state.key, events: [.resolved], status: .resolved, resolution: .quiet, newReports: [], quiet: .cleared))
            } else if state.quietSince == nil {
                decisions.append(.init(key: state.key, events: [], newReports: [], quiet: .since(asOf)))
            }
        }
        return decisions
    }
}

extension AlertState {
    /// The state a new alert starts in.
    public init(opening decision: AlertDecision) {
        self.init(
            key: decision.key, status: .open, severity: decision.severity ?? decision.finding?.severity ?? .high,
            reports: decision.newReports)
    }

    /// The state after the service records `decision` at `instant`.
    public func applying(_ decision: AlertDecision, at instant: Date) -> AlertState {
        var next = self
        if let status = decision.status {
            next.status = status
            next.resolvedAt = status == .resolved ? instant : nil
        }
        if let severity = decision.severity { next.severity = severity }
        next.reports.formUnion(decision.newReports)
        if decision.events.contains(.snoozeEnded) || decision.events.contains(.reopened) { next.snoozedUntil = nil }
        switch decision.quiet {
        case .unchanged: break
        case .since(let since): next.quietSince = since
        case .cleared: next.quietSince = nil
        }
        return next
    }
}
