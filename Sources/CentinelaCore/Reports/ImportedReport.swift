import Foundation

/// A report brought in from another system (a regulator's case files, a hotline's register) with
/// its original receipt time, the decisions taken on it and where it came from. Scores, decay,
/// silence, patterns and alert rules read its original dates: an old report counts where its age
/// says it should and raises no "new report" alert. See docs/operations.md, "Importing history".
public struct ImportedReport: Hashable, Sendable {
    /// A decision taken on the report in the other system, with its date.
    public struct Decision: Hashable, Sendable {
        public var status: IncidentReport.Status
        public var at: Date
        public var reason: String?

        public init(status: IncidentReport.Status, at: Date, reason: String?) {
            self.status = status
            self.at = at
            self.reason = reason
        }
    }

    public var submission: ReportSubmission
    public var receivedAt: Date
    /// The other system's name and the report's id there: importing it again stores nothing new.
    public var sourceSystem: String
    public var sourceID: String
    public var decisions: [Decision]

    public init(submission: ReportSubmission, receivedAt: Date, sourceSystem: String, sourceID: String, decisions: [Decision]) {
        self.submission = submission
        self.receivedAt = receivedAt
        self.sourceSystem = sourceSystem
        self.sourceID = sourceID
        self.decisions = decisions
    }

    public static let maximumDecisions = 50

    /// The day a moment falls on (UTC), as receipt days are counted everywhere else.
    public static func day(of instant: Date) -> CalendarDate {
        CalendarDate(daysSinceEpoch: Int((instant.timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// Every rule the import breaks, given the moment it is imported: the report's own rules as of
    /// the day it was received, a receipt neither in the future nor before the discovery, a source
    /// that names itself, and decisions in order between the receipt and now.
    public func validate(now: Date) -> [ReportSubmission.Issue] {
        var issues = submission.validate(today: Self.day(of: receivedAt))
        func fail(_ field: String, _ message: String) { issues.append(.init(field: field, message: message)) }
        if receivedAt > now { fail("/receivedAt", "must not be in the future") }
        if Self.day(of: receivedAt) < submission.discoveredOn { fail("/receivedAt", "must not be before /discoveredOn") }
        if let problem = Self.sourceSystemProblem(sourceSystem) { fail("/source/system", problem) }
        if sourceID.isEmpty || sourceID.count > 200
            || sourceID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            fail("/source/id", "must be 1 to 200 characters without control characters")
        }
        if decisions.count > Self.maximumDecisions { fail("/decisions", "must list at most \(Self.maximumDecisions) decisions") }
        var previous: (status: IncidentReport.Status, at: Date) = (.received, receivedAt)
        for (index, decision) in decisions.enumerated() {
            if !previous.status.mayChange(to: decision.status) {
                fail(
                    "/decisions/\(index)/status",
                    decision.status == .received ? "received is where a report starts, not a decision" : "repeats the status before it")
            }
            if decision.at < previous.at { fail("/decisions/\(index)/at", "must not be before the receipt or the decision before it") }
            if decision.at > now { fail("/decisions/\(index)/at", "must not be in the future") }
            if let reason = decision.reason, reason.count > 5000 { fail("/decisions/\(index)/reason", "must be at most 5000 characters") }
            previous = (decision.status, max(previous.at, decision.at))
        }
        return issues
    }

    /// A source system's name: 1 to 64 letters, digits or . _ - (e.g. `sep-nl`, `hotline.cdmx`).
    public static func sourceSystemProblem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        guard (1...64).contains(scalars.count), FacilityRules.isCodeStart(scalars[0]),
            scalars.allSatisfy({ FacilityRules.isCodeStart($0) || "._-".unicodeScalars.contains($0) })
        else { return "must be 1 to 64 letters, digits or . _ - naming the system the report comes from" }
        return nil
    }
}
