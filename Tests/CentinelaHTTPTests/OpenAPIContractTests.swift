import CentinelaHTTP
import CentinelaTestSupport
import Foundation
import HTTPTypes
import Testing
import Yams

/// What openapi.yaml promises: path → method → documented statuses, read with a real YAML parser
/// (a line reader once let an invalid document ship).
struct OpenAPIContract {
    var operations: [String: [String: Set<Int>]] = [:]

    static let shared = OpenAPIContract(text: OpenAPIDocument.text)

    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// The whole document as parsed (empty when it does not parse).
    static func parse(_ text: String) -> [String: Any] { ((try? Yams.load(yaml: text)) as? [String: Any]) ?? [:] }

    init(text: String) {
        let document = Self.parse(text)
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for (method, operation) in item as? [String: Any] ?? [:] where Self.methods.contains(method) {
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]
                operations[path, default: [:]][method.uppercased()] = Set(responses.keys.compactMap { Int($0) })
            }
        }
    }

    /// The documented path template a concrete path matches, e.g. /v1/reports/{id}.
    func template(for path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return operations.keys.sorted().first { template in
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count else { return false }
            return zip(parts, segments).allSatisfy { part, segment in
                (part.hasPrefix("{") && part.hasSuffix("}") && !segment.isEmpty) || part == segment
            }
        }
    }

    /// Whether the document lists this answer for this request (HEAD is documented by GET).
    func documents(_ method: HTTPRequest.Method, _ uri: String, _ status: Int) -> Bool {
        let path = String(uri.split(separator: "?", maxSplits: 1).first ?? "")
        guard let template = template(for: path) else { return false }
        let name = method == .head ? "GET" : method.rawValue
        guard let statuses = operations[template]?[name] else {
            return status == 405  // an undocumented method on a documented path is refused, as HTTP says
        }
        return statuses.contains(status)
    }
}

@Suite struct OpenAPIContractTests {
    @Test func theDocumentDescribesExactlyTheServedRoutes() {
        let contract = OpenAPIContract.shared
        var served: [String: Set<String>] = [:]
        let routes = servedRoutes(.offline)
        #expect(routes["/v1/reports"]?.contains(.post) == true && routes["/healthz"] == [.get, .head], "\(routes)")
        for (path, methods) in routes {
            served[path] = Set(methods.filter { $0 != .head }.map(\.rawValue))
        }
        let documented = contract.operations.mapValues { Set($0.keys) }
        #expect(documented == served)
        #expect(contract.operations.values.flatMap(\.values).allSatisfy { !$0.isEmpty }, "every operation lists its responses")
        #expect(OpenAPIContract.parse(OpenAPIDocument.text)["openapi"] as? String == "3.1.0")
        // The reader itself: what it must find, and must not.
        #expect(contract.operations["/v1/reports"]?["POST"] == [201, 400, 401, 403, 404, 409, 413, 415, 422, 429, 503])
        #expect(contract.documents(.get, "/v1/reports/0b5c?limit=1", 404))
        #expect(!contract.documents(.get, "/v1/reports/0b5c", 500))
        #expect(!contract.documents(.get, "/v1/nothing", 200))
    }

    /// Mistakes a YAML parser accepts but OpenAPI tools refuse: a `key: value` inside a flow mapping
    /// ("{description: One of low, high}") parses as more keys with null values; parameters with
    /// keys OpenAPI does not have; references to nothing.
    @Test func theDocumentIsWellFormedOpenAPI() throws {
        let document = OpenAPIContract.parse(OpenAPIDocument.text)
        #expect(!document.isEmpty, "openapi.yaml parses")
        var nulls: [String] = []
        var strayKeys: [String] = []
        var references: [String] = []
        func walk(_ value: Any, _ path: String) {
            if let map = value as? [String: Any] {
                for (key, child) in map {
                    if child is NSNull, key != "example", key != "default" { nulls.append("\(path)/\(key)") }
                    if key == "$ref", let target = child as? String { references.append(target) }
                    walk(child, "\(path)/\(key)")
                }
            } else if let list = value as? [Any] {
                for (index, child) in list.enumerated() { walk(child, "\(path)/\(index)") }
            }
        }
        walk(document, "")
        #expect(nulls.isEmpty, "keys without values (a comma or colon inside a flow mapping?): \(nulls.sorted())")
        let parameterKeys: Set<String> = [
            "name", "in", "description", "required", "deprecated", "schema", "style", "explode", "example", "examples", "$ref",
        ]
        var parameters: [(String, [String: Any])] = []
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for (method, operation) in item as? [String: Any] ?? [:] {
                let list =
                    method == "parameters" ? (operation as? [Any] ?? []) : ((operation as? [String: Any])?["parameters"] as? [Any] ?? [])
                for parameter in list { if let map = parameter as? [String: Any] { parameters.append(("\(method) \(path)", map)) } }
            }
        }
        for (where_, parameter) in parameters {
            let stray = Set(parameter.keys).subtracting(parameterKeys)
            if !stray.isEmpty { strayKeys.append("\(where_) \(parameter["name"] ?? "?"): \(stray.sorted())") }
        }
        #expect(!parameters.isEmpty && strayKeys.isEmpty, "\(strayKeys)")
        let components = document["components"] as? [String: Any] ?? [:]
        for reference in Set(references) {
            let parts = reference.split(separator: "/").map(String.init)
            #expect(parts.count == 4 && parts[0] == "#" && parts[1] == "components", "\(reference)")
            guard parts.count == 4 else { continue }
            #expect((components[parts[2]] as? [String: Any])?[parts[3]] != nil, "\(reference) resolves")
        }
    }

    /// The document does not allow what the server refuses (issue 21, item 7: no `minLength`
    /// anywhere, so tools generated empty names and filters the server answered 400 or 422 to):
    /// every string query parameter is non-empty, and the names and codes a body must carry have
    /// the server's bounds.
    @Test func theDocumentBoundsWhatTheServerBounds() throws {
        let document = OpenAPIContract.parse(OpenAPIDocument.text)
        var queryStrings: [String] = []
        func collect(_ parameter: [String: Any], at place: String) {
            guard parameter["in"] as? String == "query", let schema = parameter["schema"] as? [String: Any],
                schema["type"] as? String == "string"
            else { return }
            queryStrings.append(place)
            #expect(schema["minLength"] as? Int == 1, "\(place): a string query parameter without minLength 1")
        }
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for (method, operation) in item as? [String: Any] ?? [:] {
                for parameter in (operation as? [String: Any])?["parameters"] as? [[String: Any]] ?? [] {
                    collect(parameter, at: "\(method.uppercased()) \(path) ?\(parameter["name"] ?? "")")
                }
            }
        }
        let components = document["components"] as? [String: Any] ?? [:]
        for (name, parameter) in components["parameters"] as? [String: [String: Any]] ?? [:] {
            collect(parameter, at: "parameter \(name)")
        }
        #expect(queryStrings.count >= 15, "\(queryStrings)")

        let schemas = components["schemas"] as? [String: Any] ?? [:]
        func property(_ schema: String, _ name: String) -> [String: Any] {
            ((schemas[schema] as? [String: Any])?["properties"] as? [String: Any])?[name] as? [String: Any] ?? [:]
        }
        // (schema, field, the server's maximum): JSONInput's limits in the controllers.
        for (schema, field, maximum) in [
            ("JurisdictionFields", "name", 200), ("FacilityFields", "name", 300), ("FacilityFields", "jurisdiction", 32),
            ("FacilityPatch", "name", 300), ("FacilityPatch", "jurisdiction", 32), ("RosterFields", "fullName", 200),
        ] {
            let bounds = property(schema, field)
            #expect(bounds["minLength"] as? Int == 1 && bounds["maxLength"] as? Int == maximum, "\(schema).\(field): \(bounds)")
        }
        #expect(property("FacilityFields", "code")["pattern"] as? String == "^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
    }

    @Test func everyDocumentedOperationIsServed() async throws {
        try await APITest.run { (api: APITest) async throws in
            for (template, methods) in OpenAPIContract.shared.operations {
                let path =
                    template
                    .replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                    .replacingOccurrences(of: "{staffRef}", with: "T-99")
                for method in methods.keys {
                    let reply = try await api.call(HTTPRequest.Method(method)!, path, token: api.world.adminToken, json: "{}")
                    #expect(reply.status != .methodNotAllowed, "\(method) \(template)")
                    #expect(reply.json["detail"] as? String != "No resource at this address.", "\(method) \(template)")
                }
                // A method no route takes, on a path that exists: 405 with Allow, never 404.
                let trace = try await api.call(.trace, path, token: api.world.adminToken)
                #expect(trace.status == .methodNotAllowed, "TRACE \(template): \(trace.status)")
                #expect(trace.headers[.allow] != nil, "TRACE \(template)")
            }
        }
    }

    @Test func theDocumentIsServed() async throws {
        try await APITest.run { (api: APITest) async throws in
            let reply = try await api.call(.get, "/openapi.yaml", token: nil)
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "application/yaml; charset=utf-8")
            #expect(reply.body == OpenAPIDocument.text)
        }
    }
}
