import CentinelaCore
import CentinelaSimulation
import Foundation
import Testing

@Suite struct SimulationTests {
    struct Collector: SimulationSink {
        var facilities: [SimulatedFacility] = []
        var adults: [SimulatedAdult] = []
        var reports: [SimulatedReport] = []
        var jurisdictions = 0
        mutating func write(_ jurisdiction: SimulatedJurisdiction) throws { jurisdictions += 1 }
        mutating func write(_ facility: SimulatedFacility) throws { facilities.append(facility) }
        mutating func write(_ adult: SimulatedAdult) throws { adults.append(adult) }
        mutating func write(_ report: SimulatedReport) throws { reports.append(report) }
    }

    static let end = CalendarDate("2026-11-30")!

    func run(seed: UInt64 = 1) throws -> (GroundTruth, Collector) {
        var sink = Collector()
        let truth = try Simulation(SimulationConfiguration(seed: seed, scale: .tiny, end: Self.end)).run(into: &sink)
        return (truth, sink)
    }

    @Test func theSameSeedGivesTheSameWorld() throws {
        let (a, rowsA) = try run()
        let (b, rowsB) = try run()
        #expect(a == b)
        #expect(rowsA.reports.map(\.id) == rowsB.reports.map(\.id))
        #expect(rowsA.adults.map(\.fullName) == rowsB.adults.map(\.fullName))
        let (c, _) = try run(seed: 2)
        #expect(c.rings != a.rings)
    }

    @Test func countsMatchTheRows() throws {
        let (truth, rows) = try run()
        #expect(truth.counts.facilities == 300 && rows.facilities.count == 300)
        #expect(truth.counts.jurisdictions == 33 && rows.jurisdictions == 33)
        #expect(truth.counts.adults == rows.adults.count)
        #expect(truth.counts.reports == rows.reports.count)
        #expect(truth.counts.reportChildren == rows.reports.reduce(0) { $0 + $1.children.count })
        #expect(Set(rows.facilities.map(\.code)).count == 300)
        #expect(Set(rows.reports.map(\.id)).count == rows.reports.count)
    }

    @Test func ringsArePlantedAsDescribed() throws {
        let (truth, rows) = try run()
        #expect(truth.rings.count == 3)
        let reportsByID = Dictionary(uniqueKeysWithValues: rows.reports.map { ($0.id.uuidString.lowercased(), $0) })
        for ring in truth.rings {
            #expect((2...11).contains(ring.members.count), "\(ring.id)")
            #expect(!ring.facilities.isEmpty)
            #expect(ring.signature.count >= 4, "several rare tags plus several adults present")
            #expect(ring.reports.count >= 3)
            for id in ring.reports {
                let report = try #require(reportsByID[id])
                #expect(report.adults.count >= 1)
                #expect(Set(report.tags.map(\.rawValue)).isSubset(of: Set(ring.signature)))
            }
            for member in ring.members { #expect(!member.records.isEmpty, "\(member.person)") }
        }
        for lone in truth.loneOffenders { #expect((2...5).contains(lone.reports.count)) }
    }

    @Test func reportsAreValidAndMostFacilitiesHaveFew() throws {
        let (_, rows) = try run()
        let withReports = Set(rows.reports.map(\.facilityID))
        #expect(withReports.count < rows.facilities.count)
        for report in rows.reports {
            #expect(report.occurredFrom <= report.occurredTo)
            #expect(report.discoveredOn >= report.occurredFrom)
            #expect(report.discoveredOn <= Self.end)
            #expect(report.receivedAt / 86_400 >= Int64(report.discoveredOn.daysSinceEpoch))
            #expect(report.receivedAt / 86_400 <= Int64(Self.end.daysSinceEpoch), "nothing is received after the last day")
            for change in report.statusChanges {
                #expect(change.secondsSince1970 > report.receivedAt)
                #expect(change.secondsSince1970 < Int64(Self.end.daysSinceEpoch + 1) * 86_400)
            }
            for child in report.children {
                #expect(ReportSubmission.childReferenceProblem(child.reference) == nil)
                #expect((0...17).contains(child.ageYears))
            }
        }
    }

    @Test func samePersonRecordsAreWrittenDifferently() throws {
        let (truth, _) = try run()
        #expect(!truth.samePerson.isEmpty)
        for person in truth.samePerson {
            #expect(person.records.count >= 2)
            #expect(Set(person.records.map(\.facility)).count == person.records.count, "one record per facility")
        }
        var rng = SeededRandom(seed: 9)
        let name = SpanishNames.PersonName(given: "José Luis", paternal: "Hernández", maternal: "Gómez")
        for _ in 0..<50 { #expect(SpanishNames.variant(of: name, &rng) != name) }
        #expect(SpanishNames.stripAccents("Ñoño Gómez Álvarez") == "Nono Gomez Alvarez")
    }

    @Test func theGeneratorIsReproducibleAndUniform() {
        var a = SeededRandom(seed: 42)
        var b = SeededRandom(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var rng = SeededRandom(seed: 7)
        var buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<10_000 { buckets[rng.below(10)] += 1 }
        #expect(buckets.allSatisfy { (850...1150).contains($0) })
        #expect(CalendarDate(daysSinceEpoch: 0).description == "1970-01-01")
        #expect(CalendarDate(daysSinceEpoch: CalendarDate("2024-02-29")!.daysSinceEpoch).description == "2024-02-29")
    }
}

@Suite struct DetectionQualityTests {
    static func truth() -> GroundTruth {
        var truth = GroundTruth(configuration: SimulationConfiguration(seed: 1, scale: .tiny, end: CalendarDate("2026-11-30")!))
        truth.rings = [
            .init(id: "R1", facilities: ["A", "B"], signature: [], members: [], reports: []),
            .init(id: "R2", facilities: ["C"], signature: [], members: [], reports: []),
            .init(id: "R3", facilities: ["D"], signature: [], members: [], reports: []),
        ]
        return truth
    }

    @Test func scoresTheTopKAgainstThePlantedFacilities() {
        let perfect = DetectionQuality(ranking: ["C", "A", "D", "B", "X"], truth: Self.truth())
        #expect(perfect.k == 4)
        #expect(perfect.precisionAtK == 1)
        #expect(perfect.ringRecall == 1)
        let partial = DetectionQuality(ranking: ["A", "X", "Y", "C", "D", "B"], truth: Self.truth())
        #expect(partial.ringFacilitiesInTopK == 2)
        #expect(partial.precisionAtK == 0.5)
        #expect(partial.ringsFound == 2)
        let none = DetectionQuality(ranking: ["X", "Y", "Z", "W"], truth: Self.truth())
        #expect(none.precisionAtK == 0 && none.ringRecall == 0)
    }
}

extension SimulationTests {
    /// The young-register scale: partial rosters, movers named years apart and written short,
    /// namesakes of common names in other states and roles.
    @Test func aYoungRegisterIsPlantedAsDescribed() throws {
        var sink = Collector()
        let truth = try Simulation(SimulationConfiguration(seed: 3, scale: .young, end: Self.end)).run(into: &sink)
        #expect(truth.configuration.youngRegister && truth.counts.facilities == 300)
        #expect(truth.counts.adults == sink.adults.count)
        // Few rosters uploaded: far fewer records than the tiny scale's full rosters.
        var tiny = Collector()
        _ = try Simulation(SimulationConfiguration(seed: 3, scale: .tiny, end: Self.end)).run(into: &tiny)
        #expect(sink.adults.count * 3 < tiny.adults.count, "\(sink.adults.count) vs \(tiny.adults.count)")
        let facility = Dictionary(uniqueKeysWithValues: sink.facilities.map { ($0.code, $0) })
        let adult = Dictionary(uniqueKeysWithValues: sink.adults.map { ("\($0.facilityID)/\($0.staffRef)", $0) })
        func find(_ record: GroundTruth.Record) throws -> SimulatedAdult {
            let place = try #require(facility[record.facility])
            return try #require(adult["\(place.id)/\(record.staffRef)"])
        }
        // Namesakes: one name, two facilities in different states, different roles, no identifier.
        #expect(truth.namesakes.count == 15)
        for pair in truth.namesakes {
            let (a, b) = (try find(pair[0]), try find(pair[1]))
            #expect(a.fullName == b.fullName)
            #expect(facility[pair[0].facility]!.jurisdictionID != facility[pair[1].facility]!.jurisdictionID)
            #expect(a.role != b.role && a.nationalID == nil && b.nationalID == nil)
        }
        // Movers: named in a report at each school, a year or more apart, in the same role.
        let movers = truth.samePerson.filter { $0.person.hasPrefix("M") }
        #expect(movers.count == 30)
        var yearsApart = 0
        var shortened = 0
        for mover in movers {
            let records = try mover.records.map(find)
            #expect(records.count == 2 && records[0].role == records[1].role)
            let days = records.map { record in
                sink.reports.filter { report in
                    report.facilityID == record.facilityID
                        && report.adults.contains {
                            switch $0 {
                            case .rostered(let id): id == record.id
                            case .described(let name, _): name == record.fullName
                            }
                        }
                }
                .map { $0.receivedAt / 86_400 }.min()
            }
            if let first = days[0], let second = days[1], abs(second - first) >= 365 { yearsApart += 1 }
            let given = records.map { $0.fullName.split(separator: " ").first.map(String.init) ?? "" }
            if given[0] != given[1] { shortened += 1 }
        }
        #expect(yearsApart >= 25, "\(yearsApart) of 30 movers named a year or more apart")
        #expect(shortened >= 5, "\(shortened) movers written with another given name (abbreviation, nickname, one part)")
    }

    @Test func otherScalesAreUnchangedByTheYoungRegister() throws {
        // Every facility's roster is written, and no namesakes are planted.
        let (truth, rows) = try run()
        #expect(truth.namesakes.isEmpty && !truth.configuration.youngRegister)
        #expect(truth.counts.adults == rows.adults.count)
        #expect(Set(rows.adults.map(\.facilityID)).count == 300)
        #expect(truth.samePerson.filter { $0.person.hasPrefix("M") }.count == 12)
    }
}

@Suite struct LinkingQualityTests {
    @Test func namesakesAndAlertsOnFalseLinksAreCounted() {
        var truth = GroundTruth(configuration: SimulationConfiguration(seed: 1, scale: .young, end: CalendarDate("2026-11-30")!))
        func record(_ code: String) -> GroundTruth.Record { .init(facility: code, staffRef: "1", name: "x") }
        func found(_ codes: String...) -> [LinkingQuality.Record] { codes.map { .init(facility: $0, staffRef: "1") } }
        truth.samePerson = [.init(person: "M1", records: [record("A"), record("B")])]
        truth.namesakes = [[record("C"), record("D")], [record("E"), record("F")]]
        let quality = LinkingQuality(
            persons: [found("A", "B"), found("C", "D")], patterns: [], truth: truth,
            adultAlerts: [
                .init(facility: "A", records: found("A", "B")),  // the mover: true
                .init(facility: "C", records: found("C", "D")),  // namesakes linked: false
                .init(facility: "G", records: []),  // about no linked person: false
            ])
        #expect(quality.namesakePairs == 2 && quality.namesakePairsLinked == 1)
        #expect(quality.adultAlerts == 3 && quality.falseAdultAlerts == 2)
    }

    @Test func pairsBCubedRingsAndFalsePatternsAreCountedAsDocumented() {
        var truth = GroundTruth(configuration: SimulationConfiguration(seed: 1, scale: .tiny, end: CalendarDate("2026-11-30")!))
        func records(_ codes: String...) -> [GroundTruth.Record] { codes.map { .init(facility: $0, staffRef: "1", name: "x") } }
        truth.samePerson = [.init(person: "P1", records: records("A", "B")), .init(person: "P2", records: records("C", "D", "E"))]
        truth.rings = [
            .init(id: "R1", facilities: ["A", "B"], signature: [], members: [], reports: ["r1", "r2", "r3"]),
            .init(id: "R2", facilities: ["C", "D"], signature: [], members: [], reports: ["r4", "r5"]),
            .init(id: "R3", facilities: ["E"], signature: [], members: [], reports: ["r6"]),
        ]
        truth.counts.facilities = 20_000
        func found(_ codes: String...) -> [LinkingQuality.Record] { codes.map { .init(facility: $0, staffRef: "1") } }
        let patterns: [LinkingQuality.FoundPattern] = [
            // A style holding R1 at both its facilities, and an ordinary complaint elsewhere: true.
            .init(kind: "modus_operandi", reports: ["r1": "A", "r2": "B", "x": "Z"]),
            // A style shared by two rings (R2 at both its facilities) and one complaint: true.
            .init(kind: "modus_operandi", reports: ["r4": "C", "r5": "D", "r6": "E", "y": "Y"]),
            // A network mostly of complaints no single ring made: false.
            .init(kind: "network", reports: ["x": "Z", "y": "Y", "r6": "E"]),
            // A style of ordinary complaints only: false.
            .init(kind: "modus_operandi", reports: ["x": "Z", "y": "Y", "z": "W"]),
        ]
        let quality = LinkingQuality(
            persons: [found("A", "B"), found("C", "D"), found("F", "G")], patterns: patterns, truth: truth,
            cases: [["A", "B", "Z"], ["B"], ["C"]])
        #expect(quality.truePairs == 4 && quality.foundPairs == 3 && quality.correctPairs == 2)
        #expect(abs(quality.pairPrecision - 2.0 / 3) < 1e-9 && quality.pairRecall == 0.5)
        // Seven records considered; precision 6/7 and recall (4 + 2·2/3 + 1/3)/7 on average.
        let p = 6.0 / 7
        let r = (4 + 4.0 / 3 + 1.0 / 3) / 7
        #expect(abs(quality.bCubedF1 - 2 * p * r / (p + r)) < 1e-9)
        #expect(quality.multiFacilityRings == 2 && quality.ringsRecovered == 2 && quality.ringRecall == 1)
        #expect(quality.patterns == 4 && quality.falsePatterns == 2 && quality.falsePatternsPer10kFacilities == 1)
        #expect(quality.style.patterns == 3 && quality.style.falsePatterns == 1 && quality.style.ringsPerPattern == 1.5)
        #expect(
            quality.style.facilitiesOutsideRings == 3 && quality.style.largestFacilities == 4 && quality.style.largestShare == 4.0 / 20_000)
        #expect(quality.network.patterns == 1 && quality.network.falsePatterns == 1 && quality.network.facilitiesOutsideRings == 2)
        #expect(
            quality.largestRing
                == LinkingQuality.RingFigures(
                    ring: "R1", facilities: 2, inLargestPattern: 2, patterns: 1, otherFacilities: 1, inLargestCase: 2, casesPerFacility: 1.5
                ))
        // A pattern holding a ring's reports at only one of its facilities does not recover it.
        let once = LinkingQuality(
            persons: [], patterns: [.init(kind: "modus_operandi", reports: ["r1": "A", "r6": "E", "x": "Z"])], truth: truth)
        #expect(once.ringsRecovered == 0)
    }
}
