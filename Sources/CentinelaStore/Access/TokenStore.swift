import CentinelaCore
import Foundation
import Logging
import PostgresNIO

/// An issued token as the operator sees it: never the secret.
public struct TokenRecord: Sendable, Equatable {
    public var id: Principal.ID
    public var displayPrefix: String
    public var holder: String
    public var role: Principal.Role
    public var facilityCodes: [String]
    public var jurisdictionCodes: [String]
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
}

public enum TokenError: Error, Equatable, CustomStringConvertible {
    case invalidHolder
    case scopeMismatch(String)
    case unknownFacilities([String])
    case unknownJurisdictions([String])
    case expiryInThePast
    case notFound(String)
    case ambiguous(String)
    case alreadyRevoked(String)
    case invalidReason

    public var description: String {
        switch self {
        case .invalidHolder: "the holder must be 1 to 200 characters naming the person or system holding the token"
        case .scopeMismatch(let rule): rule
        case .unknownFacilities(let codes): "no facility has the code \(codes.joined(separator: ", "))"
        case .unknownJurisdictions(let codes): "no jurisdiction has the code \(codes.joined(separator: ", "))"
        case .expiryInThePast: "the expiry must be in the future"
        case .notFound(let reference): "no token matches \(reference)"
        case .ambiguous(let reference): "\(reference) matches several tokens; give the token id"
        case .alreadyRevoked(let reference): "token \(reference) is already revoked"
        case .invalidReason: "the revocation reason must be 1 to 500 characters"
        }
    }
}

/// Issues, lists and revokes API tokens: the operator's command-line work, run as the tables'
/// owner in admin scope, each action audited.
public struct TokenStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Creates a token and returns it with its secret, which exists nowhere else afterwards.
    public func create(
        role: Principal.Role, holder: String, facilityCodes: [String], jurisdictionCodes: [String],
        expiresAt: Date?, now: Date = Date(), on connection: PostgresConnection
    ) async throws -> (TokenRecord, TokenSecret) {
        let holder = holder.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(holder.count) else { throw TokenError.invalidHolder }
        switch role {
        case .school:
            guard !facilityCodes.isEmpty, jurisdictionCodes.isEmpty else {
                throw TokenError.scopeMismatch("a school token is bound to one or more facilities (--facility CODE) and no jurisdiction")
            }
        case .regulator:
            guard !jurisdictionCodes.isEmpty, facilityCodes.isEmpty else {
                throw TokenError.scopeMismatch(
                    "a regulator token is bound to one or more jurisdictions (--jurisdiction CODE) and no facility")
            }
        case .admin:
            guard facilityCodes.isEmpty, jurisdictionCodes.isEmpty else {
                throw TokenError.scopeMismatch("an admin token is bound to no facility or jurisdiction")
            }
        }
        if let expiresAt, expiresAt <= now { throw TokenError.expiryInThePast }

        let secret = TokenSecret.generate()
        return try await connection.operatorTransaction(logger: logger) {
            let facilities = try await ids(table: "facilities", column: "external_code", codes: facilityCodes, connection)
            if facilities.count != Set(facilityCodes).count {
                throw TokenError.unknownFacilities(Set(facilityCodes).subtracting(facilities.keys).sorted())
            }
            let jurisdictions = try await ids(table: "jurisdictions", column: "code", codes: jurisdictionCodes, connection)
            if jurisdictions.count != Set(jurisdictionCodes).count {
                throw TokenError.unknownJurisdictions(Set(jurisdictionCodes).subtracting(jurisdictions.keys).sorted())
            }
            var id: UUID?
            for try await value in try await connection.query(
                """
                INSERT INTO api_tokens (secret_sha256, display_prefix, holder, role, expires_at)
                VALUES (\(Data(secret.sha256)), \(secret.displayPrefix), \(holder), \(role.rawValue), \(expiresAt))
                RETURNING id
                """, logger: logger
            ).decode(UUID.self) { id = value }
            guard let id else { throw DatabaseError.queryFailed(reason: "the token was not stored") }
            for facility in facilities.values {
                try await connection.query(
                    "INSERT INTO api_token_facilities (token_id, facility_id) VALUES (\(id), \(facility))", logger: logger)
            }
            for jurisdiction in jurisdictions.values {
                try await connection.query(
                    "INSERT INTO api_token_jurisdictions (token_id, jurisdiction_id) VALUES (\(id), \(jurisdiction))",
                    logger: logger)
            }
            try await AuditLog.append(
                .system(
                    action: "token.create", objectType: "token", objectID: id.uuidString.lowercased(),
                    details: ["role": role.rawValue, "prefix": secret.displayPrefix]),
                on: connection, logger: logger)
            let record = try await list(on: connection, only: id).first
            guard let record else { throw TokenError.notFound(id.uuidString) }
            return (record, secret)
        }
    }

    /// Revokes a token given by id or by its display prefix (`cen_AbCd1234`); effective at once.
    public func revoke(_ reference: String, reason: String, on connection: PostgresConnection) async throws -> TokenRecord {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(reason.count) else { throw TokenError.invalidReason }
        return try await connection.operatorTransaction(logger: logger) {
            let matches = try await list(on: connection).filter {
                $0.id.description == reference.lowercased() || $0.displayPrefix == reference
            }
            guard let token = matches.first else { throw TokenError.notFound(reference) }
            guard matches.count == 1 else { throw TokenError.ambiguous(reference) }
            guard token.revokedAt == nil else { throw TokenError.alreadyRevoked(reference) }
            try await connection.query(
                "UPDATE api_tokens SET revoked_at = now(), revoked_reason = \(reason) WHERE id = \(token.id.rawValue)",
                logger: logger)
            try await AuditLog.append(
                .system(action: "token.revoke", objectType: "token", objectID: token.id.description),
                on: connection, logger: logger)
            return try await list(on: connection, only: token.id.rawValue).first ?? token
        }
    }

    /// Every token, newest first.
    public func list(on connection: PostgresConnection) async throws -> [TokenRecord] {
        try await connection.operatorTransaction(logger: logger) { try await list(on: connection, only: nil) }
    }

    private func list(on connection: PostgresConnection, only id: UUID?) async throws -> [TokenRecord] {
        let rows = try await connection.query(
            """
            SELECT t.id, t.display_prefix, t.holder, t.role, t.created_at, t.expires_at, t.revoked_at,
                   coalesce((SELECT array_agg(f.external_code ORDER BY f.external_code)
                             FROM api_token_facilities tf JOIN facilities f ON f.id = tf.facility_id
                             WHERE tf.token_id = t.id), '{}'),
                   coalesce((SELECT array_agg(j.code ORDER BY j.code)
                             FROM api_token_jurisdictions tj JOIN jurisdictions j ON j.id = tj.jurisdiction_id
                             WHERE tj.token_id = t.id), '{}')
            FROM api_tokens t
            WHERE \(id)::uuid IS NULL OR t.id = \(id)
            ORDER BY t.created_at DESC, t.id
            """, logger: logger)
        var records: [TokenRecord] = []
        for try await (id, prefix, holder, role, created, expires, revoked, facilities, jurisdictions) in rows.decode(
            (UUID, String, String, String, Date, Date?, Date?, [String], [String]).self)
        {
            records.append(
                TokenRecord(
                    id: .init(id), displayPrefix: prefix, holder: holder, role: Principal.Role(rawValue: role) ?? .school,
                    facilityCodes: facilities, jurisdictionCodes: jurisdictions, createdAt: created, expiresAt: expires,
                    revokedAt: revoked))
        }
        return records
    }

    private func ids(
        table: String, column: String, codes: [String], _ connection: PostgresConnection
    ) async throws
        -> [String: UUID]
    {
        guard !codes.isEmpty else { return [:] }
        var found: [String: UUID] = [:]
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(column), id FROM \(table) WHERE \(column) = ANY($1)",
                binds: {
                    var binds = PostgresBindings()
                    binds.append(codes)
                    return binds
                }()),
            logger: logger)
        for try await (code, id) in rows.decode((String, UUID).self) { found[code] = id }
        return found
    }
}
