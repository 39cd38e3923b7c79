import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// Tokens, row-level security and the audit chain, against a real database.
@Suite struct AccessTests {
    let logger = TestDatabase.logger

    /// Two jurisdictions (north above north-municipality, and south), a facility in each.
    struct World {
        var north: UUID, northTown: UUID, south: UUID
        var northSchool: UUID, townSchool: UUID, southSchool: UUID
    }

    func makeWorld(_ connection: PostgresConnection) async throws -> World {
        func one(_ query: PostgresQuery) async throws -> UUID {
            var id: UUID?
            for try await value in try await connection.query(query, logger: logger).decode(UUID.self) { id = value }
            return try #require(id)
        }
        let country = try await one("INSERT INTO jurisdictions (code, name, level) VALUES ('MX', 'México', 'country') RETURNING id")
        let north = try await one(
            "INSERT INTO jurisdictions (code, name, level, parent_id) VALUES ('MX-NL', 'Nuevo León', 'state', \(country)) RETURNING id")
        let town = try await one(
            "INSERT INTO jurisdictions (code, name, level, parent_id) VALUES ('MX-NL-MTY', 'Monterrey', 'municipality', \(north)) RETURNING id"
        )
        let south = try await one(
            "INSERT INTO jurisdictions (code, name, level, parent_id) VALUES ('MX-OAX', 'Oaxaca', 'state', \(country)) RETURNING id")
        func facility(_ code: String, _ jurisdiction: UUID) async throws -> UUID {
            try await one(
                "INSERT INTO facilities (external_code, name, kind, jurisdiction_id) VALUES (\(code), \(code), 'preschool', \(jurisdiction)) RETURNING id"
            )
        }
        return World(
            north: north, northTown: town, south: south,
            northSchool: try await facility("NL001", north), townSchool: try await facility("NL002", town),
            southSchool: try await facility("OAX01", south))
    }

    func report(_ facility: UUID, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO incident_reports (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, narrative)
            VALUES (\(facility), DATE '2026-01-01', DATE '2026-01-01', DATE '2026-01-02', 'neglect', 'parent', 'x')
            """, logger: logger)
    }

    func count(_ sql: String, _ connection: PostgresConnection) async throws -> Int {
        var n = 0
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) {
            n = value
        }
        return n
    }

    func withClient<R: Sendable>(_ database: DatabaseConfiguration, _ body: (PostgresClient) async throws -> R) async throws -> R {
        let client = PostgresClient(configuration: try database.clientConfiguration(), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// The live stream's reads share one snapshot; other work is read committed as before.
    @Test func aSnapshotIsOneRepeatableReadReadOnlyTransaction() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await withClient(database) { client in
                let service = ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait)
                let principal = Principal(id: .random(), holder: "Regulador", role: .regulator)
                @Sendable func settings(_ connection: PostgresConnection) async throws -> String {
                    var found = ""
                    for try await (isolation, readOnly, role) in try await connection.query(
                        "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), current_user::text",
                        logger: logger
                    ).decode((String, String, String).self) { found = "\(isolation) \(readOnly) \(role)" }
                    return found
                }
                let snapshot = try await service.withSnapshot(principal, settings)
                let scope = try await service.withScope(principal, settings)
                #expect(snapshot == "repeatable read on centinela_service")
                #expect(scope == "read committed off centinela_service")
            }
        }
    }

    @Test func withoutAScopeTheServiceRoleSeesNoRow() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let world = try await makeWorld(connection)
                try await report(world.northSchool, connection)
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SET LOCAL ROLE centinela_service", logger: logger)
                for table in [
                    "jurisdictions", "facilities", "adults", "incident_reports", "report_children",
                    "report_adults", "report_status_changes", "report_amendments", "idempotency_keys",
                ] {
                    #expect(try await count("SELECT count(*) FROM \(table)", connection) == 0, "\(table)")
                }
                // Nor can it write, nor read the tokens or the audit trail.
                await #expect(throws: PSQLError.self) {
                    try await report(world.northSchool, connection)
                }
                try await connection.query("ROLLBACK", logger: logger)
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SET LOCAL ROLE centinela_service", logger: logger)
                await #expect(throws: PSQLError.self) { _ = try await count("SELECT count(*) FROM api_tokens", connection) }
                try await connection.query("ROLLBACK", logger: logger)
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SET LOCAL ROLE centinela_service", logger: logger)
                await #expect(throws: PSQLError.self) { _ = try await count("SELECT count(*) FROM audit_events", connection) }
                try await connection.query("ROLLBACK", logger: logger)
            }
        }
    }

    @Test func tokensResolveToTheirScopeAndStopWorkingWhenRevoked() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let tokens = TokenStore(logger: logger)
            let (world, school, regulator, admin) = try await database.withConnection(logger: logger) { connection in
                let world = try await makeWorld(connection)
                try await report(world.northSchool, connection)
                try await report(world.townSchool, connection)
                try await report(world.southSchool, connection)
                let school = try await tokens.create(
                    role: .school, holder: "Directora NL001", facilityCodes: ["NL001"], jurisdictionCodes: [],
                    expiresAt: nil, on: connection)
                let regulator = try await tokens.create(
                    role: .regulator, holder: "SEP Nuevo León", facilityCodes: [], jurisdictionCodes: ["MX-NL"],
                    expiresAt: nil, on: connection)
                let admin = try await tokens.create(
                    role: .admin, holder: "Operador", facilityCodes: [], jurisdictionCodes: [], expiresAt: nil, on: connection)
                return (world, school, regulator, admin)
            }
            #expect(school.1.value.hasPrefix("cen_"))
            #expect(school.0.facilityCodes == ["NL001"])

            try await withClient(database) { client in
                let service = ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait)
                let schoolPrincipal = try #require(try await service.authenticate(school.1))
                #expect(schoolPrincipal.role == .school)
                #expect(schoolPrincipal.facilityIDs == [Facility.ID(world.northSchool)])

                let regulatorPrincipal = try #require(try await service.authenticate(regulator.1))
                // The state's regulator also covers the municipality below it, and nothing else.
                #expect(regulatorPrincipal.jurisdictionIDs == [Jurisdiction.ID(world.north), Jurisdiction.ID(world.northTown)])

                #expect(try await service.withScope(schoolPrincipal) { try await count("SELECT count(*) FROM incident_reports", $0) } == 1)
                #expect(
                    try await service.withScope(regulatorPrincipal) { try await count("SELECT count(*) FROM incident_reports", $0) } == 2)
                #expect(try await service.withScope(regulatorPrincipal) { try await count("SELECT count(*) FROM facilities", $0) } == 2)
                let adminPrincipal = try #require(try await service.authenticate(admin.1))
                // The operator sees every facility but no report.
                #expect(try await service.withScope(adminPrincipal) { try await count("SELECT count(*) FROM facilities", $0) } == 3)
                #expect(try await service.withScope(adminPrincipal) { try await count("SELECT count(*) FROM incident_reports", $0) } == 0)

                // A school cannot file a report for another school, even by going around the service.
                await #expect(throws: PSQLError.self) {
                    try await service.withScope(schoolPrincipal) { try await report(world.southSchool, $0) }
                }

                // Unknown and malformed secrets resolve to nothing.
                #expect(try await service.authenticate(TokenSecret.generate()) == nil)
                #expect(TokenSecret(presented: "cen_short") == nil)
                #expect(TokenSecret(presented: school.1.value + "x") == nil)

                try await database.withConnection(logger: logger) { connection in
                    let revoked = try await tokens.revoke(school.0.displayPrefix, reason: "staff left", on: connection)
                    #expect(revoked.revokedAt != nil)
                    await #expect(throws: TokenError.alreadyRevoked(school.0.displayPrefix)) {
                        try await tokens.revoke(school.0.displayPrefix, reason: "again", on: connection)
                    }
                }
                #expect(try await service.authenticate(school.1) == nil)
            }
        }
    }

    /// Requests arriving together share their lookups (`TokenLookups`): each still gets its own
    /// token's principal, an unknown or revoked token gets nothing, and a token revoked before a
    /// request arrives is refused to every request after it.
    @Test func tokensLookedUpTogetherEachGetTheirOwnAnswer() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let tokens = TokenStore(logger: logger)
            let (world, school, regulator, admin) = try await database.withConnection(logger: logger) { connection in
                let world = try await makeWorld(connection)
                let school = try await tokens.create(
                    role: .school, holder: "Directora NL001", facilityCodes: ["NL001"], jurisdictionCodes: [], expiresAt: nil,
                    on: connection)
                let regulator = try await tokens.create(
                    role: .regulator, holder: "SEP Nuevo León", facilityCodes: [], jurisdictionCodes: ["MX-NL"], expiresAt: nil,
                    on: connection)
                let admin = try await tokens.create(
                    role: .admin, holder: "Operador", facilityCodes: [], jurisdictionCodes: [], expiresAt: nil, on: connection)
                return (world, school, regulator, admin)
            }
            try await withClient(database) { client in
                let service = ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait)
                let presented = [school.1, regulator.1, admin.1, TokenSecret.generate()]
                let answers = try await withThrowingTaskGroup(of: (Int, Principal?).self) { group in
                    for index in 0..<200 {
                        group.addTask { (index, try await service.authenticate(presented[index % presented.count])) }
                    }
                    return try await group.reduce(into: [Int: Principal?]()) { $0[$1.0] = $1.1 }
                }
                #expect(answers.count == 200)
                for (index, principal) in answers {
                    switch index % presented.count {
                    case 0: #expect(principal?.facilityIDs == [Facility.ID(world.northSchool)])
                    case 1: #expect(principal?.jurisdictionIDs == [Jurisdiction.ID(world.north), Jurisdiction.ID(world.northTown)])
                    case 2: #expect(principal?.role == .admin)
                    default: #expect(principal == nil)
                    }
                }

                try await database.withConnection(logger: logger) { connection in
                    _ = try await tokens.revoke(school.0.displayPrefix, reason: "staff left", on: connection)
                }
                let afterRevocation = try await withThrowingTaskGroup(of: Principal?.self) { group in
                    for index in 0..<50 { group.addTask { try await service.authenticate(index.isMultiple(of: 2) ? school.1 : admin.1) } }
                    return try await group.reduce(into: [Principal?]()) { $0.append($1) }
                }
                #expect(afterRevocation.filter { $0 == nil }.count == 25)
                #expect(afterRevocation.compactMap { $0 }.allSatisfy { $0.role == .admin })
            }
        }
    }

    /// An operator may also point the service at a login role that merely belongs to
    /// centinela_service: it owns nothing, and sees nothing without a scope.
    @Test func theServiceCanConnectAsARoleThatOwnsNothing() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let login = "centinela_web_\(UUID().uuidString.prefix(8).lowercased())"
            let tokens = TokenStore(logger: logger)
            let token = try await database.withConnection(logger: logger) { connection in
                let world = try await makeWorld(connection)
                try await report(world.northSchool, connection)
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(login) LOGIN IN ROLE centinela_service"), logger: logger)
                return try await tokens.create(
                    role: .regulator, holder: "SEP NL", facilityCodes: [], jurisdictionCodes: ["MX-NL"], expiresAt: nil, on: connection
                ).1
            }
            var asService = database
            asService.username = login
            try await asService.withConnection(logger: logger) { (connection: PostgresConnection) async throws in
                #expect(try await count("SELECT count(*) FROM incident_reports", connection) == 0)
                #expect(try await count("SELECT count(*) FROM schema_migrations", connection) > 0)
                await #expect(throws: PSQLError.self) {
                    try await connection.query("DELETE FROM incident_reports", logger: logger)
                }
            }
            let seen = try await withClient(asService) { client in
                let service = ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait)
                let principal = try #require(try await service.authenticate(token))
                return try await service.withScope(principal) { try await count("SELECT count(*) FROM incident_reports", $0) }
            }
            #expect(seen == 1)
            try await database.withConnection(logger: logger) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "DROP ROLE \(login)"), logger: logger)
            }
        }
    }

    @Test func expiredTokensDoNotAuthenticate() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let tokens = TokenStore(logger: logger)
            let token = try await database.withConnection(logger: logger) { connection in
                _ = try await makeWorld(connection)
                let created = try await tokens.create(
                    role: .admin, holder: "Temporal", facilityCodes: [], jurisdictionCodes: [],
                    expiresAt: Date().addingTimeInterval(3600), on: connection)
                try await connection.query(
                    "UPDATE api_tokens SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE id = \(created.0.id.rawValue)",
                    logger: logger)
                return created.1
            }
            let principal = try await withClient(database) { client in
                try await ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait).authenticate(token)
            }
            #expect(principal == nil)
        }
    }

    @Test func tokenCreationValidatesRoleAndScope() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let tokens = TokenStore(logger: logger)
            try await database.withConnection(logger: logger) { connection in
                _ = try await makeWorld(connection)
                await #expect(throws: TokenError.self) {
                    _ = try await tokens.create(
                        role: .school, holder: "x", facilityCodes: [], jurisdictionCodes: [], expiresAt: nil, on: connection)
                }
                await #expect(throws: TokenError.self) {
                    _ = try await tokens.create(
                        role: .regulator, holder: "x", facilityCodes: ["NL001"], jurisdictionCodes: ["MX-NL"], expiresAt: nil,
                        on: connection)
                }
                await #expect(throws: TokenError.unknownFacilities(["NOPE"])) {
                    _ = try await tokens.create(
                        role: .school, holder: "x", facilityCodes: ["NL001", "NOPE"], jurisdictionCodes: [], expiresAt: nil, on: connection)
                }
                await #expect(throws: TokenError.invalidHolder) {
                    _ = try await tokens.create(
                        role: .admin, holder: "  ", facilityCodes: [], jurisdictionCodes: [], expiresAt: nil, on: connection)
                }
                await #expect(throws: TokenError.expiryInThePast) {
                    _ = try await tokens.create(
                        role: .admin, holder: "x", facilityCodes: [], jurisdictionCodes: [], expiresAt: Date(timeIntervalSince1970: 0),
                        on: connection)
                }
                #expect(try await tokens.list(on: connection).isEmpty)
            }
        }
    }

    /// Verification computes each hash in Swift: replacing the database's digest function with one
    /// that vouches for anything does not hide an edited row (issue 24: the chain used to check
    /// itself with code stored in the database it checks).
    @Test func aReplacedDigestFunctionCannotVouchForAnEditedRow() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                for index in 1...3 {
                    try await connection.query("BEGIN", logger: logger)
                    try await AuditLog.append(
                        .system(action: "report.read", objectType: "report", objectID: "r\(index)", details: ["n": "\(index)", "ñ": "sí"]),
                        on: connection, logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                }
                try await TestDatabase.chainAuditEvents(on: connection)
                #expect(try await AuditVerifier.verify(on: connection, logger: logger).isIntact, "Swift reads back what it chained")
                try await connection.query(
                    """
                    CREATE OR REPLACE FUNCTION audit_event_digest(e audit_events) RETURNS bytea
                    LANGUAGE sql IMMUTABLE AS $$ SELECT e.hash $$
                    """, logger: logger)
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", logger: logger)
                try await connection.query("UPDATE audit_events SET outcome = 'denied' WHERE position = 2", logger: logger)
                #expect(try await AuditVerifier.verify(on: connection, logger: logger).firstBreak == .alteredRow(position: 2))
            }
        }
    }

    @Test func theAuditChainDetectsEditedAndDeletedRows() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                for index in 1...5 {
                    try await connection.query("BEGIN", logger: logger)
                    try await AuditLog.append(
                        .system(action: "report.read", objectType: "report", objectID: "r\(index)", details: ["n": "\(index)"]),
                        on: connection, logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                }
                try await TestDatabase.chainAuditEvents(on: connection)
                #expect(
                    try await AuditVerifier.verify(on: connection, logger: logger) == AuditVerification(rowsChecked: 5, firstBreak: nil))

                // Even the owner cannot change the trail without first disabling its guard.
                await #expect(throws: PSQLError.self) {
                    try await connection.query("UPDATE audit_events SET outcome = 'denied' WHERE position = 3", logger: logger)
                }
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", logger: logger)

                try await connection.query("UPDATE audit_events SET object_id = 'other' WHERE position = 3", logger: logger)
                #expect(try await AuditVerifier.verify(on: connection, logger: logger).firstBreak == .alteredRow(position: 3))

                // Re-hashing the edited row moves the break to the next link.
                try await connection.query("UPDATE audit_events e SET hash = audit_event_digest(e) WHERE position = 3", logger: logger)
                #expect(try await AuditVerifier.verify(on: connection, logger: logger).firstBreak == .hashMismatch(position: 4))

                // Removing the newest events is silent to the chain alone (a checkpoint shows it:
                // AuditLogTests), but the sequencer remembers where the log stood: the next event
                // chains after the removed ones, and the gap shows.
                try await connection.query("DELETE FROM audit_events WHERE position >= 3", logger: logger)
                #expect(try await AuditVerifier.verify(on: connection, logger: logger).isIntact)
                try await connection.query("BEGIN", logger: logger)
                try await AuditLog.append(
                    .system(action: "report.read", objectType: "report", objectID: "r9"), on: connection, logger: logger)
                try await connection.query("COMMIT", logger: logger)
                try await TestDatabase.chainAuditEvents(on: connection)
                #expect(
                    try await AuditVerifier.verify(on: connection, logger: logger)
                        == AuditVerification(rowsChecked: 2, firstBreak: .brokenLink(position: 6, expectedPrevious: 2)))

                try await connection.query("DELETE FROM audit_events WHERE position = 2", logger: logger)
                #expect(
                    try await AuditVerifier.verify(on: connection, logger: logger)
                        == AuditVerification(rowsChecked: 1, firstBreak: .brokenLink(position: 6, expectedPrevious: 1)))
            }
        }
    }
}
