import CentinelaHTTP
import CentinelaTestSupport
import Foundation
import HTTPTypes
import Testing

/// What openapi.yaml promises: path → method → documented statuses. Read with a small line reader
/// that relies on the document's regular layout (two spaces per level under `paths:`).
struct OpenAPIContract {
    var operations: [String: [String: Set<Int>]] = [:]

    static let shared = OpenAPIContract(text: OpenAPIDocument.text)

    init(text: String) {
        var inPaths = false, inResponses = false
        var path: String?, method: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let indent = line.prefix { $0 == " " }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            if indent == 0 && !content.isEmpty {
                inPaths = content == "paths:"
                continue
            }
            guard inPaths, !content.isEmpty else { continue }
            switch indent {
            case 2 where content.hasSuffix(":"):
                path = String(content.dropLast())
                method = nil
            case 4 where content.hasSuffix(":") && content != "parameters:":
                method = String(content.dropLast()).uppercased()
                inResponses = false
                if let path, let method { operations[path, default: [:]][method] = [] }
            case 6:
                inResponses = content == "responses:"
            case 8 where inResponses:
                if content.hasPrefix("'"), let code = Int(content.dropFirst().prefix(3)), let path, let method {
                    operations[path]?[method]?.insert(code)
                }
            default:
                break
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
        for (path, methods) in apiRoutes {
            served[path] = Set(methods.filter { $0 != .head }.map(\.rawValue))
        }
        let documented = contract.operations.mapValues { Set($0.keys) }
        #expect(documented == served)
        #expect(contract.operations.values.flatMap(\.values).allSatisfy { !$0.isEmpty }, "every operation lists its responses")
        #expect(OpenAPIDocument.text.hasPrefix("openapi: 3.1.0"))
        // The reader itself: what it must find, and must not.
        #expect(contract.operations["/v1/reports"]?["POST"] == [201, 400, 401, 403, 404, 409, 413, 415, 422, 503])
        #expect(contract.documents(.get, "/v1/reports/0b5c?limit=1", 404))
        #expect(!contract.documents(.get, "/v1/reports/0b5c", 500))
        #expect(!contract.documents(.get, "/v1/nothing", 200))
    }

    @Test func everyDocumentedOperationIsServed() async throws {
        try await APITest.run { (api: APITest) async throws in
            for (template, methods) in OpenAPIContract.shared.operations {
                let path = template
                    .replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                    .replacingOccurrences(of: "{staffRef}", with: "T-99")
                for method in methods.keys {
                    let reply = try await api.call(HTTPRequest.Method(method)!, path, token: api.world.adminToken, json: "{}")
                    #expect(reply.status != .methodNotAllowed, "\(method) \(template)")
                    #expect(reply.json["detail"] as? String != "No resource at this address.", "\(method) \(template)")
                }
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
