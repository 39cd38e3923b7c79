import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// Filing an incident report, as one unit of work: in the caller's scope and one transaction, the
/// facility is checked, the report stored, the answer kept for its idempotency key and the audit
/// event written — all or nothing. A retry with the same key gets the first answer again, and
/// nothing new is stored (docs/operations.md, "Retries").
public struct ReportIntake: Sendable {
    /// What the school is told: the report's id, when it was received, its status.
    public struct Receipt: Codable, Sendable, Equatable {
        public var id: String
        public var receivedAt: Date
        public var status: String
    }

    /// A filed report: its receipt, the receipt as the JSON the first answer carried (a replay
    /// returns exactly those bytes), and whether it was stored now or is a replay.
    public struct Filed: Sendable {
        public var receipt: Receipt
        public var json: Data
        public var isNew: Bool
    }

    /// A client's `Idempotency-Key` and the hash of the request it came with.
    public struct Idempotency: Sendable {
        public var key: String
        public var fingerprint: Data

        public init(key: String, fingerprint: Data) {
            self.key = key
            self.fingerprint = fingerprint
        }
    }

    public enum Refusal: Error, Equatable {
        /// The facility does not exist, or the caller may not file reports for it.
        case facilityNotFound
        /// The key was used before, for another request.
        case keyReusedForAnotherRequest
        /// Another request with the key is being filed at this moment.
        case keyInFlight
    }

    public let database: ServiceDatabase
    var store: ReportStore { ReportStore(logger: database.logger) }
    /// Reports filed at the same moment, written together (``IntakeQueue``). One per service:
    /// every copy of this intake shares it.
    let queue: IntakeQueue

    public init(database: ServiceDatabase) {
        self.database = database
        self.queue = IntakeQueue()
    }

    /// Files a report: answered once it is committed, alone or with the reports filed at the same moment.
    public func file(_ submission: ReportSubmission, idempotency: Idempotency?, caller: Caller) async throws -> Filed {
        try await withCheckedThrowingContinuation { answer in
            queue.enqueue(.init(request: .init(submission: submission, idempotency: idempotency, caller: caller), answer: answer)) {
                group in
                for (one, outcome) in zip(group, await fileTogether(group.map(\.request))) { one.answer.resume(with: outcome) }
            }
        }
    }

    /// Files a report in a transaction of its own.
    func fileAlone(_ submission: ReportSubmission, idempotency: Idempotency?, caller: Caller) async throws -> Filed {
        // A concurrent retry with the same key loses the race on the key's primary key; its
        // transaction is rolled back whole, and the second pass returns the winner's answer.
        for attempt in 1...2 {
            do {
                return try await database.withScope(caller.principal) { connection in
                    if let idempotency, let stored = try await storedAnswer(idempotency.key, caller.principal, on: connection) {
                        guard stored.fingerprint == idempotency.fingerprint else { throw Refusal.keyReusedForAnotherRequest }
                        return Filed(receipt: try Self.decoder.decode(Receipt.self, from: stored.body), json: stored.body, isNew: false)
                    }
                    guard let facility = try await store.facility(submission.facilityID, on: connection),
                        caller.principal.mayHandleReports(of: facility)
                    else { throw Refusal.facilityNotFound }
                    let (id, receivedAt) = try await store.submit(submission, by: caller.principal, on: connection)
                    let receipt = Receipt(id: id.description, receivedAt: receivedAt, status: IncidentReport.Status.received.rawValue)
                    let json = try Self.encoder.encode(receipt)
                    if let idempotency {
                        try await connection.query(
                            """
                            INSERT INTO idempotency_keys (token_id, key, request_sha256, response_status, response_body)
                            VALUES (\(caller.principal.id.rawValue), \(idempotency.key), \(idempotency.fingerprint), 201, \(json))
                            """, logger: database.logger)
                    }
                    try await database.audit(
                        caller.event(
                            "report.create", on: "report", id: id.description, outcome: .ok,
                            details: ["facility": submission.facilityID.description, "category": submission.category.rawValue]),
                        on: connection)
                    return Filed(receipt: receipt, json: json, isNew: true)
                }
            } catch let error where DatabaseError.sqlState(of: error) == "23505" && idempotency != nil && attempt == 1 {
                continue
            }
        }
        throw Refusal.keyInFlight
    }

    /// Imports a regulator's history (docs/operations.md, "Importing a history"), all or nothing
    /// in one transaction: reports imported before from the same source are left as they were.
    /// Throws `ImportRefusal` for reports the database refuses (by their index).
    public func importReports(_ reports: [ImportedReport], caller: Caller) async throws -> ImportOutcome {
        try await database.withScope(caller.principal) { connection in
            let outcome = try await store.importReports(reports, by: caller.principal, on: connection)
            let systems = Set(reports.map(\.sourceSystem)).sorted().joined(separator: ",")
            try await database.audit(
                caller.event(
                    "report.import", on: "report", id: nil, outcome: .ok,
                    details: [
                        "imported": String(outcome.imported), "already_imported": String(reports.count - outcome.imported),
                        "source_systems": systems,
                    ]),
                on: connection)
            return outcome
        }
    }

    private func storedAnswer(
        _ key: String, _ principal: Principal, on connection: PostgresConnection
    ) async throws
        -> (fingerprint: Data, body: Data)?
    {
        let rows = try await connection.query(
            """
            SELECT request_sha256, response_body FROM idempotency_keys
            WHERE token_id = \(principal.id.rawValue) AND key = \(key)
            """, logger: database.logger)
        for try await (fingerprint, body) in rows.decode((Data, Data).self) {
            return (fingerprint, body)
        }
        return nil
    }

    /// The receipt as the API writes JSON (sorted keys, ISO 8601 instants).
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
