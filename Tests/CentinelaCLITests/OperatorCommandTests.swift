import CentinelaStore
import CentinelaTestSupport
import Foundation
import PostgresNIO
import Testing

/// The operator's commands: tokens, facility imports, audit verification.
@Suite struct OperatorCommandTests {
    @Test func issuesListsAndRevokesTokens() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL]
            let created = try await CommandProcess.run(
                [
                    "token", "create", "--role", "regulator", "--jurisdiction", "MX-NL", "--holder", "Lic. Ana Ruiz", "--expires-in-days",
                    "30",
                ],
                environment: env)
            #expect(created.status == 0, "\(created.error)")
            let secret = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(TokenSecret(presented: secret) != nil)
            #expect(created.error.contains("issued regulator token \(secret.prefix(12))"))

            let listed = try await CommandProcess.run(["token", "list"], environment: env)
            #expect(listed.status == 0)
            #expect(listed.output.contains(String(secret.prefix(12))))
            #expect(listed.output.contains("MX-NL"))
            #expect(!listed.output.contains(secret), "a secret must never be listed")

            let revoked = try await CommandProcess.run(
                ["token", "revoke", String(secret.prefix(12)), "--reason", "changed posts"], environment: env)
            #expect(revoked.status == 0, "\(revoked.error)")
            let again = try await CommandProcess.run(
                ["token", "revoke", String(secret.prefix(12)), "--reason", "again"], environment: env)
            #expect(again.status == 1)
            #expect(again.error == "centinela: error: token \(secret.prefix(12)) is already revoked\n")

            let wrong = try await CommandProcess.run(
                ["token", "create", "--role", "school", "--jurisdiction", "MX-NL", "--holder", "x"], environment: env)
            #expect(wrong.status == 1)
            #expect(wrong.error.hasPrefix("centinela: error: a school token is bound to one or more facilities"))
            let badRole = try await CommandProcess.run(["token", "create", "--role", "root", "--holder", "x"], environment: env)
            #expect(badRole.error == "centinela: error: --role must be school, regulator or admin, not 'root'\n")
        }
    }

    @Test func importsFacilitiesOrListsEveryBadRow() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL]
            let folder = NSTemporaryDirectory() + "centinela-import-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let good = folder + "/good.csv"
            let bad = folder + "/bad.csv"
            try "code,name,kind,jurisdiction,enrolment\nNL100,Escuela A,primary,MX-NL,300\nNL001,Jardín,preschool,MX-NL,\n"
                .write(toFile: good, atomically: true, encoding: .utf8)
            try "code,name,kind,jurisdiction\nNL200,Escuela B,castle,MX-NL\nNL201,,primary,MX-NL\n"
                .write(toFile: bad, atomically: true, encoding: .utf8)

            let imported = try await CommandProcess.run(["facilities", "import", good], environment: env)
            #expect(imported.status == 0, "\(imported.error)")
            #expect(imported.output == "imported \(good): 1 created, 1 updated\n")

            let refused = try await CommandProcess.run(["facilities", "import", bad], environment: env)
            #expect(refused.status == 1)
            let lines = refused.error.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix("\(bad):2: kind: must be one of"))
            #expect(lines[1] == "\(bad):3: name: must be 1 to 300 characters")
            #expect(lines[2] == "centinela: error: \(bad): 2 problem(s); nothing was imported")
        }
    }

    @Test func verifiesTheAuditTrailAndReportsTheFirstBreak() async throws {
        try await World.with { world in
            let env = ["DATABASE_URL": world.database.connectionURL]
            let intact = try await CommandProcess.run(["audit", "verify"], environment: env)
            #expect(intact.status == 0, "\(intact.error)")
            // The world's five tokens were issued, and audited.
            #expect(intact.output == "audit trail intact: 5 events checked\n")

            try await world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", logger: TestDatabase.logger)
                try await connection.query(
                    "UPDATE audit_events SET details = '{\"role\":\"admin\"}' WHERE position = 2", logger: TestDatabase.logger)
            }
            let broken = try await CommandProcess.run(["audit", "verify"], environment: env)
            #expect(broken.status == 2)
            #expect(broken.output.hasPrefix("audit trail BROKEN at event 2: its content does not match its hash"))
        }
    }

    /// The whole path of issue 24 at the command line: a key made, a checkpoint signed and kept
    /// outside the database, the log held against it, and the newest events' removal shown.
    @Test func signsCheckpointsAndHoldsTheLogAgainstThem() async throws {
        try await World.with { world in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("kept"), withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let keyFile = folder.appendingPathComponent("signing.key").path

            let keygen = try await CommandProcess.run(["audit", "keygen", "--out", keyFile, "--name", "centinela.test/audit"])
            #expect(keygen.status == 0, "\(keygen.error)")
            let verifierKey = keygen.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(verifierKey.hasPrefix("centinela.test/audit+"))
            #expect(try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int == 0o600)
            let again = try await CommandProcess.run(["audit", "keygen", "--out", keyFile])
            #expect(again.status != 0 && again.error.contains("exists"), "a key is never overwritten")

            let env = [
                "DATABASE_URL": world.database.connectionURL, "CENTINELA_AUDIT_SIGNING_KEY_FILE": keyFile,
                "CENTINELA_AUDIT_LOG_NAME": "centinela.test/audit",
                "CENTINELA_AUDIT_CHECKPOINT_DIR": folder.appendingPathComponent("kept").path,
            ]
            let shown = try await CommandProcess.run(["audit", "verifier-key"], environment: env)
            #expect(shown.status == 0 && shown.output == verifierKey + "\n", "the configured key's public half, as keygen printed it")
            let none = try await CommandProcess.run(["audit", "verifier-key"], environment: ["DATABASE_URL": world.database.connectionURL])
            #expect(none.status == 1 && none.error.contains("CENTINELA_AUDIT_SIGNING_KEY"))
            let signed = try await CommandProcess.run(["audit", "checkpoint"], environment: env)
            #expect(signed.status == 0, "\(signed.error)")
            #expect(signed.output.hasPrefix("centinela.test/audit\n5\n"), "\(signed.output)")
            let kept = folder.appendingPathComponent("kept/latest.checkpoint")
            #expect(try String(contentsOf: kept, encoding: .utf8) == signed.output)
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("kept/5.checkpoint").path))

            // A regulator's check: no signing key, only the verifier key and the kept file.
            let reader = ["DATABASE_URL": world.database.connectionURL]
            let intact = try await CommandProcess.run(
                ["audit", "verify", "--checkpoint", kept.path, "--verifier-key", verifierKey], environment: reader)
            #expect(intact.status == 0, "\(intact.error)")
            #expect(intact.output.hasPrefix("audit trail intact: ") && intact.output.hasSuffix("events checked; 1 checkpoints held\n"))

            try await world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", logger: TestDatabase.logger)
                try await connection.query("DELETE FROM audit_events WHERE position > 3", logger: TestDatabase.logger)
            }
            let plain = try await CommandProcess.run(["audit", "verify"], environment: reader)
            #expect(plain.status == 0, "the chain alone cannot tell")
            let broken = try await CommandProcess.run(
                ["audit", "verify", "--checkpoint", kept.path, "--verifier-key", verifierKey], environment: reader)
            #expect(broken.status == 2)
            #expect(broken.output.contains("vouched for 5 events, the log holds 3 (its newest were removed)"), "\(broken.output)")

            // A checkpoint altered, or checked with another key, is refused in one line.
            let altered = folder.appendingPathComponent("altered.checkpoint")
            try signed.output.replacingOccurrences(of: "\n5\n", with: "\n3\n").write(to: altered, atomically: true, encoding: .utf8)
            let forged = try await CommandProcess.run(
                ["audit", "verify", "--checkpoint", altered.path, "--verifier-key", verifierKey], environment: reader)
            #expect(forged.status == 1 && forged.error.contains("not signed by the key centinela.test/audit"), "\(forged.error)")
            let otherKey = try await CommandProcess.run(["audit", "keygen", "--out", folder.appendingPathComponent("other.key").path])
            let wrongKey = try await CommandProcess.run(
                ["audit", "verify", "--checkpoint", kept.path, "--verifier-key", otherKey.output.trimmingCharacters(in: .newlines)],
                environment: reader)
            #expect(wrongKey.status == 1 && wrongKey.error.split(separator: "\n").count == 1, "\(wrongKey.error)")
            let noKey = try await CommandProcess.run(["audit", "verify", "--checkpoint", kept.path], environment: reader)
            #expect(noKey.status == 1 && noKey.error.contains("--verifier-key"), "\(noKey.error)")
        }
    }

    /// `audit prove`: a report's seal is shown to be in the tree a signed checkpoint states, and
    /// the report to hold what it held when sealed; a rewritten narrative is exit 2.
    @Test func provesAReportIsInTheLogAsItWasSealed() async throws {
        try await World.with { world in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prove-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let keyFile = folder.appendingPathComponent("signing.key").path
            let verifierKey = try await CommandProcess.run(["audit", "keygen", "--out", keyFile]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let report = try await world.database.withConnection(logger: TestDatabase.logger) { connection in
                var id: UUID?
                for try await value in try await connection.query(
                    """
                    INSERT INTO incident_reports (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, narrative)
                    VALUES (\(world.nuevoLeon.id), '2026-11-02', '2026-11-02', '2026-11-03', 'neglect', 'parent', 'Un niño quedó solo.')
                    RETURNING id
                    """, logger: TestDatabase.logger
                ).decode(UUID.self) { id = value }
                return try #require(id)
            }
            let env = ["DATABASE_URL": world.database.connectionURL, "CENTINELA_AUDIT_SIGNING_KEY_FILE": keyFile]
            #expect(try await CommandProcess.run(["audit", "checkpoint"], environment: env).status == 0)

            let reader = ["DATABASE_URL": world.database.connectionURL, "CENTINELA_AUDIT_VERIFIER_KEY": verifierKey]
            let proved = try await CommandProcess.run(["audit", "prove", report.uuidString], environment: reader)
            #expect(proved.status == 0, "\(proved.error)")
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(proved.output.utf8)) as? [String: Any])
            #expect(answer["proved"] as? Bool == true && answer["holdsToday"] as? String == "the same")
            #expect((answer["proof"] as? [String])?.isEmpty == false && answer["treeSize"] as? Int == 6)

            try await world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await connection.query("ALTER TABLE incident_reports DISABLE TRIGGER USER", logger: TestDatabase.logger)
                try await connection.query(
                    "UPDATE incident_reports SET narrative = 'Nada.' WHERE id = \(report)", logger: TestDatabase.logger)
            }
            let changed = try await CommandProcess.run(["audit", "prove", report.uuidString], environment: reader)
            #expect(changed.status == 2 && changed.output.contains("\"holdsToday\" : \"changed\""), "\(changed.output)")
            let unknown = try await CommandProcess.run(["audit", "prove", UUID().uuidString], environment: reader)
            #expect(unknown.status == 1 && unknown.error.contains("no seal of this report"), "\(unknown.error)")
            let malformed = try await CommandProcess.run(["audit", "prove", "not-an-id"], environment: reader)
            #expect(malformed.status == 1 && malformed.error.contains("is not a report id"))
        }
    }
}
