import Foundation

/// Whether two adult records are the same person, Fellegi–Sunter style: each field is compared
/// into a level (exact, fuzzy, missing, different…), each level adds log2(m/u) to the match weight,
/// where m is how often the level occurs when the records are the same person and u how often it
/// occurs among different people compared after blocking. For exact agreement on a name, u is
/// the name's share among all records, so common names weigh less. An exact national identifier
/// links outright; two different identifiers never link.
///
/// The weights are evidence; the decision also needs the prior: how likely two records picked at
/// random are the same person. The records with a national identifier measure it: of every pair of
/// them, the share that carry the same one. Without enough of them (a young database), one in N,
/// as if each record had one match among the N; a database where few records have a match is
/// stricter than that, and its identifiers show it. The evidence must outweigh that many bits
/// before a link is likely. The verdict is taken on the sum (the posterior
/// log2-odds): the same two "María Hernández García" that might link among a village's records do
/// not link among a country's. See docs/linking.md.
public struct LinkageModel: Sendable, Equatable {
    /// m and u of one comparison level.
    public struct Probabilities: Sendable, Equatable {
        public var m: Double
        public var u: Double
        public init(m: Double, u: Double) {
            self.m = m
            self.u = u
        }
        public var weight: Double { log2(m / u) }
    }

    /// Posterior log2-odds at or above which a pair is linked automatically: even odds, the pair
    /// more likely one person than two (decision 29).
    public var linkThreshold: Double = 0
    /// Links scored below this (32 : 1) stay open: they are listed for a regulator to confirm or
    /// break, as the pairs below `linkThreshold` are listed to accept or reject.
    public var confirmThreshold: Double = 5
    /// At or above (and below `linkThreshold`): a regulator reviews the pair (from 1 : 8).
    public var reviewThreshold: Double = -3

    // m of exact name agreement; u comes from the name's frequency.
    public var givenExactM = 0.88
    // m of fuzzy agreement; u comes from the names' frequencies (`fuzzyScale`).
    public var givenFuzzyM = 0.07
    /// m of a written abbreviation agreeing with the name ("Ma." and "María"); u is the name's
    /// share scaled alike, so it weighs what writing the name out would.
    public var givenAbbreviationM = 0.03
    /// m of a nickname agreeing with the name ("Chuy" and "Jesús"); u is twice the share of the
    /// names it may stand for, scaled alike: a bit less than the name itself.
    public var givenNicknameM = 0.02
    /// m of one part of a compound given name written alone ("Guadalupe" for "María Guadalupe");
    /// u is how often that name is anyone's first or second given name.
    public var givenCompoundPartM = 0.05
    public var givenInitial = Probabilities(m: 0.02, u: 0.07)
    public var givenDifferent = Probabilities(m: 0.03, u: 0.94)
    /// When both records carry a second given name and the first agrees: how often the second
    /// agrees too (its u comes from its frequency among second names) or differs, for the same person.
    public var secondGivenSameM = 0.9
    public var secondGivenDifferent = Probabilities(m: 0.06, u: 0.95)
    public var surnamesBothExactM = 0.55
    public var surnamesSwappedM = 0.06
    public var surnamesBothFuzzyM = 0.10
    public var surnameOneMissingExactM = 0.22
    public var surnameOneMissingFuzzyM = 0.05
    public var surnameOneOfTwoM = 0.04
    public var surnamesDifferent = Probabilities(m: 0.03, u: 0.98)
    public var birthExact = Probabilities(m: 0.92, u: 1.0 / (365 * 40))
    public var birthClose = Probabilities(m: 0.05, u: 0.002)
    public var birthDifferent = Probabilities(m: 0.03, u: 0.998)
    public var roleSame = Probabilities(m: 0.75, u: 0.45)
    public var roleDifferent = Probabilities(m: 0.25, u: 0.55)
    public var placeSameFacility = Probabilities(m: 0.45, u: 0.01)
    /// Two entries of one facility's roster: how often one person is listed twice (re-hired, or
    /// entered again by mistake) is small; u is the same facility's.
    public var placeSameRosterM = 0.002
    public var placeSameJurisdiction = Probabilities(m: 0.30, u: 0.08)
    public var placeNeighbouring = Probabilities(m: 0.10, u: 0.15)
    public var placeElsewhere = Probabilities(m: 0.15, u: 0.76)
    /// Jaro–Winkler similarity from which two different spellings count as the same name.
    public var fuzzyThreshold = 0.92
    /// How many more people a misspelt name could stand for than its commoner spelling alone
    /// (its neighbours: Méndez, Mendes, Menéndez…): u of fuzzy agreement is this times that share.
    public var fuzzyScale = 5.0
    /// The names one typing error from a common name are rarer ones: together at most this share.
    public var fuzzyNeighbours = 1e-3
    /// How often a surname is written misspelt on a record (the share of the same person's pairs
    /// agreeing only fuzzily, measured on the simulated countries: about one in seven).
    public var misspelt = 0.15
    /// The smallest u any name agreement gets: one in a million, so no single name decides alone.
    public var smallestU = 1e-6
    /// Adults working in the country's schools and childcare facilities (Mexico: about two
    /// million, SEP's statistics of the education system), and under one jurisdiction (a large
    /// state's share, 1/16): who else a name could belong to, however young the register.
    public var countryStaff = 2_000_000.0
    public var jurisdictionStaffShare = 1.0 / 16
    /// A pair with nothing but names in common goes to review when the country is expected to
    /// hold this many other adults of that name (and role) or more: a one-in-five chance that
    /// someone else carries it.
    public var namesakesHeldAt = 0.25

    /// The weight shown for an exact or conflicting national identifier (it decides on its own).
    public static let identifierWeight = 30.0

    public init() {}

    /// The model as shipped.
    public static let v1 = LinkageModel()

    /// Compares two records and decides.
    public func assess(_ a: AdultRecord, _ b: AdultRecord, frequencies: NameFrequencies) -> LinkAssessment {
        if let x = a.nationalIDHash, let y = b.nationalIDHash {
            let same = x == y
            let weight = same ? Self.identifierWeight : -Self.identifierWeight
            return LinkAssessment(
                verdict: same ? .link : .distinct, weight: weight, prior: 0,
                comparisons: [.init(field: .nationalID, level: same ? "exact" : "different", weight: weight)])
        }
        let comparisons = compare(a, b, frequencies)
        let weight = comparisons.reduce(0) { $0 + $1.weight }
        let prior = Self.prior(frequencies)
        let score = weight + prior
        var verdict: LinkAssessment.Verdict = score >= linkThreshold ? .link : score >= reviewThreshold ? .review : .distinct
        let held = verdict == .link ? Self.heldForReview(comparisons) ?? commonName(a, b, comparisons, frequencies) : nil
        if held != nil { verdict = .review }
        return LinkAssessment(verdict: verdict, weight: weight, prior: prior, comparisons: comparisons, heldForReview: held)
    }

    /// Pairs that a regulator confirms whatever their score (docs/linking.md, "Never on names
    /// alone"): evidence that makes a link likely on average can still mislead on these, and a
    /// false link joins two people's complaints.
    static func heldForReview(_ comparisons: [LinkAssessment.Comparison]) -> LinkAssessment.HoldReason? {
        func level(_ field: LinkAssessment.Field) -> String? { comparisons.first { $0.field == field }?.level }
        // Different surnames, or one shared and the other different (relatives): a shared date of
        // birth or a rare given name does not make them one.
        if level(.surnames) == "different" || level(.surnames) == "one_of_two" { return .surnamesDiffer }
        // Different given names (not abbreviated, a nickname or misspelt): the same, for a date of
        // birth and a surname shared by chance.
        if level(.givenName) == "different" { return .givenNamesDiffer }
        // Namesakes: a different role in another place, and nothing but names in common.
        let born = level(.dateOfBirth)
        if born != "exact" && born != "close", level(.role) == "different", let place = level(.place),
            place == "elsewhere" || place == "neighbouring"
        {
            return .namesakesElsewhere
        }
        return nil
    }

    /// A name the country shares with others (docs/linking.md, "Never on names alone"): two
    /// records agreeing on nothing but names — no date of birth in common — at different
    /// facilities, whose name the country's staff hold `namesakesHeldAt` times or more besides.
    /// The prior counts the register's records; this counts the people a young register has not
    /// met yet.
    func commonName(
        _ a: AdultRecord, _ b: AdultRecord, _ comparisons: [LinkAssessment.Comparison], _ f: NameFrequencies
    )
        -> LinkAssessment.HoldReason?
    {
        let place = comparisons.first { $0.field == .place }?.level
        let born = comparisons.first { $0.field == .dateOfBirth }?.level
        guard born != "exact", born != "close", place != "same_facility", place != "same_roster" else { return nil }
        var staff = countryStaff * (place == "same_jurisdiction" ? jurisdictionStaffShare : 1)
        // Namesakes who would also agree on the role: a cook named like a cook elsewhere.
        if let role = a.role, role == b.role { staff *= Self.roleShares[role] ?? 1 }
        let (x, y) = Self.read(a.name, b.name)
        return staff * nameShare(x, y, f) >= namesakesHeldAt ? .commonName : nil
    }

    /// The share of the country's people carrying what both names say: the commoner first given
    /// name (written out), a second given name both carry, and the surnames of the name with fewer
    /// of them (a misspelt one as common as its commoner spelling). From the population tables
    /// when they are loaded — the register's own counts say little about the country until it is
    /// large — with a name they do not list taken as `unknownNameShare`.
    public func nameShare(_ a: NormalizedName, _ b: NormalizedName, _ f: NameFrequencies) -> Double {
        func givenShare(_ name: String) -> Double {
            guard let population = f.population else { return f.givenShare(name) }
            return population.given[name] ?? Self.unknownNameShare
        }
        func surnameShare(_ name: String) -> Double {
            guard let population = f.population else { return f.surnameShare(name) }
            // The tables give the share of records carrying a surname in either place; one place
            // holds it half as often.
            return (population.surnames[name] ?? 2 * Self.unknownNameShare) / 2
        }
        let firsts = [a, b].compactMap { $0.firstGiven.map(GivenNameVariants.expanded) }
        var share = firsts.map(givenShare).max() ?? 1
        if a.given.count >= 2, b.given.count >= 2 {
            let second = GivenNameVariants.expanded(a.given[1])
            if second == GivenNameVariants.expanded(b.given[1]) {
                share *= f.population == nil ? f.secondGivenShare(second) : givenShare(second)
            }
        }
        let (shorter, longer) = a.surnames.count <= b.surnames.count ? (a, b) : (b, a)
        for surname in shorter.surnames {
            let spellings = [surname] + longer.surnames.filter { writtenAlike($0, surname) }
            share *= spellings.map(surnameShare).max() ?? 1
        }
        return share
    }

    /// The share taken for a name the population tables do not list: below the rarest they list
    /// (one in 18,000 first names; one in 1,900 surnames), where tens of thousands of names share
    /// the half of people the tables leave out.
    public static let unknownNameShare = 2e-5

    /// Roughly how the country's school staff divide among roles (teachers are most of them):
    /// namesakes in the same role are this share of all namesakes.
    public static let roleShares: [Adult.Role: Double] = [
        .teacher: 0.6, .director: 0.05, .assistant: 0.06, .caregiver: 0.05, .administrative: 0.1, .cook: 0.03, .driver: 0.01,
        .security: 0.02, .maintenance: 0.06, .volunteer: 0.01, .other: 0.01,
    ]

    /// log2 of the prior odds that two records are the same person, from the identified records
    /// when there are enough of them to measure it (1,000 records and 20 pairs sharing an
    /// identifier), else one in the number of records.
    public static func prior(_ frequencies: NameFrequencies) -> Double {
        let identified = Double(frequencies.identifiedRecords)
        guard frequencies.identifiedRecords >= 1_000, frequencies.identifiedPairs >= 20 else {
            return prior(records: frequencies.records)
        }
        return log2(Double(frequencies.identifiedPairs) / (identified * (identified - 1) / 2))
    }

    /// One in the number of records: each record taken to have about one match among them.
    public static func prior(records: Int) -> Double { -log2(Double(max(records, 2))) }

    /// Each field's level and weight; a field missing on either side is left out.
    func compare(_ a: AdultRecord, _ b: AdultRecord, _ frequencies: NameFrequencies) -> [LinkAssessment.Comparison] {
        let (x, y) = Self.read(a.name, b.name)
        return [
            given(x, y, frequencies), surnames(x, y, frequencies), birth(a.dateOfBirth, b.dateOfBirth), role(a.role, b.role), place(a, b),
        ]
        .compactMap { $0 }
    }

    /// The two names as the pair suggests reading them. A three-word name is read as one given
    /// name and two surnames; but when its middle word is the other record's second given name,
    /// it is that person's two given names and one surname ("Gabriela Itzel Guzmán", the maternal
    /// surname left out, beside "Gabriela Itzel Guzmán Flores").
    static func read(_ a: NormalizedName, _ b: NormalizedName) -> (NormalizedName, NormalizedName) {
        func reread(_ x: NormalizedName, beside y: NormalizedName) -> NormalizedName {
            guard x.given.count == 1, let middle = x.paternal, let last = x.maternal, y.given.count >= 2,
                GivenNameVariants.expanded(y.given[1]) == GivenNameVariants.expanded(middle),
                GivenNameVariants.expanded(y.given[0]) == GivenNameVariants.expanded(x.given[0])
                    || JaroWinkler.similarity(y.given[0], x.given[0]) >= 0.92
                    // "Manolo Alejandro Castillo" beside "Manuel Alejandro Castillo Grozial".
                    || GivenNameVariants.areNicknames(x.given, y.given)
            else { return x }
            return NormalizedName(given: [x.given[0], middle], paternal: last, maternal: nil)
        }
        return (reread(a, beside: b), reread(b, beside: a))
    }

    private func level(_ field: LinkAssessment.Field, _ level: String, _ p: Probabilities) -> LinkAssessment.Comparison {
        LinkAssessment.Comparison(field: field, level: level, weight: p.weight)
    }

    /// The same name misspelt: Jaro–Winkler at or above `fuzzyThreshold`, or, for names of five
    /// letters or more, one typing error apart.
    private func similar(_ x: String, _ y: String) -> Bool {
        JaroWinkler.similarity(x, y) >= fuzzyThreshold || (min(x.utf8.count, y.utf8.count) >= 5 && TypingError.oneApart(x, y))
    }

    /// A surname written another way: misspelt as above, spelt as it sounds ("Gonsález",
    /// "Gommez": the same Spanish phonetic key), or, however short, with a letter dropped, added
    /// or two swapped ("Tjos" for Tojos, "Ucs" for Uc) — a replaced letter in a short name usually
    /// makes another name (Mora and Moya). Otherwise one typing error in a short surname reads as
    /// a different surname, and "Daniela Karla Ucs Vagaillo" as a relative of "… Uc Vagaillo".
    public func writtenAlike(_ x: String, _ y: String) -> Bool {
        let similarity = JaroWinkler.similarity(x, y)
        if similarity >= fuzzyThreshold { return true }
        if TypingError.oneApart(x, y, replacing: min(x.utf8.count, y.utf8.count) >= 5) { return true }
        // Spellings that sound alike look alike too: the keys compared only for those.
        return similarity >= 0.7 && SpanishPhonetic.sameKey(x, y)
    }

    func given(_ a: NormalizedName, _ b: NormalizedName, _ f: NameFrequencies) -> LinkAssessment.Comparison? {
        guard let x = a.firstGiven, let y = b.firstGiven else { return nil }
        if x == y { return sameGiven(a, b, f) }
        // Written short: "Ma." for María, "Gpe." for Guadalupe. Weighs what the names written out
        // would (a second given name included); counted as its own level, with its own m.
        if GivenNameVariants.expanded(x) == GivenNameVariants.expanded(y) {
            let full = sameGiven(
                NormalizedName(given: a.given.map(GivenNameVariants.expanded), paternal: nil, maternal: nil),
                NormalizedName(given: b.given.map(GivenNameVariants.expanded), paternal: nil, maternal: nil), f)
            return level(.givenName, "abbreviation", .init(m: givenAbbreviationM, u: givenAbbreviationM * exp2(-full.weight)))
        }
        return differentGiven(a, b, x, y, f)
    }

    /// The first given names agree; a second one on both sides is more evidence, or less.
    private func sameGiven(_ a: NormalizedName, _ b: NormalizedName, _ f: NameFrequencies) -> LinkAssessment.Comparison {
        let x = a.given[0]
        // A second given name on both sides is further evidence: "María Itzel" is rarer than "María".
        if a.given.count >= 2, b.given.count >= 2 {
            let (x2, y2) = (a.given[1], b.given[1])
            if x2 == y2 {
                let u = max(smallestU, f.givenShare(x) * f.secondGivenShare(x2))
                return level(.givenName, "exact_both", .init(m: givenExactM * secondGivenSameM, u: u))
            }
            if !similar(x2, y2) {
                let u = max(smallestU, f.givenShare(x) * secondGivenDifferent.u)
                return level(.givenName, "exact_second_different", .init(m: givenExactM * secondGivenDifferent.m, u: u))
            }
        }
        return level(.givenName, "exact", .init(m: givenExactM, u: max(smallestU, f.givenShare(x))))
    }

    /// The first given names differ as written: an initial, a nickname, one part of a compound
    /// name, a misspelling, or another name.
    private func differentGiven(
        _ a: NormalizedName, _ b: NormalizedName, _ x: String, _ y: String, _ f: NameFrequencies
    ) -> LinkAssessment.Comparison {
        let (fullX, fullY) = (GivenNameVariants.expanded(x), GivenNameVariants.expanded(y))
        if x.count == 1 || y.count == 1 {
            return x.first == y.first ? level(.givenName, "initial", givenInitial) : level(.givenName, "different", givenDifferent)
        }
        // Called by a nickname: "Chuy" for Jesús, "Chema" for José María.
        let expandedA = a.given.map(GivenNameVariants.expanded)
        let expandedB = b.given.map(GivenNameVariants.expanded)
        if GivenNameVariants.areNicknames(expandedA, expandedB) {
            let names = Set(GivenNameVariants.blockingNames(x)).union(GivenNameVariants.blockingNames(y)).union([fullX, fullY])
                .filter { GivenNameVariants.nicknameOf($0).isEmpty }
            let share = names.reduce(0) { $0 + f.givenShare($1) }
            return level(.givenName, "nickname", .init(m: givenNicknameM, u: max(smallestU, 2 * share * givenNicknameM / givenExactM)))
        }
        // One part of a compound given name written alone ("Guadalupe" for "María Guadalupe").
        if expandedA.dropFirst().contains(fullY) || expandedB.dropFirst().contains(fullX) {
            let part = expandedA.dropFirst().contains(fullY) ? fullY : fullX
            let u = max(smallestU, min(1, f.givenShare(part) + f.secondGivenShare(part)))
            return level(.givenName, "compound_part", .init(m: givenCompoundPartM, u: u))
        }
        // A misspelling: as common as the commoner of the two names, like a misspelt surname.
        guard similar(x, y) else { return level(.givenName, "different", givenDifferent) }
        let u = max(smallestU, fuzzyScale * max(f.givenShare(x), f.givenShare(y)))
        return level(.givenName, "fuzzy", .init(m: givenFuzzyM, u: u))
    }

    /// The share that stands in u for a name agreeing only fuzzily: the name's own share while it is
    /// rare (its neighbours one typing error away may be as common); above `fuzzyNeighbours`, the
    /// neighbours' mass plus the name's share times how often one record of a person carries a
    /// misspelt surname (`misspelt`): two different Martínez differ in spelling only by a typo.
    func fuzzyShare(_ share: Double) -> Double {
        min(share, fuzzyNeighbours + misspelt * share)
    }

    func surnames(_ a: NormalizedName, _ b: NormalizedName, _ f: NameFrequencies) -> LinkAssessment.Comparison? {
        let x = a.surnames
        let y = b.surnames
        guard !x.isEmpty, !y.isEmpty else { return nil }
        func u(_ names: [String], scale: Double = 1) -> Double {
            max(smallestU, scale * names.reduce(1.0) { $0 * f.surnameShare($1) })
        }
        // Spellings that agree only fuzzily count as common as the commoner of the two: a misspelt
        // "Méndze" is rare, but people who could be written so are as many as the Méndez. Of a
        // common name, though, two different people show two spellings only when one of them is
        // misspelt: "Martníez" beside "Martínez" is not evidence against (`fuzzyShare`).
        func uFuzzy(_ pairs: [(String, String)]) -> Double {
            max(
                smallestU,
                fuzzyScale
                    * pairs.reduce(1.0) { product, pair in
                        let share = max(f.surnameShare(pair.0), f.surnameShare(pair.1))
                        return product * (pair.0 == pair.1 ? share : fuzzyShare(share))
                    })
        }
        if x.count == 2 && y.count == 2 {
            if x == y { return level(.surnames, "both_exact", .init(m: surnamesBothExactM, u: u(x))) }
            if x == y.reversed() { return level(.surnames, "swapped", .init(m: surnamesSwappedM, u: u(x))) }
            if writtenAlike(x[0], y[0]) && writtenAlike(x[1], y[1]) {
                return level(.surnames, "both_fuzzy", .init(m: surnamesBothFuzzyM, u: uFuzzy([(x[0], y[0]), (x[1], y[1])])))
            }
            if writtenAlike(x[0], y[1]) && writtenAlike(x[1], y[0]) {
                return level(.surnames, "both_fuzzy", .init(m: surnamesBothFuzzyM, u: uFuzzy([(x[0], y[1]), (x[1], y[0])])))
            }
            if let shared = x.first(where: y.contains) {
                return level(.surnames, "one_of_two", .init(m: surnameOneOfTwoM, u: u([shared])))
            }
            return level(.surnames, "different", surnamesDifferent)
        }
        // One side (or both) wrote a single surname: it must be one of the other's.
        let (single, other) = x.count == 1 ? (x[0], y) : (y[0], x)
        if other.contains(single) { return level(.surnames, "one_missing_exact", .init(m: surnameOneMissingExactM, u: u([single]))) }
        if let match = other.first(where: { writtenAlike($0, single) }) {
            return level(.surnames, "one_missing_fuzzy", .init(m: surnameOneMissingFuzzyM, u: uFuzzy([(single, match)])))
        }
        return level(.surnames, "different", surnamesDifferent)
    }

    func birth(_ a: CalendarDate?, _ b: CalendarDate?) -> LinkAssessment.Comparison? {
        guard let a, let b else { return nil }
        if a == b { return level(.dateOfBirth, "exact", birthExact) }
        let swapped = a.year == b.year && a.month == b.day && a.day == b.month
        let oneOff = (a.year == b.year && a.month == b.month) || (a.month == b.month && a.day == b.day && abs(a.year - b.year) <= 1)
        return swapped || oneOff ? level(.dateOfBirth, "close", birthClose) : level(.dateOfBirth, "different", birthDifferent)
    }

    func role(_ a: Adult.Role?, _ b: Adult.Role?) -> LinkAssessment.Comparison? {
        guard let a, let b, a != .other, b != .other else { return nil }
        return a == b ? level(.role, "same", roleSame) : level(.role, "different", roleDifferent)
    }

    func place(_ a: AdultRecord, _ b: AdultRecord) -> LinkAssessment.Comparison? {
        if a.facility == b.facility {
            // Colleagues on one roster who share a rare surname are two people: the same place is
            // evidence only between a roster entry and a name written in a report.
            if a.fromRoster && b.fromRoster {
                return level(.place, "same_roster", .init(m: placeSameRosterM, u: placeSameFacility.u))
            }
            return level(.place, "same_facility", placeSameFacility)
        }
        guard let x = a.jurisdiction, let y = b.jurisdiction else { return nil }
        if x == y { return level(.place, "same_jurisdiction", placeSameJurisdiction) }
        // Under the same state, or one inside the other.
        let (ap, bp) = (a.parentJurisdiction, b.parentJurisdiction)
        let neighbouring = (ap != nil && (ap == bp || ap == y)) || (bp != nil && bp == x)
        return neighbouring ? level(.place, "neighbouring", placeNeighbouring) : level(.place, "elsewhere", placeElsewhere)
    }
}

/// The outcome of comparing two adult records, with its explanation: each field's level and weight.
public struct LinkAssessment: Sendable, Equatable {
    public enum Verdict: String, Sendable, Codable {
        /// The same person: linked without review.
        case link
        /// Perhaps the same person: a regulator decides.
        case review
        /// Not enough to say they are the same person.
        case distinct
    }

    public enum Field: String, Sendable, Codable, CaseIterable {
        case nationalID = "national_id"
        case givenName = "given_name"
        case surnames
        case dateOfBirth = "date_of_birth"
        case role
        case place
    }

    public struct Comparison: Sendable, Equatable, Codable {
        public var field: Field
        /// The comparison level, e.g. `exact`, `swapped`, `one_missing_exact`.
        public var level: String
        /// log2(m/u): positive for evidence of the same person, negative against.
        public var weight: Double
    }

    /// Why a pair that scores as a link goes to a regulator instead (`LinkageModel.heldForReview`).
    public enum HoldReason: String, Sendable, Codable {
        /// The surnames differ: no other agreement links two people automatically.
        case surnamesDiffer = "surnames_differ"
        /// The given names differ: a shared date of birth and surname do not make them one.
        case givenNamesDiffer = "given_names_differ"
        /// Different roles in different places, and no date of birth in common: names alone.
        case namesakesElsewhere = "namesakes_elsewhere"
        /// Names alone, and the country holds other adults of that name (`LinkageModel.commonName`).
        case commonName = "common_name"
    }

    public var verdict: Verdict
    /// The evidence: the sum of the comparisons' weights.
    public var weight: Double
    /// The prior log2-odds, from the number of records (0 when an identifier decided).
    public var prior: Double
    public var comparisons: [Comparison]
    /// Set when the score says link but the pair goes to review.
    public var heldForReview: HoldReason?

    public init(verdict: Verdict, weight: Double, prior: Double, comparisons: [Comparison], heldForReview: HoldReason? = nil) {
        self.verdict = verdict
        self.weight = weight
        self.prior = prior
        self.comparisons = comparisons
        self.heldForReview = heldForReview
    }

    /// The posterior log2-odds that the verdict is taken on.
    public var score: Double { weight + prior }

    public func comparison(_ field: Field) -> Comparison? { comparisons.first { $0.field == field } }
}

extension LinkageModel {
    /// The model with each comparison level's m measured on pairs known to be the same person
    /// (their national identifiers agree): how often, when it is the same person, the surnames
    /// come swapped, misspelt or one short, the date of birth differs, the person has moved
    /// elsewhere. Each measured share is blended with the shipped m as if the shipped value were
    /// `pseudoPairs` more pairs, so a handful of identified pairs moves the model a little and
    /// thousands move it most of the way. The u side (how often different people agree) is not
    /// touched: names' u come from their frequencies.
    public func fitted(
        toKnownMatches pairs: [(AdultRecord, AdultRecord)], frequencies: NameFrequencies, pseudoPairs: Double = 200
    )
        -> LinkageModel
    {
        guard !pairs.isEmpty else { return self }
        var counts: [LinkAssessment.Field: [String: Int]] = [:]
        for (a, b) in pairs {
            for comparison in compare(a, b, frequencies) { counts[comparison.field, default: [:]][comparison.level, default: 0] += 1 }
        }
        var model = self
        func blend(_ field: LinkAssessment.Field, _ level: String, _ shipped: Double) -> Double {
            let observed = counts[field] ?? [:]
            let total = Double(observed.values.reduce(0, +))
            // Never 0: a level never seen among the known pairs can still happen.
            return max(1e-4, (Double(observed[level] ?? 0) + pseudoPairs * shipped) / (total + pseudoPairs))
        }
        // The given name agrees, with or without a second one to compare.
        let given = counts[.givenName] ?? [:]
        let (both, second) = (given["exact_both"] ?? 0, given["exact_second_different"] ?? 0)
        counts[.givenName]?["exact"] = (given["exact"] ?? 0) + both + second
        counts[.givenName]?["exact_both"] = nil
        counts[.givenName]?["exact_second_different"] = nil
        model.givenExactM = blend(.givenName, "exact", givenExactM)
        // Of those with a second given name on both sides, how often it agrees.
        let compared = Double(both + second)
        model.secondGivenSameM = (Double(both) + pseudoPairs * secondGivenSameM) / (compared + pseudoPairs)
        model.secondGivenDifferent.m = max(1e-4, (Double(second) + pseudoPairs * secondGivenDifferent.m) / (compared + pseudoPairs))
        model.givenFuzzyM = blend(.givenName, "fuzzy", givenFuzzyM)
        model.givenAbbreviationM = blend(.givenName, "abbreviation", givenAbbreviationM)
        model.givenNicknameM = blend(.givenName, "nickname", givenNicknameM)
        model.givenCompoundPartM = blend(.givenName, "compound_part", givenCompoundPartM)
        model.givenInitial.m = blend(.givenName, "initial", givenInitial.m)
        model.givenDifferent.m = blend(.givenName, "different", givenDifferent.m)
        model.surnamesBothExactM = blend(.surnames, "both_exact", surnamesBothExactM)
        model.surnamesSwappedM = blend(.surnames, "swapped", surnamesSwappedM)
        model.surnamesBothFuzzyM = blend(.surnames, "both_fuzzy", surnamesBothFuzzyM)
        model.surnameOneMissingExactM = blend(.surnames, "one_missing_exact", surnameOneMissingExactM)
        model.surnameOneMissingFuzzyM = blend(.surnames, "one_missing_fuzzy", surnameOneMissingFuzzyM)
        model.surnameOneOfTwoM = blend(.surnames, "one_of_two", surnameOneOfTwoM)
        model.surnamesDifferent.m = blend(.surnames, "different", surnamesDifferent.m)
        model.birthExact.m = blend(.dateOfBirth, "exact", birthExact.m)
        model.birthClose.m = blend(.dateOfBirth, "close", birthClose.m)
        model.birthDifferent.m = blend(.dateOfBirth, "different", birthDifferent.m)
        model.roleSame.m = blend(.role, "same", roleSame.m)
        model.roleDifferent.m = blend(.role, "different", roleDifferent.m)
        model.placeSameFacility.m = blend(.place, "same_facility", placeSameFacility.m)
        model.placeSameRosterM = blend(.place, "same_roster", placeSameRosterM)
        model.placeSameJurisdiction.m = blend(.place, "same_jurisdiction", placeSameJurisdiction.m)
        model.placeNeighbouring.m = blend(.place, "neighbouring", placeNeighbouring.m)
        model.placeElsewhere.m = blend(.place, "elsewhere", placeElsewhere.m)
        return model
    }
}

extension LinkageModel {
    /// How the records spread over facilities, jurisdictions, their parents and roles: how often
    /// two records picked at random share a place or a role, the *u* of those levels.
    public struct Spread: Sendable, Equatable {
        /// Records per facility, per jurisdiction, per parent of a municipality (for records in
        /// municipalities), per role (`other` and unknown left out).
        public var facilities: [Int]
        public var jurisdictions: [Int]
        public var parents: [Int]
        public var roles: [Int]

        public init(facilities: [Int], jurisdictions: [Int], parents: [Int], roles: [Int]) {
            self.facilities = facilities
            self.jurisdictions = jurisdictions
            self.parents = parents
            self.roles = roles
        }

        /// The chance that two records picked at random fall in the same group.
        static func together(_ counts: [Int], of total: Int) -> Double {
            guard total > 1 else { return 0 }
            let n = Double(total)
            return counts.reduce(0) { $0 + Double($1) * Double($1 - 1) } / (n * (n - 1))
        }
    }

    /// The model with the place and role levels' *u* measured on the records instead of shipped:
    /// in a country of 32 states two records picked at random are in the same one about one time
    /// in 32, not one in 12 as shipped for a smaller region. Needs 1,000 records; below that the
    /// shipped values stay. The *m* side is the known pairs' (`fitted`).
    public func measuring(_ spread: Spread) -> LinkageModel {
        let records = spread.facilities.reduce(0, +)
        guard records >= 1_000 else { return self }
        var model = self
        let floor = 1e-4
        let facility = Spread.together(spread.facilities, of: records)
        let jurisdiction = Spread.together(spread.jurisdictions, of: records)
        let parent = Spread.together(spread.parents, of: records)
        // Pairs under one parent include those in one jurisdiction; in one jurisdiction, those at one facility.
        model.placeSameFacility.u = max(floor, facility)
        model.placeSameJurisdiction.u = max(floor, jurisdiction - facility)
        // Without municipalities the level hardly occurs (a facility registered under a state beside
        // one under its municipality): the shipped value stays rather than a floor no count supports.
        if !spread.parents.isEmpty { model.placeNeighbouring.u = max(floor, parent - jurisdiction) }
        model.placeElsewhere.u = max(floor, 1 - max(parent, jurisdiction))
        let roled = spread.roles.reduce(0, +)
        if roled >= 1_000 {
            let same = Spread.together(spread.roles, of: roled)
            model.roleSame.u = max(floor, same)
            model.roleDifferent.u = max(floor, 1 - same)
        }
        return model
    }
}
