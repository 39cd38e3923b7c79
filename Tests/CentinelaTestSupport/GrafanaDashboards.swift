import Foundation

/// The Grafana dashboards in `Dashboards/`, read as Grafana reads them, so tests can run their
/// queries: SQL against the dashboard views, PromQL's metric names against `/metrics`.
public enum GrafanaDashboards {
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Dashboards")

    /// One query of a panel or a template variable.
    public struct Query: Sendable, CustomStringConvertible {
        public var file: String
        /// The panel's title, or `$name` for a variable.
        public var place: String
        public var datasourceUID: String
        /// SQL (`rawSql`, a variable's `query`) or PromQL (`expr`).
        public var text: String
        /// The panel's type (`stat`, `timeseries`, `table`…); nil for a variable.
        public var panelType: String?

        /// A single-value tile at the top of a dashboard, read at a glance.
        public var isStatTile: Bool { panelType == "stat" }

        public var description: String { "\(file), \(place)" }
    }

    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every query of every dashboard, panels (rows' panels included) and variables.
    public static func queries() throws -> [Query] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw FormatError(description: "no dashboard in \(directory.path)") }
        var queries: [Query] = []
        for file in files {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            guard let dashboard = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw FormatError(description: "\(file) is not a JSON object")
            }
            func uid(_ object: [String: Any]) -> String? { (object["datasource"] as? [String: Any])?["uid"] as? String }
            func walk(_ panels: [[String: Any]]) throws {
                for panel in panels {
                    let title = panel["title"] as? String ?? "?"
                    for target in panel["targets"] as? [[String: Any]] ?? [] {
                        guard let source = uid(target) ?? uid(panel) else {
                            throw FormatError(description: "\(file), \(title): a query without a datasource uid")
                        }
                        guard let text = (target["rawSql"] ?? target["expr"]) as? String else {
                            throw FormatError(description: "\(file), \(title): a query without rawSql or expr")
                        }
                        queries.append(
                            Query(file: file, place: title, datasourceUID: source, text: text, panelType: panel["type"] as? String))
                    }
                    try walk(panel["panels"] as? [[String: Any]] ?? [])
                }
            }
            try walk(dashboard["panels"] as? [[String: Any]] ?? [])
            let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
            for variable in variables where variable["type"] as? String == "query" {
                guard let source = uid(variable), let text = variable["query"] as? String else {
                    throw FormatError(description: "\(file), variable \(variable["name"] ?? "?"): no datasource uid or query")
                }
                queries.append(
                    Query(file: file, place: "$\(variable["name"] as? String ?? "?")", datasourceUID: source, text: text, panelType: nil))
            }
        }
        return queries
    }

    /// The SQL Grafana would send: its macros expanded for a wide time range, each variable
    /// replaced by its values (already quoted). Throws on a macro or variable it does not know,
    /// so a query cannot pass this test by using something the test leaves untouched.
    public static func sql(_ raw: String, variables: [String: String]) throws -> String {
        let from = "'2000-01-01T00:00:00Z'::timestamptz"
        let to = "'2100-01-01T00:00:00Z'::timestamptz"
        var text = raw
        text.replace(#/\$__timeFilter\(\s*([^)]+?)\s*\)/#) { "\($0.1) BETWEEN \(from) AND \(to)" }
        var failure: FormatError?
        text.replace(#/\$__timeGroup(Alias)?\(\s*([^,]+?)\s*,\s*'?(\d+)([smhdw])'?\s*\)/#) { match in
            let unit = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800][String(match.4)] ?? 1
            guard let count = Int(match.3) else {
                failure = FormatError(description: "bad interval in \(match.0)")
                return ""
            }
            let seconds = count * unit
            let group = "to_timestamp(floor(extract(epoch FROM \(match.2)) / \(seconds)) * \(seconds))"
            return match.1 == nil ? group : "\(group) AS \"time\""
        }
        if let failure { throw failure }
        text.replace("$__timeFrom()", with: from)
        text.replace("$__timeTo()", with: to)
        for (name, value) in variables {
            text.replace("${\(name):sqlstring}", with: value)
            text.replace("${\(name)}", with: value)
            text.replace(try Regex("\\$\(name)\\b"), with: value)
        }
        if let left = text.firstMatch(of: #/\$[A-Za-z_{][A-Za-z0-9_:}]*/#) {
            throw FormatError(description: "unknown macro or variable \(left.0)")
        }
        return text
    }

    /// The metric names a PromQL expression reads: identifiers that are not functions, keywords,
    /// labels (in matchers or grouping clauses) or parts of a range.
    public static func metricNames(inPromQL expression: String) -> Set<String> {
        var text = expression
        text.replace(#/"(?:[^"\\]|\\.)*"/#, with: " ")
        text.replace(#/\{[^}]*\}/#, with: " ")
        text.replace(#/\[[^\]]*\]/#, with: " ")
        text.replace(#/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/#, with: " ")
        let keywords: Set<String> = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"]
        var names: Set<String> = []
        for match in text.matches(of: #/\b([A-Za-z_:][A-Za-z0-9_:]*)\b(?!\s*\()/#) {
            let name = String(match.1)
            if !keywords.contains(name) { names.insert(name) }
        }
        return names
    }
}
