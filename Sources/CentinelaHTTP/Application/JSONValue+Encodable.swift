import Foundation

/// JSON already encoded as text, embedded as a value (not as a string) when encoding.
struct EmbeddedJSON: Encodable, Sendable {
    let text: String
    init(_ text: String) { self.text = text }

    func encode(to encoder: any Encoder) throws {
        let value: JSONValue
        do {
            value = try JSONReader.read(text.utf8)
        } catch {
            throw EncodingError.invalidValue(text, .init(codingPath: encoder.codingPath, debugDescription: "not JSON: \(error)"))
        }
        try value.encode(to: encoder)
    }
}

extension JSONValue: Encodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number):
            if number.rounded() == number, let integer = Int(exactly: number) {
                try container.encode(integer)
            } else {
                try container.encode(number)
            }
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields)
        }
    }
}
