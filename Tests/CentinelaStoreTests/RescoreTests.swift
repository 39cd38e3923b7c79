import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// Scores in the database: full runs, back-tests, marks, the run lock.
@Suite struct RescoreTests {
    static let logger = TestDatabase.logger
    let rescorer = Rescorer(model: .v1, logger: TestDatabase.logger)

    /// Writes straight to the tables (as the test superuser), as the API would have.
    struct Writer {
        let connection: PostgresConnection

        func one(_ query: PostgresQuery) async throws -> UUID {
            var id: UUID?
            for try await value in try await connection.query(query, logger: RescoreTests.logger).decode(UUID.self) { id = value }
            return try #require(id)
        }

        func adult(_ facility: UUID, _ ref: String) async throws -> UUID {
            try await one(
                "INSERT INTO adults (facility_id, staff_ref, full_name, role) VALUES (\(facility), \(ref), \(ref), 'teacher') RETURNING id")
        }

        @discardableResult
        func report(
            _ facility: UUID, daysAgo: Int = 5, category: String = "sexual_abuse", reporter: String = "parent", adults: [UUID] = [],
            described: [String] = []
        ) async throws -> UUID {
            let id = try await one(
                """
                INSERT INTO incident_reports (facility_id, received_at, occurred_from, occurred_to, discovered_on, category,
                                              reporter_type, narrative)
                VALUES (\(facility), now() - make_interval(days => \(daysAgo)::int), current_date - \(daysAgo + 3)::int, current_date - \(daysAgo + 3)::int,
                        current_date - \(daysAgo + 1)::int, \(category), \(reporter), 'Prueba.')
                RETURNING id
                """)
            for (index, adult) in adults.enumerated() {
                try await connection.query(
                    "INSERT INTO report_adults (report_id, position, adult_id) VALUES (\(id), \(index + 1), \(adult))",
                    logger: RescoreTests.logger)
            }
            for (index, name) in described.enumerated() {
                try await connection.query(
                    "INSERT INTO report_adults (report_id, position, mentioned_name, mentioned_role) VALUES (\(id), \(adults.count + index + 1), \(name), 'other')",
                    logger: RescoreTests.logger)
            }
            return id
        }

        func int(_ query: PostgresQuery) async throws -> Int {
            var result = 0
            for try await value in try await connection.query(query, logger: RescoreTests.logger).decode(Int.self) { result = value }
            return result
        }

        func score(_ facility: UUID) async throws -> (score: Double, band: String, points: [String: Double])? {
            for try await (score, band, points) in try await connection.query(
                "SELECT score::float8, band, points::text FROM risk_scores WHERE facility_id = \(facility)", logger: RescoreTests.logger
            ).decode((Double, String, String).self) {
                let parsed = try JSONDecoder().decode([String: Double].self, from: Data(points.utf8))
                return (score, band, parsed)
            }
            return nil
        }
    }

    func withWorld(_ body: (World, Writer, PostgresConnection, PostgresConnection) async throws -> Void) async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { a in
                try await world.database.withConnection(logger: Self.logger) { b in
                    try await body(world, Writer(connection: a), a, b)
                }
            }
        }
    }

    func full(_ reader: PostgresConnection, _ writer: PostgresConnection) async throws -> Rescorer.Run {
        guard case .completed(let run) = try await rescorer.run(.full, reader: reader, writer: writer) else {
            Issue.record("the run found the lock held")
            throw CancellationError()
        }
        return run
    }

    @Test func oneReportWithThreeAdultsOutranksThreeSingleAdultReports() async throws {
        try await withWorld { world, db, reader, writer in
            let a = world.nuevoLeon.id
            let b = world.monterrey.id
            try await db.report(a, adults: [try await db.adult(a, "A1"), try await db.adult(a, "A2"), try await db.adult(a, "A3")])
            // Three complaints, each against one adult (the same teacher), as separate cases.
            let teacher = try await db.adult(b, "B1")
            for n in 1...3 { try await db.report(b, daysAgo: n, adults: [teacher]) }
            let run = try await full(reader, writer)
            #expect(run.scored == 3 && run.failures == 0 && run.changed == 3)
            let scoreA = try #require(try await db.score(a))
            let scoreB = try #require(try await db.score(b))
            #expect(scoreA.score > scoreB.score, "A \(scoreA) B \(scoreB)")
            #expect(scoreA.points["COORDINATED"]! > 0 && scoreB.points["COORDINATED"] == 0)
            #expect(scoreA.band == "high" || scoreA.band == "critical")  // two or more adults, severity 4
            #expect(try await db.score(world.oaxaca.id)?.score == 0)
        }
    }

    /// v2: a full run counts the reports' features per kind and jurisdiction (and for the kind and
    /// the country) and the spread of totals; the computations after it weigh reports against
    /// those shares, and a score's standing is read from that spread.
    @Test func aFullRunPublishesThePeersSharesAndTheSpreadThatV2ReadsNext() async throws {
        try await withWorld { world, db, reader, writer in
            let v2 = Rescorer(model: .v2, logger: Self.logger)
            let a = world.nuevoLeon.id
            let b = world.monterrey.id
            let together = [try await db.adult(a, "A1"), try await db.adult(a, "A2")]
            try await db.report(a, adults: together)
            for n in 1...3 { try await db.report(b, daysAgo: n, category: "neglect") }
            try await db.report(b, daysAgo: 400, category: "neglect")  // outside the window: not counted
            guard case .completed = try await v2.run(.full, reader: reader, writer: writer) else {
                Issue.record("lock held")
                return
            }
            #expect(try await db.int("SELECT count(*)::int FROM risk_report_shares WHERE jurisdiction_id IS NOT NULL") == 2)
            #expect(try await db.int("SELECT reports::int FROM risk_report_shares WHERE kind = '*' AND jurisdiction_id IS NULL") == 4)
            #expect(try await db.int("SELECT (counts->>'adults>=2')::int FROM risk_report_shares WHERE kind = '*'") == 1)
            #expect(try await db.int("SELECT cardinality(quantiles) FROM risk_score_distribution WHERE model_id = 'v2'") == 1001)
            #expect(try await db.int("SELECT facilities FROM risk_score_distribution") == 3)

            let store = ScoreStore(logger: Self.logger)
            let spread = try #require(try await writer.systemTransaction(logger: Self.logger) { try await store.distribution(on: writer) })
            let top = try #require(
                try await writer.systemTransaction(logger: Self.logger) { try await store.current(.init(a), on: writer) })
            // Two of three facilities score less than the one with two adults together.
            #expect(spread.percentile(of: top.assessment.total) == 66.7)
            #expect(spread.percentile(of: 0) == 0)

            // The next computation weighs the report against the peers just counted: one report in
            // four named two adults, nothing like the default one in a hundred.
            let before = try #require(top.assessment.reason(.together))
            #expect(before.summary.contains("the model's default shares"), "\(before.summary)")
            guard case .completed = try await v2.run(.full, reader: reader, writer: writer) else {
                Issue.record("lock held")
                return
            }
            let after = try #require(
                try await writer.systemTransaction(logger: Self.logger) { try await store.current(.init(a), on: writer) })
            let reason = try #require(after.assessment.reason(.together))
            #expect(reason.summary.contains("the peers' 1 reports") || reason.summary.contains("peers'"), "\(reason.summary)")
            #expect(reason.value < before.value)
        }
    }

    @Test func repeatComplaintsAgainstOneAdultRaiseRepeatAdult() async throws {
        try await withWorld { world, db, reader, writer in
            let a = world.nuevoLeon.id
            let teacher = try await db.adult(a, "T-01")
            try await db.report(a, daysAgo: 30, category: "grooming", adults: [teacher])
            _ = try await full(reader, writer)
            let once = try #require(try await db.score(a)).points["REPEAT_ADULT"]!
            try await db.report(a, daysAgo: 10, category: "grooming", reporter: "hotline", adults: [teacher])
            try await db.report(a, daysAgo: 1, category: "grooming", reporter: "police", adults: [teacher])
            let run = try await full(reader, writer)
            #expect(run.changed == 1)
            let thrice = try #require(try await db.score(a)).points["REPEAT_ADULT"]!
            #expect(once > 9.7 && once <= 10)  // log2(1 + 0.97): one complaint, a month old
            #expect(thrice > 19.5 && thrice <= 20)  // log2(1 + 2.96)
            // A second report naming an adult described the same way, accents aside, is the same adult.
            let b = world.monterrey.id
            try await db.report(b, described: ["José Pérez"])
            try await db.report(b, described: ["jose perez"])
            _ = try await full(reader, writer)
            #expect(try #require(try await db.score(b)).points["MULTI_ADULT"] == 0)
            #expect(try #require(try await db.score(b)).points["REPEAT_ADULT"]! > 15)
        }
    }

    @Test func aScoreDecaysOverTimeAndBacktestsLeaveLiveScoresAlone() async throws {
        try await withWorld { world, db, reader, writer in
            let a = world.nuevoLeon.id
            try await db.report(a, daysAgo: 400, category: "physical_abuse", reporter: "parent")
            func backtest(daysAgo: Int) async throws -> Double {
                let asOf = Date().addingTimeInterval(-Double(daysAgo) * 86_400)
                guard case .completed(let run) = try await rescorer.run(.backtest(asOf: asOf), reader: reader, writer: writer) else {
                    throw CancellationError()
                }
                var score = 0.0
                for try await value in try await db.connection.query(
                    "SELECT score::float8 FROM backtest_scores WHERE run_id = \(run.id) AND facility_id = \(a)", logger: Self.logger
                ).decode(Double.self) { score = value }
                return score
            }
            let early = try await backtest(daysAgo: 399)
            let later = try await backtest(daysAgo: 200)
            let now = try await backtest(daysAgo: 0)
            #expect(early > later && later > now, "\(early) \(later) \(now)")
            #expect(try await backtest(daysAgo: 401) == 0)  // before the report arrived
            #expect(try await db.int("SELECT count(*)::int FROM risk_scores") == 0)
            #expect(try await db.int("SELECT count(*)::int FROM rescore_runs WHERE kind = 'backtest' AND outcome = 'succeeded'") == 4)
        }
    }

    @Test func onlyChangesAreWrittenAndKeptInHistory() async throws {
        try await withWorld { world, db, reader, writer in
            try await db.report(world.nuevoLeon.id)
            let first = try await full(reader, writer)
            #expect(first.changed == 3)
            let second = try await full(reader, writer)
            #expect(second.changed == 0 && second.scored == 3)
            #expect(try await db.int("SELECT count(*)::int FROM risk_score_history") == 3)
            try await db.report(world.nuevoLeon.id, daysAgo: 1, reporter: "hotline")
            #expect(try await full(reader, writer).changed == 1)
            #expect(try await db.int("SELECT count(*)::int FROM risk_score_history WHERE facility_id = \(world.nuevoLeon.id)") == 2)
            let runs = try await db.int("SELECT count(*)::int FROM rescore_runs WHERE outcome = 'succeeded' AND finished_at IS NOT NULL")
            #expect(runs == 3)
        }
    }

    @Test func aFullRunThatRewroteATableRefreshesItsPlannerStatistics() async throws {
        try await withWorld { world, db, reader, writer in
            // 60 facilities with a report of filming each: 63 scores written, 60 alerts opened.
            for n in 0..<60 {
                let id = try await db.one(
                    "INSERT INTO facilities (external_code, name, kind, jurisdiction_id) SELECT \("S\(n)"), 'x', 'primary', jurisdiction_id FROM facilities WHERE id = \(world.oaxaca.id) RETURNING id"
                )
                try await db.connection.query(
                    """
                    INSERT INTO incident_reports (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, mo_tags, narrative)
                    VALUES (\(id), current_date - 2, current_date - 2, current_date - 1, 'sexual_abuse', 'parent', '{filming}', 'Prueba.')
                    """, logger: Self.logger)
            }
            func analyzed() async throws -> [String] {
                var names: [String] = []
                for try await name in try await db.connection.query(
                    """
                    SELECT relname::text || '@' || last_analyze::text FROM pg_stat_user_tables
                    WHERE relname IN ('risk_scores', 'risk_score_history', 'alerts', 'alert_events') AND last_analyze IS NOT NULL ORDER BY relname
                    """, logger: Self.logger
                ).decode(String.self) { names.append(name) }
                return names
            }
            #expect(try await analyzed().isEmpty)
            let first = try await full(reader, writer)
            #expect(first.changed == 63)
            #expect(try await db.int("SELECT count(*)::int FROM alerts") >= 60)
            let afterFirst = try await analyzed()
            #expect(afterFirst.map { $0.prefix { $0 != "@" } } == ["alert_events", "alerts", "risk_score_history", "risk_scores"])
            // A run that changes little leaves the statistics to autovacuum.
            try await db.report(world.nuevoLeon.id, daysAgo: 1)
            #expect(try await full(reader, writer).changed == 1)
            #expect(try await analyzed() == afterFirst)
        }
    }

    @Test func severalLanesScoreEveryFacilityExactlyOnce() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { a in
                try await world.database.withConnection(logger: Self.logger) { b in
                    try await world.database.withConnection(logger: Self.logger) { c in
                        try await world.database.withConnection(logger: Self.logger) { d in
                            let db = Writer(connection: a)
                            for n in 0..<40 {
                                let id = try await db.one(
                                    "INSERT INTO facilities (external_code, name, kind, jurisdiction_id) SELECT \("X\(n)"), 'x', 'primary', jurisdiction_id FROM facilities WHERE id = \(world.oaxaca.id) RETURNING id"
                                )
                                if n % 3 == 0 { try await db.report(id, daysAgo: n) }
                            }
                            let outcome = try await rescorer.run(
                                .full, lanes: [.init(reader: a, writer: b), .init(reader: c, writer: d)])
                            guard case .completed(let run) = outcome else {
                                Issue.record("lock held")
                                return
                            }
                            #expect(run.scored == 43 && run.changed == 43 && run.failures == 0)
                            #expect(try await db.int("SELECT count(*)::int FROM risk_scores") == 43)
                            // Ranked by score, then by the points above the cap, then by code, page after page.
                            let scope = Principal(
                                id: .random(), holder: "t", role: .regulator, facilityIDs: [],
                                jurisdictionIDs: [
                                    Jurisdiction.ID(
                                        try await db.one("SELECT jurisdiction_id FROM facilities WHERE id = \(world.oaxaca.id)"))
                                ])
                            let store = FacilityStore(logger: Self.logger)
                            var seen: [String] = []
                            var cursor: ScoreCursor?
                            repeat {
                                let page = try await b.systemTransaction(logger: Self.logger) {
                                    try await ServiceDatabase.enterScope(scope, on: b, logger: Self.logger)
                                    return try await store.facilitiesByScore(.init(), after: cursor, limit: 7, on: b)
                                }
                                seen += page.map(\.facility.externalCode)
                                cursor = page.last.map {
                                    ScoreCursor(score: $0.risk?.score ?? -1, total: $0.risk?.total ?? -1, code: $0.facility.externalCode)
                                }
                                if page.count < 7 { cursor = nil }
                            } while cursor != nil
                            #expect(seen.count == 41 && Set(seen).count == 41)  // Oaxaca's own 1 + the 40 added
                            let ranked: [FacilityRecord] = try await b.systemTransaction(logger: Self.logger) {
                                try await ServiceDatabase.enterScope(scope, on: b, logger: Self.logger)
                                return try await store.facilitiesByScore(.init(), after: nil, limit: 50, on: b)
                            }
                            let keys: [[Double]] = ranked.map { [$0.risk?.score ?? -1, $0.risk?.total ?? -1] }
                            let ordered = keys.sorted { (a: [Double], b: [Double]) -> Bool in a[0] != b[0] ? a[0] > b[0] : a[1] > b[1] }
                            #expect(keys == ordered)
                        }
                    }
                }
            }
        }
    }

    @Test func aSecondRunFindsTheLockHeldOrWaitsForIt() async throws {
        try await withWorld { world, db, reader, writer in
            // Another run holds the lock (on its own connection).
            try await db.connection.query("SELECT pg_advisory_lock(7306086629160088182)", logger: Self.logger)
            #expect(try await rescorer.run(.full, reader: reader, writer: writer) == .lockHeld)
            // One facility does not need the lock.
            guard case .completed = try await rescorer.run(.facility(.init(world.oaxaca.id)), reader: reader, writer: writer) else {
                Issue.record("a one-facility run waited for the lock")
                return
            }
            // --wait: the run starts when the lock is released.
            try await withThrowingTaskGroup(of: Rescorer.Outcome.self) { group in
                group.addTask { try await rescorer.run(.full, reader: reader, writer: writer, wait: true) }
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await db.int("SELECT count(*)::int FROM rescore_runs WHERE kind = 'full'") == 0)
                try await db.connection.query("SELECT pg_advisory_unlock(7306086629160088182)", logger: Self.logger)
                let outcome = try await group.next()
                guard case .completed(let run) = outcome else {
                    Issue.record("no run after the lock was released")
                    return
                }
                #expect(run.scored == 3)
            }
        }
    }

    @Test func marksAreClearedOnlyOnceHandled() async throws {
        try await withWorld { world, db, reader, writer in
            _ = try await full(reader, writer)
            // World's facilities were marked when created; the full run does not clear marks.
            while try await rescorer.rescoreMarked(on: writer) > 0 {}
            #expect(try await db.int("SELECT count(*)::int FROM rescore_marks") == 0)
            try await db.report(
                world.nuevoLeon.id, adults: [try await db.adult(world.nuevoLeon.id, "X"), try await db.adult(world.nuevoLeon.id, "Y")])
            #expect(try await db.int("SELECT count(*)::int FROM rescore_marks WHERE facility_id = \(world.nuevoLeon.id)") == 1)
            #expect(try await rescorer.pendingCount(on: writer) == 1)
            #expect(try await rescorer.rescoreMarked(on: writer) == 1)
            #expect(try await db.int("SELECT count(*)::int FROM rescore_marks") == 0)
            #expect(try #require(try await db.score(world.nuevoLeon.id)).points["COORDINATED"]! > 0)
            // A mark renewed after it was read stays for the next round.
            try await db.report(world.nuevoLeon.id, daysAgo: 1)
            try await writer.systemTransaction(logger: Self.logger) {
                try await writer.query(
                    "SELECT centinela_clear_rescores(ARRAY[\(world.nuevoLeon.id)]::uuid[], ARRAY[0]::bigint[])", logger: Self.logger)
            }
            #expect(try await db.int("SELECT count(*)::int FROM rescore_marks") == 1)
            // Only the system scope may read or clear marks.
            await #expect(throws: (any Error).self) {
                for try await _ in try await db.connection.query("SELECT * FROM centinela_pending_rescores(10)", logger: Self.logger) {}
            }
        }
    }

    @Test func decisionsAndCorrectionsAsTheyStoodAtTheInstantAreUsed() async throws {
        try await withWorld { world, db, reader, writer in
            let a = world.nuevoLeon.id
            let report = try await db.report(a, daysAgo: 20, category: "neglect")
            _ = try await full(reader, writer)
            let before = try #require(try await db.score(a)).points["LOAD"]!
            try await db.connection.query(
                "INSERT INTO report_amendments (report_id, changes) VALUES (\(report), '{\"category\": \"sexual_abuse\"}')",
                logger: Self.logger)
            _ = try await full(reader, writer)
            let corrected = try #require(try await db.score(a)).points["LOAD"]!
            #expect(corrected > before * 3.9)
            try await db.connection.query(
                "INSERT INTO report_status_changes (report_id, status) VALUES (\(report), 'unfounded')", logger: Self.logger)
            _ = try await full(reader, writer)
            #expect(try #require(try await db.score(a)).points["LOAD"]! < corrected / 3)
        }
    }

    /// Live runs read reports as they stand from `report_current` (kept by triggers as reports,
    /// decisions and corrections are written); back-tests fold the append-only tables at the
    /// instant. As of the same instant the two must give the same assessments, byte for byte.
    @Test func reportsAsTheyStandAreTheFoldOfTheirRecord() async throws {
        try await withWorld { world, db, reader, writer in
            let a = world.nuevoLeon.id
            let b = world.monterrey.id
            let t1 = try await db.adult(a, "T-1")
            let t2 = try await db.adult(a, "T-2")
            let t3 = try await db.adult(b, "T-3")
            let first = try await db.report(a, daysAgo: 40, category: "neglect", adults: [t1], described: ["Ana  Ruíz"])
            let second = try await db.report(a, daysAgo: 12, category: "grooming", reporter: "hotline", adults: [t1, t2])
            let third = try await db.report(b, daysAgo: 3, reporter: "school_staff", adults: [t3])
            try await db.report(b, daysAgo: 200, category: "physical_abuse", described: ["Luis Gómez"])
            for (report, age) in [(first, 7), (first, 4), (second, 9), (third, 2)] {
                try await db.connection.query(
                    "INSERT INTO report_children (report_id, child_ref, age_years) VALUES (\(report), \("NNA-\(age)"), \(age))",
                    logger: Self.logger)
            }
            // Several decisions and corrections, the latest of each field winning.
            for (report, status) in [
                (first, "under_review"), (first, "substantiated"), (second, "unfounded"), (third, "referred_to_prosecutor"),
            ] {
                try await db.connection.query(
                    "INSERT INTO report_status_changes (report_id, status) VALUES (\(report), \(status))", logger: Self.logger)
            }
            for (report, changes) in [
                (first, #"{"category": "sexual_abuse", "modusOperandi": ["filming", "threats"]}"#),
                (first, #"{"children": [{"ref": "NNA-1", "age": 3}], "occurred": {"from": "2026-01-02", "to": "2026-01-09"}}"#),
                (second, #"{"adults": [{"staffRef": "T-2"}, {"name": "Marta Díaz", "role": "cook"}], "discoveredOn": "2026-01-10"}"#),
                (second, #"{"category": "inappropriate_contact"}"#),
            ] {
                try await db.connection.query(
                    "INSERT INTO report_amendments (report_id, changes) VALUES (\(report), \(changes)::jsonb)", logger: Self.logger)
            }
            #expect(try await db.int("SELECT count(*)::int FROM report_current") == 4)
            #expect(
                try await db.int(
                    "SELECT count(*)::int FROM report_current WHERE report_id = \(first) AND status = 'substantiated' AND category = 'sexual_abuse' AND youngest_child_age = 3 AND mo_tags = '{filming,threats}'"
                ) == 1)

            let live = try await full(reader, writer)
            guard case .completed(let backtest) = try await rescorer.run(.backtest(asOf: live.asOf), reader: reader, writer: writer) else {
                Issue.record("the back-test found the lock held")
                return
            }
            var compared = 0
            for try await (facility, liveJSON, backtestJSON) in try await db.connection.query(
                """
                SELECT s.facility_id, s.assessment::text, b.assessment::text
                FROM risk_scores s LEFT JOIN backtest_scores b ON b.facility_id = s.facility_id AND b.run_id = \(backtest.id)
                WHERE s.total > 0
                """, logger: Self.logger
            ).decode((UUID, String, String?).self) {
                #expect(liveJSON == backtestJSON, "facility \(facility)")
                compared += 1
            }
            #expect(compared == 2)
            // The fold of one facility's reports (Schema/0020) is the whole fold's rows for it.
            let whole = "SELECT * FROM centinela_reports_as_of(now() + interval '1 day') WHERE facility_id = '\(a)'"
            let one = "SELECT * FROM centinela_reports_as_of(now() + interval '1 day', ARRAY['\(a)']::uuid[])"
            #expect(try await db.int("SELECT count(*)::int FROM (\(unescaped: one)) x") == 2)
            #expect(try await db.int("SELECT count(*)::int FROM ((\(unescaped: whole)) EXCEPT ALL (\(unescaped: one))) x") == 0)
            #expect(try await db.int("SELECT count(*)::int FROM ((\(unescaped: one)) EXCEPT ALL (\(unescaped: whole))) x") == 0)
            // …and a facility's back-test assessment, read alone, is the one of the country's back-test.
            let alone = try await writer.systemTransaction(logger: Self.logger) {
                try await rescorer.assessments(of: [.init(a)], asOf: live.asOf, on: writer)
            }
            let stored = try await db.score(a)
            #expect(alone.count == 1 && alone.first?.score == stored?.score && (alone.first?.total ?? 0) > 0)
        }
    }

    /// A run whose process died stays 'running' until a later run finds its lock free and records it
    /// as failed; a run still going (its lock held by another session) is left alone. Linking runs
    /// alike.
    @Test func aRunThatDiedIsRecordedAsFailedByTheNextAndALiveOneIsLeftAlone() async throws {
        try await withWorld { world, db, reader, writer in
            let dead = try await db.one("INSERT INTO rescore_runs (kind, as_of, model_id) VALUES ('full', now(), 'v2') RETURNING id")
            let alive = try await db.one("INSERT INTO rescore_runs (kind, as_of, model_id) VALUES ('facility', now(), 'v2') RETURNING id")
            let deadRebuild = try await db.one("INSERT INTO linking_runs (kind) VALUES ('rebuild') RETURNING id")
            func outcome(_ table: String, _ id: UUID) async throws -> (String, String?) {
                for try await row in try await db.connection.query(
                    PostgresQuery(unsafeSQL: "SELECT outcome, error FROM \(table) WHERE id = '\(id)'"), logger: Self.logger
                ).decode((String, String?).self) { return row }
                throw CancellationError()
            }
            /// Run locks held in this database, by any session.
            func runLocks() async throws -> Int {
                try await db.int(
                    """
                    SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
                      AND classid = \(RecordedRuns.lockClass)::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """)
            }
            try await world.database.withConnection(logger: Self.logger) { other in
                try await other.query("SELECT pg_advisory_lock(\(RecordedRuns.lockClass), hashtext(\(alive)::text))", logger: Self.logger)
                let run = try await full(reader, writer)
                #expect(try await outcome("rescore_runs", dead).0 == "failed")
                #expect(try await outcome("rescore_runs", dead).1?.contains("its process was stopped or lost the database") == true)
                #expect(try await outcome("rescore_runs", alive).0 == "running")
                #expect(try await outcome("rescore_runs", run.id).0 == "succeeded")
                // Its own lock is gone with its end: a later run would not take it for a dead one's.
                #expect(try await runLocks() == 1)
            }
            // The server ends a closed session's backend a moment after the client has gone.
            #expect(try await poll(within: .seconds(10), every: .milliseconds(50), runLocks, until: { $0 == 0 }) == 0)
            #expect(try await outcome("linking_runs", deadRebuild).0 == "running")
            _ = try await LinkingRebuilder(logger: Self.logger).rebuild(reader: reader, writer: writer)
            #expect(try await outcome("linking_runs", deadRebuild).0 == "failed")
            // The session that held the live run's lock ended: now it is a dead one's too.
            _ = try await full(reader, writer)
            #expect(try await outcome("rescore_runs", alive).0 == "failed")
        }
    }
}
