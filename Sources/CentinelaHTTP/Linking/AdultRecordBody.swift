import CentinelaCore
import CentinelaStore

/// One adult record as a regulator sees it, in the review queue and in a linked adult: the name as
/// linking compared it, the facility, the role and the date of birth.
struct AdultRecordBody: Encodable, Sendable {
    var id: String
    var source: String
    var facility: AlertController.FacilityBrief
    var name: [String: [String]]
    var role: String?
    var dateOfBirth: String?

    init(_ record: AdultRecordView) {
        id = record.id.description
        source = record.source
        facility = .init(id: record.facilityID.description, code: record.facilityCode, name: record.facilityName)
        name = ["given": record.name.given, "surnames": record.name.surnames]
        role = record.role
        dateOfBirth = record.dateOfBirth
    }

    enum CodingKeys: String, CodingKey { case id, source, facility, name, role, dateOfBirth }

    // Absent values are written as null: the field exists and is empty.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(source, forKey: .source)
        try c.encode(facility, forKey: .facility)
        try c.encode(name, forKey: .name)
        try c.encode(role, forKey: .role)
        try c.encode(dateOfBirth, forKey: .dateOfBirth)
    }
}
