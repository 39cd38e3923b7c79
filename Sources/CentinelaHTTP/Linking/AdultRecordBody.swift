import CentinelaCore
import CentinelaStore
import Foundation

/// One adult record as a regulator sees it, in the review queue and in a linked adult: the name as
/// written (accents, capitals and all) and as linking compared it, the facility, the role and the
/// date of birth.
struct AdultRecordBody: Encodable, Sendable {
    var id: String
    var source: String
    var facility: FacilityBrief
    var name: String
    var compared: [String: [String]]
    @Nullable var role: String?
    @Nullable var dateOfBirth: String?

    init(_ record: AdultRecordView) {
        id = record.id.description
        source = record.source
        facility = .brief(of: record)
        // The compared form stands in only should the written one no longer be visible.
        name = record.writtenName ?? (record.name.given + record.name.surnames).joined(separator: " ")
        compared = ["given": record.name.given, "surnames": record.name.surnames]
        role = record.role
        dateOfBirth = record.dateOfBirth
    }

}

extension JSONValue {
    /// A link's comparisons as `adult_links` stores them (a JSON array of {field, level, weight}),
    /// each weight in bits to two decimals, as a person reads it (stored to the last digit, which
    /// only the model needs); an empty array should the stored text ever not parse.
    static func comparisons(_ stored: String) -> JSONValue {
        guard case .array(let items)? = try? JSONValue.parse(Data(stored.utf8)) else { return .array([]) }
        return .array(
            items.map { item in
                guard case .object(var fields) = item, case .number(let weight)? = fields["weight"] else { return item }
                fields["weight"] = .number(weight.bits)
                return .object(fields)
            })
    }
}

extension Double {
    /// A weight or score in bits as shown to people: two decimals.
    var bits: Double { (self * 100).rounded() / 100 }
}
