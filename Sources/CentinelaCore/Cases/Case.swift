import Foundation

/// What a regulator works on as one matter (docs/alerts.md, "Cases"): the alerts at one facility
/// while its case is not closed, or a pattern spanning facilities as one national case holding the
/// alerts of every facility it covers. A ring school needs one thing opened: its case.
public enum Case {
    public typealias ID = Identifier<Case>

    public enum Kind: String, ControlledVocabulary {
        /// One facility's alerts.
        case facility
        /// A pattern across facilities, and every alert at the facilities it covers.
        case pattern
    }

    public enum Status: String, ControlledVocabulary {
        case open, acknowledged, referred, closed
    }

    /// Why a case was closed. `merged`: the service's own, when a facility's case joined the
    /// national case of a pattern covering the facility.
    public enum CloseReason: String, ControlledVocabulary {
        case actionTaken = "action_taken"
        case referredToAuthorities = "referred_to_authorities"
        case unfoundedAfterReview = "unfounded_after_review"
        case duplicate
        case facilityClosed = "facility_closed"
        case merged
        case other
    }

    public enum EventKind: String, ControlledVocabulary {
        case opened
        case alertAdded = "alert_added"
        case facilityAdded = "facility_added"
        case acknowledged, referred, closed, reopened, comment
    }
}

/// What a regulator does to a case: each is one event in its history.
public enum CaseTransition: Hashable, Sendable {
    case acknowledge
    /// Handed to prosecutors, police or child protection under their reference.
    case refer(reference: String)
    case close(Case.CloseReason, note: String)
    /// Opened again by a regulator (new evidence reopens a case by itself).
    case reopen(note: String)
    case comment(String)

    public var eventKind: Case.EventKind {
        switch self {
        case .acknowledge: .acknowledged
        case .refer: .referred
        case .close: .closed
        case .reopen: .reopened
        case .comment: .comment
        }
    }

    /// The status after this transition from `status`, or why it is not allowed. Comments leave
    /// the status as it is.
    public func status(from status: Case.Status) throws(CaseTransitionError) -> Case.Status {
        switch self {
        case .comment(let text):
            guard !Self.blank(text) else { throw .missingText("text") }
            return status
        case .acknowledge:
            guard status == .open else { throw .notAllowed(eventKind, from: status) }
            return .acknowledged
        case .refer(let reference):
            guard status != .closed else { throw .notAllowed(eventKind, from: status) }
            guard !Self.blank(reference) else { throw .missingText("reference") }
            return .referred
        case .close(let reason, let note):
            guard status != .closed else { throw .notAllowed(eventKind, from: status) }
            guard reason != .merged else { throw .reservedReason }
            guard !Self.blank(note) else { throw .missingText("note") }
            return .closed
        case .reopen(let note):
            guard status == .closed else { throw .notAllowed(eventKind, from: status) }
            guard !Self.blank(note) else { throw .missingText("note") }
            return .open
        }
    }

    static func blank(_ text: String) -> Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
}

/// Why a case transition was refused.
public enum CaseTransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    case notAllowed(Case.EventKind, from: Case.Status)
    case missingText(String)
    case reservedReason

    public var description: String {
        switch self {
        case .notAllowed(let kind, let status): "a case that is \(status.rawValue) cannot be \(kind.rawValue)"
        case .missingText(let field): "\(field) must not be empty"
        case .reservedReason: "reason 'merged' is the service's own: choose another"
        }
    }
}

/// Where a newly opened alert goes (docs/alerts.md, "Cases"):
/// - a pattern alert (`pattern_several_facilities`, subject `pattern:<id>`) to that pattern's
///   national case, which then covers the facility;
/// - any other alert to the national case of a pattern already covering its facility (the
///   largest, if several), else to the facility's case while it is not closed, else to a new one.
public enum CaseRouting: Hashable, Sendable {
    case pattern(UUID)
    case existing(Case.ID)
    case newFacilityCase

    public static let patternSubjectPrefix = "pattern:"

    public static func route(rule: Alert.Rule, subject: String, coveringPatternCase: Case.ID?, facilityCase: Case.ID?) -> CaseRouting {
        if rule == .patternSeveralFacilities, subject.hasPrefix(patternSubjectPrefix),
            let pattern = UUID(uuidString: String(subject.dropFirst(patternSubjectPrefix.count)))
        {
            return .pattern(pattern)
        }
        if let coveringPatternCase { return .existing(coveringPatternCase) }
        if let facilityCase { return .existing(facilityCase) }
        return .newFacilityCase
    }
}
