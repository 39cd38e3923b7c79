import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// `centinela linking rebuild` against a real database: a hand-built country where an adult
/// moved schools, another is known by a national identifier, and three schools share a pattern.
@Suite struct LinkingRebuildTests {
    static let logger = TestDatabase.logger
    let rebuilder = LinkingRebuilder(logger: TestDatabase.logger)

    struct Country {
        var schools: [String: UUID] = [:]
        var pattern: Set<UUID> = []
        var xochitl: (UUID, UUID) = (UUID(), UUID())
        var ruben: (UUID, UUID) = (UUID(), UUID())
        var maria: (UUID, UUID) = (UUID(), UUID())
        /// Xóchitl and Rubén accused together at A; Rubén accused again at B.
        var network: Set<UUID> = []
    }

    func one(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> UUID {
        var id: UUID?
        for try await value in try await connection.query(query, logger: Self.logger).decode(UUID.self) { id = value }
        return try #require(id)
    }

    func strings(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [String] {
        var values: [String] = []
        for try await value in try await connection.query(query, logger: Self.logger).decode(String.self) { values.append(value) }
        return values
    }

    /// Six schools in three jurisdictions, thirty staff, twenty-five reports.
    func build(_ world: World, on c: PostgresConnection) async throws -> Country {
        var country = Country()
        country.schools = ["A": world.nuevoLeon.id, "B": world.monterrey.id, "C": world.oaxaca.id]
        for code in ["D", "E", "F"] {
            country.schools[code] = try await one(
                "INSERT INTO facilities (external_code, name, kind, jurisdiction_id) SELECT \("X-" + code), 'Escuela', 'preschool', jurisdiction_id FROM facilities WHERE id = \(world.oaxaca.id) RETURNING id",
                on: c)
        }
        func staff(_ school: String, _ name: String, _ ref: String, nationalID: String? = nil, born: String? = nil) async throws -> UUID {
            try await one(
                """
                INSERT INTO adults (facility_id, staff_ref, full_name, role, national_id_hmac, date_of_birth)
                VALUES (\(country.schools[school]!), \(ref), \(name), 'teacher', decode(\(nationalID), 'hex'), \(born)::date) RETURNING id
                """, on: c)
        }
        // Moved from a school in Nuevo León to one in Oaxaca; written differently, born the same day.
        country.xochitl = (
            try await staff("A", "Xóchitl Tlacuilo Ayala", "S1", born: "1988-04-17"),
            try await staff("C", "XOCHITL TLACUILO AYALA", "S1", born: "1988-04-17")
        )
        let k1 = String(repeating: "ab", count: 32)
        country.ruben = (
            try await staff("A", "Rubén Tapia Ochoa", "S2", nationalID: k1), try await staff("B", "R. Tapia", "S2", nationalID: k1)
        )
        // One of the country's commonest names in two states, nothing else in common: a regulator decides.
        country.maria = (try await staff("B", "María Hernández López", "S3"), try await staff("D", "María Hernández", "S3"))
        // Everyone else has a name (and a pair of surnames) of their own.
        let given = [
            "Ana", "Luis", "Sara", "Omar", "Eva", "Raúl", "Iris", "Hugo", "Rosa", "Abel", "Nora", "Saúl",
            "Alma", "Beto", "Celia", "Dario", "Elsa", "Fabio", "Gema", "Ivan", "Julia", "Kevin", "Lidia", "Mario",
        ]
        let surnames = [
            "Quiroz", "Bañuelos", "Zamudio", "Olvera", "Tovar", "Urías", "Mancera", "Lozoya", "Arriaga", "Beltrán", "Cuevas", "Dávila",
        ]
        for n in 0..<24 {
            _ = try await staff(
                ["A", "B", "C", "D", "E", "F"][n % 6], "\(given[n]) \(surnames[n % 12]) \(surnames[(n % 12 + 1 + n / 12) % 12])", "F\(n)")
        }
        func report(_ school: String, _ tags: [String], category: String = "sexual_abuse") async throws -> UUID {
            try await one(
                """
                INSERT INTO incident_reports (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, mo_tags, narrative)
                VALUES (\(country.schools[school]!), current_date - 9, current_date - 9, current_date - 8, \(category), 'parent', \(tags)::text[], 'Prueba.')
                RETURNING id
                """, on: c)
        }
        // Three preschools, the same tactics.
        country.pattern = [
            try await report("A", ["disguise", "staged_act", "children_made_to_watch", "several_adults_present"]),
            try await report("C", ["disguise", "staged_act", "several_adults_present"]),
            try await report("D", ["disguise", "children_made_to_watch", "staged_act"]),
        ]
        let together = try await report("A", ["threats"])
        let again = try await report("B", [])
        for (report, adults) in [(together, [country.xochitl.0, country.ruben.0]), (again, [country.ruben.1])] {
            for (index, adult) in adults.enumerated() {
                try await c.query(
                    "INSERT INTO report_adults (report_id, position, adult_id) VALUES (\(report), \(index + 1), \(adult))",
                    logger: Self.logger)
            }
        }
        country.network = [together, again]
        // Everyday complaints everywhere, some with everyday tactics.
        for n in 0..<20 {
            _ = try await report(["A", "B", "C", "D", "E", "F"][n % 6], n % 2 == 0 ? ["threats", "isolation"] : [], category: "neglect")
        }
        return country
    }

    /// Runs `body` with a reader and a writer connection, as the command gives a run.
    func withLane<T: Sendable>(
        _ world: World, _ body: (PostgresConnection, PostgresConnection) async throws -> T
    ) async throws -> T {
        try await world.database.withConnection(logger: Self.logger) { reader in
            try await world.database.withConnection(logger: Self.logger) { writer in try await body(reader, writer) }
        }
    }

    func rebuild(_ world: World) async throws -> LinkingRebuilder.Outcome {
        try await withLane(world) { try await rebuilder.rebuild(reader: $0, writer: $1) }
    }

    @Test func aMovedAdultAnIdentifiedAdultAndASharedPatternAreFound() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { c in
                let country = try await build(world, on: c)
                let outcome = try await rebuild(world)
                #expect(outcome.records == 30)
                #expect(outcome.patterns == 2)
                func verdict(_ pair: (UUID, UUID)) async throws -> String? {
                    let (a, b) = pair.0.uuidString < pair.1.uuidString ? pair : (pair.1, pair.0)
                    return try await strings(
                        "SELECT verdict || ' ' || (comparisons->0->>'field') FROM adult_links WHERE record_a = \(a) AND record_b = \(b)",
                        on: c
                    ).first
                }
                #expect(try await verdict(country.ruben) == "link national_id")
                #expect(try await verdict(country.xochitl) == "link given_name")
                #expect(try await verdict(country.maria) == "review given_name")
                let proposed = try await strings(
                    "SELECT verdict || ' ' || round(score::numeric, 1) || ' ' || comparisons::text FROM adult_links", on: c)
                #expect(outcome.links == 2 && outcome.reviews == 1, "\(outcome) \(proposed)")
                // Persons: the two linked pairs; the pair under review waits for a regulator.
                let persons = try await strings(
                    "SELECT string_agg(record_id::text, ',' ORDER BY record_id) FROM adult_persons GROUP BY person_id ORDER BY 1", on: c)
                let expected = [country.ruben, country.xochitl].map {
                    [$0.0, $0.1].map { $0.uuidString.lowercased() }.sorted().joined(separator: ",")
                }.sorted()
                #expect(persons == expected)
                // The pattern: the three preschools' reports, none of the everyday ones.
                func members(_ kind: String) async throws -> Set<String> {
                    Set(
                        try await strings(
                            "SELECT r.report_id::text FROM pattern_reports r JOIN patterns p ON p.id = r.pattern_id WHERE p.kind = \(kind)",
                            on: c))
                }
                #expect(try await members("modus_operandi") == Set(country.pattern.map { $0.uuidString.lowercased() }))
                // The network: two persons implicated together at A, one of them again at B.
                #expect(try await members("network") == Set(country.network.map { $0.uuidString.lowercased() }))
                // No adult ties the three schools: three groups of one.
                #expect(try await strings("SELECT group_sizes::text FROM patterns WHERE kind = 'modus_operandi'", on: c) == ["{1,1,1}"])
                let signature = try await strings("SELECT unnest(signature) FROM patterns WHERE kind = 'modus_operandi'", on: c)
                #expect(Set(signature).isSuperset(of: ["mo:disguise", "mo:staged_act"]))
                #expect(try await strings("SELECT outcome FROM linking_runs", on: c) == ["succeeded"])
            }
        }
    }

    /// Everyday tactics five schools share (threats, isolation, an outing: ten other complaints
    /// have the first two) are not a pattern by themselves; at two of them they name María Hernández,
    /// whose two records wait in the review queue, and that ties those two — even though the first
    /// complaint was found unfounded. A dismissed complaint against Xóchitl and Rubén together at A
    /// still carries their network.
    @Test func aPairInTheReviewQueueTiesAlikeReportsAndDismissedComplaintsStayAsHistory() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { c in
                let country = try await build(world, on: c)
                func report(_ school: String, naming adult: UUID?) async throws -> UUID {
                    let id = try await one(
                        """
                        INSERT INTO incident_reports (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, mo_tags, narrative)
                        VALUES (\(country.schools[school]!), current_date - 30, current_date - 30, current_date - 29, 'sexual_abuse', 'parent',
                                '{threats,isolation,off_premises}', 'Prueba.')
                        RETURNING id
                        """, on: c)
                    if let adult {
                        try await c.query(
                            "INSERT INTO report_adults (report_id, position, adult_id) VALUES (\(id), 1, \(adult))", logger: Self.logger)
                    }
                    return id
                }
                let atB = try await report("B", naming: country.maria.0)
                let atD = try await report("D", naming: country.maria.1)
                for school in ["C", "E", "F"] { _ = try await report(school, naming: nil) }
                // Dismissed: Itzel's complaint at B, and Xóchitl and Rubén's together at A.
                let together = try await one("SELECT report_id FROM report_adults GROUP BY report_id HAVING count(*) = 2", on: c)
                for dismissed in [atB, together] {
                    try await c.query(
                        "INSERT INTO report_status_changes (report_id, status) VALUES (\(dismissed), 'unfounded')", logger: Self.logger)
                }

                let outcome = try await rebuild(world)
                #expect(outcome.reviews == 1)
                func patterns(_ kind: String) async throws -> Set<String> {
                    Set(
                        try await strings(
                            "SELECT string_agg(r.report_id::text, ',' ORDER BY r.report_id) FROM pattern_reports r JOIN patterns p ON p.id = r.pattern_id WHERE p.kind = \(kind) GROUP BY p.id",
                            on: c))
                }
                let ids = { (reports: [UUID]) in reports.map { $0.uuidString.lowercased() }.sorted().joined(separator: ",") }
                let alike = try await patterns("modus_operandi")
                let networks = try await patterns("network")
                #expect(alike == [ids(Array(country.pattern)), ids([atB, atD])], "\(alike)")
                // The review pair ties B and D: one group of two.
                #expect(
                    Set(try await strings("SELECT group_sizes::text FROM patterns WHERE kind = 'modus_operandi'", on: c)) == [
                        "{1,1,1}", "{2}",
                    ])
                #expect(networks == [ids(Array(country.network))], "\(networks)")

                // A regulator says the two Itzels are different people: the pair ties nothing any more.
                let token = try await one("SELECT id FROM api_tokens ORDER BY created_at LIMIT 1", on: c)
                let (a, b) =
                    country.maria.0.uuidString.lowercased() < country.maria.1.uuidString.lowercased()
                    ? country.maria : (country.maria.1, country.maria.0)
                try await c.query(
                    "INSERT INTO adult_link_decisions (record_a, record_b, decision, actor_id, actor) VALUES (\(a), \(b), 'rejected', \(token), 'regulator')",
                    logger: Self.logger)
                _ = try await rebuild(world)
                #expect(try await patterns("modus_operandi") == [ids(Array(country.pattern))])
            }
        }
    }

    /// A rebuild marks the facilities it tied to others; rescoring them gives CROSS_FACILITY points
    /// and raises the cross-facility alerts, each at the facility concerned.
    @Test func whatLinkingFindsReachesScoresAndAlerts() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { c in
                let country = try await build(world, on: c)
                let outcome = try await rebuild(world)
                // A (both patterns, Rubén, Xóchitl), B (Rubén), C (pattern, Xóchitl on its roster), D (pattern).
                #expect(outcome.marked == 4)
                let rescorer = Rescorer(model: .v1, logger: Self.logger)
                while try await rescorer.rescoreMarked(on: c) > 0 {}
                let code = Dictionary(uniqueKeysWithValues: country.schools.map { ($0.value, $0.key) })
                func alerts(_ rule: String) async throws -> [String] {
                    var found: [String] = []
                    for try await (facility, subject, severity) in try await c.query(
                        "SELECT facility_id, subject, severity FROM alerts WHERE rule = \(rule)", logger: Self.logger
                    ).decode((UUID, String, String).self) { found.append("\(code[facility] ?? "?") \(subject) \(severity)") }
                    return found.sorted()
                }
                // Rubén, implicated at A and (by his identifier) at B: each school's alert names him by its own key.
                #expect(
                    try await alerts("adult_several_facilities")
                        == [
                            "A adult:\(country.ruben.0.uuidString.lowercased()) high",
                            "B adult:\(country.ruben.1.uuidString.lowercased()) high",
                        ].sorted())
                // The pattern at three schools alerts each of them (two jurisdictions); the network spans two, so it does not.
                let pattern = try await strings("SELECT 'pattern:' || id FROM patterns WHERE kind = 'modus_operandi'", on: c)
                #expect(pattern.count == 1)
                #expect(try await alerts("pattern_several_facilities") == ["A", "C", "D"].map { "\($0) \(pattern[0]) high" })
                // Cases: the pattern is one national case covering A, C and D, holding every alert there
                // (one thing to open at each school); B's alert is B's own case; every alert is in one.
                let ring = ["A", "C", "D"].map { country.schools[$0]! }
                #expect(
                    try await strings(
                        """
                        SELECT c.kind || ' ' || c.facility_count || ' ' || array_length(c.jurisdictions, 1) || ' '
                               || (SELECT count(*) FROM alerts a WHERE a.case_id = c.id)
                        FROM cases c WHERE c.status <> 'closed' ORDER BY c.kind
                        """, on: c)
                        == [
                            "facility 1 1 1",
                            "pattern 3 2 \(try await strings("SELECT count(*)::text FROM alerts WHERE facility_id = ANY(\(ring)::uuid[])", on: c)[0])",
                        ])
                #expect(try await strings("SELECT count(*)::text FROM alerts WHERE case_id IS NULL", on: c) == ["0"])
                #expect(
                    try await strings("SELECT 'pattern:' || pattern_id FROM cases WHERE kind = 'pattern'", on: c) == pattern)
                func crossFacility(_ school: String) async throws -> String {
                    try await strings(
                        """
                        SELECT (r->>'points') || ' ' || (r->>'value') FROM risk_scores s, json_array_elements(s.assessment->'reasons') r
                        WHERE s.facility_id = \(country.schools[school]!) AND r->>'code' = 'CROSS_FACILITY'
                        """, on: c
                    ).first ?? "unscored"
                }
                // A: B (Rubén, the network), C and D (the pattern); C: A (Xóchitl, now on C's roster; the
                // pattern) and D; B: A; E: nothing known.
                #expect(try await crossFacility("A") == "20 3")
                #expect(try await crossFacility("C") == "20 2")
                #expect(try await crossFacility("B") == "10 1")
                #expect(try await crossFacility("E") == "0 0")
                // Xóchitl counts at C as her roster entry, tied to A where she is implicated.
                let tie = try await strings(
                    "SELECT counting_key || ' ' || implicated_here || ' ' || array_to_string(implicated_elsewhere, ',') FROM linked_adults WHERE facility_id = \(country.schools["C"]!)",
                    on: c)
                #expect(
                    tie == ["adult:\(country.xochitl.1.uuidString.lowercased()) false \(country.schools["A"]!.uuidString.lowercased())"])
                // A second rebuild finds the same and changes no alert.
                let events = try await strings("SELECT count(*)::text FROM alert_events", on: c)
                _ = try await rebuild(world)
                while try await rescorer.rescoreMarked(on: c) > 0 {}
                #expect(try await strings("SELECT count(*)::text FROM alert_events", on: c) == events)
            }
        }
    }

    func update(_ world: World) async throws -> LinkingRebuilder.Outcome? {
        try await withLane(world) { try await rebuilder.update(reader: $0, writer: $1) }
    }

    /// Rebuilds and updates measure the prior on the identified records: 1,000 of them, 20 pairs
    /// sharing an identifier, so a pair linked on its names carries log2(20 / (1000 · 999 / 2)).
    @Test func theIdentifiedRecordsSetThePriorOfRebuildsAndUpdates() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { c in
                // 980 identified staff at NL001, 20 of them identified again at MTY01.
                try await c.query(
                    """
                    INSERT INTO adults (facility_id, staff_ref, full_name, role, national_id_hmac)
                    SELECT \(world.nuevoLeon.id), 'S-' || g, 'Nombre ' || translate(md5(g::text), '0123456789', 'ghijklmnop'), 'teacher',
                           sha256(('id-' || g)::bytea)
                    FROM generate_series(1, 980) AS g
                    UNION ALL
                    SELECT \(world.monterrey.id), 'S-' || g, 'Nombre ' || translate(md5(g::text), '0123456789', 'ghijklmnop'), 'teacher',
                           sha256(('id-' || g)::bytea)
                    FROM generate_series(1, 20) AS g
                    """, logger: Self.logger)
                // The same rare name and birthday at two schools, no identifier: linked on the evidence.
                for (facility, ref) in [(world.nuevoLeon.id, "X-1"), (world.oaxaca.id, "X-2")] {
                    try await c.query(
                        """
                        INSERT INTO adults (facility_id, staff_ref, full_name, role, date_of_birth)
                        VALUES (\(facility), \(ref), 'Xóchitl Tlacuilo Ayala', 'teacher', '1984-07-02')
                        """, logger: Self.logger)
                }
                let measured = log2(20 / (1_000.0 * 999 / 2))
                func priors() async throws -> [Double] {
                    try await strings("SELECT prior::text FROM adult_links WHERE prior <> 0 ORDER BY found_at", on: c).compactMap(
                        Double.init)
                }
                let rebuilt = try await rebuild(world)
                #expect(rebuilt.links == 21, "\(rebuilt)")
                let afterRebuild = try await priors()
                #expect(afterRebuild.count == 1 && abs(afterRebuild[0] - measured) < 1e-9, "\(afterRebuild) vs \(measured)")
                // An update reads the same counts from the table and measures the same prior.
                try await c.query(
                    """
                    INSERT INTO adults (facility_id, staff_ref, full_name, role, date_of_birth)
                    VALUES (\(world.monterrey.id), 'X-3', 'Xochitl Tlacuilo Ayala', 'teacher', '1984-07-02')
                    """, logger: Self.logger)
                let updated = try #require(try await update(world))
                #expect(updated.records == 1 && updated.links >= 1, "\(updated)")
                let afterUpdate = try await priors()
                #expect(afterUpdate.count >= 2 && afterUpdate.allSatisfy { abs($0 - measured) < 1e-9 }, "\(afterUpdate) vs \(measured)")
            }
        }
    }

    /// An update links only what arrived since the last run, against what was there, and the
    /// new ties reach scores and alerts as after a rebuild.
    @Test func anUpdateLinksWhatArrivedSinceTheLastRun() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { c in
                let country = try await build(world, on: c)
                // No run yet: an update needs a rebuild to start from.
                #expect(try await update(world) == nil)
                _ = try await rebuild(world)
                let links = try await strings("SELECT count(*)::text FROM adult_links", on: c)
                let nothing = try #require(try await update(world))
                #expect(nothing.kind == .update && nothing.records == 0 && nothing.comparisons == 0)
                #expect(try await strings("SELECT count(*)::text FROM adult_links", on: c) == links)
                // A parent at a new school in A's state names Rubén, as written in his roster entry at A.
                let g = try await one(
                    "INSERT INTO facilities (external_code, name, kind, jurisdiction_id) SELECT 'X-G', 'Escuela', 'preschool', jurisdiction_id FROM facilities WHERE id = \(country.schools["A"]!) RETURNING id",
                    on: c)
                let report = try await one(
                    """
                    INSERT INTO incident_reports (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, narrative)
                    VALUES (\(g), current_date - 3, current_date - 3, current_date - 2, 'physical_abuse', 'parent', 'Prueba.')
                    RETURNING id
                    """, on: c)
                try await c.query(
                    "INSERT INTO report_adults (report_id, position, mentioned_name, mentioned_role) VALUES (\(report), 1, 'Rubén Tapia Ochoa', 'teacher')",
                    logger: Self.logger)
                let outcome = try #require(try await update(world))
                #expect(outcome.kind == .update && outcome.records == 1)
                #expect(outcome.links >= 1, "\(outcome)")
                // The mention joins Rubén's person, which now spans A, B and G.
                let mention = try await one("SELECT centinela_mention_record_id(\(report), 1::smallint)", on: c)
                let person = try await strings(
                    """
                    SELECT string_agg(DISTINCT f.external_code, ',' ORDER BY f.external_code) FROM adult_persons p
                    JOIN adult_persons o ON o.person_id = p.person_id JOIN facilities f ON f.id = o.facility_id
                    WHERE p.record_id = \(mention)
                    """, on: c)
                let codes = try await strings(
                    "SELECT external_code FROM facilities WHERE id = ANY (\([country.schools["A"]!, country.schools["B"]!, g])::uuid[]) ORDER BY 1",
                    on: c)
                #expect(person == [codes.joined(separator: ",")])
                let rescorer = Rescorer(model: .v1, logger: Self.logger)
                while try await rescorer.rescoreMarked(on: c) > 0 {}
                let alerted = try await strings(
                    "SELECT subject FROM alerts WHERE rule = 'adult_several_facilities' AND facility_id = \(g)", on: c)
                #expect(alerted.count == 1 && alerted[0].hasPrefix("described:"))
                // A report imported with its receipt date two years back, naming an adult: the next
                // update records the mention all the same.
                let imported = try await one(
                    """
                    INSERT INTO incident_reports (facility_id, received_at, occurred_from, occurred_to, discovered_on, category,
                        reporter_type, narrative, source_system, source_id, imported_at)
                    VALUES (\(g), now() - interval '2 years', current_date - 740, current_date - 740, current_date - 735, 'neglect',
                        'parent', 'Expediente.', 'sep-test', 'EXP-1', now())
                    RETURNING id
                    """, on: c)
                try await c.query(
                    "INSERT INTO report_adults (report_id, position, mentioned_name, mentioned_role) VALUES (\(imported), 1, 'Itzel Tlacuilo Ayala', 'cook')",
                    logger: Self.logger)
                let afterImport = try #require(try await update(world))
                #expect(afterImport.records == 1, "\(afterImport)")
                #expect(
                    try await strings(
                        "SELECT count(*)::text FROM adult_records WHERE id = centinela_mention_record_id(\(imported), 1::smallint)", on: c)
                        == ["1"])
                #expect(
                    try await strings("SELECT kind || ' ' || outcome FROM linking_runs ORDER BY started_at", on: c)
                        == ["rebuild succeeded", "update succeeded", "update succeeded", "update succeeded"])
            }
        }
    }

    @Test func aRejectedPairIsNeverJoinedAndAnAcceptedReviewIs() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { c in
                let country = try await build(world, on: c)
                let token = try await one("SELECT id FROM api_tokens ORDER BY created_at LIMIT 1", on: c)
                func decide(_ pair: (UUID, UUID), _ decision: String) async throws {
                    let (a, b) = pair.0.uuidString.lowercased() < pair.1.uuidString.lowercased() ? pair : (pair.1, pair.0)
                    try await c.query(
                        "INSERT INTO adult_link_decisions (record_a, record_b, decision, actor_id, actor) VALUES (\(a), \(b), \(decision), \(token), 'regulator')",
                        logger: Self.logger)
                }
                try await decide(country.xochitl, "rejected")
                try await decide(country.maria, "accepted")
                let outcome = try await rebuild(world)
                #expect(outcome.persons == 2)
                let grouped = try await strings("SELECT record_id::text FROM adult_persons", on: c)
                #expect(!grouped.contains(country.xochitl.0.uuidString.lowercased()))
                #expect(
                    grouped.contains(country.maria.0.uuidString.lowercased()) && grouped.contains(country.maria.1.uuidString.lowercased()))
            }
        }
    }

    @Test func twoIdentifiersNeverEndUpInOnePersonThroughAThirdRecord() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { c in
                var ids: [UUID] = []
                // The same rare name and birth date three times: two different identifiers, one without.
                for (n, (facility, hash)) in [(world.nuevoLeon.id, "aa"), (world.oaxaca.id, "bb"), (world.monterrey.id, nil as String?)]
                    .enumerated()
                {
                    ids.append(
                        try await one(
                            """
                            INSERT INTO adults (facility_id, staff_ref, full_name, role, national_id_hmac, date_of_birth)
                            VALUES (\(facility), \("T\(n)"), 'Citlali Xicoténcatl Uc', 'teacher', decode(\(hash.map { String(repeating: $0, count: 32) }), 'hex'), '1979-02-03')
                            RETURNING id
                            """, on: c))
                }
                let outcome = try await rebuild(world)
                #expect(outcome.persons == 1)
                let grouped = Set(try await strings("SELECT record_id::text FROM adult_persons", on: c))
                #expect(grouped.count == 2 && grouped.contains(ids[2].uuidString.lowercased()), "\(grouped)")
            }
        }
    }

    @Test func oneRebuildAtATime() async throws {
        try await World.with { world in
            try await world.database.withConnection(logger: Self.logger) { holder in
                try await holder.query("SELECT pg_advisory_lock(7306086629160088184)", logger: Self.logger)
                await #expect(throws: LinkingRebuilder.Failure.alreadyRunning) { try await rebuild(world) }
            }
        }
    }
}
