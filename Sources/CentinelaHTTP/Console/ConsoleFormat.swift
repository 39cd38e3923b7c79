import CentinelaCore
import Foundation

/// How the console writes values for people: instants in the reader's language, in Mexico City's
/// time (the service's users are Mexican authorities; the zone is named on every instant), and
/// scores with one decimal.
enum ConsoleFormat {
    static let zone = TimeZone(identifier: "America/Mexico_City") ?? .gmt

    static func instant(_ date: Date, _ language: ConsoleLanguage) -> String {
        var style = Date.FormatStyle(date: .abbreviated, time: .shortened, locale: Locale(identifier: language.localeIdentifier))
        style.timeZone = zone
        return date.formatted(style) + " " + (language == .spanish ? "(hora del centro)" : "(Mexico City)")
    }

    static func points(_ value: Double) -> String { String(format: "%.1f", value) }
}

extension ConsoleLanguage {
    var localeIdentifier: String { self == .spanish ? "es_MX" : "en_US" }
}
