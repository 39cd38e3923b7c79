/// Networks of adults implicated together, across facilities: the other way a ring shows.
///
/// Persons named together in one report are joined (co-implication); a person is one adult across
/// facilities once entity resolution has linked their records. A network is a group of at least
/// two persons joined this way whose reports span at least two facilities — staff accused together
/// at one school and named again, together or apart, at another.
///
/// A network's reports are those naming two or more of its persons, and, at a facility where none
/// does, those naming one of them: there they are what carries the network to another school.
/// Complaints against one member at a school where the group was accused together (a neglect
/// complaint against one of them, years before) stay on that person's record, not in the pattern.
/// Reports found unfounded take part as history (the dismissed complaint at the first school is
/// exactly what the network should bring back), but a network needs at least one report that is
/// not. See docs/linking.md.
public enum NetworkDetection {
    /// The persons one report implicates. A person is `adult_persons.person_id`, or the record's own
    /// id for a record linked to nobody.
    public struct Implication: Sendable {
        public var report: IncidentReport.ID
        public var facility: Facility.ID
        public var persons: [String]
        public var unfounded: Bool

        public init(report: IncidentReport.ID, facility: Facility.ID, persons: [String], unfounded: Bool = false) {
            self.report = report
            self.facility = facility
            self.persons = persons
            self.unfounded = unfounded
        }
    }

    public struct Network: Sendable, Equatable {
        /// In input order.
        public var reports: [IncidentReport.ID]
        public var facilities: Set<Facility.ID>
        public var persons: Set<String>
    }

    /// The networks among these reports, largest first.
    public static func networks(_ implications: [Implication]) -> [Network] {
        var sets = DisjointSets<String>()
        for implication in implications {
            guard let first = implication.persons.first else { continue }
            for other in implication.persons.dropFirst() { sets.union(first, other) }
        }
        var groups: [String: [Implication]] = [:]
        for implication in implications {
            guard let first = implication.persons.first else { continue }
            groups[sets.find(first), default: []].append(implication)
        }
        return groups.values
            .compactMap { group -> Network? in
                let together = Set(group.filter { Set($0.persons).count >= 2 }.map(\.facility))
                let kept = group.filter { Set($0.persons).count >= 2 || !together.contains($0.facility) }
                let persons = Set(kept.flatMap(\.persons))
                let facilities = Set(kept.map(\.facility))
                guard persons.count >= 2, facilities.count >= 2, kept.contains(where: { !$0.unfounded }) else { return nil }
                return Network(reports: kept.map(\.report), facilities: facilities, persons: persons)
            }
            .sorted {
                $0.reports.count != $1.reports.count
                    ? $0.reports.count > $1.reports.count : $0.reports[0].description < $1.reports[0].description
            }
    }
}
