import CentinelaCore
import Foundation

/// JSON written by hand where the rows of one statement are built as one document
/// (`json_populate_recordset`): Foundation's JSONSerialization was a tenth of the service's CPU
/// under a stream of reports. Strings only, and objects of strings; PostgreSQL parses the result.
enum JSONText {
    /// A JSON string (or null).
    static func string(_ text: String?) -> String {
        guard let text else { return "null" }
        // Byte by byte: in UTF-8 the bytes to escape never occur inside a multi-byte character.
        func escaped(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 }
        guard text.utf8.contains(where: escaped) else { return "\"" + text + "\"" }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case ..<0x20: out += Array("\\u00\([byte].lowercaseHex)".utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON object of strings, its keys in order.
    static func object(_ fields: [String: String]) -> String {
        "{" + fields.sorted { $0.key < $1.key }.map { string($0.key) + ":" + string($0.value) }.joined(separator: ",") + "}"
    }
}
