import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A person's browser for the console's tests: it keeps cookies as a browser does (by name, for
/// /console), follows nothing by itself, and reads every page it is sent with a real parser (an
/// XML parser: the console writes well-formed HTML, so that a broken tag fails a test instead of a
/// screen reader).
final class ConsoleBrowser: @unchecked Sendable {
    let client: any TestClientProtocol
    private(set) var cookies: [String: String] = [:]
    var acceptLanguage: String?

    init(client: any TestClientProtocol, acceptLanguage: String? = nil) {
        self.client = client
        self.acceptLanguage = acceptLanguage
    }

    struct Page: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
        var setCookies: [String]

        var location: String? { headers[.location] }

        /// The value of a form field written as `name="…" value="…"` (hidden inputs), first found.
        func field(_ name: String) -> String? {
            guard let range = body.range(of: "name=\"\(name)\" value=\"") else { return nil }
            let rest = body[range.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }

        func contains(_ text: String) -> Bool { body.contains(text) }
    }

    func get(_ path: String) async throws -> Page {
        try await send(.get, path, form: nil)
    }

    /// Sends a form as a browser does (`application/x-www-form-urlencoded`, fields in order).
    func post(_ path: String, _ fields: [(String, String)]) async throws -> Page {
        try await send(.post, path, form: fields)
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, form: [(String, String)]?) async throws -> Page {
        var headers = HTTPFields()
        if !cookies.isEmpty {
            headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        if let acceptLanguage { headers[.acceptLanguage] = acceptLanguage }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: Self.encode(form))
        }
        let page = try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Page(
                status: response.status, headers: response.headers, body: String(buffer: response.body),
                setCookies: response.headers[values: .setCookie])
        }
        for cookie in page.setCookies { remember(cookie) }
        if page.headers[.contentType]?.hasPrefix("text/html") == true {
            let problem = Self.wellFormedness(of: page.body)
            #expect(problem == nil, "\(method) \(path): the page is not well-formed: \(problem ?? "")")
        }
        return page
    }

    private func remember(_ header: String) {
        let attributes = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let pair = attributes.first, let equals = pair.firstIndex(of: "=") else { return }
        let name = String(pair[..<equals])
        let value = String(pair[pair.index(after: equals)...])
        let expired = attributes.contains { $0.lowercased() == "max-age=0" }
        if expired || value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
    }

    func setCookie(_ name: String, _ value: String?) { cookies[name] = value }

    static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    /// Nil for a well-formed document; otherwise the parser's complaint with its line.
    static func wellFormedness(of html: String) -> String? {
        let parser = XMLParser(data: Data(html.utf8))
        if parser.parse() { return nil }
        return "\(parser.parserError.map { "\($0)" } ?? "unknown error") at line \(parser.lineNumber)"
    }

    /// Signs in with `token` as a person would: the sign-in page, then its form.
    func signIn(_ token: String) async throws -> Page {
        let form = try await get("/console/sign-in")
        #expect(form.status == .ok, "\(form.body)")
        return try await post("/console/sign-in", [("csrf", form.field("csrf") ?? ""), ("token", token)])
    }
}
