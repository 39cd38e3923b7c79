import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// Moves audit events from `audit_pending`, where writers append them without any lock, into
/// the chained log `audit_events`, and extends the log's Merkle tree (decision 43): each event
/// gets the next position, the previous event's hash and its own (`AuditEventDigest`, in Swift);
/// its leaf in the tree is that hash. One sequencer at a time: every transaction that integrates
/// or signs first takes the advisory lock `leaderKey`, or leaves the round to whoever holds it —
/// a server's sequencer (each server of a deployment runs one), or a command-line writer.
public struct AuditSequencer: Sendable {
    /// 'centauds' in ASCII.
    public static let leaderKey: Int64 = 0x6365_6e74_6175_6473
    /// Events per transaction: large enough for a backlog to clear in seconds, small enough that
    /// a batch's transaction stays short.
    public var batchSize: Int
    /// Signs and publishes checkpoints; nil when no signing key is configured.
    public var checkpoints: AuditCheckpointing?
    let logger: Logger

    public init(batchSize: Int = 5_000, checkpoints: AuditCheckpointing? = nil, logger: Logger) {
        self.batchSize = batchSize
        self.checkpoints = checkpoints
        self.logger = logger
    }

    /// Where the log stands: its frontier (size and root) and the last event's hash.
    struct Head: Sendable, Equatable {
        var frontier: MerkleLog.Frontier
        var lastHash: [UInt8]
        var size: Int { frontier.size }
    }

    /// What one round did.
    public struct Round: Sendable, Equatable {
        public var integrated: Int
        /// The checkpoint signed, as its note; nil when none was asked for or the log had not
        /// grown since the newest.
        public var checkpoint: String?
    }

    /// One round, unless another sequencer is in one (nil): integrates every pending event, then,
    /// with `sign` and a signing key, signs a checkpoint if the log grew since the newest one and
    /// publishes it.
    public func round(on connection: PostgresConnection, sign: Bool) async throws -> Round? {
        var round = Round(integrated: 0, checkpoint: nil)
        // Most rounds find nothing: one query says so, without a transaction or the lock.
        if !sign || checkpoints == nil {
            var idle = false
            for try await value in try await connection.query(
                "SELECT NOT EXISTS (SELECT 1 FROM audit_pending) AND NOT EXISTS (SELECT 1 FROM audit_seal_queue)", logger: logger
            ).decode(Bool.self) { idle = value }
            if idle { return round }
        }
        while true {
            let batch = try await led(on: connection) { try await integrateBatch(on: connection) }
            guard let batch else { return round.integrated == 0 ? nil : round }
            round.integrated += batch.chained
            if !batch.full { break }
        }
        if sign, let checkpoints {
            let signed: (AuditCheckpoint, String)?? = try await led(on: connection) {
                try await signCheckpoint(on: connection, checkpoints)
            }
            if let (checkpoint, note) = signed ?? nil {
                try checkpoints.publish(note, checkpoint, logger: logger)
                round.checkpoint = note
            }
        }
        return round
    }

    /// Runs `body` in one transaction holding `leaderKey`; nil at once when another holds it.
    private func led<Result: Sendable>(
        on connection: PostgresConnection, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result? {
        try await connection.leadingTransaction(Self.leaderKey, logger: logger, body)
    }

    /// Chains every event pending now, and signs a checkpoint (with `sign` and a key), or
    /// waits (at most `patience`) while another sequencer does. For the command line, whose
    /// writes must be chained even when no server runs, and for tests. Answers whether every
    /// event pending at the call is in the log.
    @discardableResult
    public func settle(on connection: PostgresConnection, sign: Bool = true, patience: Duration = .seconds(10)) async throws -> Bool {
        // What is waiting now: the newest pending event and the newest report queued for sealing.
        var marks: (event: Int64?, seal: Int64?) = (nil, nil)
        for try await value in try await connection.query(
            "SELECT (SELECT max(id) FROM audit_pending), (SELECT max(seq) FROM audit_seal_queue)", logger: logger
        ).decode((Int64?, Int64?).self) { marks = value }
        // A round led here chains everything pending; one that could not lead, or lost the lock to
        // another sequencer between batches, leaves the rest to it: wait for it.
        return try await connection.settle(patience: patience) {
            _ = try await round(on: connection, sign: sign)
        } stillQueued: {
            guard marks.event != nil || marks.seal != nil else { return false }
            var waiting = true
            for try await value in try await connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM audit_pending WHERE id <= \(marks.event ?? 0))
                    OR EXISTS (SELECT 1 FROM audit_seal_queue WHERE seq <= \(marks.seal ?? 0))
                """, logger: logger
            ).decode(Bool.self) { waiting = value }
            return waiting
        }
    }

    /// The log's head, built from the events already chained when the sequencer has never run
    /// (the chains of Schema/0002 carry over as the log's first entries). In a transaction
    /// holding `leaderKey`.
    private func head(on connection: PostgresConnection) async throws -> Head {
        if let head = try await storedHead(on: connection) { return head }
        return try await chainedHead(on: connection)
    }

    /// The head of the events already chained, read from their hashes.
    private func chainedHead(on connection: PostgresConnection) async throws -> Head {
        var frontier = MerkleLog.Frontier()
        var lastHash = Data(repeating: 0, count: 32)
        let rows = try await connection.query("SELECT hash FROM audit_events ORDER BY position", logger: logger)
        for try await hash in rows.decode(Data.self) {
            frontier.append(MerkleLog.leafHash(hash))
            lastHash = hash
        }
        return Head(frontier: frontier, lastHash: Array(lastHash))
    }

    private func storedHead(on connection: PostgresConnection) async throws -> Head? {
        let rows = try await connection.query("SELECT size, last_hash, frontier FROM audit_log_head FOR UPDATE", logger: logger)
        for try await (size, lastHash, packed) in rows.decode((Int64, Data, Data).self) {
            let subtrees = stride(from: 0, to: packed.count, by: 32).map {
                Array(packed[packed.startIndex + $0..<packed.startIndex + $0 + 32])
            }
            guard let frontier = MerkleLog.Frontier(size: Int(size), subtrees: subtrees) else {
                throw AuditLogError.headDamaged(size: size)
            }
            return Head(frontier: frontier, lastHash: Array(lastHash))
        }
        return nil
    }

    /// One transaction's worth: the pending events, oldest first, then the seals of the reports
    /// and amendments queued (`AuditSeals`), chained after the head. `full` when either
    /// queue may hold more.
    private func integrateBatch(on connection: PostgresConnection) async throws -> (chained: Int, full: Bool) {
        let stored = try await storedHead(on: connection)
        var head: Head
        if let stored { head = stored } else { head = try await chainedHead(on: connection) }
        // Seals first: each statement reads what was committed when it began, and a report's seal
        // must never be chained before the event of the request that filed it (they commit
        // together; read in this order, a commit between the two statements brings the event
        // now and the seal next time).
        let now = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
        let seals = try await AuditSeals.seal(limit: batchSize, at: now, on: connection, logger: logger)
        let rows = try await connection.query(
            """
            DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT \(batchSize))
            RETURNING id, \(unescaped: AuditEventDigest.hashedColumns)
            """, logger: logger)
        var pending: [(id: Int64, event: AuditEventDigest)] = []
        for try await row in rows {
            var cells = ColumnReader(row)
            let id = try cells.next(Int64.self)
            pending.append((id, try AuditEventDigest(reading: &cells, previous: [], position: 0)))
        }
        pending.sort { $0.id < $1.id }
        let events = pending.map(\.event) + seals
        guard !events.isEmpty || stored == nil else { return (0, false) }
        // One statement for the batch, its rows as a JSON array (not COPY: PostgresNIO's COPY
        // traps when its connection closes mid-copy, and a database restart must not stop the
        // server). `details` goes in as the text read, so the row keeps the bytes its hash covers.
        var objects: [String] = []
        objects.reserveCapacity(events.count)
        for var event in events {
            event.previous = head.lastHash
            event.position = Int64(head.size) + 1
            let hash = event.hash
            objects.append(
                """
                {"position":\(event.position),"occurred_at":\(JSONText.string(AuditEventDigest.timestamp(event.occurredAtMicroseconds))),\
                "request_id":\(JSONText.string(event.requestID)),"actor_token":\(JSONText.string(event.actorToken)),\
                "actor_role":\(JSONText.string(event.actorRole)),"action":\(JSONText.string(event.action)),\
                "object_type":\(JSONText.string(event.objectType)),"object_id":\(JSONText.string(event.objectID)),\
                "outcome":\(JSONText.string(event.outcome)),"details":\(event.details),\
                "prev_hash":\(JSONText.string(COPYText.bytea(event.previous))),"hash":\(JSONText.string(COPYText.bytea(hash)))}
                """)
            head.frontier.append(MerkleLog.leafHash(hash))
            head.lastHash = hash
        }
        let batch = "[" + objects.joined(separator: ",") + "]"
        if !events.isEmpty {
            try await connection.run(
                "INSERT INTO audit_events SELECT * FROM json_populate_recordset(NULL::audit_events, \(batch)::json)", logger: logger)
        }
        let packed = Data(head.frontier.subtrees.joined())
        try await connection.run(
            """
            INSERT INTO audit_log_head (size, last_hash, frontier) VALUES (\(Int64(head.size)), \(Data(head.lastHash)), \(packed))
            ON CONFLICT (only_row) DO UPDATE SET size = excluded.size, last_hash = excluded.last_hash, frontier = excluded.frontier,
                updated_at = clock_timestamp()
            """, logger: logger)
        return (events.count, pending.count == batchSize || seals.count == batchSize)
    }

    /// Signs a checkpoint of the log as it stands and keeps it, unless the newest one kept
    /// already states this size. Inside a transaction holding `leaderKey`.
    private func signCheckpoint(
        on connection: PostgresConnection, _ checkpoints: AuditCheckpointing
    ) async throws -> (AuditCheckpoint, String)? {
        let head = try await head(on: connection)
        var newest: Int64?
        for try await size in try await connection.query("SELECT max(size) FROM audit_checkpoints", logger: logger).decode(Int64?.self) {
            newest = size
        }
        if let newest, newest >= Int64(head.size) { return nil }
        let checkpoint = AuditCheckpoint(origin: checkpoints.key.name, size: head.size, root: head.frontier.root, time: Date())
        let note = try checkpoints.key.sign(checkpoint)
        try await connection.run(
            "INSERT INTO audit_checkpoints (size, root, note) VALUES (\(Int64(checkpoint.size)), \(Data(checkpoint.root)), \(note))",
            logger: logger)
        return (checkpoint, note)
    }

    /// The newest checkpoint kept in the database (a copy: its signature is what counts).
    public func newestCheckpoint(on connection: PostgresConnection) async throws -> String? {
        for try await note in try await connection.query(
            "SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1", logger: logger
        ).decode(String.self) { return note }
        return nil
    }
}

/// How checkpoints are signed and where they go beyond the database: the service's log always,
/// and a folder when one is configured (each checkpoint as `<size>.checkpoint`, the newest also
/// as `latest.checkpoint`), for a regulator's copy.
public struct AuditCheckpointing: Sendable {
    public var key: AuditSigningKey
    public var folder: URL?
    /// At most one checkpoint per interval while the log grows.
    public var interval: Duration

    public init(key: AuditSigningKey, folder: URL?, interval: Duration = .seconds(60)) {
        self.key = key
        self.folder = folder
        self.interval = interval
    }

    func publish(_ note: String, _ checkpoint: AuditCheckpoint, logger: Logger) throws {
        logger.notice(
            "audit checkpoint signed",
            metadata: [
                "size": "\(checkpoint.size)", "root": "\(Data(checkpoint.root).base64EncodedString())", "note": "\(note)",
            ])
        guard let folder else { return }
        let file = folder.appendingPathComponent("\(checkpoint.size).checkpoint")
        try Data(note.utf8).write(to: file, options: .atomic)
        try Data(note.utf8).write(to: folder.appendingPathComponent("latest.checkpoint"), options: .atomic)
    }
}

public enum AuditLogError: Error, CustomStringConvertible {
    case headDamaged(size: Int64)

    public var description: String {
        switch self {
        case .headDamaged(let size):
            "the audit log's head (size \(size)) is damaged: its frontier does not fit its size; run `centinela audit verify`"
        }
    }
}
