import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The backup procedure of docs/operations.md ("Backups"), done as an operator would: pg_dump of a
/// running database, pg_restore into a new one, and the restored copy holds the same rows and an
/// intact audit trail (issue 21).
@Suite struct BackupRestoreTests {
    @Test func aDumpRestoresIntoANewDatabaseWithItsAuditTrailIntact() async throws {
        let root = "/tmp/centinela-backup-test-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = ["--data-dir", root + "/postgres"]
        #expect(try await CommandProcess.run(["migrate"] + data).status == 0)
        let simulated = try await CommandProcess.run(
            ["simulate", "--scale", "tiny", "--without-national-ids", "--end", "2026-11-30"] + data, limit: .seconds(120))
        #expect(simulated.status == 0, "\(simulated.error)")
        for holder in ["intake", "guardia"] {
            _ = try await CommandProcess.run(["token", "create", "--role", "regulator", "--jurisdiction", "MX", "--holder", holder] + data)
        }
        let before = try await CommandProcess.run(["audit", "verify"] + data)
        #expect(before.status == 0 && before.output.hasPrefix("audit trail intact: "), "\(before.output) \(before.error)")

        // The cluster running, as the database would be in production.
        let cluster = try EmbeddedPostgres(configuration: .init(dataDirectory: root + "/postgres"), logger: Logger(label: "backup-test"))
        let server = try await cluster.start()
        do {
            let tools = cluster.binDirectory
            let connect = ["-h", root + "/postgres", "-U", server.username]
            #expect(
                try await run(tools + "/pg_dump", connect + ["--format=custom", "--file", root + "/centinela.dump", server.database]) == 0)
            #expect(try await run(tools + "/createdb", connect + ["restored"]) == 0)
            #expect(
                try await run(tools + "/pg_restore", connect + ["--exit-on-error", "--dbname", "restored", root + "/centinela.dump"]) == 0)

            let tables = [
                "facilities", "adults", "incident_reports", "report_adults", "report_status_changes", "audit_events", "api_tokens",
                "schema_migrations",
            ]
            func counts(_ database: String) async throws -> [Int] {
                try await server.with(database: database).withConnection(logger: Logger(label: "backup-test")) { connection in
                    var found: [Int] = []
                    for table in tables {
                        for try await n in try await connection.query(
                            PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)"), logger: Logger(label: "backup-test")
                        )
                        .decode(Int.self) { found.append(n) }
                    }
                    return found
                }
            }
            let original = try await counts(server.database)
            #expect(original[0] == 300 && original[2] > 100, "\(original)")
            #expect(try await counts("restored") == original, "\(tables)")

            let after = try await CommandProcess.run(
                ["audit", "verify"], environment: ["DATABASE_URL": "postgres://\(server.username)@/restored?host=\(root)/postgres"])
            #expect(after.status == 0 && after.output == before.output, "\(after.output) \(after.error)")
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    /// Runs a PostgreSQL client program to its end; its exit status.
    func run(_ program: String, _ arguments: [String]) async throws -> Int32 {
        let result = try await CommandProcess.run(arguments, program: program, limit: .seconds(120))
        if result.status != 0 { print(result.error) }
        return result.status
    }
}
