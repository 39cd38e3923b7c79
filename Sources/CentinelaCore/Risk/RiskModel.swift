import Foundation

/// One version of the facility risk model: every weight, horizon and cap in one value.
///
/// The reasoning behind each number is in docs/risk-model.md. A model is identified by `id`; every
/// stored score records the id of the model that computed it, so a score can always be explained
/// with the parameters that produced it. A tuned model is loaded from JSON (`RiskModel.load`) and
/// must carry its own id.
public struct RiskModel: Hashable, Sendable, Codable {
    /// Points per unit of a factor's value, and the most points the factor can give.
    public struct Factor: Hashable, Sendable, Codable {
        public var pointsPerUnit: Double
        public var cap: Double

        public init(pointsPerUnit: Double, cap: Double) {
            self.pointsPerUnit = pointsPerUnit
            self.cap = cap
        }

        func points(_ units: Double) -> Double { Swift.min(cap, Swift.max(0, units) * pointsPerUnit) }
    }

    public var id: String
    public var severity: [IncidentReport.Category: Double]
    public var credibility: [IncidentReport.Status: Double]
    public var modusOperandiWeights: [IncidentReport.ModusOperandi: Double]
    /// The modus-operandi multiplier is `1 + Σ tag weights`, at most this.
    public var modusOperandiCap: Double
    /// Multiplier when any affected child is younger than `youngChildAge` years.
    public var youngChildMultiplier: Double
    public var youngChildAge: Int

    /// Half-lives, in days.
    public var loadHalfLifeDays: Double
    public var coordinatedHalfLifeDays: Double
    public var repeatAdultHalfLifeDays: Double
    /// Counting windows, in days before the as-of instant.
    public var lookbackDays: Double
    /// A school self-report answers an outside report when received within this many days of it;
    /// a school report filed more than this many days after discovery is late.
    public var silenceWindowDays: Double
    /// Reporter types that count as "from outside the school" for SILENCE.
    public var outsideReporters: [IncidentReport.ReporterType]

    public var load: Factor
    public var multiAdult: Factor
    public var coordinated: Factor
    public var repeatAdult: Factor
    public var repeatFacility: Factor
    public var silence: Factor
    public var crossFacility: Factor

    /// A report implicating at least this many adults in an incident of at least this severity
    /// forces the band to at least `coordinatedSevereBand`.
    public var coordinatedSevereAdults: Int
    public var coordinatedSevereMinimumSeverity: Double
    public var coordinatedSevereBand: RiskBand

    /// Lower bounds of the elevated, high and critical bands, on the displayed score.
    public var elevatedFrom: Double
    public var highFrom: Double
    public var criticalFrom: Double

    /// Present in v2 and its tunings: factors measure how surprising the evidence is against what
    /// the facility's peers produce by chance (RiskModel+Surprise.swift, docs/risk-model.md). The
    /// additive factors above (`load` … `crossFacility`) and the band floor are then not used.
    public var surprise: Surprise?

    /// The model as specified for the first release (docs/risk-model.md).
    public static let v1 = RiskModel(
        id: "v1",
        severity: [
            .sexualAbuse: 4, .productionOfAbuseImagery: 4,
            .grooming: 3, .exposureToSexualContent: 3, .inappropriateContact: 3,
            .physicalAbuse: 2,
            .emotionalAbuse: 1, .neglect: 1, .other: 1,
        ],
        credibility: [
            .substantiated: 1.0, .referredToProsecutor: 0.9, .received: 0.6, .underReview: 0.6,
            .unsubstantiated: 0.35, .unfounded: 0.15,
        ],
        modusOperandiWeights: [
            .filming: 0.5, .photographing: 0.5, .sedation: 0.5, .childrenMadeToWatch: 0.4,
            .disguise: 0.3, .stagedAct: 0.3, .severalAdultsPresent: 0.3, .threats: 0.2,
            .removalFromClassroom: 0.1, .offPremises: 0.1, .giftsGrooming: 0.1, .isolation: 0.1,
        ],
        modusOperandiCap: 2.5,
        youngChildMultiplier: 1.25,
        youngChildAge: 6,
        loadHalfLifeDays: 180,
        coordinatedHalfLifeDays: 365,
        repeatAdultHalfLifeDays: 730,
        lookbackDays: 365,
        silenceWindowDays: 30,
        outsideReporters: [.parent, .childDisclosure, .hotline, .police, .healthProfessional],
        load: .init(pointsPerUnit: 8, cap: 40),
        multiAdult: .init(pointsPerUnit: 12, cap: 36),
        coordinated: .init(pointsPerUnit: 15, cap: 30),
        repeatAdult: .init(pointsPerUnit: 10, cap: 30),
        repeatFacility: .init(pointsPerUnit: 3, cap: 15),
        silence: .init(pointsPerUnit: 4, cap: 20),
        crossFacility: .init(pointsPerUnit: 10, cap: 20),
        coordinatedSevereAdults: 2,
        coordinatedSevereMinimumSeverity: 4,
        coordinatedSevereBand: .high,
        elevatedFrom: 35,
        highFrom: 60,
        criticalFrom: 80)

    /// The band a score falls in.
    public func band(for score: Double) -> RiskBand {
        if score >= criticalFrom { return .critical }
        if score >= highFrom { return .high }
        if score >= elevatedFrom { return .elevated }
        return .low
    }
}

/// How urgently a facility needs a regulator's attention, from its score and overrides.
public enum RiskBand: String, ControlledVocabulary, Comparable {
    case low
    case elevated
    case high
    case critical

    private var rank: Int {
        switch self {
        case .low: 0
        case .elevated: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: RiskBand, rhs: RiskBand) -> Bool { lhs.rank < rhs.rank }
}

/// Why a model definition cannot be used.
public struct RiskModelError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension RiskModel {
    /// Reads a model from JSON (the same shape `encodedJSON` writes) and checks it.
    public static func load(json: Data) throws(RiskModelError) -> RiskModel {
        let model: RiskModel
        do {
            model = try JSONDecoder().decode(RiskModel.self, from: json)
        } catch {
            throw RiskModelError("not a risk model definition: \(Self.describe(error))")
        }
        try model.validate()
        return model
    }

    /// The model as JSON with sorted keys: the form to copy and tune.
    public var encodedJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Refuses a definition that would score nonsensically or pass itself off as a built-in model.
    public func validate() throws(RiskModelError) {
        guard id.range(of: #"^[a-z0-9][a-z0-9._-]{0,39}$"#, options: .regularExpression) != nil else {
            throw RiskModelError("id must be 1-40 lowercase letters, digits, '.', '_' or '-'")
        }
        if let builtIn = Self.builtIn[id], self != builtIn {
            throw RiskModelError("id \"\(id)\" is a built-in model; give a tuned model its own id")
        }
        for category in IncidentReport.Category.allCases where (severity[category] ?? -1) <= 0 {
            throw RiskModelError("severity of \(category.rawValue) must be a positive number")
        }
        for status in IncidentReport.Status.allCases {
            guard let value = credibility[status], value > 0, value <= 1 else {
                throw RiskModelError("credibility of \(status.rawValue) must be in (0, 1]: dismissed complaints still count")
            }
        }
        for tag in IncidentReport.ModusOperandi.allCases where (modusOperandiWeights[tag] ?? -1) < 0 {
            throw RiskModelError("modusOperandiWeights of \(tag.rawValue) must be zero or more")
        }
        let positives: [(String, Double)] = [
            ("modusOperandiCap", modusOperandiCap), ("youngChildMultiplier", youngChildMultiplier),
            ("loadHalfLifeDays", loadHalfLifeDays), ("coordinatedHalfLifeDays", coordinatedHalfLifeDays),
            ("repeatAdultHalfLifeDays", repeatAdultHalfLifeDays), ("lookbackDays", lookbackDays),
            ("silenceWindowDays", silenceWindowDays),
        ]
        for (name, value) in positives where !(value > 0 && value.isFinite) {
            throw RiskModelError("\(name) must be a positive number")
        }
        if modusOperandiCap < 1 || youngChildMultiplier < 1 {
            throw RiskModelError("modusOperandiCap and youngChildMultiplier must be at least 1: they only ever raise a weight")
        }
        let factors = [
            ("load", load), ("multiAdult", multiAdult), ("coordinated", coordinated), ("repeatAdult", repeatAdult),
            ("repeatFacility", repeatFacility), ("silence", silence), ("crossFacility", crossFacility),
        ]
        for (name, factor) in factors
        where !(factor.pointsPerUnit >= 0 && factor.cap >= 0 && factor.pointsPerUnit.isFinite && factor.cap.isFinite) {
            throw RiskModelError("\(name) needs pointsPerUnit and cap of zero or more")
        }
        guard 0 < elevatedFrom, elevatedFrom < highFrom, highFrom < criticalFrom, criticalFrom <= 100 else {
            throw RiskModelError("band limits must satisfy 0 < elevatedFrom < highFrom < criticalFrom <= 100")
        }
        guard coordinatedSevereAdults >= 2, youngChildAge >= 1 else {
            throw RiskModelError("coordinatedSevereAdults must be at least 2 and youngChildAge at least 1")
        }
        if let surprise { try surprise.validate() }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

// Dictionaries keyed by these codes encode as JSON objects (`{"sexual_abuse": 4}`), not as arrays.
extension IncidentReport.Category: CodingKeyRepresentable {}
extension IncidentReport.Status: CodingKeyRepresentable {}
extension IncidentReport.ModusOperandi: CodingKeyRepresentable {}
