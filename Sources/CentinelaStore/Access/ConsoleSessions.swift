import CentinelaCore
import Crypto
import Foundation
import PostgresNIO

/// A signed-in person in the web console: the principal their token stands for, and the
/// anti-forgery token every form of the session must carry.
public struct ConsoleSession: Sendable {
    public var principal: Principal
    public var csrfToken: String
}

/// Sign-in, resumption and sign-out of console sessions (Schema/0024_console_sessions.sql).
///
/// The cookie carries a random session id (``RandomToken``); the database keeps its
/// SHA-256 only. A session has no rights of its own: each page resolves it to its token's
/// principal, so a revoked or expired token ends its sessions at once.
public struct ConsoleSessions: Sendable {
    /// How long a session may sit unused, and how long it may last at all.
    public struct Limits: Sendable, Equatable {
        public var idle: Duration
        public var absolute: Duration

        public init(idle: Duration = .seconds(30 * 60), absolute: Duration = .seconds(12 * 3600)) {
            self.idle = idle
            self.absolute = absolute
        }
    }

    public let database: ServiceDatabase
    public let limits: Limits

    public init(database: ServiceDatabase, limits: Limits = .init()) {
        self.database = database
        self.limits = limits
    }

    /// Starts a session for a presented token: the cookie value and the session, or nil for a
    /// token that is unknown, expired or revoked. The sign-in is audited in the person's scope.
    public func begin(with secret: TokenSecret, requestID: String) async throws -> (cookie: String, session: ConsoleSession)? {
        let cookie = RandomToken.generate()
        let csrf = RandomToken.generate()
        let started = try await database.usage.track {
            try await database.withLease { [logger = database.logger] connection in
                var token: UUID?
                for try await id in try await connection.query(
                    "SELECT centinela_console_begin(\(Data(secret.sha256)), \(Self.digest(cookie)), \(csrf))", logger: logger
                ).decode(UUID?.self) { token = id }
                return token != nil
            }
        }
        guard started, let session = try await resume(cookie) else { return nil }
        try await database.withScope(session.principal) { connection in
            try await database.audit(
                Caller(principal: session.principal, requestID: requestID).event(
                    "console.sign_in", on: "token", id: session.principal.id.description, outcome: .ok),
                on: connection)
        }
        return (cookie, session)
    }

    /// The session a cookie names, or nil when it is unknown, ended, idle or expired, or its token
    /// no longer holds.
    public func resume(_ cookie: String) async throws -> ConsoleSession? {
        guard RandomToken.isWellFormed(cookie) else { return nil }
        return try await database.usage.track {
            try await database.withLease { [logger = database.logger, limits] connection in
                let rows = try await connection.query(
                    """
                    SELECT token_id, holder, role, facility_ids, jurisdiction_ids, csrf_token
                    FROM centinela_console_resume(\(Self.digest(cookie)), \(Self.seconds(limits.idle)), \(Self.seconds(limits.absolute)))
                    """, logger: logger)
                var session: ConsoleSession?
                for try await (id, holder, role, facilities, jurisdictions, csrf)
                    in rows.decode((UUID, String, String, [UUID], [UUID], String).self)
                {
                    guard let principal = ServiceDatabase.principal((id, holder, role, facilities, jurisdictions)) else { continue }
                    session = ConsoleSession(principal: principal, csrfToken: csrf)
                }
                return session
            }
        }
    }

    /// Whether the session a cookie names still holds (not ended, its token active, within its
    /// limits), without counting the question as activity: what a live stream asks every few
    /// seconds, so that signing out ends it.
    public func isAlive(_ cookie: String) async throws -> Bool {
        guard RandomToken.isWellFormed(cookie) else { return false }
        return try await database.usage.track {
            try await database.withLease { [logger = database.logger, limits] connection in
                var alive = false
                for try await value in try await connection.query(
                    """
                    SELECT centinela_console_alive(\(Self.digest(cookie)), \(Self.seconds(limits.idle)), \(Self.seconds(limits.absolute)))
                    """, logger: logger
                ).decode(Bool.self) { alive = value }
                return alive
            }
        }
    }

    /// Ends the session on sign-out, audited; ending one already ended changes nothing.
    public func end(_ cookie: String, caller: Caller) async throws {
        guard RandomToken.isWellFormed(cookie) else { return }
        try await database.withScope(caller.principal) { connection in
            var ended = false
            for try await token in try await connection.query(
                "SELECT centinela_console_end(\(Self.digest(cookie)))", logger: database.logger
            ).decode(UUID?.self) { ended = token != nil }
            try await database.audit(
                caller.event(
                    "console.sign_out", on: "token", id: caller.principal.id.description, outcome: ended ? .ok : .notFound),
                on: connection)
        }
    }

    static func digest(_ cookie: String) -> Data { Data(SHA256.hash(data: Data(cookie.utf8))) }

    static func seconds(_ duration: Duration) -> Int32 { Int32(clamping: duration.components.seconds) }
}
