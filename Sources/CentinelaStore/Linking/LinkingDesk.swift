import CentinelaCore
import Foundation
import Logging

/// A regulator's work on what linking found (docs/linking.md), each step one unit in the caller's
/// scope with its audit event: patterns, one adult's person, and the review queue with its final
/// decisions. A miss is audited too, then refused.
public struct LinkingDesk: Sendable {
    public enum Refusal: Error, Equatable {
        case patternNotFound
        case adultNotFound
        /// No proposed pair of these records that the caller may see.
        case pairNotFound
        /// Decided before: a decision is final.
        case pairAlreadyDecided
    }

    public let database: ServiceDatabase
    var patterns: PatternStore { PatternStore(logger: database.logger) }
    var persons: PersonStore { PersonStore(logger: database.logger) }
    var review: LinkReviewStore { LinkReviewStore(logger: database.logger) }

    public init(database: ServiceDatabase) {
        self.database = database
    }

    /// Patterns the caller may see, most recently active first, after the cursor.
    public func patterns(
        kind: String?, after cursor: InstantCursor?, limit: Int, total: Bool = false, caller: Caller
    ) async throws
        -> (items: [PatternRecord], total: Int?)
    {
        try await database.withScope(caller.principal) { connection in
            let found = try await patterns.list(kind: kind, after: cursor, limit: limit, on: connection)
            let count = total ? try await patterns.count(kind: kind, on: connection) : nil
            try await database.audit(caller.event("pattern.list", on: "pattern", id: nil, outcome: .ok), on: connection)
            return (found, count)
        }
    }

    public func pattern(_ id: UUID, caller: Caller) async throws -> (PatternRecord, [PatternReport]) {
        let found = try await database.withScope(caller.principal) { connection in
            let found = try await patterns.pattern(id, on: connection)
            try await database.audit(
                caller.event("pattern.read", on: "pattern", id: id.uuidString.lowercased(), outcome: found == nil ? .notFound : .ok),
                on: connection)
            return found
        }
        guard let found else { throw Refusal.patternNotFound }
        return found
    }

    /// A pattern as its page shows it: the pattern, its reports and the network of adults and
    /// facilities they name, read in one transaction and audited once.
    public func patternDossier(_ id: UUID, caller: Caller) async throws -> (PatternRecord, [PatternReport], [PatternTie]) {
        let found = try await database.withScope(caller.principal) { connection -> (PatternRecord, [PatternReport], [PatternTie])? in
            let found = try await patterns.pattern(id, on: connection)
            let ties = found == nil ? [] : try await patterns.network(of: id, on: connection)
            try await database.audit(
                caller.event("pattern.read", on: "pattern", id: id.uuidString.lowercased(), outcome: found == nil ? .notFound : .ok),
                on: connection)
            return found.map { ($0.0, $0.1, ties) }
        }
        guard let found else { throw Refusal.patternNotFound }
        return found
    }

    /// The person an adult record belongs to, the caller's side of them.
    public func person(of id: AdultRecord.ID, caller: Caller) async throws -> PersonView {
        let found = try await database.withScope(caller.principal) { connection in
            let found = try await persons.person(of: id, on: connection)
            try await database.audit(
                caller.event("person.read", on: "adult", id: id.description, outcome: found == nil ? .notFound : .ok), on: connection)
            return found
        }
        guard let found else { throw Refusal.adultNotFound }
        return found
    }

    /// The adults a facility's reports name, grouped by person, with where else each appears
    /// (regulators: the people behind the reports are theirs to weigh; audited as one read).
    public func implicated(at facility: Facility.ID, caller: Caller) async throws -> [ImplicatedAdult] {
        try await database.withScope(caller.principal) { connection in
            let found = try await persons.implicated(at: facility, on: connection)
            try await database.audit(
                caller.event(
                    "facility.adults", on: "facility", id: facility.description, outcome: .ok, details: ["count": "\(found.count)"]),
                on: connection)
            return found
        }
    }

    /// Pairs waiting for a decision, strongest first, after the cursor.
    public func pending(
        after cursor: (score: Double, first: UUID, second: UUID)?, limit: Int, total: Bool = false, caller: Caller
    ) async throws
        -> (items: [ReviewPair], total: Int?)
    {
        try await database.withScope(caller.principal) { connection in
            let pairs = try await review.pending(after: cursor, limit: limit, on: connection)
            let count = total ? try await review.pendingCount(on: connection) : nil
            try await database.audit(caller.event("link_review.list", on: "adult_link", id: nil, outcome: .ok), on: connection)
            return (pairs, count)
        }
    }

    /// Records the caller's final decision on a proposed pair; returns when it was recorded.
    public func decide(_ pair: RecordPair, _ decision: LinkReviewStore.Decision, note: String?, caller: Caller) async throws -> Date {
        let outcome = try await database.withScope(caller.principal) { connection in
            let outcome = try await review.decide(pair, decision, note: note, by: caller.principal, on: connection)
            let audited: AuditEvent.Outcome =
                switch outcome {
                case .recorded: .ok
                case .notFound: .notFound
                case .alreadyDecided: .invalid
                }
            try await database.audit(
                caller.event(
                    "link_review.decide", on: "adult_link", id: "\(pair.first)|\(pair.second)", outcome: audited,
                    details: ["decision": decision.rawValue]),
                on: connection)
            return outcome
        }
        switch outcome {
        case .recorded(let at): return at
        case .notFound: throw Refusal.pairNotFound
        case .alreadyDecided: throw Refusal.pairAlreadyDecided
        }
    }
}
