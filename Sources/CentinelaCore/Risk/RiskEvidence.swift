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
            let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
                .split(whereSeparator: { $0.isWhitespace || $0 == "." || $0 == "," }).joined(separator: " ")
            return .described(Self.describedKey(folded + "|" + role))
        }

        public var description: String {
            switch self {
            case .rostered(let id): "adult:\(id)"
            case .described(let key): "described:\(key)"
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

    public var facilityID: Facility.ID
    public var enrolment: Int?
    public var reports: [Report]
    public var peerBaseline: PeerBaseline?
    public var manualOverride: ManualOverride?
    /// Other facilities sharing a pattern or an adult with this one (linking arrives with pattern
    /// detection; until then always empty).
    public var crossFacilityLinks: Int
    /// For adults implicated here who are linked to the same person implicated at other
    /// facilities: those facilities (linking arrives with pattern detection; until then empty).
    public var adultsElsewhere: [AdultKey: Set<Facility.ID>]

    public init(
        facilityID: Facility.ID, enrolment: Int? = nil, reports: [Report] = [], peerBaseline: PeerBaseline? = nil,
        manualOverride: ManualOverride? = nil, crossFacilityLinks: Int = 0, adultsElsewhere: [AdultKey: Set<Facility.ID>] = [:]
    ) {
        self.adultsElsewhere = adultsElsewhere
        self.facilityID = facilityID
        self.enrolment = enrolment
        self.reports = reports
        self.peerBaseline = peerBaseline
        self.manualOverride = manualOverride
        self.crossFacilityLinks = crossFacilityLinks
    }
}

