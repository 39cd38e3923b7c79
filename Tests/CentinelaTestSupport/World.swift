import CentinelaCore
import CentinelaStore
import Foundation
import Logging
import PostgresNIO

/// A small country for tests: México with Nuevo León (and Monterrey below it) and Oaxaca, a
/// preschool in each, and a token for each kind of caller.
public struct World: Sendable {
    public struct Facility: Sendable {
        public var id: UUID
        public var code: String
    }

    public var database: DatabaseConfiguration
    /// NL001 in Nuevo León, MTY01 in Monterrey, OAX01 in Oaxaca.
    public var nuevoLeon: Facility, monterrey: Facility, oaxaca: Facility
    public var adminToken: String
    /// Bound to NL001.
    public var schoolToken: String
    /// Bound to OAX01.
    public var otherSchoolToken: String
    /// Bound to MX-NL (and so Monterrey).
    public var regulatorToken: String
    /// Bound to MX-OAX.
    public var otherRegulatorToken: String

    /// Builds the world in a fresh migrated database, runs `body`, and drops the database.
    public static func with<Result: Sendable>(_ body: (World) async throws -> Result) async throws -> Result {
        try await TestDatabase.withMigratedDatabase { database in
            let logger = TestDatabase.logger
            let world = try await database.withConnection(logger: logger) { connection in
                func one(_ query: PostgresQuery) async throws -> UUID {
                    var id: UUID?
                    for try await value in try await connection.query(query, logger: logger).decode(UUID.self) { id = value }
                    guard let id else { throw ReadableDatabaseError(reason: "no id returned") }
                    return id
                }
                let mx = try await one("INSERT INTO jurisdictions (code, name, level) VALUES ('MX', 'México', 'country') RETURNING id")
                let nl = try await one(
                    "INSERT INTO jurisdictions (code, name, level, parent_id) VALUES ('MX-NL', 'Nuevo León', 'state', \(mx)) RETURNING id")
                let mty = try await one(
                    "INSERT INTO jurisdictions (code, name, level, parent_id) VALUES ('MX-NL-MTY', 'Monterrey', 'municipality', \(nl)) RETURNING id"
                )
                let oax = try await one(
                    "INSERT INTO jurisdictions (code, name, level, parent_id) VALUES ('MX-OAX', 'Oaxaca', 'state', \(mx)) RETURNING id")
                func facility(_ code: String, _ name: String, _ jurisdiction: UUID) async throws -> Facility {
                    Facility(
                        id: try await one(
                            "INSERT INTO facilities (external_code, name, kind, jurisdiction_id, enrolment) VALUES (\(code), \(name), 'preschool', \(jurisdiction), 120) RETURNING id"
                        ),
                        code: code)
                }
                let nuevoLeon = try await facility("NL001", "Jardín de Niños Benito Juárez", nl)
                let monterrey = try await facility("MTY01", "Estancia Infantil Las Flores", mty)
                let oaxaca = try await facility("OAX01", "Preescolar Guelaguetza", oax)
                let tokens = TokenStore(logger: logger)
                func token(
                    _ role: Principal.Role, _ holder: String, facilities: [String] = [], jurisdictions: [String] = []
                )
                    async throws -> String
                {
                    try await tokens.create(
                        role: role, holder: holder, facilityCodes: facilities, jurisdictionCodes: jurisdictions,
                        expiresAt: nil, on: connection
                    ).1.value
                }
                return World(
                    database: database, nuevoLeon: nuevoLeon, monterrey: monterrey, oaxaca: oaxaca,
                    adminToken: try await token(.admin, "Operador"),
                    schoolToken: try await token(.school, "Directora NL001", facilities: ["NL001"]),
                    otherSchoolToken: try await token(.school, "Director OAX01", facilities: ["OAX01"]),
                    regulatorToken: try await token(.regulator, "SEP Nuevo León", jurisdictions: ["MX-NL"]),
                    otherRegulatorToken: try await token(.regulator, "IEEPO Oaxaca", jurisdictions: ["MX-OAX"]))
            }
            return try await body(world)
        }
    }
}
