import Foundation

/// What a regulator does to an alert: each is one event in its history.
public enum AlertTransition: Hashable, Sendable {
    case acknowledge
    /// Hands the alert to a named regulator (a token of a regulator who may see the facility).
    case assign(to: Principal.ID)
    case refer(to: Alert.Referral, reference: String)
    case resolve(Alert.Resolution, note: String)
    /// Quiets re-notification until `until`; new evidence ends it sooner.
    case snooze(until: Date, reason: String)
    case comment(String)

    public var eventKind: Alert.EventKind {
        switch self {
        case .acknowledge: .acknowledged
        case .assign: .assigned
        case .refer: .referred
        case .resolve: .resolved
        case .snooze: .snoozed
        case .comment: .comment
        }
    }

    /// The longest snooze a regulator may set.
    public static let longestSnooze: TimeInterval = 90 * 86_400

    /// The status after this transition from `status` at `now`, or why it is not allowed.
    /// Comments and snoozes leave the status as it is.
    public func status(from status: Alert.Status, now: Date) throws(AlertTransitionError) -> Alert.Status {
        switch self {
        case .comment(let text):
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .missingText("comment") }
            return status
        case .acknowledge:
            guard status == .open else { throw .notAllowed(eventKind, from: status) }
            return .acknowledged
        case .assign:
            guard status != .resolved else { throw .notAllowed(eventKind, from: status) }
            // Assigning an alert nobody acknowledged acknowledges it; a referred one stays referred.
            return status == .referred ? .referred : .assigned
        case .refer(_, let reference):
            guard status != .resolved && status != .open else { throw .notAllowed(eventKind, from: status) }
            guard !reference.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .missingText("reference") }
            return .referred
        case .resolve(let resolution, let note):
            guard status != .resolved else { throw .notAllowed(eventKind, from: status) }
            guard resolution != .quiet else { throw .reservedResolution }
            guard !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .missingText("note") }
            return .resolved
        case .snooze(let until, let reason):
            guard status != .resolved else { throw .notAllowed(eventKind, from: status) }
            guard until > now, until.timeIntervalSince(now) <= Self.longestSnooze else { throw .snoozeOutOfRange }
            guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .missingText("reason") }
            return status
        }
    }
}

/// Why a transition was refused.
public enum AlertTransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    case notAllowed(Alert.EventKind, from: Alert.Status)
    case missingText(String)
    case reservedResolution
    case snoozeOutOfRange

    public var description: String {
        switch self {
        case .notAllowed(let kind, let status):
            "an alert that is \(status.rawValue) cannot be \(kind.rawValue.replacingOccurrences(of: "_", with: " "))"
        case .missingText(let field): "\(field) must not be empty"
        case .reservedResolution: "resolution 'quiet' is the service's own: choose another"
        case .snoozeOutOfRange: "a snooze must end in the future and within 90 days"
        }
    }
}
