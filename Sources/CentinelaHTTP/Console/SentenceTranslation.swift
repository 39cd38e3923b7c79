import Foundation

/// Sentences the service writes in English, said in another language from a table of templates
/// in `Resources/console/messages/<table>.<tag>.json`: each English sentence with its figures as
/// `{name}`, mapped to the language's own, as gettext keys messages by their English text. Two
/// tables: `reasons` (the sentences the risk models write in a score's reasons, decision 39) and
/// `fields` (the API's per-field validation messages). A sentence is matched whole, else piece by
/// piece between "; " (the load factor's sentence is built from pieces); a figure that is itself
/// a known phrase ("the model's default shares", "an array") is said too. A sentence no template
/// says (a summary stored before its template existed) stays in English: nil.
struct SentenceTranslation: Sendable {
    /// One template: literal text between named figures; figures are never adjacent and never
    /// span a "; " (where the models join the pieces of a sentence).
    struct Template: Sendable {
        var literals: [String]
        var names: [String]
        var target: String

        init(_ english: String, target: String) throws {
            var literals: [String] = []
            var names: [String] = []
            var rest = Substring(english)
            while let open = rest.firstIndex(of: "{") {
                guard let close = rest[open...].firstIndex(of: "}") else { throw ConsoleResourceError.malformed("template \(english)") }
                literals.append(String(rest[..<open]))
                names.append(String(rest[rest.index(after: open)..<close]))
                rest = rest[rest.index(after: close)...]
            }
            literals.append(String(rest))
            for literal in literals.dropFirst().dropLast() where literal.isEmpty {
                throw ConsoleResourceError.malformed("template with adjacent figures: \(english)")
            }
            self.literals = literals
            self.names = names
            self.target = target
        }

        /// The figures, when `text` is this template with some filled in.
        func match(_ text: String) -> [String: String]? {
            guard text.hasPrefix(literals[0]) else { return nil }
            var values: [String] = []
            guard fill(text[text.index(text.startIndex, offsetBy: literals[0].count)...], figure: 0, into: &values) else { return nil }
            return Dictionary(uniqueKeysWithValues: zip(names, values))
        }

        /// Figure `figure` runs up to an occurrence of the literal after it; the shortest that
        /// lets the rest match wins (as a lazy pattern would).
        private func fill(_ rest: Substring, figure: Int, into values: inout [String]) -> Bool {
            if figure == names.count { return rest.isEmpty }
            let next = literals[figure + 1]
            if next.isEmpty {  // the last figure runs to the end
                guard figure == names.count - 1, !rest.isEmpty, !rest.contains("; ") else { return false }
                values.append(String(rest))
                return true
            }
            guard !rest.isEmpty else { return false }
            var from = rest.index(after: rest.startIndex)
            while from < rest.endIndex, let found = rest[from...].range(of: next) {
                let value = rest[..<found.lowerBound]
                if value.contains("; ") { return false }
                values.append(String(value))
                if fill(rest[found.upperBound...], figure: figure + 1, into: &values) { return true }
                values.removeLast()
                from = rest.index(after: found.lowerBound)
            }
            return false
        }
    }

    let templates: [Template]

    init(table: [String: String]) throws {
        // Longer templates first: a shorter one never takes a sentence a longer one was made for.
        templates = try table.sorted { ($0.key.count, $0.key) > ($1.key.count, $1.key) }.map { try Template($0.key, target: $0.value) }
    }

    /// The summary in this language, or nil when some part of it has no template.
    func translate(_ english: String) -> String? {
        var used = Set<Int>()
        return translate(english, used: &used)
    }

    /// As ``translate(_:)``, noting the templates it took (by position in ``templates``).
    func translate(_ english: String, used: inout Set<Int>) -> String? {
        if let whole = phrase(english, used: &used) { return whole }
        let parts = english.components(separatedBy: "; ")
        guard parts.count > 1 else { return nil }
        var translated: [String] = []
        for part in parts {
            guard let each = phrase(part, used: &used) else { return nil }
            translated.append(each)
        }
        return translated.joined(separator: "; ")
    }

    private func phrase(_ text: String, used: inout Set<Int>) -> String? {
        for (index, template) in templates.enumerated() {
            guard let values = template.match(text) else { continue }
            used.insert(index)
            var out = template.target
            for (name, value) in values {
                let said = value.contains(where: \.isLetter) ? phrase(value, used: &used) ?? value : value
                out = out.replacingOccurrences(of: "{\(name)}", with: said)
            }
            return out
        }
        return nil
    }

    /// A table's translations into every language but English, from the module's resources.
    static func load(_ table: String) throws -> [ConsoleLanguage: SentenceTranslation] {
        var found: [ConsoleLanguage: SentenceTranslation] = [:]
        for language in ConsoleLanguage.allCases where language != .english {
            let name = "\(table).\(language.tag)"
            guard
                let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "console/messages"),
                let entries = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: String]
            else { throw ConsoleResourceError.malformed("console/messages/\(name).json") }
            found[language] = try SentenceTranslation(table: entries)
        }
        return found
    }
}
