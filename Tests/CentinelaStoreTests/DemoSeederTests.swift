import CentinelaCore
import CentinelaSimulation
import CentinelaStore
import CentinelaTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite struct DemoSeederTests {
    let logger = TestDatabase.logger
    let today = CalendarDate("2026-11-30")!

    @Test func seedsOnceAndReissuesWorkingTokens() async throws {
        try await TestDatabase.withMigratedDatabase { database in
            let seeder = DemoSeeder(logger: logger, nationalIDs: nil)
            let (first, second) = try await database.withConnection(logger: logger) { connection in
                let first = try await connection.operatorTransaction(logger: logger) {
                    try await seeder.prepare(on: connection, today: today, scale: .tiny)
                }
                let second = try await connection.operatorTransaction(logger: logger) {
                    try await seeder.prepare(on: connection, today: today, scale: .tiny)
                }
                return (first, second)
            }
            #expect(first.seeded && !second.seeded)
            #expect(first.facilities == 300 && second.facilities == 300)
            #expect(first.schoolFacility == second.schoolFacility)

            let client = PostgresClient(configuration: try database.clientConfiguration(), backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let service = ServiceDatabase(client: client, logger: logger, leaseTimeout: TestDatabase.connectionWait)
                #expect(try await service.authenticate(first.regulatorToken) == nil, "the previous demo's tokens are revoked")
                let regulator = try #require(try await service.authenticate(second.regulatorToken))
                let school = try #require(try await service.authenticate(second.schoolToken))
                let seenByRegulator = try await service.withScope(regulator) { connection in
                    var n = 0
                    for try await value in try await connection.query("SELECT count(*) FROM incident_reports", logger: logger).decode(
                        Int.self)
                    { n = value }
                    return n
                }
                let seenBySchool = try await service.withScope(school) { connection in
                    var n = 0
                    for try await value in try await connection.query(
                        "SELECT count(DISTINCT facility_id) FROM incident_reports", logger: logger
                    ).decode(Int.self) { n = value }
                    return n
                }
                #expect(seenByRegulator > 0)
                #expect(seenBySchool == 1)
            }
        }
    }

    @Test func neverSeedsADatabaseWithOtherData() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: logger) { connection in
                await #expect(throws: DemoSeeder.DemoError.self) {
                    try await connection.operatorTransaction(logger: logger) {
                        try await DemoSeeder(logger: logger, nationalIDs: nil).prepare(on: connection, today: today, scale: .tiny)
                    }
                }
            }
        }
    }
}
