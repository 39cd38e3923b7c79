import Foundation

/// Everything the risk model reads about one facility, as of one instant. Built by the store from
/// the reports as they stood then (status and amendments applied), so that the model itself is a
/// pure function of this value and the as-of instant.
public struct RiskEvidence: Hashable, Sendable {
    /// One report as the model sees it.
    public struct Report: Hashable, Sendable {
        public var id: IncidentReport.ID
        /// Server receipt time: decay and windows run from here.
        public var receivedAt: Date
        public var category: IncidentReport.Category
        public var status: IncidentReport.Status
        public var reporterType: IncidentReport.ReporterType
        public var modusOperandi: Set<IncidentReport.ModusOperandi>
        /// The distinct adults the report implicates.
        public var adults: Set<AdultKey>
        /// The youngest affected child's age in years, when any child is recorded.
        public var youngestChildAge: Int?
        public var occurredFrom: CalendarDate
        public var occurredTo: CalendarDate
        public var discoveredOn: CalendarDate

        public init(
            id: IncidentReport.ID, receivedAt: Date, category: IncidentReport.Category,
            status: IncidentReport.Status = .received, reporterType: IncidentReport.ReporterType,
            modusOperandi: Set<IncidentReport.ModusOperandi> = [], adults: Set<AdultKey> = [],
            youngestChildAge: Int? = nil, occurredFrom: CalendarDate, occurredTo: CalendarDate,
            discoveredOn: CalendarDate
        ) {
            self.id = id
            self.receivedAt = receivedAt
            self.category = category
            self.status = status
            self.reporterType = reporterType
            self.modusOperandi = modusOperandi
            self.adults = adults
            self.youngestChildAge = youngestChildAge
            self.occurredFrom = occurredFrom
            self.occurredTo = occurredTo
            self.discoveredOn = discoveredOn
        }
    }

    /// Who an implicated adult is: a roster entry, or a person described in reports but not on a
    /// roster, identified by the facility and a normalised name and role.
    public enum AdultKey: Hashable, Sendable, Comparable, CustomStringConvertible {
        case rostered(Adult.ID)
        /// A stable pseudonymous key (see `AdultKey.described(name:role:)`), never the name itself.
        case described(String)

        /// The key of an adult described as `name` with `role`: accents, case and spacing do not
        /// make two mentions different people.
        public static func described(name: String, role: String) -> AdultKey {
            // Folded letter by letter (Foundation's folding was a tenth of the service's CPU
            // under a stream of reports into one facility), to the same text.
            let folded = NormalizedName.fold(name, options: [.caseInsensitive, .diacriticInsensitive])
                .split(whereSeparator: { $0.isWhitespace || $0 == "." || $0 == "," }).joined(separator: " ")
            return .described(Self.describedKey(folded + "|" + role))
        }

        public var description: String {
            switch self {
            case .rostered(let id): "adult:\(id)"
            case .described(let key): "described:\(key)"
            }
        }

        /// The key whose `description` is `text` (as linking stores it); nil for anything else.
        public init?(description text: String) {
            if text.hasPrefix("adult:"), let id = Adult.ID(uuidString: String(text.dropFirst(6))) {
                self = .rostered(id)
            } else if text.hasPrefix("described:"), text.count > 10 {
                self = .described(String(text.dropFirst(10)))
            } else {
                return nil
            }
        }

        public static func < (lhs: AdultKey, rhs: AdultKey) -> Bool { lhs.description < rhs.description }

        /// FNV-1a of the folded text, as hex: the same on every platform and run.
        static func describedKey(_ text: String) -> String {
            var hash = StableHash()
            for byte in text.utf8 { hash.combine(byte) }
            return hash.hex
        }
    }

    /// The peers' incident load per 100 children (median of facilities of the same kind in the same
    /// jurisdiction), published by the last full rescoring.
    public struct PeerBaseline: Hashable, Sendable, Codable {
        public var loadPerHundredChildren: Double
        public var peers: Int
        public var computedAt: Date

        public init(loadPerHundredChildren: Double, peers: Int, computedAt: Date) {
            self.loadPerHundredChildren = loadPerHundredChildren
            self.peers = peers
            self.computedAt = computedAt
        }
    }

    /// A regulator's manual band, with why and until when.
    public struct ManualOverride: Hashable, Sendable, Codable {
        public var band: RiskBand
        public var reason: String
        public var expiresAt: Date
        public var setAt: Date
        public var setBy: String?

        public init(band: RiskBand, reason: String, expiresAt: Date, setAt: Date, setBy: String?) {
            self.band = band
            self.reason = reason
            self.expiresAt = expiresAt
            self.setAt = setAt
            self.setBy = setBy
        }
    }

    /// An adult implicated here, or on this facility's roster, whom linking (docs/linking.md)
    /// found to be the same person as records at other facilities, as of the last linking run.
    public struct LinkedAdult: Hashable, Sendable {
        /// The adult's key in this facility's reports (the roster key when the person is on the roster).
        public var key: AdultKey
        /// Whether a report here names the person.
        public var implicatedHere: Bool
        /// Other facilities where a report names the same person.
        public var implicatedAt: Set<Facility.ID>
        /// Other facilities whose roster holds the person without a report there naming them.
        public var rosteredAt: Set<Facility.ID>

        public init(key: AdultKey, implicatedHere: Bool, implicatedAt: Set<Facility.ID> = [], rosteredAt: Set<Facility.ID> = []) {
            self.key = key
            self.implicatedHere = implicatedHere
            self.implicatedAt = implicatedAt
            self.rosteredAt = rosteredAt
        }
    }

    /// A pattern (docs/linking.md) that some of this facility's reports belong to.
    public struct PatternMembership: Hashable, Sendable {
        public enum Kind: String, Hashable, Sendable {
            case modusOperandi = "modus_operandi"
            case network
        }

        public var id: UUID
        public var kind: Kind
        /// Every facility the pattern spans, this one included.
        public var facilities: Set<Facility.ID>
        /// This facility's reports in the pattern.
        public var reports: Set<IncidentReport.ID>
        /// When the pattern's latest report (at any facility) was received.
        public var lastReceivedAt: Date

        public init(id: UUID, kind: Kind, facilities: Set<Facility.ID>, reports: Set<IncidentReport.ID>, lastReceivedAt: Date) {
            self.id = id
            self.kind = kind
            self.facilities = facilities
            self.reports = reports
            self.lastReceivedAt = lastReceivedAt
        }
    }

    public var facilityID: Facility.ID
    public var enrolment: Int?
    public var reports: [Report]
    public var peerBaseline: PeerBaseline?
    /// How often the facility's peers' reports carry each feature the v2 model weighs (nil: the
    /// model's defaults).
    public var featureShares: FeatureShares?
    public var manualOverride: ManualOverride?
    /// Adults tied to other facilities by linking, by their key here.
    public var linkedAdults: [LinkedAdult]
    /// Patterns spanning facilities that this facility's reports belong to.
    public var patterns: [PatternMembership]

    public init(
        facilityID: Facility.ID, enrolment: Int? = nil, reports: [Report] = [], peerBaseline: PeerBaseline? = nil,
        featureShares: FeatureShares? = nil, manualOverride: ManualOverride? = nil, linkedAdults: [LinkedAdult] = [],
        patterns: [PatternMembership] = []
    ) {
        self.facilityID = facilityID
        self.enrolment = enrolment
        self.reports = reports
        self.peerBaseline = peerBaseline
        self.featureShares = featureShares
        self.manualOverride = manualOverride
        self.linkedAdults = linkedAdults
        self.patterns = patterns
    }

    /// For adults implicated here who are the same person as an adult implicated at other
    /// facilities: those facilities.
    public var adultsElsewhere: [AdultKey: Set<Facility.ID>] {
        var result: [AdultKey: Set<Facility.ID>] = [:]
        for adult in linkedAdults where adult.implicatedHere && !adult.implicatedAt.isEmpty {
            result[adult.key, default: []].formUnion(adult.implicatedAt)
        }
        return result
    }

    /// The other facilities this one is tied to: sharing a pattern, or where a person implicated
    /// here or on this roster is implicated too. A person implicated here and merely on another
    /// facility's roster ties that facility to this one, not this one to it (the risk is theirs).
    public var linkedFacilities: Set<Facility.ID> {
        var result = Set<Facility.ID>()
        for adult in linkedAdults { result.formUnion(adult.implicatedAt) }
        for pattern in patterns { result.formUnion(pattern.facilities) }
        result.remove(facilityID)
        return result
    }
}
