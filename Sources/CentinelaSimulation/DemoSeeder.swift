import CentinelaCore
import CentinelaStore
import Foundation
import Logging
import PostgresNIO

/// What a newcomer needs to try a demo database: two fresh tokens and what they see.
public struct DemoAccess: Sendable {
    public var seeded: Bool
    public var facilities: Int
    public var reports: Int
    public var regulatorToken: TokenSecret
    public var regulatorJurisdiction: String
    public var schoolToken: TokenSecret
    public var schoolFacility: String
    public var schoolFacilityID: UUID
}

/// Seeds a small simulated country into an empty database on first use and issues demo tokens on
/// every use (revoking the previous run's). Refuses any database that holds other data: a demo
/// never touches real reports.
public struct DemoSeeder: Sendable {
    public enum DemoError: Error, CustomStringConvertible {
        case notADemoDatabase

        public var description: String {
            "this database holds data that centinela simulate did not create; --demo runs only on an empty or simulated database"
        }
    }

    let logger: Logger
    let nationalIDs: NationalIDHasher?

    public init(logger: Logger, nationalIDs: NationalIDHasher?) {
        self.logger = logger
        self.nationalIDs = nationalIDs
    }

    public func prepare(
        on connection: PostgresConnection, today: CalendarDate, scale: SimulationScale = .small
    ) async throws -> DemoAccess {
        var facilities = 0
        for try await n in try await connection.query("SELECT count(*) FROM facilities", logger: logger).decode(Int.self) {
            facilities = n
        }
        var simulated = false
        for try await n in try await connection.query(
            """
            SELECT (SELECT count(*) FROM audit_events WHERE action = 'simulation.load')
                 + (SELECT count(*) FROM audit_pending WHERE action = 'simulation.load')
            """, logger: logger
        ).decode(Int.self) { simulated = n > 0 }

        var seeded = false
        if facilities == 0 {
            logger.notice("seeding a simulated demo country; this takes a few seconds", metadata: ["scale": "\(scale.rawValue)"])
            _ = try await SimulationLoader(logger: logger, nationalIDs: nationalIDs)
                .load(Simulation(SimulationConfiguration(seed: 1, scale: scale, end: today)), on: connection)
            seeded = true
        } else if !simulated {
            throw DemoError.notADemoDatabase
        }

        // The facility with the most reports naming several adults together: where a ring shows.
        var pick: (UUID, String, String)?
        for try await row in try await connection.query(
            """
            SELECT f.id, f.external_code, j.code
            FROM incident_reports r
            JOIN facilities f ON f.id = r.facility_id
            JOIN jurisdictions j ON j.id = f.jurisdiction_id
            WHERE (SELECT count(*) FROM report_adults ra WHERE ra.report_id = r.id) >= 2
            GROUP BY f.id, f.external_code, j.code
            ORDER BY count(*) DESC, f.external_code
            LIMIT 1
            """, logger: logger
        ).decode((UUID, String, String).self) { pick = row }
        guard let (facilityID, facilityCode, jurisdiction) = pick else { throw DemoError.notADemoDatabase }

        let tokens = TokenStore(logger: logger)
        for token in try await tokens.list(on: connection) where token.revokedAt == nil && token.holder.hasPrefix("Demo ") {
            _ = try await tokens.revoke(token.id.description, reason: "replaced by a new demo run", on: connection)
        }
        let regulator = try await tokens.create(
            role: .regulator, holder: "Demo regulator, \(jurisdiction)", facilityCodes: [], jurisdictionCodes: [jurisdiction],
            expiresAt: nil, on: connection)
        let school = try await tokens.create(
            role: .school, holder: "Demo school, \(facilityCode)", facilityCodes: [facilityCode], jurisdictionCodes: [],
            expiresAt: nil, on: connection)

        var counts = (0, 0)
        for try await row in try await connection.query(
            "SELECT (SELECT count(*) FROM facilities)::int, (SELECT count(*) FROM incident_reports)::int", logger: logger
        ).decode((Int, Int).self) { counts = row }
        return DemoAccess(
            seeded: seeded, facilities: counts.0, reports: counts.1, regulatorToken: regulator.1,
            regulatorJurisdiction: jurisdiction, schoolToken: school.1, schoolFacility: facilityCode,
            schoolFacilityID: facilityID)
    }
}
