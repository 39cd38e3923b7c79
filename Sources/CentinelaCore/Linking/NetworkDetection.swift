/// Networks of adults implicated together, across facilities: the other way a ring shows.
///
/// Persons named together in one report are joined (co-implication); a person is one adult across
/// facilities once entity resolution has linked their records. A network is a group of at least
/// two persons joined this way whose reports span at least two facilities — staff accused together
/// at one school and named again, together or apart, at another. See docs/linking.md.
public enum NetworkDetection {
    /// The persons one report implicates. A person is `adult_persons.person_id`, or the record's own
    /// id for a record linked to nobody.
    public struct Implication: Sendable {
        public var report: IncidentReport.ID
        public var facility: Facility.ID
        public var persons: [String]

        public init(report: IncidentReport.ID, facility: Facility.ID, persons: [String]) {
            self.report = report
            self.facility = facility
            self.persons = persons
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
        var groups: [String: (reports: [IncidentReport.ID], facilities: Set<Facility.ID>, persons: Set<String>)] = [:]
        for implication in implications {
            guard let first = implication.persons.first else { continue }
            let key = sets.find(first)
            groups[key, default: ([], [], [])].reports.append(implication.report)
            groups[key]?.facilities.insert(implication.facility)
            groups[key]?.persons.formUnion(implication.persons)
        }
        return groups.values
            .filter { $0.persons.count >= 2 && $0.facilities.count >= 2 }
            .map { Network(reports: $0.reports, facilities: $0.facilities, persons: $0.persons) }
            .sorted { $0.reports.count != $1.reports.count ? $0.reports.count > $1.reports.count : $0.reports[0].description < $1.reports[0].description }
    }
}
