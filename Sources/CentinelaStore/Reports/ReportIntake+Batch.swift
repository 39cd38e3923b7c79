import CentinelaCore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Reports filed at the same moment are stored together (group commit, decision 44): while a
/// transaction of reports is being written, the reports that arrive queue, and the next
/// transaction takes one caller's of them — each report still checked in its caller's scope, answered
/// only once its transaction has committed, and stored exactly as it would be alone. A day of
/// many reports then costs PostgreSQL a handful of statements and one commit per group instead of
/// ten statements and a commit per report; a quiet day files each report alone, as before.
///
/// When a group's transaction fails as a whole (nothing of it is stored), each of its reports is
/// filed again on its own, so that each gets its own answer — a refusal for the one at fault.
final class IntakeQueue: Sendable {
    struct Waiting: Sendable {
        var request: ReportIntake.Request
        var answer: CheckedContinuation<ReportIntake.Filed, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writers = 0
    }

    private let state = Mutex(State())
    /// Groups written at once, each on its own connection: PostgreSQL works on some while the
    /// service encodes others, and many schools filing at once are not queued behind one another.
    let writers: Int
    /// The most reports in one transaction: a group's statements stay small, and a failed group
    /// (filed again one by one) costs little.
    let largestGroup: Int

    init(writers: Int = 4, largestGroup: Int = 64) {
        self.writers = writers
        self.largestGroup = largestGroup
    }

    /// Queues a report; when fewer than `writers` groups are being written, starts a writer
    /// that writes groups until the queue is empty.
    func enqueue(_ waiting: Waiting, write: @escaping @Sendable ([Waiting]) async -> Void) {
        let start = state.withLock { state -> Bool in
            state.waiting.append(waiting)
            guard state.writers < writers else { return false }
            state.writers += 1
            return true
        }
        guard start else { return }
        // Its own task: a request's handler must not go on writing other callers' reports after
        // its own is answered.
        Task {
            while let group = next() { await write(group) }
        }
    }

    /// The next group, or nil (and one writer fewer) when nothing waits: the reports of the
    /// caller who has waited longest. A group of one caller's reports is a handful of statements
    /// in its scope; reports of many callers would each need their own, one after the other in
    /// one transaction, while other writers could have written them side by side (32 schools
    /// filing at once, each to its own facility: 290 reports/s with mixed groups and two
    /// writers, 322–325 with this and four).
    private func next() -> [Waiting]? {
        state.withLock { state in
            guard let first = state.waiting.first else {
                state.writers -= 1
                return nil
            }
            let caller = first.request.caller.principal.id
            var group: [Waiting] = []
            var rest: [Waiting] = []
            rest.reserveCapacity(state.waiting.count)
            for waiting in state.waiting {
                if group.count < largestGroup, waiting.request.caller.principal.id == caller {
                    group.append(waiting)
                } else {
                    rest.append(waiting)
                }
            }
            state.waiting = rest
            return group
        }
    }
}

extension ReportIntake {
    /// A report to file and who files it.
    public struct Request: Sendable {
        public var submission: ReportSubmission
        public var idempotency: Idempotency?
        public var caller: Caller

        public init(submission: ReportSubmission, idempotency: Idempotency?, caller: Caller) {
            self.submission = submission
            self.idempotency = idempotency
            self.caller = caller
        }
    }

    /// Files reports that arrived together and answers each: alone, a report takes the path it
    /// always took; several share one transaction, and are filed one by one when the database
    /// refuses it (the database being away fails them all, as it would each). A report whose
    /// idempotency key an earlier one of the group carries is filed after the group has
    /// committed, where it finds that report's answer.
    public func fileTogether(_ requests: [Request]) async -> [Result<Filed, any Error>] {
        func alone(_ request: Request) async -> Result<Filed, any Error> {
            do { return .success(try await fileAlone(request.submission, idempotency: request.idempotency, caller: request.caller)) } catch
            {
                return .failure(error)
            }
        }
        if requests.count == 1 { return [await alone(requests[0])] }
        var outcomes: [Result<Filed, any Error>?]
        do {
            outcomes = try await database.withLease { [self] connection in
                try await connection.inTransaction(logger: database.logger) { connection in
                    try await fileTogether(requests, on: connection)
                }
            }
        } catch  where DatabaseError.isUnavailable(error) {
            // Not refiled: whether a commit cut short went through is unknown, and a report filed
            // twice is as wrong as one lost. Each caller is told to retry (with its key, safely).
            return requests.map { _ in .failure(error) }
        } catch {
            database.logger.debug(
                "a group of reports is filed one by one", metadata: ["reports": "\(requests.count)", "error": "\(error)"])
            return await withTaskGroup(of: (Int, Result<Filed, any Error>).self) { tasks in
                for (index, request) in requests.enumerated() { tasks.addTask { (index, await alone(request)) } }
                var outcomes = [Result<Filed, any Error>?](repeating: nil, count: requests.count)
                for await (index, outcome) in tasks { outcomes[index] = outcome }
                return outcomes.map { $0! }
            }
        }
        for index in outcomes.indices where outcomes[index] == nil { outcomes[index] = await alone(requests[index]) }
        return outcomes.map { $0! }
    }

    /// Files a group in the current transaction, each caller's reports in that caller's scope;
    /// returns each report's outcome in the group's order, nil for one to file after it. Throws
    /// when the transaction must be given up (then nothing of it is stored).
    private func fileTogether(_ group: [Request], on connection: PostgresConnection) async throws -> [Result<Filed, any Error>?] {
        var outcomes = [Result<Filed, any Error>?](repeating: nil, count: group.count)
        var stored: [(index: Int, id: UUID)] = []
        var keysSeen = Set<[String]>()
        // Each caller's reports in turn: the scope is the transaction's until the next one is entered.
        var callers: [Principal.ID: [Int]] = [:]
        var order: [Principal.ID] = []
        for (index, one) in group.enumerated() {
            if callers[one.caller.principal.id] == nil { order.append(one.caller.principal.id) }
            callers[one.caller.principal.id, default: []].append(index)
        }
        for caller in order {
            var indices = callers[caller]!
            let principal = group[indices[0]].caller.principal
            try await ServiceDatabase.enterScope(principal, on: connection, logger: database.logger)

            // Retries answered from their key; a key twice in one group is filed after it.
            let keys = indices.compactMap { group[$0].idempotency?.key }
            if !keys.isEmpty {
                var answers: [String: (fingerprint: Data, body: Data)] = [:]
                for try await (key, fingerprint, body) in try await connection.query(
                    """
                    SELECT key, request_sha256, response_body FROM idempotency_keys
                    WHERE token_id = \(principal.id.rawValue) AND key = ANY(\(keys))
                    """, logger: database.logger
                ).decode((String, Data, Data).self) { answers[key] = (fingerprint, body) }
                indices = try indices.filter { index in
                    guard let idempotency = group[index].idempotency else { return true }
                    if let answer = answers[idempotency.key] {
                        outcomes[index] =
                            answer.fingerprint == idempotency.fingerprint
                            ? .success(
                                Filed(receipt: try Self.decoder.decode(Receipt.self, from: answer.body), json: answer.body, isNew: false))
                            : .failure(Refusal.keyReusedForAnotherRequest)
                        return false
                    }
                    // Left nil: filed after the group.
                    guard keysSeen.insert([principal.id.description, idempotency.key]).inserted else { return false }
                    return true
                }
            }

            // The facility, in the caller's scope, as a report filed alone checks it.
            let facilityIDs = Array(Set(indices.map { group[$0].submission.facilityID.rawValue }))
            var facilities: [UUID: FacilityReference] = [:]
            for try await (facility, jurisdiction) in try await connection.query(
                "SELECT id, jurisdiction_id FROM facilities WHERE id = ANY(\(facilityIDs))", logger: database.logger
            ).decode((UUID, UUID).self) {
                facilities[facility] = FacilityReference(id: .init(facility), jurisdictionID: .init(jurisdiction))
            }
            indices = indices.filter { index in
                guard let facility = facilities[group[index].submission.facilityID.rawValue], principal.mayHandleReports(of: facility)
                else {
                    outcomes[index] = .failure(Refusal.facilityNotFound)
                    return false
                }
                return true
            }

            // Rostered adults by their staff reference at the report's facility.
            let rostered = try await store.rosteredAdults(of: indices.map { group[$0].submission }, on: connection)
            indices = indices.filter { index in
                let unknown = ReportStore.unknownStaff(in: group[index].submission, rostered: rostered)
                guard unknown.isEmpty else {
                    outcomes[index] = .failure(ReportStoreError.unknownStaff(unknown))
                    return false
                }
                return true
            }
            guard !indices.isEmpty else { continue }

            let reports = indices.map { (index: $0, id: UUID(), submission: group[$0].submission) }
            let receivedAt = try await store.submitTogether(
                reports.map { ($0.id, $0.submission) }, rostered: rostered, by: principal, on: connection)
            var keyed: (keys: [String], fingerprints: [ByteBuffer], bodies: [ByteBuffer]) = ([], [], [])
            for report in reports {
                let receipt = Receipt(
                    id: IncidentReport.ID(report.id).description, receivedAt: receivedAt, status: IncidentReport.Status.received.rawValue)
                let json = try Self.encoder.encode(receipt)
                outcomes[report.index] = .success(Filed(receipt: receipt, json: json, isNew: true))
                stored.append((report.index, report.id))
                if let idempotency = group[report.index].idempotency {
                    keyed.keys.append(idempotency.key)
                    keyed.fingerprints.append(ByteBuffer(bytes: idempotency.fingerprint))
                    keyed.bodies.append(ByteBuffer(bytes: json))
                }
            }
            if !keyed.keys.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO idempotency_keys (token_id, key, request_sha256, response_status, response_body)
                    SELECT \(principal.id.rawValue), k, s, 201, b FROM unnest(\(keyed.keys)::text[], \(keyed.fingerprints)::bytea[], \(keyed.bodies)::bytea[]) AS x(k, s, b)
                    """, logger: database.logger)
            }
        }
        // Every stored report's event, last: the events of the group are one statement.
        try await AuditLog.append(
            stored.map { report in
                let one = group[report.index]
                return one.caller.event(
                    "report.create", on: "report", id: IncidentReport.ID(report.id).description, outcome: .ok,
                    details: ["facility": one.submission.facilityID.description, "category": one.submission.category.rawValue])
            }, on: connection, logger: database.logger)
        return outcomes
    }
}
