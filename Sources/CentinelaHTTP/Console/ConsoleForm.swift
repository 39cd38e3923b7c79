import CentinelaCore
import CentinelaStore
import Foundation
import Hummingbird

/// A submitted HTML form (`application/x-www-form-urlencoded`): every field in order, a name may
/// repeat (checkboxes, rows). Names and values are percent-decoded, `+` read as a space.
struct ConsoleForm: Sendable {
    private(set) var fields: [(name: String, value: String)]

    init(fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    /// Parses a body; nil when it is not valid form encoding (a broken percent escape, invalid
    /// UTF-8), which a browser never sends.
    init?(encoded text: String) {
        var fields: [(String, String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else { return nil }
            fields.append((name, value))
        }
        self.fields = fields
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The first value of a field, trimmed; nil when absent or blank.
    func value(_ name: String) -> String? {
        guard let raw = fields.first(where: { $0.name == name })?.value else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The first value of a field exactly as typed (a narrative keeps its spacing).
    func raw(_ name: String) -> String? { fields.first(where: { $0.name == name })?.value }

    /// Every value of a repeated field, as sent.
    func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// Reads a request's form body, at most `limit` bytes; a body that is not a form is refused.
    static func read(_ request: Request, limit: Int) async throws -> ConsoleForm {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw Problem.unsupportedMediaType("Send the form as application/x-www-form-urlencoded.")
        }
        let buffer = try await request.body.collect(upTo: limit)
        guard let form = ConsoleForm(encoded: String(decoding: buffer.readableBytesView, as: UTF8.self)) else {
            throw Problem.badRequest("The form could not be read.")
        }
        return form
    }
}

/// One option of a select in a filter form, with whether it is the one chosen.
struct ConsoleChoice {
    var value: String
    var label: String
    var selected: Bool

    /// The jurisdiction a page's query filters by (`jurisdiction=`); none when absent, empty or
    /// too long to be a code (ignored, never an error).
    static func jurisdictionFilter(_ request: Request) -> String? {
        request.uri.queryParameters["jurisdiction"].map(String.init).flatMap { $0.isEmpty || $0.count > 64 ? nil : $0 }
    }

    /// The jurisdictions a regulator may filter by: their own and those below, by name. (The
    /// register of jurisdictions is public; others would only ever filter to nothing.)
    static func jurisdictions(
        database: ServiceDatabase, session: ConsoleSession, caller: Caller, selected: String?
    ) async throws -> [ConsoleChoice] {
        let all = try await FacilityRegister(database: database).jurisdictions(caller: caller).map(\.jurisdiction)
        let own = all.filter { session.principal.jurisdictionIDs.contains($0.id) }.sorted { $0.name < $1.name }
        return own.map { place in
            ConsoleChoice(value: place.code, label: "\(place.name) (\(place.code))", selected: place.code == selected)
        }
    }
}
