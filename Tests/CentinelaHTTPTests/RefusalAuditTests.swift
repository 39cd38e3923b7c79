import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@testable import CentinelaHTTP

/// Refused attempts are audited (issue 21, item 5: 401s and 403s appended nothing), and a flood
/// of them cannot fill the audit trail.
@Suite struct RefusalAuditTests {
    @Test func unauthorisedAndForbiddenAttemptsAreAudited() async throws {
        try await APITest.run { (api: APITest) async throws in
            #expect(try await api.call(.get, "/v1/facilities", token: nil).status == .unauthorized)
            #expect(
                try await api.call(.get, "/v1/facilities", token: "cen_notavalidtokenatallxxxxxxxxxxxxxxxxxxxxxxx").status == .unauthorized)
            #expect(try await api.call(.get, "/v1/alerts", token: api.world.schoolToken).status == .forbidden)
            try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await TestDatabase.chainAuditEvents(on: connection)
                var rows: [(String?, String, String, String)] = []
                for try await row in try await connection.query(
                    """
                    SELECT actor_role, outcome, details->>'status', details->>'path' FROM audit_events
                    WHERE action = 'access.refused' ORDER BY position
                    """, logger: TestDatabase.logger
                ).decode((String?, String, String, String).self) { rows.append(row) }
                #expect(
                    rows.map { "\($0.0 ?? "-") \($0.1) \($0.2) \($0.3)" } == [
                        "- denied 401 /v1/facilities", "- denied 401 /v1/facilities", "school denied 403 /v1/alerts",
                    ])
                #expect(try await AuditVerifier.verify(on: connection, logger: TestDatabase.logger).isIntact)
            }
        }
    }

    @Test func aFloodIsCountedNotWrittenRowByRow() {
        let audit = RefusalAudit(
            database: ServiceDatabase(
                client: PostgresClient(
                    configuration: .init(
                        unixSocketPath: "/nonexistent", username: "x", password: nil, database: nil)), logger: TestDatabase.logger),
            perCaller: 3, overall: 5)
        let start = ContinuousClock.now
        let first = (0..<5).map { _ in audit.admit("cen_a", now: start) }
        #expect(first.map(\.admitted) == [true, true, true, false, false])
        // Another caller shares the overall allowance: two more, then none.
        #expect((0..<3).map { _ in audit.admit("cen_b", now: start).admitted } == [true, true, false])
        // A minute later the caller is admitted again, and told how many were left out.
        let later = audit.admit("cen_a", now: start + .seconds(61))
        #expect(later.admitted && later.suppressed == 2)
    }
}
