import CentinelaCore
import CentinelaStore

/// A facility wherever another resource embeds one (an alert's, a report's, an adult record's, a
/// pattern's or a case's): always these four fields, the jurisdiction by its code.
struct FacilityBrief: Encodable, Sendable {
    var id: String
    var code: String
    var name: String
    var jurisdiction: String
}

extension FacilityBrief {
    static func brief(of report: ReportSummary) -> FacilityBrief {
        FacilityBrief(
            id: report.facilityID.description, code: report.facilityCode, name: report.facilityName, jurisdiction: report.jurisdictionCode)
    }

    static func brief(of alert: AlertRecord) -> FacilityBrief {
        FacilityBrief(
            id: alert.facilityID.description, code: alert.facilityCode, name: alert.facilityName, jurisdiction: alert.jurisdictionCode)
    }

    static func brief(of record: AdultRecordView) -> FacilityBrief {
        FacilityBrief(
            id: record.facilityID.description, code: record.facilityCode, name: record.facilityName, jurisdiction: record.jurisdictionCode)
    }

    static func brief(of record: FacilityRecord) -> FacilityBrief {
        FacilityBrief(
            id: record.facility.id.description, code: record.facility.externalCode, name: record.facility.name,
            jurisdiction: record.jurisdictionCode)
    }
}
