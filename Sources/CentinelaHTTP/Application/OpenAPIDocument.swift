import Foundation
import HTTPTypes
import Hummingbird

/// The API's contract, `Resources/openapi.yaml`, served at /openapi.yaml. Tests hold every route
/// and every status the service answers to it.
public enum OpenAPIDocument {
    /// The document's text, loaded once from the module's resources.
    public static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\ninfo: {title: Centinela API (document missing from this build), version: '0'}\npaths: {}\n" }
        return text
    }()

    static func register(on router: Router<AppRequestContext>) {
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
