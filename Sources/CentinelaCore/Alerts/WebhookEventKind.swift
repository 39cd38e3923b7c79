/// What a webhook endpoint may choose to receive: an alert event's kind as alerts name it
/// (`opened`, `escalated`, …) or a case event's as its payload is typed (`case.opened`,
/// `case.referred`, …). An endpoint choosing only alert kinds receives no case events, and the
/// other way round.
public struct WebhookEventKind: ControlledVocabulary, Comparable {
    public let rawValue: String

    public init?(rawValue: String) {
        guard Self.allCodesSet.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    public init(_ kind: Alert.EventKind) { rawValue = Self.alertPrefix + kind.rawValue }
    public init(_ kind: Case.EventKind) { rawValue = Self.casePrefix + kind.rawValue }

    public static let alertPrefix = "alert."
    public static let casePrefix = "case."

    public static var allCases: [WebhookEventKind] {
        Alert.EventKind.allCases.map(Self.init) + Case.EventKind.allCases.map(Self.init)
    }

    private static let allCodesSet = Set(
        Alert.EventKind.allCases.map { alertPrefix + $0.rawValue } + Case.EventKind.allCases.map { casePrefix + $0.rawValue })

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
