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

    /// The reference people read, at /docs: Redoc (MIT, `Resources/docs/redoc.LICENSE.txt`)
    /// rendering /openapi.yaml, both served from here, so it works offline and asks no CDN.
    public static let referencePage = """
        <!DOCTYPE html>
        <html lang="es">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>Centinela API — referencia</title>
        <style>body { margin: 0; padding: 0; }</style>
        </head>
        <body>
        <noscript><p>Esta referencia necesita JavaScript. El contrato está en <a href="/openapi.yaml">/openapi.yaml</a>.</p></noscript>
        <redoc spec-url="/openapi.yaml" hide-hostname="true"></redoc>
        <script src="/docs/redoc.standalone.js"></script>
        </body>
        </html>

        """

    /// Redoc's bundle, loaded once.
    static let redoc: ByteBuffer? = {
        guard let url = Bundle.module.url(forResource: "redoc.standalone", withExtension: "js", subdirectory: "docs"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return ByteBuffer(bytes: data)
    }()

    /// Scripts from this service only; Redoc writes its styles inline and searches in a worker.
    static let referencePolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        + "connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func register(on router: Router<AppRequestContext>) {
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("docs") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "public, max-age=300",
                    .contentSecurityPolicy: referencePolicy, HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                ],
                body: .init(byteBuffer: ByteBuffer(string: referencePage)))
        }
        router.get("docs/redoc.standalone.js") { _, _ in
            guard let redoc else { throw Problem.notFound("This build has no API reference bundle.") }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=86400",
                    HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                ],
                body: .init(byteBuffer: redoc))
        }
    }
}
