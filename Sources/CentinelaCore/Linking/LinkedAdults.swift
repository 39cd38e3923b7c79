import Foundation

/// What persons tell the risk model and the alert rules (docs/linking.md, "What linking feeds"):
/// for each key under which a person appears at a facility, the key to count them under there
/// (so that a roster entry and a name written in a complaint are one adult for REPEAT_ADULT), and
/// the other facilities where the same person is implicated or merely on the roster.
///
/// Only persons implicated somewhere (named in a report that is not unfounded) matter: an adult on
/// two rosters with no complaint anywhere ties nothing together.
public enum LinkedAdults {
    /// One record of a person, as the store reads it.
    public struct Record: Hashable, Sendable {
        public var person: AdultRecord.ID
        public var facility: Facility.ID
        /// The key the risk evidence uses for this record (see `RiskEvidence.AdultKey`).
        public var key: RiskEvidence.AdultKey
        /// Whether a report that is not unfounded names this record.
        public var implicated: Bool

        public init(person: AdultRecord.ID, facility: Facility.ID, key: RiskEvidence.AdultKey, implicated: Bool) {
            self.person = person
            self.facility = facility
            self.key = key
            self.implicated = implicated
        }
    }

    /// At `facility`, the adult known as `key` is `linked` (whose key is the one to count them under).
    public struct Entry: Hashable, Sendable {
        public var facility: Facility.ID
        public var key: RiskEvidence.AdultKey
        public var linked: RiskEvidence.LinkedAdult

        public init(facility: Facility.ID, key: RiskEvidence.AdultKey, linked: RiskEvidence.LinkedAdult) {
            self.facility = facility
            self.key = key
            self.linked = linked
        }
    }

    /// The entries for the records of persons, ordered by facility and key. A key that two
    /// persons share at one facility (two people of the same name and role, unlinked) keeps the
    /// first person's counting key and the ties of both: a tie is never dropped.
    public static func entries(_ records: [Record]) -> [Entry] {
        let persons = Dictionary(grouping: records, by: \.person).sorted { $0.key.description < $1.key.description }
        var entries: [FacilityKey: RiskEvidence.LinkedAdult] = [:]
        for (_, records) in persons {
            let implicated = Set(records.filter(\.implicated).map(\.facility))
            guard !implicated.isEmpty else { continue }
            let facilities = Set(records.map(\.facility))
            let keysAt = Dictionary(grouping: records, by: \.facility).mapValues { Set($0.map(\.key)) }
            // One facility and one key: nothing that linking adds.
            guard facilities.count > 1 || keysAt.values.contains(where: { $0.count > 1 }) else { continue }
            for (facility, keys) in keysAt {
                let rostered = keys.filter { if case .rostered = $0 { true } else { false } }
                let counting = rostered.min() ?? keys.min()!
                let linked = RiskEvidence.LinkedAdult(
                    key: counting, implicatedHere: implicated.contains(facility),
                    implicatedAt: implicated.subtracting([facility]),
                    rosteredAt: facilities.subtracting(implicated).subtracting([facility]))
                for key in keys {
                    let at = FacilityKey(facility: facility, key: key)
                    if entries[at] == nil { entries[at] = linked } else { entries[at]!.absorb(linked) }
                }
            }
        }
        return entries.map { Entry(facility: $0.key.facility, key: $0.key.key, linked: $0.value) }
            .sorted { ($0.facility.description, $0.key) < ($1.facility.description, $1.key) }
    }

    private struct FacilityKey: Hashable {
        var facility: Facility.ID
        var key: RiskEvidence.AdultKey
    }
}

extension RiskEvidence {
    /// Applies linking's entries for this facility: every report counts each adult under their
    /// counting key, and `linkedAdults` holds one entry per counting key.
    public mutating func link(_ entries: [LinkedAdults.Entry]) {
        guard !entries.isEmpty else { return }
        var counting: [AdultKey: AdultKey] = [:]
        var linked: [AdultKey: LinkedAdult] = [:]
        for entry in entries where entry.facility == facilityID {
            counting[entry.key] = entry.linked.key
            if linked[entry.linked.key] == nil {
                linked[entry.linked.key] = entry.linked
            } else {
                linked[entry.linked.key]!.absorb(entry.linked)
            }
        }
        for index in reports.indices where reports[index].adults.contains(where: { counting[$0] != nil }) {
            reports[index].adults = Set(reports[index].adults.map { counting[$0] ?? $0 })
        }
        linkedAdults = linked.values.sorted { $0.key < $1.key }
    }
}

extension RiskEvidence.LinkedAdult {
    /// Takes in another entry for the same adult here: every tie of both is kept, and a facility
    /// where the person is implicated is never also counted as merely rostering them.
    mutating func absorb(_ other: Self) {
        implicatedHere = implicatedHere || other.implicatedHere
        implicatedAt.formUnion(other.implicatedAt)
        rosteredAt.formUnion(other.rosteredAt)
        rosteredAt.subtract(implicatedAt)
    }
}
