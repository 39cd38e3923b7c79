import CentinelaCore
import CentinelaStore
import Foundation
import Hummingbird

/// Patterns in the console: the list (reports alike in their tactics across schools, and
/// networks of adults accused together), and one pattern — what its reports share in words, its
/// time span, its schools and reports, and the network of adults and schools drawn on the server.
struct ConsolePatternPages {
    let database: ServiceDatabase
    var desk: LinkingDesk { LinkingDesk(database: database) }

    static let pageSize = 50
    /// People drawn in a network; more are listed, not drawn.
    static let drawnPeople = 60

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("patterns", use: list)
        routes.get("patterns/{id}", use: pattern)
        return routes
    }

    struct ListPage {
        struct Row {
            var href: String
            var kind: String
            var signature: String
            var facilities: Int
            var reports: Int
            var jurisdictions: String
            var span: String
        }
        var heading: String
        var rows: [Row]
        var empty: Bool
        var next: String?
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let cursor = request.uri.queryParameters["after"].flatMap { InstantCursor(text: String($0)) }
        let (items, _) = try await desk.patterns(
            kind: nil, after: cursor, limit: Self.pageSize + 1, caller: context.caller(session.principal))
        let shown = items.prefix(Self.pageSize)
        let page = ListPage(
            heading: renderer.text("patterns.heading", visit),
            rows: shown.map { record in
                .init(
                    href: "/console/patterns/\(record.id.uuidString.lowercased())",
                    kind: renderer.text("pattern.kind.\(record.kind)", visit),
                    signature: Self.signature(record.signature, renderer: renderer, visit: visit), facilities: record.facilities,
                    reports: record.reports, jurisdictions: record.jurisdictions.map(\.name).joined(separator: ", "),
                    span: Self.span(record, visit.language))
            },
            empty: shown.isEmpty,
            next: items.count > Self.pageSize
                ? shown.last.map { "/console/patterns?after=" + InstantCursor($0.lastReceived, id: $0.id).text } : nil)
        return renderer.response("patterns", title: page.heading, visit: visit, request: request, page: page)
    }

    /// A signature in words: tactics, the kind of incident, several adults.
    static func patternID(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else { throw Problem.notFound() }
        return id
    }

    static func signature(_ features: [String], renderer: ConsoleRenderer, visit: ConsoleVisit) -> String {
        features.map { feature in
            let parts = feature.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return feature }
            let key =
                switch parts[0] {
                case "mo": "report.tactic.\(parts[1])"
                case "category": "report.category.\(parts[1])"
                default: "pattern.feature.\(parts[0]).\(parts[1])"
                }
            let said = renderer.text(key, visit)
            return said == key ? feature : said
        }.joined(separator: ", ")
    }

    static func span(_ record: PatternRecord, _ language: ConsoleLanguage) -> String {
        let day = { (date: Date) in String(date.ISO8601Format().prefix(10)) }
        return "\(day(record.firstReceived)) – \(day(record.lastReceived))"
    }

    struct Page {
        struct FacilityRow {
            var href: String
            var name: String
            var code: String
            var jurisdiction: String
            var group: Int
        }
        struct ReportRow {
            var href: String
            var received: String
            var facility: String
            var category: String
            var tactics: String
        }
        var heading: String
        var kind: String
        var summary: String
        var signature: String
        var span: String
        var facilities: [FacilityRow]
        var reports: [ReportRow]
        var network: PatternNetwork?
        var people: [PatternNetwork.Person]
        /// The pattern's case file (every report of its schools the regulator may see, whole).
        var fileHref: String
    }

    @Sendable func pattern(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let id = try Self.patternID(context)
        let visit = context.visit()
        let renderer = try ConsoleRenderer.shared.get()
        let (record, reports, ties) = try await desk.patternDossier(id, caller: context.caller(session.principal))
        let names = Dictionary(record.visibleFacilities.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let network = PatternNetwork(ties: ties, facilityNames: names, limit: Self.drawnPeople)
        let page = Page(
            heading: renderer.text(
                "pattern.heading.\(record.kind)", visit, ["facilities": "\(record.facilities)", "reports": "\(record.reports)"]),
            kind: renderer.text("pattern.kind.\(record.kind)", visit),
            summary: renderer.text(
                "pattern.summary", visit,
                [
                    "facilities": "\(record.facilities)", "reports": "\(record.reports)",
                    "jurisdictions": record.jurisdictions.map(\.name).joined(separator: ", "),
                ]),
            signature: Self.signature(record.signature, renderer: renderer, visit: visit), span: Self.span(record, visit.language),
            facilities: record.visibleFacilities.map {
                .init(
                    href: "/console/facilities/\($0.id)", name: $0.name, code: $0.code, jurisdiction: $0.jurisdictionCode, group: $0.group)
            },
            reports: reports.map { report in
                .init(
                    href: "/console/reports/\(report.id)", received: ConsoleFormat.instant(report.receivedAt, visit.language),
                    facility: "\(report.facilityName) (\(report.facilityCode))",
                    category: renderer.text("report.category.\(report.category)", visit),
                    tactics: report.modusOperandi.map { renderer.text("report.tactic.\($0)", visit) }.joined(separator: ", "))
            },
            network: network.people.isEmpty ? nil : network, people: network.people,
            fileHref: "/console/patterns/\(id.uuidString.lowercased())/file")
        return renderer.response("pattern", title: page.heading, visit: visit, request: request, page: page)
    }
}

/// The adults and schools of a pattern as a two-column drawing: schools on the left, people on
/// the right, a line for each school where a report names the person. People named at two or more
/// schools — the ties that make one case of several — are drawn first and stand out.
struct PatternNetwork {
    struct Node {
        var label: String
        var y: String
        var bridge: Bool
    }
    struct Line {
        var y1: String
        var y2: String
        var bridge: Bool
    }
    struct Person {
        var name: String
        var facilities: String
        var facilityCount: Int
        var bridge: Bool
    }
    var schools: [Node]
    var nodes: [Node]
    var lines: [Line]
    var height: String
    var people: [Person]
    var omitted: Int

    static let row = 30.0

    /// A label that fits its column (the full name is in the table below the drawing).
    static func short(_ text: String) -> String { text.count > 42 ? String(text.prefix(41)) + "…" : text }

    init(ties: [PatternTie], facilityNames: [Facility.ID: String], limit: Int) {
        // One node per person: the name most reports give them, the schools that name them.
        var byPerson: [UUID: (names: [String: Int], facilities: Set<Facility.ID>)] = [:]
        for tie in ties {
            byPerson[tie.person, default: ([:], [])].names[tie.name, default: 0] += 1
            byPerson[tie.person, default: ([:], [])].facilities.insert(tie.facilityID)
        }
        let ordered = byPerson.map { person, seen in
            (
                person: person, name: seen.names.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "",
                facilities: seen.facilities
            )
        }.sorted { ($0.facilities.count, $1.name) > ($1.facilities.count, $0.name) }
        let drawn = Array(ordered.prefix(limit))
        let schoolIDs = Set(drawn.flatMap(\.facilities)).sorted { (facilityNames[$0] ?? "") < (facilityNames[$1] ?? "") }
        let schoolRow = Dictionary(uniqueKeysWithValues: schoolIDs.enumerated().map { ($1, $0) })
        func y(_ index: Int) -> String { ConsoleFormat.points(Self.row / 2 + Double(index) * Self.row) }
        schools = schoolIDs.enumerated().map { index, id in
            Node(label: Self.short(facilityNames[id] ?? "—"), y: y(index), bridge: false)
        }
        nodes = drawn.enumerated().map { index, person in
            Node(label: Self.short(person.name), y: y(index), bridge: person.facilities.count > 1)
        }
        lines = drawn.enumerated().flatMap { index, person in
            person.facilities.compactMap { schoolRow[$0] }.sorted().map {
                Line(y1: y($0), y2: y(index), bridge: person.facilities.count > 1)
            }
        }
        height = ConsoleFormat.points(Double(max(schools.count, nodes.count)) * Self.row)
        people = ordered.map { person in
            Person(
                name: person.name, facilities: person.facilities.compactMap { facilityNames[$0] }.sorted().joined(separator: ", "),
                facilityCount: person.facilities.count, bridge: person.facilities.count > 1)
        }
        omitted = max(0, ordered.count - drawn.count)
    }
}
