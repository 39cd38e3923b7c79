import Foundation

/// A facility's risk as of one instant: the score, the band, and every reason behind them.
///
/// The factors' `points` add up to `total`; `score` is `total` shown at most 100. Encoded with
/// `RiskAssessment.encoder` the JSON is byte-for-byte the same for the same evidence and instant.
public struct RiskAssessment: Hashable, Sendable, Codable {
    public enum FactorCode: String, ControlledVocabulary {
        case load = "LOAD"
        case multiAdult = "MULTI_ADULT"
        case coordinated = "COORDINATED"
        case repeatAdult = "REPEAT_ADULT"
        case repeatFacility = "REPEAT_FACILITY"
        case silence = "SILENCE"
        case crossFacility = "CROSS_FACILITY"
        // v2 (docs/risk-model.md)
        case together = "TOGETHER"
        case methods = "METHODS"

        /// The factors a model reports, in its tie-breaking order.
        public static func of(_ model: RiskModel) -> [FactorCode] {
            model.surprise == nil
                ? [.load, .multiAdult, .coordinated, .repeatAdult, .repeatFacility, .silence, .crossFacility]
                : [.together, .methods, .crossFacility, .repeatAdult, .silence, .load]
        }
    }

    /// One factor's contribution and what it rests on.
    public struct Reason: Hashable, Sendable, Codable {
        public var code: FactorCode
        /// Points given, rounded to one decimal; these add up to the assessment's total.
        public var points: Double
        /// The most this factor can give (v1); v2's factors are not capped.
        public var cap: Double?
        /// The factor's value before conversion to points (a decayed load, a count...).
        public var value: Double
        /// One sentence a regulator can read.
        public var summary: String
        public var evidence: [Evidence]
        /// Evidence items left out of `evidence` (the smallest contributions) to keep reasons short.
        public var omittedEvidence: Int?
    }

    /// One piece of evidence behind a factor: a report, an adult, or a figure.
    public struct Evidence: Hashable, Sendable, Codable {
        public var report: IncidentReport.ID?
        public var adult: String?
        /// The reports behind an adult or a count.
        public var reports: [IncidentReport.ID]?
        /// The incident weight (severity × credibility × modus operandi × young children).
        public var weight: Double?
        /// The decay applied, `2^(−age/half-life)`.
        public var decay: Double?
        /// What this item adds to the factor's value.
        public var contribution: Double?
        public var note: String?

        public init(
            report: IncidentReport.ID? = nil, adult: String? = nil, reports: [IncidentReport.ID]? = nil,
            weight: Double? = nil, decay: Double? = nil, contribution: Double? = nil, note: String? = nil
        ) {
            self.report = report
            self.adult = adult
            self.reports = reports
            self.weight = weight
            self.decay = decay
            self.contribution = contribution
            self.note = note
        }
    }

    /// A rule that forces a minimum band whatever the points.
    public struct BandFloor: Hashable, Sendable, Codable {
        public var band: RiskBand
        public var rule: String
        public var reports: [IncidentReport.ID]
    }

    public var facilityID: Facility.ID
    public var modelID: String
    public var asOf: Date
    /// What is displayed, 0–100: v1 `min(total, 100)`, one decimal; v2 `100 · total / (total + H)`,
    /// two decimals, strictly increasing in the total.
    public var score: Double
    /// The sum of the factors' points, before the display cap of 100.
    public var total: Double
    /// The band the model gives: from the score, raised by `floor` when one applies.
    public var modelBand: RiskBand
    /// The band in force: `modelBand`, unless a regulator's manual override is active.
    public var band: RiskBand
    public var floor: BandFloor?
    public var manualOverride: RiskEvidence.ManualOverride?
    /// The facility's decayed incident load before any peer adjustment, kept for peer baselines.
    public var load: Double
    /// Every factor, the highest points first.
    public var reasons: [Reason]

    public func points(_ code: FactorCode) -> Double { reasons.first { $0.code == code }?.points ?? 0 }
    public func reason(_ code: FactorCode) -> Reason? { reasons.first { $0.code == code } }

    /// The encoder that makes assessments byte-for-byte reproducible.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RiskAssessment.timestamp(date))
        }
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RiskAssessment.date(fromTimestamp: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a timestamp: \(text)"))
            }
            return date
        }
        return decoder
    }

    /// RFC 3339 in UTC with milliseconds, computed without locale or time-zone state.
    public static func timestamp(_ date: Date) -> String {
        UTCTimestamp.text(ticks: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)), fractionDigits: 3)
    }

    static func date(fromTimestamp text: String) -> Date? {
        // yyyy-mm-ddThh:mm:ss(.fff)Z
        guard text.count >= 20, text.hasSuffix("Z"), let day = CalendarDate(String(text.prefix(10))) else { return nil }
        let time = text.dropFirst(11).dropLast()
        let parts = time.split(separator: ":")
        guard parts.count == 3, let h = Int(parts[0]), let m = Int(parts[1]), let s = Double(parts[2]) else { return nil }
        return Date(timeIntervalSince1970: Double(day.daysSinceEpoch) * 86400 + Double(h * 3600 + m * 60) + s)
    }
}

extension RiskAssessment {
    /// What makes a new assessment worth recording as a change: the model, the points of each
    /// factor (so the total), both bands and the manual band in force. The instant, the decayed
    /// values and the evidence lists move every day without changing what a regulator sees.
    public var changeFingerprint: StableHash {
        var hash = StableHash()
        hash.combine(modelID)
        hash.combine(score)
        hash.combine(modelBand.rawValue)
        hash.combine(band.rawValue)
        for reason in reasons.sorted(by: { $0.code.rawValue < $1.code.rawValue }) {
            hash.combine(reason.code.rawValue)
            hash.combine(reason.points)
        }
        if let manual = manualOverride {
            hash.combine(manual.band.rawValue)
            hash.combine(manual.reason)
            hash.combine(manual.setAt.timeIntervalSince1970)
            hash.combine(manual.expiresAt.timeIntervalSince1970)
        }
        return hash
    }
}
