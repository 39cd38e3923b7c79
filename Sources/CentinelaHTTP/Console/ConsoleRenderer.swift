import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The console's templates, message catalogs and style sheet, loaded once from the module's
/// resources (`Resources/console`), and the one way a page becomes a response.
struct ConsoleRenderer: Sendable {
    let templates: MustacheLibrary
    let catalog: MessageCatalog
    let styleSheet: ByteBuffer
    let script: ByteBuffer

    /// Loaded once per process; `serve` refuses to start when it fails (a broken build).
    static let shared = Result { try ConsoleRenderer.load() }

    static func load() throws -> ConsoleRenderer {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("console") else {
            throw ConsoleResourceError.missing("console")
        }
        var library = MustacheLibrary()
        let folder = root.appendingPathComponent("templates")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".mustache") }
        guard !names.isEmpty else { throw ConsoleResourceError.missing("console/templates") }
        for name in names {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            do {
                try library.register(text, named: String(name.dropLast(".mustache".count)))
            } catch {
                throw ConsoleResourceError.malformed("console/templates/\(name): \(error)")
            }
        }
        func asset(_ name: String) throws -> ByteBuffer {
            ByteBuffer(bytes: try Data(contentsOf: root.appendingPathComponent("static").appendingPathComponent(name)))
        }
        return ConsoleRenderer(
            templates: library, catalog: try MessageCatalog.load(), styleSheet: try asset("console.css"),
            script: try asset("console.js"))
    }

    /// The page's HTML: `template` rendered with the messages of the visit's language, the chrome
    /// every page shows (who is signed in, the navigation for their role, the language switch)
    /// and the page's own values under `page`.
    func html(_ template: String, title: String, visit: ConsoleVisit, path: String, page: Any) -> String {
        let messages = catalog.table(visit.language)
        let chrome = ConsoleChrome(visit: visit, title: title, path: path, messages: messages)
        let root: [String: Any] = ["t": catalog.tree(visit.language), "chrome": chrome, "page": page]
        return templates.render(root, withTemplate: template) ?? ""
    }

    /// A page as a response, with the console's headers.
    func response(
        _ template: String, title: String, visit: ConsoleVisit, request: Request, page: Any, status: HTTPResponse.Status = .ok
    ) -> Response {
        let html = html(template, title: title, visit: visit, path: request.uri.path, page: page)
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func text(_ key: String, _ visit: ConsoleVisit) -> String { catalog.text(key, visit.language) }
    func text(_ key: String, _ visit: ConsoleVisit, _ values: [String: String]) -> String {
        catalog.text(key, visit.language, values)
    }
}

/// What every page shows around its content.
struct ConsoleChrome {
    struct Link {
        var href: String
        var label: String
        var current: Bool
    }
    struct LanguageChoice {
        var code: String
        var label: String
        var current: Bool
    }
    var lang: String
    var title: String
    var signedIn: Bool
    var holder: String?
    var roleLabel: String?
    var csrf: String?
    var path: String
    var nav: [Link]
    var languages: [LanguageChoice]

    init(visit: ConsoleVisit, title: String, path: String, messages: [String: String]) {
        lang = visit.language.tag
        self.title = title
        self.path = path
        signedIn = visit.session != nil
        holder = visit.session?.principal.holder
        roleLabel = visit.session.map { messages["role.\($0.principal.role.rawValue)"] ?? $0.principal.role.rawValue }
        csrf = visit.session?.csrfToken ?? visit.signInToken
        let links: [(String, String)] =
            switch visit.session?.principal.role {
            case .regulator:
                [
                    ("/console/cases", "nav.cases"), ("/console/alerts", "nav.alerts"), ("/console/map", "nav.map"),
                    ("/console/patterns", "nav.patterns"),
                    ("/console/review", "nav.review"),
                    ("/console/reports", "nav.reports"),
                ]
            case .school:
                [("/console/reports/new", "nav.new_report"), ("/console/reports", "nav.my_reports"), ("/console/roster", "nav.roster")]
            case .admin, nil: []
            }
        nav = links.map { href, key in
            Link(
                href: href, label: messages[key] ?? key, current: path == href || (href != "/console/reports" && path.hasPrefix(href + "/"))
            )
        }
        languages = ConsoleLanguage.allCases.map {
            LanguageChoice(code: $0.tag, label: messages["language.\($0.tag)"] ?? $0.tag, current: $0 == visit.language)
        }
    }
}
