import CentinelaTestSupport
import Testing

@testable import CentinelaStore

@Suite struct SQLScriptTests {
    func statements(_ text: String) throws -> [String] {
        try SQLScript(text).statements.map(\.sql)
    }

    @Test func splitsOnSemicolonsAndDropsEmptyStatements() throws {
        #expect(try statements("SELECT 1; SELECT 2;;\n  ;\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"])
    }

    @Test func keepsSemicolonsInsideStringsAndIdentifiers() throws {
        let sql = #"INSERT INTO t VALUES ('a;b', 'it''s; fine'); SELECT "odd;name" FROM t"#
        #expect(
            try statements(sql) == [#"INSERT INTO t VALUES ('a;b', 'it''s; fine')"#, #"SELECT "odd;name" FROM t"#])
    }

    @Test func handlesEscapeStrings() throws {
        #expect(try statements(#"SELECT E'a\';b'; SELECT 2"#) == [#"SELECT E'a\';b'"#, "SELECT 2"])
    }

    @Test func keepsDollarQuotedBodiesWhole() throws {
        let sql = """
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;
            CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'x;y' $inner$ ; $body$;
            SELECT $1
            """
        let split = try statements(sql)
        #expect(split.count == 3)
        #expect(split[0].hasSuffix("END; $$"))
        #expect(split[1].hasSuffix("$inner$ ; $body$"))
        #expect(split[2] == "SELECT $1")
    }

    @Test func ignoresSemicolonsInComments() throws {
        let sql = """
            -- a comment; with a semicolon
            SELECT 1; /* block; /* nested; */ still comment; */ SELECT 2;
            -- only a comment at the end;
            """
        let split = try statements(sql)
        #expect(split.count == 2)
        #expect(split[0].hasSuffix("SELECT 1"))
        #expect(split[1].hasSuffix("SELECT 2"))
    }

    @Test func recordsTheLineEachStatementStartsOn() throws {
        let script = try SQLScript("-- header\n\nSELECT 1;\n\n  SELECT\n 2;")
        #expect(script.statements.map(\.line) == [3, 5])
    }

    @Test(arguments: [
        ("SELECT 'open", "string literal"),
        ("SELECT \"open", "quoted identifier"),
        ("SELECT $$ open", "dollar-quoted string"),
        ("SELECT 1 /* open", "block comment"),
    ])
    func reportsUnterminatedConstructs(_ sql: String, _ construct: String) {
        #expect(throws: SQLScript.SplitError.unterminated(construct: construct, line: 1)) {
            try SQLScript(sql)
        }
    }

    @Test func splitsTheShippedMigrationsWithoutError() throws {
        let set = try MigrationSet.load(from: CentinelaTestSupport.TestDatabase.schemaDirectory)
        for migration in set.migrations {
            let script = try SQLScript(migration.sql)
            #expect(!script.statements.isEmpty, "\(migration.name)")
        }
    }
}
