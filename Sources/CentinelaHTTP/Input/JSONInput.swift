import CentinelaCore
import Foundation
import HTTPTypes
import Hummingbird

/// A parsed JSON document, kept as parsed so that validation can see exactly what was sent: unknown
/// fields, wrong types and out-of-range values are reported field by field, all at once.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Parses a request body: UTF-8 JSON only.
    static func parse(_ data: Data) throws(Problem) -> JSONValue {
        do {
            return try JSONReader.read(data)
        } catch .notUTF8 {
            throw Problem.badRequest("The request body is not valid UTF-8.")
        } catch .duplicateKey(let key) {
            // A decoder would keep one of two equal keys without a word: which one a client meant
            // (`"category":"neglect", …, "category":"sexual_abuse"`) cannot be known, so neither is taken.
            throw Problem.badRequest("The request body gives the field \"\(key)\" twice in one object.")
        } catch {
            throw Problem.badRequest("The request body is not valid JSON.")
        }
    }
}

/// Reads the fields of a JSON object, collecting every problem instead of stopping at the first,
/// and refusing fields it was not asked about.
struct ObjectReader {
    let pointer: String
    private let fields: [String: JSONValue]
    private var read: Set<String> = []
    private let errors: ErrorCollector

    final class ErrorCollector {
        var errors: [Problem.FieldError] = []
        func add(_ field: String, _ message: String) { errors.append(.init(field: field, message: message)) }
    }

    /// Reads a request's top-level object, or throws 400 if the body is not one.
    static func body(_ value: JSONValue) throws(Problem) -> ObjectReader {
        guard case .object(let fields) = value else {
            throw Problem.badRequest("The request body must be a JSON object.")
        }
        return ObjectReader(pointer: "", fields: fields, errors: ErrorCollector())
    }

    /// Reads one item of a stream of objects (a line of NDJSON) under `pointer`, with errors of its
    /// own (`problems`); nil when the item is not an object.
    static func item(_ value: JSONValue, pointer: String) -> ObjectReader? {
        guard case .object(let fields) = value else { return nil }
        return ObjectReader(pointer: pointer, fields: fields, errors: ErrorCollector())
    }

    /// Every problem found so far, in this reader and the readers nested in it.
    var problems: [Problem.FieldError] { errors.errors }

    private init(pointer: String, fields: [String: JSONValue], errors: ErrorCollector) {
        self.pointer = pointer
        self.fields = fields
        self.errors = errors
    }

    func path(_ name: String) -> String { pointer + "/" + name }

    func fail(_ name: String, _ message: String) { errors.add(path(name), message) }

    var hasErrors: Bool { !errors.errors.isEmpty }

    /// The raw value of a field, marking it as known. Explicit `null` counts as absent.
    mutating func value(_ name: String) -> JSONValue? {
        read.insert(name)
        guard let value = fields[name], value != .null else { return nil }
        return value
    }

    /// Whether the field is present as an explicit `null`: in a PATCH, "clear this value".
    mutating func isNull(_ name: String) -> Bool {
        read.insert(name)
        return fields[name] == .null
    }

    mutating func string(_ name: String, required: Bool = false, maxLength: Int = 1000, trimmed: Bool = true) -> String? {
        guard let value = value(name) else {
            if required { fail(name, "is required") }
            return nil
        }
        guard case .string(var text) = value else {
            fail(name, "must be a string, not \(value.typeName)")
            return nil
        }
        // Most values start and end with a visible ASCII character: nothing to trim, and no
        // Foundation call (a few per cent of the service's time under the ingest bench).
        let visibleASCII = UInt32(0x21)...UInt32(0x7E)
        if trimmed,
            let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            !(visibleASCII.contains(first.value) && visibleASCII.contains(last.value))
        {
            text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Only invisible marks (zero-width spaces and joiners, combining marks alone) is blank too.
        if trimmed,
            !text.unicodeScalars.contains(where: { scalar in
                let category = scalar.properties.generalCategory
                return !scalar.properties.isWhitespace && category != .format && category != .nonspacingMark
                    && category != .enclosingMark && category != .control
            })
        {
            text = ""
        }
        // A field given is a field set: blank is not a value (a PATCH of "  " used to reach the
        // database's checks and answer 500). Callers that clear a field take null.
        if text.isEmpty {
            fail(name, "must not be empty")
            return nil
        }
        if text.count > maxLength {
            fail(name, "must be at most \(maxLength) characters")
            return nil
        }
        // Control characters (general category Cc: U+0000–U+001F and U+007F–U+009F) but line
        // breaks and tabs.
        if text.unicodeScalars.contains(where: {
            ($0.value < 0x20 || (0x7F...0x9F).contains($0.value)) && $0 != "\n" && $0 != "\t" && $0 != "\r"
        }) {
            fail(name, "must not contain control characters")
            return nil
        }
        return text
    }

    mutating func integer(_ name: String, required: Bool = false, range: ClosedRange<Int>) -> Int? {
        guard let value = value(name) else {
            if required { fail(name, "is required") }
            return nil
        }
        guard case .number(let number) = value, number.rounded() == number, let integer = Int(exactly: number) else {
            fail(name, "must be a whole number")
            return nil
        }
        guard range.contains(integer) else {
            fail(name, "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return integer
    }

    mutating func bool(_ name: String) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else {
            fail(name, "must be true or false")
            return nil
        }
        return flag
    }

    /// A code of a controlled vocabulary; the message lists the allowed codes.
    mutating func code<Vocabulary: RawRepresentable & CaseIterable>(
        _ name: String, _ type: Vocabulary.Type, required: Bool = false
    ) -> Vocabulary? where Vocabulary.RawValue == String {
        guard let text = string(name, required: required, maxLength: 100) else { return nil }
        guard let value = Vocabulary(rawValue: text) else {
            fail(name, "must be one of \(Vocabulary.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// An array of codes of a controlled vocabulary; each bad element is reported at its pointer.
    mutating func codes<Vocabulary: RawRepresentable & CaseIterable>(
        _ name: String, _ type: Vocabulary.Type, maxCount: Int
    ) -> [Vocabulary]? where Vocabulary.RawValue == String {
        arrayItems(name, maxCount: maxCount)?.compactMap { value, pointer in
            guard case .string(let text) = value, let code = Vocabulary(rawValue: text) else {
                fail(at: pointer, "must be one of \(Vocabulary.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return code
        }
    }

    /// A calendar date, `YYYY-MM-DD`.
    mutating func date(_ name: String, required: Bool = false) -> CalendarDate? {
        guard let text = string(name, required: required, maxLength: 10) else { return nil }
        guard let date = CalendarDate(text) else {
            fail(name, "must be a date as YYYY-MM-DD")
            return nil
        }
        return date
    }

    /// An instant as an RFC 3339 date-time with its offset, e.g. `2024-03-01T09:30:00Z`.
    mutating func instant(_ name: String, required: Bool = false) -> Date? {
        guard let text = string(name, required: required, maxLength: 40) else { return nil }
        guard
            let instant = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: false).parse(text))
                ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
        else {
            fail(name, "must be a date-time such as 2024-03-01T09:30:00Z")
            return nil
        }
        return instant
    }

    /// A nested object, read with the same rules; nil when absent or not an object.
    mutating func object(_ name: String, required: Bool = false) -> ObjectReader? {
        guard let value = value(name) else {
            if required { fail(name, "is required") }
            return nil
        }
        guard case .object(let fields) = value else {
            fail(name, "must be an object, not \(value.typeName)")
            return nil
        }
        return ObjectReader(pointer: path(name), fields: fields, errors: errors)
    }

    /// The elements of an array field with their JSON pointers; nil when absent or not an array.
    mutating func arrayItems(_ name: String, required: Bool = false, maxCount: Int) -> [(value: JSONValue, pointer: String)]? {
        guard let value = value(name) else {
            if required { fail(name, "is required") }
            return nil
        }
        guard case .array(let items) = value else {
            fail(name, "must be an array, not \(value.typeName)")
            return nil
        }
        guard items.count <= maxCount else {
            fail(name, "must have at most \(maxCount) items")
            return nil
        }
        return items.enumerated().map { (value: $0.element, pointer: path(name) + "/\($0.offset)") }
    }

    /// Reads an element of an array as an object with the same rules.
    func element(_ value: JSONValue, at pointer: String) -> ObjectReader? {
        guard case .object(let fields) = value else {
            errors.add(pointer, "must be an object, not \(value.typeName)")
            return nil
        }
        return ObjectReader(pointer: pointer, fields: fields, errors: errors)
    }

    func fail(at pointer: String, _ message: String) { errors.add(pointer, message) }

    /// Reports fields that were never read; call after reading everything the request may hold.
    func refuseUnknownFields() {
        for name in fields.keys.sorted() where !read.contains(name) {
            errors.add(path(name), "is not a known field")
        }
    }

    /// Throws 422 listing every problem found, if any.
    func finish() throws(Problem) {
        refuseUnknownFields()
        guard errors.errors.isEmpty else {
            throw Problem.validation(errors.errors)
        }
    }
}

extension Problem {
    public static func validation(_ errors: [FieldError]) -> Problem {
        Problem(
            type: typeBase + "validation", title: "Invalid request", status: .unprocessableContent,
            detail: errors.count == 1 ? "1 field is invalid." : "\(errors.count) fields are invalid.",
            errors: errors.sorted { $0.field < $1.field }
        ).saying(errors.count == 1 ? "1 field is invalid." : "{count} fields are invalid.", ["count": "\(errors.count)"])
    }
}

extension Request {
    /// The body as a JSON value, refusing oversized bodies (413), other media types (415) and
    /// malformed or non-UTF-8 JSON (400).
    mutating func jsonBody(limit: Int) async throws -> JSONValue {
        try await jsonBodyAndBytes(limit: limit).value
    }

    /// The same, with the bytes as received (for fingerprinting a request).
    mutating func jsonBodyAndBytes(limit: Int) async throws -> (value: JSONValue, bytes: Data) {
        try requireMediaType("application/json")
        let bytes = Data(try await collectBody(limit: limit).readableBytesView)
        return (try JSONValue.parse(bytes), bytes)
    }

    /// 415 unless the body is declared as `mediaType`: a body that does not say what it is could
    /// be anything (a form a browser posted, a file), and is not guessed at.
    func requireMediaType(_ mediaType: String) throws(Problem) {
        guard let type = headers[.contentType], type.lowercased().hasPrefix(mediaType) else {
            throw Problem.unsupportedMediaType(mediaType)
        }
    }

    /// The whole body, or 413 when it is larger than `limit` bytes.
    mutating func collectBody(limit: Int) async throws -> ByteBuffer {
        do {
            return try await collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem.payloadTooLarge(limit: limit)
        }
    }
}
