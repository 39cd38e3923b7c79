import CentinelaCore
import Crypto
import Foundation

/// One ordered SQL file from `Schema/`, e.g. `0001_core.sql`.
public struct Migration: Hashable, Sendable {
    /// The number that orders it (`1` for `0001_core.sql`).
    public let version: Int
    /// The file name without `.sql`; this is what `schema_migrations` records.
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes, lower-case hex. An applied migration must never change.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).lowercaseHex
    }
}

/// The ordered list of migrations that a build of Centinela expects the database to have.
public struct MigrationSet: Sendable {
    public let migrations: [Migration]

    public init(_ migrations: [Migration]) throws(MigrationError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw .duplicateVersion(previous.name, next.name)
        }
        self.migrations = sorted
    }

    /// Reads every `NNNN_name.sql` file of a folder. Other files (a README, editor backups) are
    /// ignored; a `.sql` file that does not follow the naming rule is an error, so that a
    /// misnamed migration is never silently skipped.
    public static func load(from directory: URL) throws(MigrationError) -> MigrationSet {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .schemaDirectoryUnreadable(directory.path)
        }
        var migrations: [Migration] = []
        for file in names where file.hasSuffix(".sql") {
            let name = String(file.dropLast(4))
            guard let version = Self.version(ofName: name) else { throw .invalidFileName(file) }
            let url = directory.appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: url.path),
                let sql = String(data: data, encoding: .utf8)
            else { throw .unreadableFile(url.path) }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        guard !migrations.isEmpty else { throw .noMigrations(directory.path) }
        return try MigrationSet(migrations)
    }

    /// `0001_core` → 1. Four or more digits, an underscore, then lower-case words.
    static func version(ofName name: String) -> Int? {
        guard let underscore = name.firstIndex(of: "_") else { return nil }
        let digits = name[..<underscore]
        let words = name[name.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy(\.isASCII), let version = Int(digits), version > 0,
            !words.isEmpty,
            words.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return version
    }
}

/// Everything that can go wrong with migrations, phrased for the operator who runs them.
public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case schemaDirectoryUnreadable(String)
    case noMigrations(String)
    case invalidFileName(String)
    case unreadableFile(String)
    case duplicateVersion(String, String)
    case invalidScript(migration: String, reason: String)
    /// An applied migration's file differs from what was applied.
    case appliedMigrationChanged(name: String, applied: String, file: String)
    /// The database has a migration this build does not know: it was migrated by a newer build.
    case unknownAppliedMigration(String)
    case statementFailed(migration: String, line: Int, message: String)
    /// The schema is behind this build (pending migrations) and the command may not migrate.
    case schemaBehind(pending: [String])

    public var description: String {
        switch self {
        case .schemaDirectoryUnreadable(let path):
            "cannot read the schema folder \(path) (set CENTINELA_SCHEMA_DIR to the folder holding the NNNN_name.sql migrations)"
        case .noMigrations(let path):
            "no migrations (NNNN_name.sql files) in \(path)"
        case .invalidFileName(let file):
            "migration file \(file) is not named NNNN_lower_case_words.sql"
        case .unreadableFile(let path):
            "cannot read migration \(path) as UTF-8 text"
        case .duplicateVersion(let a, let b):
            "migrations \(a) and \(b) have the same number"
        case .invalidScript(let migration, let reason):
            "migration \(migration) cannot be split into statements: \(reason)"
        case .appliedMigrationChanged(let name, let applied, let file):
            "migration \(name) was changed after it was applied (applied checksum \(applied.prefix(12)), file now \(file.prefix(12))); never edit an applied migration: restore the file and add a new migration instead"
        case .unknownAppliedMigration(let name):
            "the database has migration \(name), which this build of centinela does not know: it was migrated by a newer version"
        case .statementFailed(let migration, let line, let message):
            "migration \(migration) failed at the statement starting on line \(line): \(message); nothing of it was applied"
        case .schemaBehind(let pending):
            "the database schema is behind this build (pending: \(pending.joined(separator: ", "))); run `centinela migrate` first, or start with `centinela serve --migrate`"
        }
    }
}

extension MigrationSet {
    /// Finds the `Schema/` folder when none is configured: the working folder's `Schema/`, then
    /// `share/centinela/Schema` beside an installed binary, then any `Schema/` above the binary
    /// (a build inside the source tree). Returns nil when none holds a migration.
    public static func locateSchemaDirectory(executablePath: String) -> URL? {
        let fm = FileManager.default
        var candidates = [URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Schema")]
        let binary = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(binary.deletingLastPathComponent().appendingPathComponent("share/centinela/Schema"))
        var folder = binary
        while folder.path != "/" {
            candidates.append(folder.appendingPathComponent("Schema"))
            folder.deleteLastPathComponent()
        }
        return candidates.first { candidate in
            ((try? fm.contentsOfDirectory(atPath: candidate.path)) ?? []).contains {
                $0.hasSuffix(".sql") && version(ofName: String($0.dropLast(4))) != nil
            }
        }
    }
}
