import Foundation
import Hummingbird

/// Reads query parameters, refusing unknown ones and collecting every bad value (400).
struct QueryReader {
    private let parameters: [String: String]
    private var errors: [Problem.FieldError] = []
    private var known: Set<String> = []

    init(_ request: Request) {
        var parameters: [String: String] = [:]
        var repeated: Set<String> = []
        for (name, value) in request.uri.queryParameters {
            if parameters.updateValue(String(value), forKey: String(name)) != nil { repeated.insert(String(name)) }
        }
        self.parameters = parameters
        // `limit=1&limit=2`: which one the caller meant is not ours to guess.
        errors = repeated.sorted().map { .init(field: $0, message: "is given more than once") }
    }

    mutating func string(_ name: String, maxLength: Int = 200) -> String? {
        known.insert(name)
        guard let value = parameters[name] else { return nil }
        // `?to=`: an empty value filtering by nothing would read as a filter that was applied.
        guard !value.isEmpty else {
            errors.append(.init(field: name, message: "must not be empty (leave the parameter out to not filter)"))
            return nil
        }
        // A NUL or another control character is never part of a code, date or name (and PostgreSQL
        // refuses NUL in text).
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            errors.append(.init(field: name, message: "must not contain control characters"))
            return nil
        }
        guard value.count <= maxLength else {
            errors.append(.init(field: name, message: "must be at most \(maxLength) characters"))
            return nil
        }
        return value
    }

    mutating func code<Vocabulary: RawRepresentable & CaseIterable>(_ name: String, _ type: Vocabulary.Type) -> Vocabulary?
    where Vocabulary.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = Vocabulary(rawValue: text) else {
            errors.append(.init(field: name, message: "must be one of \(Vocabulary.allCases.map(\.rawValue).joined(separator: ", "))"))
            return nil
        }
        return value
    }

    /// One or more codes separated by commas (`band=high,critical`).
    mutating func codes<Vocabulary: RawRepresentable & CaseIterable>(_ name: String, _ type: Vocabulary.Type) -> [Vocabulary]?
    where Vocabulary.RawValue == String {
        guard let text = string(name, maxLength: 500) else { return nil }
        let parsed = text.split(separator: ",", omittingEmptySubsequences: false).map { Vocabulary(rawValue: String($0)) }
        guard !parsed.contains(where: { $0 == nil }) else {
            errors.append(
                .init(
                    field: name,
                    message: "must be one or more of \(Vocabulary.allCases.map(\.rawValue).joined(separator: ", ")), separated by commas"))
            return nil
        }
        return parsed.compactMap { $0 }
    }

    mutating func limit(default value: Int = 50, maximum: Int = 200) -> Int {
        guard let text = string("limit") else { return value }
        guard let number = Int(text), (1...maximum).contains(number) else {
            errors.append(.init(field: "limit", message: "must be a whole number from 1 to \(maximum)"))
            return value
        }
        return number
    }

    /// An opaque cursor from a previous page's `nextCursor`.
    /// `total=true` asks a list for how many items it holds in all; `false` or absent does not.
    mutating func total() -> Bool {
        guard let text = string("total", maxLength: 5) else { return false }
        guard text == "true" || text == "false" else {
            fail("total", "must be true or false")
            return false
        }
        return text == "true"
    }

    mutating func cursor() -> String? {
        guard let text = string("cursor", maxLength: 500) else { return nil }
        guard let decoded = Cursor.decode(text) else {
            errors.append(.init(field: "cursor", message: "is not a cursor this server issued"))
            return nil
        }
        return decoded
    }

    mutating func fail(_ name: String, _ message: String) {
        errors.append(.init(field: name, message: message))
    }

    func finish() throws(Problem) {
        var all = errors
        for name in parameters.keys.sorted() where !known.contains(name) {
            all.append(.init(field: name, message: "is not a known query parameter"))
        }
        guard all.isEmpty else { throw Problem.badRequest("The query is invalid.", errors: all) }
    }
}

/// Opaque pagination cursors: base64url of the position, so clients do not build them by hand.
enum Cursor {
    static func encode(_ position: String) -> String {
        Data(("v1:" + position).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> String? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8),
            decoded.hasPrefix("v1:")
        else { return nil }
        return String(decoded.dropFirst(3))
    }
}
