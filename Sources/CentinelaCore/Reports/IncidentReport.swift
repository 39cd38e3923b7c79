/// An incident report submitted for a facility. Reports are never altered or deleted once received:
/// corrections are amendments and regulators' decisions are status changes, both appended.
public struct IncidentReport: Hashable, Sendable, Codable {
    public typealias ID = Identifier<IncidentReport>

    /// What happened, as reported (see docs/risk-model.md for the severity of each).
    public enum Category: String, ControlledVocabulary {
        case sexualAbuse = "sexual_abuse"
        case physicalAbuse = "physical_abuse"
        case emotionalAbuse = "emotional_abuse"
        case neglect
        case grooming
        case inappropriateContact = "inappropriate_contact"
        case exposureToSexualContent = "exposure_to_sexual_content"
        case productionOfAbuseImagery = "production_of_abuse_imagery"
        case other
    }

    /// Who brought the incident to light. Independent sources matter to the risk model.
    public enum ReporterType: String, ControlledVocabulary {
        case schoolStaff = "school_staff"
        case parent
        case childDisclosure = "child_disclosure"
        case whistleblower
        case police
        case healthProfessional = "health_professional"
        case hotline
        case anonymous
    }

    /// Where a report stands in the regulator's process.
    public enum Status: String, ControlledVocabulary {
        case received
        case underReview = "under_review"
        case referredToProsecutor = "referred_to_prosecutor"
        case substantiated
        case unsubstantiated
        case unfounded
    }

    /// Modus-operandi tags: how the abuse was carried out. Shared rare tags link cases across schools.
    public enum ModusOperandi: String, ControlledVocabulary {
        case disguise
        case stagedAct = "staged_act"
        case filming
        case photographing
        case childrenMadeToWatch = "children_made_to_watch"
        case severalAdultsPresent = "several_adults_present"
        case threats
        case removalFromClassroom = "removal_from_classroom"
        case offPremises = "off_premises"
        case sedation
        case giftsGrooming = "gifts_grooming"
        case isolation
    }
}
