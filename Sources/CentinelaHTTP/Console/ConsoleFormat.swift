import CentinelaCore
import Foundation

/// How the console writes values for people: instants in the reader's language, in Mexico City's
/// time (the service's users are Mexican authorities; the zone is named on every instant), and
/// scores with one decimal.
enum ConsoleFormat {
    static let zone = TimeZone(identifier: "America/Mexico_City") ?? .gmt

    static func instant(_ date: Date, _ language: ConsoleLanguage) -> String {
        date.formatted(styles[language] ?? styles[.spanish]!) + (language == .spanish ? " (hora del centro)" : " (Mexico City)")
    }

    /// One style per language, made once: a page of a large case writes a thousand instants.
    private static let styles: [ConsoleLanguage: Date.FormatStyle] = Dictionary(
        uniqueKeysWithValues: ConsoleLanguage.allCases.map { language in
            var style = Date.FormatStyle(date: .abbreviated, time: .shortened, locale: Locale(identifier: language.localeIdentifier))
            style.timeZone = zone
            return (language, style)
        })

    static func points(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A day in Mexico City's calendar, as a date input writes it (`2026-12-20`).
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The last second of a day in Mexico City: "until 20 December" (a snooze, a band set by
    /// hand) lasts through that day.
    static func endOfDay(_ day: CalendarDate) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let start = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day)) ?? .distantPast
        return (calendar.date(byAdding: .day, value: 1, to: start) ?? start).addingTimeInterval(-1)
    }

    /// A value as it goes into a link's query string.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", "_", "."])) ?? text
    }
}

extension ConsoleLanguage {
    var localeIdentifier: String { self == .spanish ? "es_MX" : "en_US" }
}
