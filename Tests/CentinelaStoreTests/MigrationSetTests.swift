import CentinelaStore
import CentinelaTestSupport
import Foundation
import Testing

/// A throwaway folder of migration files.
final class SchemaFolder {
    let url: URL

    init(_ files: [String: String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("centinela-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    func migrations() throws -> MigrationSet {
        try MigrationSet.load(from: url)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

@Suite struct MigrationSetTests {
    @Test func loadsInNumericOrderAndIgnoresOtherFiles() throws {
        let folder = try SchemaFolder([
            "0010_later.sql": "SELECT 10;",
            "0002_second.sql": "SELECT 2;",
            "0001_first.sql": "SELECT 1;",
            "README.md": "not a migration",
        ])
        let set = try folder.migrations()
        #expect(set.migrations.map(\.name) == ["0001_first", "0002_second", "0010_later"])
        #expect(set.migrations.map(\.version) == [1, 2, 10])
    }

    @Test(arguments: ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "0001_.sql", "abcd_core.sql", "0000_zero.sql"])
    func refusesMisnamedSQLFiles(_ name: String) throws {
        let folder = try SchemaFolder(["0001_ok.sql": "SELECT 1;", name: "SELECT 2;"])
        #expect(throws: MigrationError.invalidFileName(name)) { try folder.migrations() }
    }

    @Test func refusesTwoFilesWithTheSameNumber() throws {
        let folder = try SchemaFolder(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        #expect(throws: MigrationError.duplicateVersion("0001_a", "0001_b")) { try folder.migrations() }
    }

    @Test func refusesAnEmptyOrMissingFolder() throws {
        let folder = try SchemaFolder([:])
        #expect(throws: MigrationError.noMigrations(folder.url.path)) { try folder.migrations() }
        let missing = folder.url.appendingPathComponent("nope")
        #expect(throws: MigrationError.schemaDirectoryUnreadable(missing.path)) {
            try MigrationSet.load(from: missing)
        }
    }

    @Test func checksumIsTheSHA256OfTheFileAndSeesAnyEdit() {
        let a = Migration(version: 1, name: "0001_a", sql: "SELECT 1;\n")
        let b = Migration(version: 1, name: "0001_a", sql: "SELECT 1; \n")
        #expect(a.checksum.count == 64)
        #expect(a.checksum != b.checksum)
        // sha256("abc"), the FIPS 180-2 test vector.
        #expect(
            Migration(version: 1, name: "0001_a", sql: "abc").checksum
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func theShippedSchemaLoads() throws {
        let set = try CentinelaTestSupport.TestDatabase.migrations()
        #expect(set.migrations.first?.name == "0001_core")
    }
}
