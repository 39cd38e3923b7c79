import Foundation

/// How often reports carry each feature the v2 risk model weighs: several adults named together,
/// a category at least this severe, each modus-operandi tag. Counted over a group of facilities'
/// reports received in the model's lookback window, at the end of every full rescoring, and read
/// as "how often would peers produce this by chance".
public struct ReportShares: Hashable, Sendable, Codable {
    /// What a report can carry, as the v2 model counts it. Thresholds nest: a report naming three
    /// adults also counts for two, a sexual-abuse report for every lower severity.
    public enum Feature: Hashable, Sendable, Comparable, CustomStringConvertible {
        case adults(atLeast: Int)
        case severity(atLeast: Int)
        case tag(IncidentReport.ModusOperandi)

        public var description: String {
            switch self {
            case .adults(let n): "adults>=\(n)"
            case .severity(let n): "severity>=\(n)"
            case .tag(let tag): "tag:\(tag.rawValue)"
            }
        }

        public init?(description text: String) {
            if text.hasPrefix("adults>="), let n = Int(text.dropFirst(8)), Self.adultThresholds.contains(n) {
                self = .adults(atLeast: n)
            } else if text.hasPrefix("severity>="), let n = Int(text.dropFirst(10)), Self.severityThresholds.contains(n) {
                self = .severity(atLeast: n)
            } else if text.hasPrefix("tag:"), let tag = IncidentReport.ModusOperandi(rawValue: String(text.dropFirst(4))) {
                self = .tag(tag)
            } else {
                return nil
            }
        }

        public static func < (lhs: Feature, rhs: Feature) -> Bool { lhs.description < rhs.description }

        static let adultThresholds = [2, 3]
        static let severityThresholds = [2, 3, 4]

        public static let all: [Feature] =
            adultThresholds.map { .adults(atLeast: $0) } + severityThresholds.map { .severity(atLeast: $0) }
            + IncidentReport.ModusOperandi.allCases.map { .tag($0) }
    }

    /// Reports counted.
    public var reports: Double
    /// Reports carrying each feature.
    public var counts: [String: Double]

    public init(reports: Double = 0, counts: [String: Double] = [:]) {
        self.reports = reports
        self.counts = counts
    }

    public func count(_ feature: Feature) -> Double { counts[feature.description] ?? 0 }

    /// The features one report carries, with `severity` the model's severity of its category.
    public static func features(of report: RiskEvidence.Report, severity: Double) -> [Feature] {
        var result: [Feature] = []
        for n in Feature.adultThresholds where report.adults.count >= n { result.append(.adults(atLeast: n)) }
        for n in Feature.severityThresholds where severity >= Double(n) { result.append(.severity(atLeast: n)) }
        for tag in report.modusOperandi { result.append(.tag(tag)) }
        return result
    }

    /// Counts one report.
    public mutating func add(_ report: RiskEvidence.Report, severity: Double) {
        reports += 1
        for feature in Self.features(of: report, severity: severity) { counts[feature.description, default: 0] += 1 }
    }

    public mutating func merge(_ other: ReportShares) {
        reports += other.reports
        for (key, value) in other.counts { counts[key, default: 0] += value }
    }

    /// The share of reports carrying `feature`, the group's counts shrunk towards `prior` as if
    /// `priorReports` reports had been seen there: a group with few reports says what its parent
    /// says, a large one speaks for itself. Never below `floor`, so no feature is infinitely
    /// surprising.
    public func share(_ feature: Feature, prior: Double, priorReports: Double, floor: Double) -> Double {
        Swift.max(floor, (count(feature) + priorReports * prior) / (reports + priorReports))
    }
}

/// The share of reports carrying each feature, as the v2 model uses it for one peer group: the
/// group's own counts, shrunk towards the kind's national shares, those towards all facilities',
/// and those towards the model's defaults (docs/risk-model.md, "Peers").
public struct FeatureShares: Hashable, Sendable {
    public var values: [ReportShares.Feature: Double]
    /// Reports behind the group's own counts (0 when only the model's defaults are known).
    public var reports: Double

    public init(values: [ReportShares.Feature: Double], reports: Double) {
        self.values = values
        self.reports = reports
    }

    public subscript(feature: ReportShares.Feature) -> Double { values[feature] ?? 1 }

    /// Shrinks each level towards the one above it, from the model's defaults down to `levels`'
    /// last (the most specific). Nested thresholds stay nested: a report naming three adults is
    /// never less surprising than one naming two.
    public static func shrunk(_ levels: [ReportShares], model: RiskModel.Surprise) -> FeatureShares {
        var values: [ReportShares.Feature: Double] = [:]
        for feature in ReportShares.Feature.all { values[feature] = model.defaultShare(feature) }
        for level in levels {
            for feature in ReportShares.Feature.all {
                values[feature] = level.share(feature, prior: values[feature]!, priorReports: model.priorReports, floor: model.shareFloor)
            }
        }
        for thresholds in [
            ReportShares.Feature.adultThresholds.map { ReportShares.Feature.adults(atLeast: $0) },
            ReportShares.Feature.severityThresholds.map { ReportShares.Feature.severity(atLeast: $0) },
        ] {
            for (lower, higher) in zip(thresholds, thresholds.dropFirst()) where values[higher]! > values[lower]! {
                values[higher] = values[lower]!
            }
        }
        return FeatureShares(values: values, reports: levels.last?.reports ?? 0)
    }
}

extension RiskModel {
    /// Counts into `shares` the reports of `evidence` received in the lookback window before
    /// `asOf`: what a full rescoring publishes for the next computations to compare with.
    public func countShares(_ evidence: RiskEvidence, asOf: Date, into shares: inout ReportShares) {
        let from = asOf.addingTimeInterval(-lookbackDays * 86_400)
        for report in evidence.reports where report.receivedAt < asOf && report.receivedAt >= from {
            shares.add(report, severity: severity[report.category] ?? 1)
        }
    }
}
