import CentinelaCore
import CentinelaStore

/// A report in words, as the report page and the case file both show it: one place, so that the
/// two never say a report differently.
struct ReportWords {
    struct Line {
        var label: String
        var value: String
    }

    /// A report as one row of a list (the reports, a facility's, a case's evidence), linked to it.
    struct Row {
        var href: String
        var received: String
        var facility: String
        var category: String
        var status: String
        var adults: Int
        var children: Int
    }

    let renderer: ConsoleRenderer
    let visit: ConsoleVisit

    func row(_ summary: ReportSummary) -> Row {
        Row(
            href: "/console/reports/\(summary.id)", received: ConsoleFormat.instant(summary.receivedAt, visit.language),
            facility: "\(summary.facilityName) (\(summary.facilityCode))", category: say("report.category.\(summary.category.rawValue)"),
            status: say("report.status.\(summary.status.rawValue)"), adults: summary.adultCount, children: summary.childCount)
    }

    /// Its category, status, when it happened and came to light, and who brought it to light.
    func facts(_ report: ReportRecord) -> [Line] {
        let summary = report.summary
        let occurred =
            report.occurredFrom == report.occurredTo ? report.occurredFrom.description : "\(report.occurredFrom) – \(report.occurredTo)"
        return [
            Line(label: say("report.field.category"), value: say("report.category.\(summary.category.rawValue)")),
            Line(label: say("report.field.status"), value: say("report.status.\(summary.status.rawValue)")),
            Line(
                label: say("report.field.occurred"),
                value: occurred + (report.occurredApproximate ? " (\(say("report.approximate")))" : "")),
            Line(label: say("report.field.discovered"), value: report.discoveredOn.description),
            Line(label: say("report.field.reporter"), value: say("report.reporter.\(summary.reporterType.rawValue)")),
        ]
    }

    /// Each adult named: as written, their role, and their staff reference when on the roster.
    func adults(_ report: ReportRecord) -> [String] {
        report.adults.map { adult in
            let role = Adult.Role(code: adult.role).map { say("adult.role.\($0.rawValue)") } ?? adult.role
            return "\(adult.name) — \(role)" + (adult.staffRef.map { " (\($0))" } ?? "")
        }
    }

    /// Each child by reference and age, never by name.
    func children(_ report: ReportRecord) -> [String] {
        report.children.map { renderer.text("report.child", visit, ["ref": $0.reference, "age": "\($0.ageYears)"]) }
    }

    func tactics(_ report: ReportRecord) -> [String] { report.modusOperandi.map { say("report.tactic.\($0)") } }

    private func say(_ key: String) -> String { renderer.text(key, visit) }
}
