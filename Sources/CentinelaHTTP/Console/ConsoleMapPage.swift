import CentinelaCore
import CentinelaStore
import Foundation
import Hummingbird

/// A regulator's map of Mexico by state, shaded by the cases not closed in their scope, each
/// state a link to its facilities by risk score; and that list of facilities.
///
/// The map is a tile grid (one equal square per state, placed as the states lie), drawn here: no
/// openly licensed state boundary file could be vendored (Natural Earth's public-domain states of
/// Mexico come only in its 10 m admin-1 file, hundreds of megabytes), and equal tiles keep Mexico
/// City, Tlaxcala and Morelos as large a target for a finger or a pointer as Chihuahua (decision 40).
struct ConsoleMapPage {
    let database: ServiceDatabase
    var renderer: ConsoleRenderer {
        get throws { try ConsoleRenderer.shared.get() }
    }

    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("map", use: map)
        routes.get("facilities", use: facilities)
        return routes
    }

    /// Each state's tile, by its ISO 3166-2 code (the suffix of the jurisdiction's code): column
    /// and row on a 10 × 5 grid, north-west first.
    static let tiles: [String: (column: Int, row: Int)] = [
        "BCN": (0, 0), "SON": (1, 0), "CHH": (2, 0), "COA": (3, 0), "NLE": (4, 0),
        "BCS": (0, 1), "SIN": (1, 1), "DUR": (2, 1), "ZAC": (3, 1), "SLP": (4, 1), "TAM": (5, 1),
        "NAY": (1, 2), "AGU": (2, 2), "GUA": (3, 2), "QUE": (4, 2), "HID": (5, 2), "VER": (6, 2), "YUC": (8, 2),
        "JAL": (1, 3), "MIC": (2, 3), "MEX": (3, 3), "CMX": (4, 3), "TLA": (5, 3), "PUE": (6, 3), "TAB": (7, 3), "CAM": (8, 3),
        "ROO": (9, 3),
        "COL": (1, 4), "GRO": (3, 4), "MOR": (4, 4), "OAX": (5, 4), "CHP": (6, 4),
    ]
    /// Other codes in use for some states (INEGI's and older abbreviations) → the ISO code.
    static let aliases = ["NL": "NLE", "BC": "BCN", "DF": "CMX", "CDMX": "CMX", "QROO": "ROO", "QR": "ROO", "EM": "MEX", "MEXICO": "MEX"]

    static let tileSize = 56
    static let gap = 4

    /// The tile of a state's jurisdiction code (`MX-JAL`, `MX-NL`), if it is one of Mexico's 32.
    static func tile(of code: String) -> (column: Int, row: Int)? {
        guard code.hasPrefix("MX-") else { return nil }
        let suffix = String(code.dropFirst(3))
        return tiles[aliases[suffix] ?? suffix]
    }

    /// The shade of a state with `cases` not closed: 0 (none) to 4 (ten or more).
    static func shade(_ cases: Int) -> Int {
        switch cases {
        case 0: 0
        case 1: 1
        case 2...4: 2
        case 5...9: 3
        default: 4
        }
    }

    struct Page {
        struct Tile {
            var x: Int
            var y: Int
            var labelX: Int
            var abbreviation: String
            var countY: Int
            var name: String
            var cases: Int
            var shade: Int
            var href: String?
            var label: String
        }
        struct Row {
            var name: String
            var code: String
            var cases: Int
            var facilities: Int
            var href: String?
        }
        struct Legend {
            var shade: Int
            var label: String
        }
        var tiles: [Tile]
        var rows: [Row]
        var legend: [Legend]
        var width: Int
        var height: Int
        var heading: String
        var none: Bool
    }

    @Sendable func map(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let visit = context.visit()
        let renderer = try renderer
        let caller = context.caller(session.principal)
        let counts = try await CaseDesk(database: database).openByState(caller: caller)
        let byState = Dictionary(counts.map { ($0.state, $0) }, uniquingKeysWith: { first, _ in first })
        let states = try await FacilityRegister(database: database).jurisdictions(caller: caller).map(\.jurisdiction)
            .filter { $0.level == .state }.sorted { $0.name < $1.name }
        let step = Self.tileSize + Self.gap
        var tiles: [Page.Tile] = []
        var rows: [Page.Row] = []
        for state in states {
            let mine = session.principal.jurisdictionIDs.contains(state.id)
            let cases = byState[state.code]?.cases ?? 0
            let href = mine ? "/console/facilities?within=\(state.code)" : nil
            let label =
                mine
                ? renderer.text("map.state_label", visit, ["name": state.name, "cases": "\(cases)"])
                : renderer.text("map.state_outside", visit, ["name": state.name])
            if let tile = Self.tile(of: state.code) {
                let x = tile.column * step
                let y = tile.row * step
                tiles.append(
                    .init(
                        x: x, y: y, labelX: x + Self.tileSize / 2, abbreviation: String(state.code.dropFirst(3).prefix(4)),
                        countY: y + 42, name: state.name, cases: cases, shade: mine ? Self.shade(cases) : -1, href: href, label: label))
            }
            if mine {
                rows.append(
                    .init(name: state.name, code: state.code, cases: cases, facilities: byState[state.code]?.facilities ?? 0, href: href))
            }
        }
        let page = Page(
            tiles: tiles, rows: rows.sorted { ($0.cases, $1.name) > ($1.cases, $0.name) },
            legend: [
                (0, "map.legend.none"), (1, "map.legend.one"), (2, "map.legend.few"), (3, "map.legend.several"), (4, "map.legend.many"),
            ]
            .map { .init(shade: $0.0, label: renderer.text($0.1, visit)) },
            width: 10 * step - Self.gap, height: 5 * step - Self.gap, heading: renderer.text("map.heading", visit), none: rows.isEmpty)
        return renderer.response("map", title: page.heading, visit: visit, request: request, page: page)
    }

    // MARK: A state's facilities

    struct FacilitiesPage {
        struct Row {
            var href: String
            var name: String
            var code: String
            var jurisdiction: String
            var score: String
            var band: String
            var bandCode: String
        }
        var heading: String
        var total: Int
        var rows: [Row]
        var empty: Bool
        var next: String?
    }

    static let pageSize = 50

    /// Facilities within a jurisdiction (a state and its municipalities), highest risk first.
    @Sendable func facilities(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try context.consoleSession(for: [.regulator])
        let visit = context.visit()
        let renderer = try renderer
        let caller = context.caller(session.principal)
        let query = request.uri.queryParameters
        guard let within = query["within"].map(String.init), !within.isEmpty, within.count <= 64 else { throw Problem.notFound() }
        let register = FacilityRegister(database: database)
        guard let place = try await register.jurisdictions(caller: caller).map(\.jurisdiction).first(where: { $0.code == within }),
            session.principal.jurisdictionIDs.contains(place.id)
        else { throw Problem.notFound() }
        let cursor = query["after"].flatMap { ScoreCursor(text: String($0)) }
        let (items, total) = try await register.facilities(
            FacilityFilter(withinCode: within), order: .score(after: cursor), limit: Self.pageSize + 1, total: true, caller: caller)
        let shown = items.prefix(Self.pageSize)
        let encoded = ConsoleFormat.queryValue(within)
        let page = FacilitiesPage(
            heading: renderer.text("map.facilities_heading", visit, ["name": place.name]), total: total ?? shown.count,
            rows: shown.map { record in
                .init(
                    href: "/console/facilities/\(record.facility.id)", name: record.facility.name, code: record.facility.externalCode,
                    jurisdiction: record.jurisdictionCode, score: record.risk.map { ConsoleFormat.points($0.score) } ?? "—",
                    band: record.risk.map { renderer.text("band.\($0.band.rawValue)", visit) } ?? renderer.text("map.not_scored", visit),
                    bandCode: record.risk?.band.rawValue ?? "none")
            },
            empty: shown.isEmpty,
            next: items.count > Self.pageSize
                ? shown.last.map {
                    "/console/facilities?within=\(encoded)&after="
                        + ScoreCursor(score: $0.risk?.score ?? -1, total: $0.risk?.total ?? -1, code: $0.facility.externalCode).text
                } : nil)
        return renderer.response("facilities", title: page.heading, visit: visit, request: request, page: page)
    }
}
