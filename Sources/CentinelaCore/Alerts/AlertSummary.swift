import Foundation

/// The languages alert summaries are written in.
public enum AlertLanguage: String, ControlledVocabulary {
    case es
    case en
}

/// One line a regulator reads first, in their language: which facility, what fired, on how much.
public struct AlertSummary: Hashable, Sendable {
    public var rule: Alert.Rule
    /// The facility as regulators know it, e.g. "Jardín de Niños Xochitl (MX-NL-0001)".
    public var facility: String
    public var reports: Int
    public var band: RiskBand
    public var score: Double

    public init(rule: Alert.Rule, facility: String, reports: Int, band: RiskBand, score: Double) {
        self.rule = rule
        self.facility = facility
        self.reports = reports
        self.band = band
        self.score = score
    }

    public func text(in language: AlertLanguage) -> String {
        let n = reports
        let score = figure(self.score)
        switch (rule, language) {
        case (.band, .en): return "\(facility): risk band \(band.rawValue), score \(score)."
        case (.band, .es): return "\(facility): nivel de riesgo \(Self.spanish(band)), puntuación \(score)."
        case (.severalAdultsSevere, .en):
            return "\(facility): \(n) report(s) implicating two or more adults together in a severe incident."
        case (.severalAdultsSevere, .es):
            return "\(facility): \(n) reporte(s) que implican a dos o más personas adultas juntas en un incidente grave."
        case (.filming, .en): return "\(facility): \(n) report(s) of children filmed or photographed."
        case (.filming, .es): return "\(facility): \(n) reporte(s) de niñas o niños filmados o fotografiados."
        case (.sexualAbuseUnderSix, .en): return "\(facility): \(n) report(s) of sexual abuse of a child under 6."
        case (.sexualAbuseUnderSix, .es):
            return "\(facility): \(n) reporte(s) de abuso sexual a una niña o un niño menor de 6 años."
        case (.adultSeveralFacilities, .en):
            return "\(facility): an adult implicated here is also implicated at other facilities (\(n) report(s) here)."
        case (.adultSeveralFacilities, .es):
            return "\(facility): una persona adulta señalada aquí también lo está en otros centros (\(n) reporte(s) aquí)."
        case (.adultRepeat, .en): return "\(facility): one adult named in \(n) reports."
        case (.adultRepeat, .es): return "\(facility): una misma persona adulta señalada en \(n) reportes."
        case (.patternSeveralFacilities, .en):
            return "\(facility): \(n) report(s) here belong to a pattern spanning three or more facilities."
        case (.patternSeveralFacilities, .es):
            return "\(facility): \(n) reporte(s) de aquí forman parte de un patrón que abarca tres o más centros."
        }
    }

    static func spanish(_ band: RiskBand) -> String {
        switch band {
        case .low: "bajo"
        case .elevated: "elevado"
        case .high: "alto"
        case .critical: "crítico"
        }
    }
}
