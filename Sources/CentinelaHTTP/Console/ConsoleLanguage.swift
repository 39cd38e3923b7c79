import Foundation

/// The languages the console speaks: Mexican Spanish first, English second. The person's choice
/// (a cookie set from the language switch) wins; otherwise the browser's `Accept-Language`;
/// otherwise Spanish.
enum ConsoleLanguage: String, CaseIterable, Sendable {
    case spanish = "es-MX"
    case english = "en"

    /// The `lang` attribute of a page.
    var tag: String { rawValue }

    /// The cookie the language switch sets.
    static let cookieName = "centinela_lang"

    init?(code: String) {
        switch code.lowercased() {
        case "es", "es-mx": self = .spanish
        case "en": self = .english
        default: return nil
        }
    }

    /// The language the API answers a problem in: the first of `Accept-Language` the catalogs
    /// speak, or nil (English, the API's own) when the header names none of them.
    static func preferred(acceptLanguage: String?) -> ConsoleLanguage? {
        guard let acceptLanguage else { return nil }
        let language = negotiate(choice: nil, acceptLanguage: acceptLanguage)
        let mentioned = acceptLanguage.lowercased().split(separator: ",").contains {
            let range = $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? ""
            return range.hasPrefix(language == .spanish ? "es" : "en")
        }
        return mentioned ? language : nil
    }

    /// The language for a request: the person's choice, else the first of `Accept-Language`
    /// (by quality, RFC 9110 § 12.5.4) that the console speaks, else Spanish.
    static func negotiate(choice: String?, acceptLanguage: String?) -> ConsoleLanguage {
        if let choice, let language = ConsoleLanguage(code: choice) { return language }
        guard let acceptLanguage else { return .spanish }
        var ranked: [(language: ConsoleLanguage, quality: Double, position: Int)] = []
        for (position, item) in acceptLanguage.split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let range = parts.first, !range.isEmpty else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            guard quality > 0 else { continue }
            let primary = range.split(separator: "-").first.map { String($0).lowercased() } ?? ""
            let language: ConsoleLanguage? =
                switch primary {
                case "es": .spanish
                case "en": .english
                default: nil
                }
            if let language { ranked.append((language, quality, position)) }
        }
        return ranked.min { ($0.quality, -$0.position) > ($1.quality, -$1.position) }?.language ?? .spanish
    }
}

/// Every string the console shows, per language, from `Resources/console/messages/<tag>.json`: a
/// flat object of message keys. Both catalogs hold the same keys (a test holds them to it and to
/// every key the templates use).
struct MessageCatalog: Sendable {
    let messages: [ConsoleLanguage: [String: String]]
    /// ``tree(_:)`` per language, built once: every page renders with it.
    private let trees: [ConsoleLanguage: MessageTree]
    /// The API's problem titles and details, by their English text (gettext's message ids), per
    /// language other than English: `Resources/console/messages/problems.<tag>.json`.
    var problems: [ConsoleLanguage: (titles: [String: String], details: [String: String])] = [:]

    /// Risk reasons' summaries per language other than English (`reasons.<tag>.json`).
    var reasons: [ConsoleLanguage: SentenceTranslation] = [:]
    /// The API's per-field validation messages (`errors[].message`), likewise (`fields.<tag>.json`).
    var fieldMessages: [ConsoleLanguage: SentenceTranslation] = [:]

    func problemTitle(_ title: String, _ language: ConsoleLanguage) -> String { problems[language]?.titles[title] ?? title }

    /// A risk reason's summary in `language`; the English text when no template says it.
    func reasonSummary(_ english: String, _ language: ConsoleLanguage) -> String {
        reasons[language]?.translate(english) ?? english
    }

    /// A field's validation message in `language`; the English text when no template says it.
    func fieldMessage(_ english: String, _ language: ConsoleLanguage) -> String {
        fieldMessages[language]?.translate(english) ?? english
    }

    /// A detail in `language`: its message filled with its values (themselves translated when the
    /// catalog has them, "Reports" → "Reportes"); the English text when the catalog lacks it.
    func problemDetail(_ id: String, values: [String: String], _ language: ConsoleLanguage) -> String {
        guard let table = problems[language]?.details, var text = table[id] else {
            var text = id
            for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
            return text
        }
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: table[value] ?? value) }
        return text
    }

    /// Loads both catalogs from the module's resources.
    static func load() throws -> MessageCatalog {
        var messages: [ConsoleLanguage: [String: String]] = [:]
        for language in ConsoleLanguage.allCases {
            guard
                let url = Bundle.module.url(
                    forResource: language.tag, withExtension: "json", subdirectory: "console/messages")
            else { throw ConsoleResourceError.missing("console/messages/\(language.tag).json") }
            let data = try Data(contentsOf: url)
            guard let table = try JSONSerialization.jsonObject(with: data) as? [String: String] else {
                throw ConsoleResourceError.malformed("console/messages/\(language.tag).json")
            }
            messages[language] = table
        }
        var catalog = MessageCatalog(messages: messages)
        for language in ConsoleLanguage.allCases where language != .english {
            guard
                let url = Bundle.module.url(
                    forResource: "problems.\(language.tag)", withExtension: "json", subdirectory: "console/messages"),
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [String: String]],
                let titles = object["titles"], let details = object["details"]
            else { throw ConsoleResourceError.malformed("console/messages/problems.\(language.tag).json") }
            catalog.problems[language] = (titles, details)
        }
        catalog.reasons = try SentenceTranslation.load("reasons")
        catalog.fieldMessages = try SentenceTranslation.load("fields")
        return catalog
    }

    func table(_ language: ConsoleLanguage) -> [String: String] { messages[language] ?? [:] }

    /// The messages as nested objects, so that a template writes `{{t.case.status.open}}` for the
    /// key `case.status.open`. A key that is both a message and a prefix of others would be lost
    /// here: ``conflicts`` names them (a test holds it empty).
    func tree(_ language: ConsoleLanguage) -> [String: Any] { trees[language]?.root ?? [:] }

    init(messages: [ConsoleLanguage: [String: String]]) {
        self.messages = messages
        var trees: [ConsoleLanguage: MessageTree] = [:]
        for (language, table) in messages {
            var root: [String: Any] = [:]
            for (key, text) in table { Self.insert(text, at: key.split(separator: ".").map(String.init)[...], into: &root) }
            trees[language] = MessageTree(root: root)
        }
        self.trees = trees
    }

    private static func insert(_ text: String, at path: ArraySlice<String>, into node: inout [String: Any]) {
        guard let head = path.first else { return }
        if path.count == 1 {
            if node[head] == nil { node[head] = text }
            return
        }
        var child = node[head] as? [String: Any] ?? [:]
        guard node[head] == nil || node[head] is [String: Any] else { return }
        insert(text, at: path.dropFirst(), into: &child)
        node[head] = child
    }

    /// Keys that are also the prefix of another key (`a.b` beside `a.b.c`).
    func conflicts(_ language: ConsoleLanguage) -> [String] {
        let keys = Set(table(language).keys)
        return keys.filter { key in keys.contains { $0.hasPrefix(key + ".") } }.sorted()
    }

    /// One message; a key missing from the catalog shows as itself, so that a gap is visible
    /// rather than blank (and the catalog test fails first).
    func text(_ key: String, _ language: ConsoleLanguage) -> String { messages[language]?[key] ?? key }

    /// A message with `{name}` placeholders filled in.
    func text(_ key: String, _ language: ConsoleLanguage, _ values: [String: String]) -> String {
        var text = text(key, language)
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }
}

enum ConsoleResourceError: Error, CustomStringConvertible {
    case missing(String)
    case malformed(String)

    var description: String {
        switch self {
        case .missing(let path): "the console's resource \(path) is missing from this build"
        case .malformed(let path): "the console's resource \(path) is not what it should be"
        }
    }
}

/// A catalog's messages nested by their dotted keys, as Mustache reads them. Never changed after it
/// is built, so it is safe to share between requests.
final class MessageTree: @unchecked Sendable {
    let root: [String: Any]

    init(root: [String: Any]) {
        self.root = root
    }
}
