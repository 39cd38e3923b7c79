import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import PostgresNIO
import Testing

@testable import CentinelaSimulation

@Suite struct SimulationLoaderTests {
    let logger = TestDatabase.logger

    @Test func loadsEveryRowOnceAndRefusesAFullDatabase() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let simulation = Simulation(SimulationConfiguration(seed: 3, scale: .tiny, end: CalendarDate("2026-11-30")!))
            let loader = SimulationLoader(logger: logger, nationalIDs: NationalIDHasher(key: Data(repeating: 5, count: 32)))
            try await database.withConnection(logger: logger) { connection in
                let truth = try await loader.load(simulation, on: connection)
                func count(_ table: String) async throws -> Int {
                    var n = 0
                    for try await value in try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger
                    ).decode(Int.self) { n = value }
                    return n
                }
                #expect(try await count("jurisdictions") == truth.counts.jurisdictions)
                #expect(try await count("facilities") == truth.counts.facilities)
                #expect(try await count("adults") == truth.counts.adults)
                #expect(try await count("incident_reports") == truth.counts.reports)
                #expect(try await count("report_adults") == truth.counts.reportAdults)
                #expect(try await count("report_children") == truth.counts.reportChildren)
                #expect(try await count("report_status_changes") == truth.counts.statusChanges)
                // Ring reports are where the truth says, and name their members.
                let ring = try #require(truth.rings.first)
                let reportID = try #require(UUID(uuidString: ring.reports[0]))
                var code = ""
                for try await value in try await connection.query(
                    "SELECT f.external_code FROM incident_reports r JOIN facilities f ON f.id = r.facility_id WHERE r.id = \(reportID)",
                    logger: logger
                ).decode(String.self) { code = value }
                #expect(ring.facilities.contains(code))
                try await TestDatabase.chainAuditEvents(on: connection)
                #expect(try await count("audit_events WHERE action = 'simulation.load'") == 1)

                await #expect(throws: SimulationLoader.LoadError.self) { _ = try await loader.load(simulation, on: connection) }

                // The set-based checks that replace the foreign-key triggers during the load do catch a
                // dangling reference.
                try await loader.verifyReferences(on: connection)
                try await connection.query("SET session_replication_role = replica", logger: logger)
                try await connection.query(
                    "DELETE FROM facilities WHERE id = (SELECT facility_id FROM incident_reports LIMIT 1)", logger: logger)
                try await connection.query("SET session_replication_role = origin", logger: logger)
                do {
                    try await loader.verifyReferences(on: connection)
                    Issue.record("a report pointing at no facility must be caught")
                } catch let error as SimulationLoader.LoadError {
                    #expect("\(error)".contains("facility_id points nowhere"))
                }
            }
        }
    }

    /// A role that is not a superuser — the owner of a database set up as Docker/ does it — is
    /// refused before anything is generated or loaded: COPY into tables under row-level security
    /// fails for it, and under those policies it would count no facilities in a full database
    /// (issue 21, item 9: `simulate` on the compose database failed half-way).
    @Test func aRoleThatIsNotASuperuserIsRefusedBeforeAnythingIsLoaded() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let simulation = Simulation(SimulationConfiguration(seed: 3, scale: .tiny, end: CalendarDate("2026-11-30")!))
            let loader = SimulationLoader(logger: logger, nationalIDs: nil)
            try await database.withConnection(logger: logger) { connection in
                try await connection.query("SET ROLE centinela_service", logger: logger)
                do {
                    _ = try await loader.load(simulation, on: connection)
                    Issue.record("a role that is not a superuser loaded a simulation")
                } catch let error as SimulationLoader.LoadError {
                    #expect("\(error)".contains("centinela_service is not one"), "\(error)")
                    #expect("\(error)".hasSuffix("nothing was loaded") && !"\(error)".contains("\n"))
                }
                try await connection.query("RESET ROLE", logger: logger)
                var facilities = -1
                for try await n in try await connection.query("SELECT count(*) FROM facilities", logger: logger).decode(Int.self) {
                    facilities = n
                }
                #expect(facilities == 0)
            }
        }
    }
}
