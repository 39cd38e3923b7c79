import CentinelaHTTP
import Foundation
import HTTPTypes
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The API reference people read, at /docs (issue 22): Redoc rendering /openapi.yaml, every part
/// of it served by the service itself, so it works offline and no third party sees who reads it.
@Suite struct ReferencePageTests {
    @Test func theReferencePageLoadsOnlyWhatTheServiceServes() async throws {
        try await APITest.run { (api: APITest) async throws in
            let page = try await api.call(.get, "/docs", token: nil)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"), "\(policy)")

            // Read with a real parser (a line-by-line reader once let an invalid document ship).
            let document = try XMLDocument(data: Data(page.body.utf8), options: [])
            #expect(try document.nodes(forXPath: "/html/head/title").first?.stringValue?.contains("Centinela") == true)
            let viewer = try #require(try document.nodes(forXPath: "//redoc").first as? XMLElement)
            #expect(viewer.attribute(forName: "spec-url")?.stringValue == "/openapi.yaml")
            let sources = try document.nodes(forXPath: "//script/@src | //link/@href | //img/@src | //a/@href").compactMap(\.stringValue)
            #expect(sources.contains("/docs/redoc.standalone.js"), "\(sources)")
            for source in sources {
                #expect(source.hasPrefix("/") && !source.hasPrefix("//"), "\(source): the page must load nothing from elsewhere")
                let served = try await api.call(.get, source, token: nil)
                #expect(served.status == .ok, "\(source): \(served.status)")
            }
            let bundle = try await api.call(.get, "/docs/redoc.standalone.js", token: nil)
            #expect(bundle.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(bundle.body.utf8.count > 500_000 && bundle.body.contains("ReDoc"), "the Redoc bundle, whole")
            #expect(try await api.call(.post, "/docs", token: nil).status == .methodNotAllowed)
        }
    }
}
