import Foundation

/// JSON written by hand where the rows of one statement are built as one document
/// (`json_populate_recordset`): Foundation's JSONSerialization was a tenth of the service's CPU
/// under a stream of reports. Strings only, and objects of strings; PostgreSQL parses the result.
enum JSONText {
    /// A JSON string (or null).
    static func string(_ text: String?) -> String {
        guard let text else { return "null" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON object of strings, its keys in order.
    static func object(_ fields: [String: String]) -> String {
        "{" + fields.sorted { $0.key < $1.key }.map { string($0.key) + ":" + string($0.value) }.joined(separator: ",") + "}"
    }
}
