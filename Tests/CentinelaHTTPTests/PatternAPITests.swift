import CentinelaCore
import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

/// Patterns and linked adults through the API: each regulator sees their own side of what spans states.
@Suite struct PatternAPITests {
    struct Network {
        var nuevoLeon: String, oaxaca: String
        /// Rubén at NL001 and at OAX01 (one person), Omar at NL001 (linked to nobody).
        var rubenHere: String, rubenThere: String, omar: String
    }

    /// Two teachers accused together at NL001 (Nuevo León); one of them, known by the same national
    /// identifier, accused again at OAX01 (Oaxaca).
    static func network(_ world: World) async throws -> Network {
        let logger = TestDatabase.logger
        return try await world.database.withConnection(logger: logger) { c in
            func one(_ query: PostgresQuery) async throws -> UUID {
                var id: UUID?
                for try await value in try await c.query(query, logger: logger).decode(UUID.self) { id = value }
                return try #require(id)
            }
            func staff(_ facility: UUID, _ ref: String, _ name: String, _ hash: String?) async throws -> UUID {
                try await one(
                    """
                    INSERT INTO adults (facility_id, staff_ref, full_name, role, national_id_hmac)
                    VALUES (\(facility), \(ref), \(name), 'teacher', decode(\(hash), 'hex')) RETURNING id
                    """)
            }
            func report(_ facility: UUID, _ adults: [UUID]) async throws -> UUID {
                let id = try await one(
                    """
                    INSERT INTO incident_reports (facility_id, occurred_from, occurred_to, discovered_on, category, reporter_type, mo_tags, narrative)
                    VALUES (\(facility), current_date - 9, current_date - 9, current_date - 8, 'sexual_abuse', 'parent', '{}', 'Prueba.') RETURNING id
                    """)
                for (index, adult) in adults.enumerated() {
                    try await c.query(
                        "INSERT INTO report_adults (report_id, position, adult_id) VALUES (\(id), \(index + 1), \(adult))", logger: logger)
                }
                return id
            }
            let k1 = String(repeating: "cd", count: 32)
            let first = try await staff(world.nuevoLeon.id, "S1", "Rubén Tapia Ochoa", k1)
            let second = try await staff(world.nuevoLeon.id, "S2", "Omar Tovar Urías", nil)
            let moved = try await staff(world.oaxaca.id, "S1", "Ruben Tapia", k1)
            let here = try await report(world.nuevoLeon.id, [first, second])
            let there = try await report(world.oaxaca.id, [moved])
            try await world.database.withConnection(logger: logger) { writer in
                _ = try await LinkingRebuilder(logger: logger).rebuild(reader: c, writer: writer)
            }
            return Network(
                nuevoLeon: here.uuidString.lowercased(), oaxaca: there.uuidString.lowercased(), rubenHere: first.uuidString.lowercased(),
                rubenThere: moved.uuidString.lowercased(), omar: second.uuidString.lowercased())
        }
    }

    @Test func eachRegulatorSeesTheirSideAndWhoHoldsTheRest() async throws {
        try await APITest.run { (api: APITest) async throws in
            let reports = try await Self.network(api.world)
            let mine = try await api.call(.get, "/v1/patterns?kind=network", token: api.world.regulatorToken)
            #expect(mine.status == .ok, "\(mine.body)")
            let pattern = try #require(mine.items.first)
            #expect(mine.items.count == 1)
            #expect(pattern["facilityCount"] as? Int == 2 && pattern["reportCount"] as? Int == 2)
            #expect(
                Set((pattern["jurisdictions"] as? [[String: String]] ?? []).compactMap { $0["code"] }) == ["MX-NL", "MX-OAX"], "\(pattern)")
            #expect((pattern["yourFacilities"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String } == ["NL001"])
            // A network is one group: both facilities, of which this regulator's one.
            let groups = try #require(pattern["groups"] as? [[String: Any]])
            let nuevoLeonID = (pattern["yourFacilities"] as? [[String: Any]])?.first?["id"] as? String
            #expect(groups.count == 1 && groups[0]["facilityCount"] as? Int == 2, "\(pattern)")
            #expect(groups.first?["yourFacilities"] as? [String] == [try #require(nuevoLeonID)])
            let id = try #require(pattern["id"] as? String)

            // Nuevo León's regulator reads its own report only; Oaxaca's, its own.
            let nuevoLeon = try await api.call(.get, "/v1/patterns/\(id)", token: api.world.regulatorToken)
            #expect(nuevoLeon.status == .ok, "\(nuevoLeon.body)")
            #expect((nuevoLeon.json["reports"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == [reports.nuevoLeon])
            let oaxaca = try await api.call(.get, "/v1/patterns/\(id)", token: api.world.otherRegulatorToken)
            #expect((oaxaca.json["reports"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == [reports.oaxaca])
            #expect(try await api.call(.get, "/v1/patterns?kind=modus_operandi", token: api.world.regulatorToken).items.isEmpty)

            // Schools and the operator see none; bad input is refused.
            #expect(try await api.call(.get, "/v1/patterns", token: api.world.schoolToken).status == .forbidden)
            #expect(try await api.call(.get, "/v1/patterns/\(id)", token: api.world.adminToken).status == .forbidden)
            #expect(try await api.call(.get, "/v1/patterns?kind=ring", token: api.world.regulatorToken).status == .badRequest)
            #expect(try await api.call(.get, "/v1/patterns?cursor=nonsense", token: api.world.regulatorToken).status == .badRequest)
            #expect(try await api.call(.get, "/v1/patterns/\(UUID().uuidString)", token: api.world.regulatorToken).status == .notFound)
            #expect(try await api.call(.get, "/v1/patterns/x", token: api.world.regulatorToken).status == .notFound)
        }
    }

    @Test func aLinkedAdultShowsEachRegulatorTheirSideAndWhomToContact() async throws {
        try await APITest.run { (api: APITest) async throws in
            let network = try await Self.network(api.world)
            func ids(_ value: Any?) -> [String] { (value as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
            func codes(_ value: Any?) -> [String] { (value as? [[String: String]] ?? []).compactMap { $0["code"] } }

            let here = try await api.call(.get, "/v1/adults/\(network.rubenHere)", token: api.world.regulatorToken)
            #expect(here.status == .ok, "\(here.body)")
            #expect(here.json["person"] is String)
            #expect(ids(here.json["records"]) == [network.rubenHere])
            #expect(ids(here.json["reports"]) == [network.nuevoLeon])
            #expect(codes(here.json["jurisdictions"]) == ["MX-NL", "MX-OAX"])
            // The link itself joins a record this regulator may not see: not shown.
            #expect((here.json["links"] as? [Any])?.isEmpty == true, "\(here.body)")

            let there = try await api.call(.get, "/v1/adults/\(network.rubenThere)", token: api.world.otherRegulatorToken)
            #expect(ids(there.json["records"]) == [network.rubenThere] && ids(there.json["reports"]) == [network.oaxaca], "\(there.body)")
            #expect(codes(there.json["jurisdictions"]) == ["MX-NL", "MX-OAX"])
            #expect(there.json["person"] as? String == here.json["person"] as? String)

            // Not linked: the adult alone. Not visible: not found, not even that it exists.
            let alone = try await api.call(.get, "/v1/adults/\(network.omar)", token: api.world.regulatorToken)
            #expect(alone.json["person"] is NSNull && codes(alone.json["jurisdictions"]) == ["MX-NL"], "\(alone.body)")
            #expect(try await api.call(.get, "/v1/adults/\(network.rubenHere)", token: api.world.otherRegulatorToken).status == .notFound)
            #expect(try await api.call(.get, "/v1/adults/\(network.rubenHere)", token: api.world.schoolToken).status == .forbidden)
            #expect(try await api.call(.get, "/v1/adults/nope", token: api.world.regulatorToken).status == .notFound)
            #expect(try await api.call(.get, "/v1/adults/\(network.omar)?x=1", token: api.world.regulatorToken).status == .badRequest)
        }
    }
}
