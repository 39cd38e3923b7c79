import CentinelaStore
import CentinelaTestSupport
import Logging
import PostgresNIO
import Testing

@Suite struct MigratorTests {
    let logger = TestDatabase.logger

    func migrator(_ folder: SchemaFolder) throws -> Migrator {
        Migrator(migrations: try folder.migrations(), logger: logger)
    }

    func recorded(_ connection: PostgresConnection) async throws -> [String] {
        var names: [String] = []
        let rows = try await connection.query("SELECT name FROM schema_migrations ORDER BY version", logger: logger)
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    func count(_ sql: String, _ connection: PostgresConnection) async throws -> Int {
        var value = 0
        for try await n in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) {
            value = n
        }
        return value
    }

    @Test func appliesPendingMigrationsInOrderAndRecordsThem() async throws {
        let folder = try SchemaFolder([
            "0001_create.sql": "CREATE TABLE log (step int NOT NULL, at timestamptz DEFAULT clock_timestamp());",
            // Depends on 0001: fails unless applied after it.
            "0002_insert.sql": "INSERT INTO log (step) VALUES (2);\nINSERT INTO log (step) VALUES (22);",
            "0003_more.sql": "ALTER TABLE log ADD COLUMN note text; INSERT INTO log (step, note) VALUES (3, 'x;y');",
        ])
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let migrator = try migrator(folder)
                #expect(try await migrator.status(on: connection).pending == ["0001_create", "0002_insert", "0003_more"])
                let applied = try await migrator.migrate(on: connection)
                #expect(applied == ["0001_create", "0002_insert", "0003_more"])
                #expect(try await recorded(connection) == applied)
                #expect(try await count("SELECT count(*) FROM log", connection) == 3)
                let status = try await migrator.status(on: connection)
                #expect(status.isCurrent)
                #expect(status.applied == applied)
            }
        }
    }

    @Test func runningAgainIsANoOp() async throws {
        let folder = try SchemaFolder([
            "0001_create.sql": "CREATE TABLE log (step int);",
            "0002_insert.sql": "INSERT INTO log VALUES (2);",
        ])
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let migrator = try migrator(folder)
                try await migrator.migrate(on: connection)
                let appliedAt = try await count(
                    "SELECT (extract(epoch FROM max(applied_at)) * 1000000)::bigint FROM schema_migrations",
                    connection)
                #expect(try await migrator.migrate(on: connection) == [])
                #expect(try await count("SELECT count(*) FROM log", connection) == 1)
                #expect(try await count("SELECT count(*) FROM schema_migrations", connection) == 2)
                #expect(
                    try await count(
                        "SELECT (extract(epoch FROM max(applied_at)) * 1000000)::bigint FROM schema_migrations",
                        connection) == appliedAt)
            }
        }
    }

    @Test func appliesOnlyWhatIsNewWhenAMigrationIsAdded() async throws {
        let first = try SchemaFolder(["0001_create.sql": "CREATE TABLE log (step int);"])
        let second = try SchemaFolder([
            "0001_create.sql": "CREATE TABLE log (step int);",
            "0002_insert.sql": "INSERT INTO log VALUES (2);",
        ])
        let firstMigrator = try migrator(first)
        let secondMigrator = try migrator(second)
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                let appliedFirst = try await firstMigrator.migrate(on: connection)
                #expect(appliedFirst == ["0001_create"])
                #expect(try await secondMigrator.status(on: connection).pending == ["0002_insert"])
                #expect(try await secondMigrator.migrate(on: connection) == ["0002_insert"])
            }
        }
    }

    @Test func refusesAChangedAppliedMigration() async throws {
        let original = try SchemaFolder(["0001_create.sql": "CREATE TABLE log (step int);"])
        let edited = try SchemaFolder([
            "0001_create.sql": "CREATE TABLE log (step bigint);",
            "0002_insert.sql": "INSERT INTO log VALUES (2);",
        ])
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                try await migrator(original).migrate(on: connection)
                let editedMigrator = try migrator(edited)
                do {
                    try await editedMigrator.migrate(on: connection)
                    Issue.record("an edited migration must be refused")
                } catch let error as MigrationError {
                    guard case .appliedMigrationChanged(let name, _, _) = error else {
                        Issue.record("unexpected \(error)")
                        return
                    }
                    #expect(name == "0001_create")
                    #expect(error.description.contains("was changed after it was applied"))
                }
                // Nothing of the new set was applied.
                #expect(try await recorded(connection) == ["0001_create"])
                #expect(try await count("SELECT count(*) FROM log", connection) == 0)
                await #expect(throws: MigrationError.self) { try await editedMigrator.status(on: connection) }
            }
        }
    }

    @Test func refusesADatabaseMigratedByANewerBuild() async throws {
        let newer = try SchemaFolder([
            "0001_create.sql": "CREATE TABLE log (step int);",
            "0002_more.sql": "SELECT 1;",
        ])
        let older = try SchemaFolder(["0001_create.sql": "CREATE TABLE log (step int);"])
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                try await migrator(newer).migrate(on: connection)
                await #expect(throws: MigrationError.unknownAppliedMigration("0002_more")) {
                    try await migrator(older).status(on: connection)
                }
            }
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let folder = try SchemaFolder([
            "0001_create.sql": "CREATE TABLE log (step int);",
            "0002_broken.sql": "CREATE TABLE half (x int);\nINSERT INTO log VALUES (1);\n\nINSERT INTO missing VALUES (1);",
        ])
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                do {
                    try await migrator(folder).migrate(on: connection)
                    Issue.record("the broken migration must fail")
                } catch let error as MigrationError {
                    guard case .statementFailed(let migration, let line, let message) = error else {
                        Issue.record("unexpected \(error)")
                        return
                    }
                    #expect(migration == "0002_broken")
                    #expect(line == 4)
                    #expect(message.contains("relation \"missing\" does not exist"))
                }
                #expect(try await recorded(connection) == ["0001_create"])
                #expect(try await count("SELECT count(*) FROM log", connection) == 0)
                #expect(try await count("SELECT count(*) FROM pg_tables WHERE tablename = 'half'", connection) == 0)
                // The connection is usable afterwards: the transaction was rolled back, the lock released.
                #expect(
                    try await count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", connection) == 0
                )
            }
        }
    }

    @Test func concurrentRunsApplyEachMigrationExactlyOnce() async throws {
        // No primary key on purpose: a second application would add rows instead of failing.
        let folder = try SchemaFolder([
            "0001_create.sql": "CREATE TABLE applications (migration text NOT NULL);",
            "0002_slow.sql": "SELECT pg_sleep(0.3);\nINSERT INTO applications VALUES ('0002');",
            "0003_more.sql": "INSERT INTO applications VALUES ('0003');",
        ])
        try await TestDatabase.withEmptyDatabase { database in
            let migrations = try folder.migrations()
            let runs = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await database.withConnection(logger: TestDatabase.logger) { connection in
                            try await Migrator(migrations: migrations, logger: TestDatabase.logger).migrate(on: connection)
                        }
                    }
                }
                var results: [[String]] = []
                for try await result in group { results.append(result) }
                return results
            }
            // Exactly one run applied everything; the others waited on the lock and found nothing to do.
            #expect(runs.filter { !$0.isEmpty } == [["0001_create", "0002_slow", "0003_more"]])
            #expect(runs.filter(\.isEmpty).count == 3)
            try await database.withConnection(logger: logger) { connection in
                let applications = try await count("SELECT count(*) FROM applications", connection)
                #expect(applications == 2)
                #expect(try await count("SELECT count(*) FROM schema_migrations", connection) == 3)
            }
        }
    }

    @Test func refusesAScriptThatCannotBeSplitBeforeTouchingTheDatabase() async throws {
        let folder = try SchemaFolder(["0001_broken.sql": "CREATE TABLE t (x text DEFAULT 'open);"])
        let broken = try migrator(folder)
        try await TestDatabase.withEmptyDatabase { database in
            try await database.withConnection(logger: logger) { connection in
                try await connection.query("SELECT 1", logger: logger)
                await #expect(
                    throws: MigrationError.invalidScript(
                        migration: "0001_broken", reason: "unterminated string literal starting on line 1")
                ) {
                    try await broken.migrate(on: connection)
                }
                #expect(try await count("SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'", connection) == 0)
            }
        }
    }
}
