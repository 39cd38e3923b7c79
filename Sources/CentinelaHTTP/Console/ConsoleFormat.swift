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
}

extension ConsoleLanguage {
    var localeIdentifier: String { self == .spanish ? "es_MX" : "en_US" }
}
