import Foundation

/// A regulator's alert: one rule fired for one facility (and subject), owned until resolved.
public enum Alert {
    public typealias ID = Identifier<Alert>

    /// What fired. Raw values are the stable rule ids of the API, the database and webhooks.
    public enum Rule: String, ControlledVocabulary {
        /// The facility's band reached high (escalated at critical).
        case band
        /// Two or more adults implicated in one severity-4 report.
        case severalAdultsSevere = "several_adults_severe"
        /// A report of filming or photographing children.
        case filming
        /// Sexual abuse of a child under 6.
        case sexualAbuseUnderSix = "sexual_abuse_under_six"
        /// One adult implicated at two or more facilities (needs adults linked across facilities).
        case adultSeveralFacilities = "adult_several_facilities"
        /// One adult named in three or more reports.
        case adultRepeat = "adult_repeat"
        /// This facility's reports belong to a pattern spanning three or more facilities (one
        /// alert per facility of the pattern, so every jurisdiction involved is told).
        case patternSeveralFacilities = "pattern_several_facilities"
    }

    public enum Severity: String, ControlledVocabulary, Comparable {
        case high
        case critical

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .high && rhs == .critical }
    }

    public enum Status: String, ControlledVocabulary {
        case open
        case acknowledged
        case assigned
        case referred
        case resolved

        /// Whether a regulator has taken the alert on: such an alert is never resolved automatically.
        public var isHeld: Bool { self == .acknowledged || self == .assigned || self == .referred }
    }

    /// Where an alert is referred.
    public enum Referral: String, ControlledVocabulary {
        case prosecutor
        case police
        case childProtection = "child_protection"
    }

    /// Why an alert was resolved.
    public enum Resolution: String, ControlledVocabulary {
        case actionTaken = "action_taken"
        case referredToAuthorities = "referred_to_authorities"
        case unfoundedAfterReview = "unfounded_after_review"
        case duplicate
        case facilityClosed = "facility_closed"
        /// Thirty days quiet with nobody holding the alert (band alerts only; the service's own).
        case quiet
        case other
    }

    /// The kinds of event in an alert's history. Every change is one, appended.
    public enum EventKind: String, ControlledVocabulary {
        case opened
        case evidenceAdded = "evidence_added"
        case escalated
        case reopened
        case acknowledged
        case assigned
        case referred
        case resolved
        case snoozed
        case snoozeEnded = "snooze_ended"
        case comment
    }

    /// Which alert a finding belongs to: a repeat of the same key adds to the open alert.
    public struct Key: Hashable, Sendable, Comparable {
        public var rule: Rule
        public var facilityID: Facility.ID
        /// "" for facility-wide rules; the adult's key for rules about one adult.
        public var subject: String

        public init(rule: Rule, facilityID: Facility.ID, subject: String = "") {
            self.rule = rule
            self.facilityID = facilityID
            self.subject = subject
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.rule.rawValue, lhs.subject) < (rhs.rule.rawValue, rhs.subject)
        }
    }
}
