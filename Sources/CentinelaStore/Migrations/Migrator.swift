import Logging
import PostgresNIO

/// Where a database stands against the migrations a build expects.
public struct SchemaStatus: Sendable, Equatable {
    /// Names of the migrations recorded in `schema_migrations`, in order.
    public var applied: [String]
    /// Names of the migrations this build has that the database does not, in order.
    public var pending: [String]

    public var isCurrent: Bool { pending.isEmpty }

    public init(applied: [String], pending: [String]) {
        self.applied = applied
        self.pending = pending
    }
}

/// Applies `Schema/` to a database: each pending migration in its own transaction, all under one
/// PostgreSQL advisory lock so that concurrent `centinela migrate` runs apply each file once.
public struct Migrator: Sendable {
    public let migrations: MigrationSet
    let logger: Logger

    /// The advisory lock every migrating process takes. Any constant works as long as no other
    /// code uses it; this one spells "cent" "migr" in ASCII.
    static let advisoryLockKey: Int64 = 0x6365_6e74_6d69_6772

    public init(migrations: MigrationSet, logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Compares the database with this build. Throws when an applied migration was edited or the
    /// database knows a migration this build does not; both need a person, not a retry.
    public func status(on connection: PostgresConnection) async throws -> SchemaStatus {
        var exists = false
        let found = try await connection.query(
            "SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        for try await value in found.decode(Bool.self) { exists = value }
        var appliedRows: [(version: Int, name: String, checksum: String)] = []
        if exists {
            let rows = try await connection.query(
                "SELECT version, name, checksum FROM schema_migrations ORDER BY version", logger: logger)
            for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
                appliedRows.append((version, name, checksum))
            }
        }
        let known = Dictionary(uniqueKeysWithValues: migrations.migrations.map { ($0.name, $0) })
        for row in appliedRows {
            guard let migration = known[row.name] else { throw MigrationError.unknownAppliedMigration(row.name) }
            guard migration.checksum == row.checksum else {
                throw MigrationError.appliedMigrationChanged(
                    name: row.name, applied: row.checksum, file: migration.checksum)
            }
        }
        let appliedNames = Set(appliedRows.map(\.name))
        return SchemaStatus(
            applied: appliedRows.map(\.name),
            pending: migrations.migrations.map(\.name).filter { !appliedNames.contains($0) }
        )
    }

    /// Applies every pending migration in order and returns the names it applied (empty when the
    /// database was already current). Waits for a concurrent migrator to finish first.
    @discardableResult
    public func migrate(on connection: PostgresConnection) async throws -> [String] {
        // Scripts are split before anything touches the database, so a malformed file fails early.
        let scripts = try migrations.migrations.map { migration throws(MigrationError) in
            do throws(SQLScript.SplitError) {
                return (migration, try SQLScript(migration.sql))
            } catch {
                switch error {
                case .unterminated(let construct, let line):
                    throw .invalidScript(
                        migration: migration.name, reason: "unterminated \(construct) starting on line \(line)")
                }
            }
        }

        let applied = try await connection.withAdvisoryLock(Self.advisoryLockKey, wait: true, logger: logger) {
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version     integer     PRIMARY KEY,
                    name        text        NOT NULL UNIQUE,
                    checksum    text        NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now(),
                    duration_ms integer     NOT NULL
                )
                """, logger: logger)
            let status = try await status(on: connection)
            var applied: [String] = []
            for (migration, script) in scripts where status.pending.contains(migration.name) {
                try await apply(migration, script, on: connection)
                applied.append(migration.name)
            }
            if applied.isEmpty {
                logger.info("schema is current", metadata: ["migrations": "\(status.applied.count)"])
            }
            return applied
        }
        return applied ?? []
    }

    private func apply(_ migration: Migration, _ script: SQLScript, on connection: PostgresConnection) async throws {
        let started = ContinuousClock.now
        try await connection.query("BEGIN", logger: logger)
        do {
            for statement in script.statements {
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: statement.sql), logger: logger)
                } catch {
                    throw MigrationError.statementFailed(
                        migration: migration.name, line: statement.line, message: DatabaseError.reason(for: error))
                }
            }
            let milliseconds = Int(started.duration(to: .now).milliseconds)
            try await connection.query(
                """
                INSERT INTO schema_migrations (version, name, checksum, duration_ms)
                VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(milliseconds))
                """, logger: logger)
            try await connection.query("COMMIT", logger: logger)
            logger.info(
                "applied migration",
                metadata: ["migration": "\(migration.name)", "duration_ms": "\(milliseconds)"])
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
