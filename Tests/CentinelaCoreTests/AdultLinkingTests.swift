import CentinelaCore
import Foundation
import Testing

/// Entity resolution of adults: names as written, comparison levels, match weights, blocking and
/// grouping into persons.
@Suite struct AdultLinkingTests {
    let model = LinkageModel.v1
    let state = Jurisdiction.ID.random(), otherState = Jurisdiction.ID.random()
    let city = Jurisdiction.ID.random(), otherCity = Jurisdiction.ID.random(), farCity = Jurisdiction.ID.random()

    /// A country's worth of name counts: María, Hernández and García are common; the rest rare.
    let frequencies = NameFrequencies(
        given: ["maria": 600, "juan": 500, "jose": 450, "ruben": 40, "xochitl": 3, "itzel": 5],
        surnames: [
            "hernandez": 700, "garcia": 650, "lopez": 500, "perez": 480, "tapia": 30, "ochoa": 35, "fernandez": 90,
            "tlacuilo": 1, "ayala": 60, "mendoza": 200, "ruiz": 180,
        ],
        records: 12_000)

    func record(
        _ name: String, at jurisdiction: Jurisdiction.ID? = nil, parent: Jurisdiction.ID? = nil, facility: Facility.ID = .random(),
        role: Adult.Role? = .teacher, born: String? = nil, nationalID: String? = nil
    ) -> AdultRecord {
        AdultRecord(
            id: .random(), facility: facility, jurisdiction: jurisdiction, parentJurisdiction: parent, name: NormalizedName(name),
            role: role, dateOfBirth: born.flatMap(CalendarDate.init), nationalIDHash: nationalID.map { Data($0.utf8) })
    }

    // MARK: Names as written

    @Test(
        arguments: [
            ("María José Hernández García", ["maria", "jose"], "hernandez", "garcia"),
            ("HERNÁNDEZ GARCÍA, MARÍA JOSÉ", ["maria", "jose"], "hernandez", "garcia"),
            ("Profra. Ana de la Cruz", ["ana"], "delacruz", nil),
            ("Juan  Pérez", ["juan"], "perez", nil),
            ("Mtro. Ramón Peña y Lillo Núñez", ["ramon"], "penaylillo", "nunez"),
            ("ITZEL xóchitl  TLACUILO-AYALA", ["itzel", "xochitl"], "tlacuilo", "ayala"),
            // Accents typed as a letter and a combining mark (as some keyboards and systems send them).
            ("Jose\u{301} Pe\u{301}rez Nun\u{303}ez", ["jose"], "perez", "nunez"),
        ] as [(String, [String], String, String?)])
    func namesAreReadAsPeopleWriteThem(written: String, given: [String], paternal: String, maternal: String?) {
        let name = NormalizedName(written)
        #expect(name.given == given)
        #expect(name.paternal == paternal)
        #expect(name.maternal == maternal)
    }

    @Test func nothingUsableIsEmpty() {
        #expect(NormalizedName("  —, . ").isEmpty)
        #expect(NormalizedName("Profe").isEmpty)
        #expect(!NormalizedName("Lupita").isEmpty)
    }

    @Test func jaroWinklerMatchesTheTextbookValues() {
        #expect(abs(JaroWinkler.similarity("martha", "marhta") - 0.961) < 0.001)
        #expect(abs(JaroWinkler.similarity("dwayne", "duane") - 0.840) < 0.001)
        #expect(abs(JaroWinkler.similarity("dixon", "dicksonx") - 0.813) < 0.001)
        #expect(JaroWinkler.similarity("", "") == 1 && JaroWinkler.similarity("a", "") == 0)
        #expect(JaroWinkler.similarity("perez", "perez") == 1)
    }

    @Test func soundAlikeSpellingsShareAPhoneticKey() {
        #expect(SpanishPhonetic.key("Hernández") == SpanishPhonetic.key("Ernandes"))
        #expect(SpanishPhonetic.key("Vázquez") == SpanishPhonetic.key("Basques"))
        #expect(SpanishPhonetic.key("Llamas") == SpanishPhonetic.key("Yamas"))
        #expect(SpanishPhonetic.key("Gerardo") == SpanishPhonetic.key("Jerardo"))
        #expect(SpanishPhonetic.key("Chávez") != SpanishPhonetic.key("Cavez"))
        #expect(SpanishPhonetic.key("Ruiz") != SpanishPhonetic.key("Ortiz"))
    }

    @Test func theKeysComparedInPlaceAgreeWithTheKeysBuilt() {
        // sameKey works the keys out on the stack for folded names; it must say what key says.
        var words = [
            "hernandez", "ernandes", "vazquez", "basques", "llamas", "yamas", "gerardo", "jerardo", "chavez", "cavez", "quiroga",
            "kiroga", "guillen", "gijen", "yolanda", "iolanda", "gommez", "gomez", "de la cruz", "delacruz", "cq", "qu", "hh", "yy",
            "ll", "y", "", "Núñez", "nunez", "MUÑOZ", "munoz", "xochitl", "wenceslao", "uenseslao", "ceci", "seci",
        ]
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abceghilnoqsuvwyz")
        for _ in 0..<2_000 {
            words.append(String((0..<Int.random(in: 1...7, using: &generator)).map { _ in letters.randomElement(using: &generator)! }))
        }
        for a in words {
            for b in words.prefix(60) + [a, String(a.reversed())] {
                #expect(SpanishPhonetic.sameKey(a, b) == (SpanishPhonetic.key(a) == SpanishPhonetic.key(b)), "\(a) \(b)")
            }
        }
    }

    // MARK: Comparison levels and weights

    @Test func accentsAndCaseDoNotMatter() {
        let a = record("José Hernández López", at: city, parent: state)
        let b = record("JOSE HERNANDEZ LOPEZ", at: otherCity, parent: state)
        let result = model.assess(a, b, frequencies: frequencies)
        #expect(result.comparison(.givenName)?.level == "exact")
        #expect(result.comparison(.surnames)?.level == "both_exact")
        #expect(result.comparison(.place)?.level == "neighbouring")
    }

    @Test func swappedSurnamesAreOneLevel() {
        let a = record("Rubén Tapia Ochoa", at: city)
        let b = record("Ruben Ochoa Tapia", at: otherCity)
        let result = model.assess(a, b, frequencies: frequencies)
        #expect(result.comparison(.surnames)?.level == "swapped")
        #expect(result.verdict == .link, "\(result)")
    }

    @Test func aMissingMaternalSurnameStillLinksARareName() {
        let a = record("Xóchitl Tlacuilo Ayala", at: city, parent: state)
        let b = record("Xochitl Tlacuilo", at: otherCity, parent: state)
        let result = model.assess(a, b, frequencies: frequencies)
        #expect(result.comparison(.surnames)?.level == "one_missing_exact")
        #expect(result.verdict == .link, "\(result)")
    }

    @Test func typosAreFuzzyAgreement() {
        let a = record("Rubén Fernández Tapia", at: city)
        let b = record("Ruben Fernandes Tapia", at: otherCity)
        let result = model.assess(a, b, frequencies: frequencies)
        #expect(result.comparison(.surnames)?.level == "both_fuzzy")
        #expect(result.verdict != .distinct, "\(result)")
        let c = record("Rubem Tapia Ochoa", at: city)
        #expect(
            model.assess(c, record("Ruben Tapia Ochoa", at: farCity), frequencies: frequencies).comparison(.givenName)?.level == "fuzzy")
        // A misspelt given name says as much as its commoner spelling allows: a rare one more than María.
        let rare = model.assess(
            record("Xochitl Tapia Ochoa", at: city), record("Xochtil Tapia Ochoa", at: farCity), frequencies: frequencies)
        let common = model.assess(record("Maria Tapia Ochoa", at: city), record("Mraia Tapia Ochoa", at: farCity), frequencies: frequencies)
        #expect(rare.comparison(.givenName)?.level == "fuzzy" && common.comparison(.givenName)?.level == "fuzzy")
        let (r, c2) = (rare.comparison(.givenName)!.weight, common.comparison(.givenName)!.weight)
        #expect(abs((r - c2) - log2(600.0 / 3)) < 1e-9, "\(r) \(c2)")
    }

    @Test func oneTypingErrorNearTheStartIsStillTheSameName() {
        // Jaro–Winkler forgives a slip at the end of a word more than near its start.
        #expect(JaroWinkler.similarity("siruez", "syruez") < model.fuzzyThreshold)
        for (a, b) in [
            ("siruez", "syruez"), ("grunaeddo", "grunaedo"), ("moreno", "morino"), ("castro", "catsro"), ("ralu", "rlu"),
            ("mendez", "mendze"),
        ] {
            #expect(TypingError.oneApart(a, b) && TypingError.oneApart(b, a), "\(a) \(b)")
        }
        for (a, b) in [("siruez", "siruez"), ("moreno", "morales"), ("castro", "catrso"), ("ab", "ba c"), ("abcd", "abdcx")] {
            #expect(!TypingError.oneApart(a, b), "\(a) \(b)")
        }
        let a = record("Martha Siruez Solluero", at: city)
        let b = record("Martha Syruez Solluero", at: otherCity)
        #expect(model.assess(a, b, frequencies: frequencies).comparison(.surnames)?.level == "both_fuzzy")
    }

    @Test func aShortSurnameMisspeltIsStillTheSameSurname() {
        // A letter dropped, added or two swapped, however short the name: not a relative's surname.
        for (a, b) in [("uc", "ucs"), ("tojos", "tjos"), ("chada", "chda"), ("paz", "pza")] {
            #expect(TypingError.oneApart(a, b, replacing: false) && TypingError.oneApart(b, a, replacing: false), "\(a) \(b)")
        }
        // A replaced letter in a short name usually makes another name.
        #expect(!TypingError.oneApart("mora", "moya", replacing: false) && TypingError.oneApart("mora", "moya"))
        let short = model.assess(
            record("Daniela Karla Uc Vagaillo", at: city, role: .assistant),
            record("Daniela Karla Ucs Vagaillo", at: city, role: .assistant),
            frequencies: frequencies)
        #expect(short.comparison(.surnames)?.level == "both_fuzzy", "\(short)")
        #expect(short.verdict == .link && short.heldForReview == nil, "\(short)")
        let other = model.assess(record("Itzel Mora Ochoa", at: city), record("Itzel Moya Ochoa", at: city), frequencies: frequencies)
        #expect(other.comparison(.surnames)?.level == "one_of_two", "\(other)")
        #expect(other.verdict != .link, "\(other)")
    }

    @Test func aSurnameSpeltAsItSoundsIsTheSameSurname() {
        // "Gonsález", "Gommez": written by ear, the same Spanish phonetic key.
        for (a, b) in [("gonsalez", "gonzalez"), ("gommez", "gomez"), ("vazquez", "basquez")] {
            #expect(model.writtenAlike(a, b), "\(a) \(b)")
        }
        #expect(!model.writtenAlike("mora", "moya") && !model.writtenAlike("lopez", "garcia"))
        let result = model.assess(
            record("Itzel Basquez Tapia", at: city), record("Itzel Vázquez Tapia", at: otherCity), frequencies: frequencies)
        #expect(result.comparison(.surnames)?.level == "both_fuzzy", "\(result)")
    }

    @Test func aNicknameWithASecondGivenNameIsReadAsTwoGivenNames() {
        // "Manolo Alejandro Castillo" beside "Manuel Alejandro Castillo Grozial": Manolo is
        // Manuel's nickname, so Alejandro is a second given name and the maternal surname is left
        // out, not a woman or man whose surnames are Alejandro and Castillo.
        let result = model.assess(
            record("Manolo Alejandro Castillo", at: city, role: .caregiver),
            record("Manuel Alejandro Castillo Grozial", at: city, role: .caregiver), frequencies: youngRegister())
        #expect(result.comparison(.givenName)?.level == "nickname", "\(result)")
        #expect(result.comparison(.surnames)?.level == "one_missing_exact", "\(result)")
    }

    @Test func whichRecordComesFirstChangesNothing() {
        // A misspelling is as common as the name it misspells, whichever side it is on.
        for (x, y) in [
            ("Rubén Fernández Tapia", "Ruben Fernadnez Tapia"), ("Xóchitl Tlacuilo", "Xochitl Tlacuylo Ayala"),
            ("Gabriela Itzel Guzmán", "Gabriela Itzel Guzmán Flores"), ("Juan Pérez López", "Juan Peres Lopez"),
        ] {
            let a = record(x, at: city)
            let b = record(y, at: otherCity)
            let forth = model.assess(a, b, frequencies: frequencies)
            let back = model.assess(b, a, frequencies: frequencies)
            #expect(
                abs(forth.weight - back.weight) < 1e-9 && forth.comparisons.map(\.level) == back.comparisons.map(\.level),
                "\(forth) \(back)")
        }
    }

    @Test func differentPeopleWithTheSameCommonNameDoNotLinkWithoutMoreEvidence() {
        let a = record("María Hernández García", at: city, parent: state)
        let b = record("Maria Hernandez Garcia", at: farCity, parent: otherState)
        let result = model.assess(a, b, frequencies: frequencies)
        #expect(result.verdict != .link, "\(result)")
        // The same name when rare links: the name itself is the evidence.
        let rare = model.assess(
            record("Itzel Tlacuilo Ayala", at: city, parent: state), record("Itzel Tlacuilo Ayala", at: farCity, parent: otherState),
            frequencies: frequencies)
        #expect(rare.verdict == .link && rare.weight > result.weight + 10)
        // A date of birth in common is the more evidence the common name needs.
        let born = model.assess(
            record("María Hernández García", at: city, parent: state, born: "1984-03-12"),
            record("Maria Hernandez Garcia", at: farCity, parent: otherState, born: "1984-03-12"), frequencies: frequencies)
        #expect(born.verdict == .link, "\(born)")
        let bornApart = model.assess(
            record("María Hernández García", at: city, born: "1984-03-12"), record("Maria Hernandez Garcia", at: city, born: "1991-07-02"),
            frequencies: frequencies)
        #expect(bornApart.verdict == .distinct, "\(bornApart)")
    }

    @Test func aSecondGivenNameInCommonIsMoreEvidenceAndOneThatDiffersIsLess() {
        var counted = frequencies
        counted.secondGiven = ["jose": 300, "itzel": 4, "fernanda": 40]
        counted.secondGivenRecords = 3_000
        let one = model.assess(
            record("María Hernández García", at: city), record("Maria Hernandez Garcia", at: farCity), frequencies: counted)
        let both = model.assess(
            record("María Itzel Hernández García", at: city), record("Maria Itzel Hernandez Garcia", at: farCity), frequencies: counted)
        #expect(both.comparison(.givenName)?.level == "exact_both")
        // "Itzel" is one second name in 750: log2(0.9 × 750) bits more than "María" alone.
        let gained = both.weight - one.weight
        #expect(abs(gained - log2(model.secondGivenSameM * 3_000 / 4)) < 1e-9, "\(gained)")
        let differs = model.assess(
            record("María Itzel Hernández García", at: city), record("Maria Fernanda Hernandez Garcia", at: farCity), frequencies: counted)
        #expect(differs.comparison(.givenName)?.level == "exact_second_different")
        #expect(differs.weight < one.weight - 3)
        // Only one side has a second given name: nothing to compare, the first name decides.
        let missing = model.assess(
            record("María Itzel Hernández García", at: city), record("Maria Hernandez Garcia", at: farCity), frequencies: counted)
        #expect(missing.comparison(.givenName)?.level == "exact" && missing.weight == one.weight)
    }

    @Test func aThreeWordNameIsReadWithTwoGivenNamesWhenTheOtherRecordSaysSo() {
        // "Gabriela Itzel Guzmán": the maternal surname left out, not "Itzel" taken for a surname.
        let a = record("Gabriela Itzel Guzmán", at: city)
        let b = record("Gabriela Itzel Guzmán Flores", at: otherCity)
        let result = model.assess(a, b, frequencies: frequencies)
        #expect(result.comparison(.givenName)?.level == "exact_both", "\(result)")
        #expect(result.comparison(.surnames)?.level == "one_missing_exact", "\(result)")
        // Read alone, the same words are one given name and two surnames.
        #expect(NormalizedName("Gabriela Itzel Guzmán").given == ["gabriela"])
        // A middle word that is not the other's second given name stays a surname.
        let other = model.assess(record("Gabriela Guzmán Flores", at: city), b, frequencies: frequencies)
        #expect(other.comparison(.givenName)?.level == "exact" && other.comparison(.surnames)?.level == "both_exact", "\(other)")
    }

    // MARK: Abbreviations, nicknames, compound names (docs/linking.md, "Abbreviations and nicknames")

    @Test(arguments: [
        ("Ma.", "María"), ("Mª", "María"), ("Gpe.", "Guadalupe"), ("Fco.", "Francisco"), ("Fca.", "Francisca"), ("Fdo.", "Fernando"),
    ])
    func anAbbreviationWeighsWhatTheNameWrittenOutWould(short: String, full: String) {
        let a = record("\(short) Ochoa Tapia", at: city)
        let b = record("\(full) Ochoa Tapia", at: farCity)
        let written = model.assess(a, b, frequencies: frequencies)
        #expect(written.comparison(.givenName)?.level == "abbreviation", "\(written)")
        let out = model.assess(record("\(full) Ochoa Tapia", at: city), b, frequencies: frequencies)
        #expect(abs(written.comparison(.givenName)!.weight - out.comparison(.givenName)!.weight) < 1e-9)
        // The two records meet in a block: the abbreviation's initial is the name's.
        #expect(!PersonResolution.candidatePairs([a, b]).isEmpty)
    }

    @Test func maGuadalupeIsMariaGuadalupe() {
        // "Ma. Guadalupe López" at one school, "María Guadalupe López Ayala" at another: two
        // given names and one surname, not "Guadalupe" taken for a surname.
        // A young register: 150 records.
        var young = NameFrequencies(given: ["maria": 6, "jose": 5], surnames: ["lopez": 3, "ayala": 1], records: 150)
        young.secondGiven = ["guadalupe": 2]
        young.secondGivenRecords = 20
        let a = record("Ma. Guadalupe López", at: city, role: .director)
        let b = record("María Guadalupe López Ayala", at: otherCity, role: .director)
        let result = model.assess(a, b, frequencies: young)
        #expect(result.comparison(.surnames)?.level == "one_missing_exact", "\(result)")
        #expect(result.comparison(.givenName)?.level == "abbreviation", "\(result)")
        // As strong as "María Guadalupe" written out on both sides.
        let out = model.assess(record("María Guadalupe López", at: city, role: .director), b, frequencies: young)
        #expect(out.comparison(.givenName)?.level == "exact_both")
        #expect(abs(result.weight - out.weight) < 1e-9, "\(result) \(out)")
        #expect(result.verdict != .distinct, "\(result)")
    }

    @Test(arguments: [
        ("Chuy", "Jesús"), ("Chucho", "Jesús"), ("Pepe", "José"), ("Chema", "José María"), ("Paco", "Francisco"),
        ("Pancho", "Francisco"), ("Nacho", "Ignacio"), ("Memo", "Guillermo"), ("Toño", "Antonio"), ("Beto", "Alberto"),
        ("Beto", "Roberto"), ("Lalo", "Eduardo"), ("Lupe", "Guadalupe"), ("Concha", "Concepción"), ("Conchita", "Concepción"),
        ("Cuca", "Refugio"), ("Chayo", "Rosario"), ("Lola", "Dolores"), ("Quique", "Enrique"), ("Checo", "Sergio"),
        ("Manolo", "Manuel"), ("Coco", "Socorro"), ("Ale", "Alejandra"), ("Alex", "Alejandro"),
    ])
    func aNicknameIsItsOwnLevelAndMeetsTheName(nickname: String, name: String) {
        let a = record("\(nickname) Ochoa Tapia", at: city)
        let b = record("\(name) Ochoa Tapia", at: farCity)
        let result = model.assess(a, b, frequencies: frequencies)
        #expect(result.comparison(.givenName)?.level == "nickname", "\(result)")
        #expect(result.comparison(.givenName)!.weight > 0)
        // Weaker than the name written out on both sides.
        let same = model.assess(record("\(name) Ochoa Tapia", at: city), b, frequencies: frequencies)
        #expect(result.comparison(.givenName)!.weight < same.comparison(.givenName)!.weight)
        #expect(!PersonResolution.candidatePairs([a, b]).isEmpty, "\(nickname) and \(name) never meet")
        // Not every short name is a nickname of every other.
        let other = model.assess(
            record("\(nickname) Ochoa Tapia", at: city), record("Itzel Ochoa Tapia", at: farCity), frequencies: frequencies)
        #expect(other.comparison(.givenName)?.level == "different")
    }

    @Test func onePartOfACompoundGivenNameIsItsOwnLevel() {
        var counted = frequencies
        counted.given["guadalupe"] = 120
        counted.secondGiven = ["guadalupe": 400]
        counted.secondGivenRecords = 3_000
        let result = model.assess(
            record("Guadalupe Ochoa Tapia", at: city), record("María Guadalupe Ochoa Tapia", at: farCity), frequencies: counted)
        #expect(result.comparison(.givenName)?.level == "compound_part", "\(result)")
        let u = counted.givenShare("guadalupe") + counted.secondGivenShare("guadalupe")
        #expect(abs(result.comparison(.givenName)!.weight - log2(model.givenCompoundPartM / u)) < 1e-9)
    }

    // MARK: A young register (docs/linking.md, "A young register")

    /// A register's first hundred records, each name seen once or twice.
    func youngRegister(population: PopulationNames? = .shipped) -> NameFrequencies {
        var young = NameFrequencies(
            given: ["maria": 2, "jose": 1, "xochitl": 1], surnames: ["hernandez": 2, "garcia": 2, "tlacuilo": 1, "ayala": 1], records: 100)
        young.population = population
        return young
    }

    @Test func inAYoungRegisterMexicosCommonNamesReadAsCommon() {
        let young = youngRegister()
        // (n − 1 + K·p) / (N + K): two Marías among 100 records (the other one, beside the
        // record compared), K = 2,000 records of the population.
        let p = PopulationNames.shipped.given["maria"]!
        #expect(abs(young.givenShare("maria") - (1 + 2_000 * p) / 2_100) < 1e-12)
        for (given, share) in [("maria", 0.02), ("jose", 0.02), ("juan", 0.01)] { #expect(young.givenShare(given) > share, "\(given)") }
        for surname in ["hernandez", "garcia", "lopez", "martinez", "gonzalez", "rodriguez"] {
            #expect(young.surnameShare(surname) > 0.015, "\(surname)")
        }
        // A name the tables do not know is rare, not one in the register's hundred: blended with
        // the unknown names' share, floored at one in 10,000.
        #expect(PopulationNames.shipped.surnames["tlacuilo"] == nil)
        #expect(young.surnameShare("tlacuilo") == 1e-4)
        #expect(youngRegister(population: nil).surnameShare("tlacuilo") == 0.01)
        // Names common among others too are in the tables (Patricia is 5 % Hispanic in them).
        #expect(young.givenShare("patricia") > 0.004)
        // A large register's own counts dominate.
        var large = NameFrequencies(given: ["maria": 100], surnames: [:], records: 1_000_000)
        large.population = .shipped
        #expect(abs(large.givenShare("maria") - 1e-4) < 1e-4)
    }

    @Test func namesakesInOtherRolesElsewhereNeverLinkOnNamesAlone() {
        // One of Mexico's most common full names, a teacher and a cook in two states.
        let a = record("María Hernández García", at: city, role: .teacher)
        let b = record("María Hernández García", at: farCity, role: .cook)
        let result = model.assess(a, b, frequencies: youngRegister())
        #expect(result.verdict != .link, "\(result)")
        // Whatever the register's size: even where the score alone would link, a regulator decides.
        let tiny = model.assess(
            a, b, frequencies: NameFrequencies(given: ["maria": 1], surnames: ["hernandez": 1, "garcia": 1], records: 10))
        #expect(tiny.score >= 0 && tiny.verdict == .review && tiny.heldForReview == .namesakesElsewhere, "\(tiny)")
        // The same person, born the same day, still links.
        let born = model.assess(
            record("María Hernández García", at: city, role: .teacher, born: "1980-03-02"),
            record("María Hernández García", at: farCity, role: .cook, born: "1980-03-02"), frequencies: youngRegister())
        #expect(born.verdict == .link && born.heldForReview == nil, "\(born)")
    }

    @Test func aCommonNameAloneNeverLinksEvenInTheSameRole() {
        // Two teachers called José García Rodríguez in two states, no date of birth: the country
        // has dozens of them.
        let a = record("José García Rodríguez", at: city)
        let b = record("Jose Garcia Rodriguez", at: farCity)
        let result = model.assess(a, b, frequencies: youngRegister())
        #expect(result.score >= 0 && result.verdict == .review && result.heldForReview == .commonName, "\(result)")
        // A rare name, or a shared date of birth, is more than names alone.
        let rare = model.assess(
            record("Rafael Martínez Najial", at: city), record("Rafael Najial", at: farCity), frequencies: youngRegister())
        #expect(rare.verdict == .link && rare.heldForReview == nil, "\(rare)")
        let born = model.assess(
            record("José García Rodríguez", at: city, born: "1979-04-11"), record("Jose Garcia Rodriguez", at: farCity, born: "1979-04-11"),
            frequencies: youngRegister())
        #expect(born.verdict == .link && born.heldForReview == nil, "\(born)")
        // Same role as a cook (few cooks) weighs the namesakes fewer than as a teacher.
        let share = model.nameShare(NormalizedName("José García Rodríguez"), NormalizedName("José García Rodríguez"), youngRegister())
        #expect(share * model.countryStaff > 10, "José García Rodríguez: dozens in the country")
    }

    /// Issue 19: a teacher moved to another state and was named in a complaint there two years
    /// later, written with both surnames and accents at one school and without the maternal
    /// surname or accents at the other. Nothing in linking expires: the records link when the
    /// names are rare enough to say so.
    @Test func aTeacherWhoMovedTwoYearsLaterLinks() {
        let young = youngRegister()
        let before = record("Profra. Itzel Xóchitl Tlacuilo Ayala", at: city)
        let after = record("Itzel Xochitl Tlacuilo", at: farCity)
        let result = model.assess(before, after, frequencies: young)
        #expect(result.comparison(.surnames)?.level == "one_missing_exact")
        #expect(result.verdict == .link && result.heldForReview == nil, "\(result)")
    }

    @Test func aMisspeltCommonSurnameIsNotEvidenceAgainst() {
        // "Martníez" beside "Martínez": two different Martínez differ in spelling only by a typo.
        let result = model.assess(
            record("Vezoina Aguilar Martínez", at: city, role: .caregiver), record("Vezoina Martníez", at: farCity, role: .caregiver),
            frequencies: youngRegister())
        #expect(result.comparison(.surnames)?.level == "one_missing_fuzzy")
        #expect(result.comparison(.surnames)!.weight > 0, "\(result)")
        #expect(result.verdict == .link, "\(result)")
    }

    @Test func aCompoundGivenNameMeetsItsSecondPartInBlocking() {
        let records = [
            record("Alejandra Patricia Muñoz Rulla", at: city), record("Patricia Muñoz", at: city),
            record("Pramia Sosiela Jumil Craboado", at: city),
            record("Sosiela Jumil Craboado", at: farCity),
        ]
        let pairs = Set(PersonResolution.candidatePairs(records).map { "\($0.0)-\($0.1)" })
        #expect(pairs.contains("0-1") && pairs.contains("2-3"), "\(pairs)")
    }

    @Test func aSharedDateOfBirthDoesNotOutweighTwoDifferentSurnames() {
        let result = model.assess(
            record("Xóchitl Ochoa Tapia", at: city, born: "1985-07-09"), record("Xóchitl Ruiz Mendoza", at: otherCity, born: "1985-07-09"),
            frequencies: frequencies)
        #expect(result.comparison(.surnames)?.level == "different")
        #expect(result.verdict != .link, "\(result)")
        if result.score >= model.linkThreshold { #expect(result.heldForReview == .surnamesDiffer) }
    }

    @Test func twoEntriesOfOneRosterAreNotRewardedForSharingAFacility() {
        let school = Facility.ID.random()
        var a = record("Itzel Tlacuilo Ayala", at: city, facility: school, role: .teacher)
        var b = record("Xóchitl Tlacuilo Ayala", at: city, facility: school, role: .cook)
        a.fromRoster = true
        b.fromRoster = true
        let colleagues = model.assess(a, b, frequencies: frequencies)
        #expect(colleagues.comparison(.place)?.level == "same_roster")
        #expect(colleagues.comparison(.place)!.weight < 0)
        // A name written in a report at the same school is still evidence for its roster entry.
        b.fromRoster = false
        let mention = model.assess(a, b, frequencies: frequencies)
        #expect(mention.comparison(.place)?.level == "same_facility" && mention.comparison(.place)!.weight > 0)
    }

    @Test func inALargeDatabaseARareNameWeighsAsRareAsTenRecordsSay() {
        // Up to 100,000 records a name counts as at least one in 10,000.
        let young = NameFrequencies(given: ["zagoia": 1], records: 50_000)
        #expect(young.givenShare("zagoia") == 1e-4)
        #expect(NameFrequencies(given: ["zagoia": 1], records: 1_000).givenShare("zagoia") == 1e-3)
        // Among 2.9 million, as one in 290,000: ten records' worth, not one.
        let country = NameFrequencies(given: ["zagoia": 1, "maria": 150_000], records: 2_900_000)
        #expect(abs(country.givenShare("zagoia") - 10 / 2_900_000.0) < 1e-15)
        #expect(abs(country.givenShare("maria") - 150_000 / 2_900_000.0) < 1e-15)
    }

    @Test func theKnownMatchesTeachHowOftenASecondGivenNameAgrees() {
        var counted = frequencies
        counted.secondGiven = ["itzel": 4, "fernanda": 40]
        counted.secondGivenRecords = 3_000
        // 100 proven pairs with a second given name on both sides: 50 agree, 50 do not.
        let known = (0..<100).map { index in
            (
                record("María Itzel López Ruiz", at: city),
                record(index < 50 ? "María Itzel López Ruiz" : "María Fernanda López Ruiz", at: otherCity)
            )
        }
        let fitted = model.fitted(toKnownMatches: known, frequencies: counted, pseudoPairs: 200)
        #expect(abs(fitted.secondGivenSameM - (50 + 200 * model.secondGivenSameM) / 300) < 1e-9)
        #expect(abs(fitted.secondGivenDifferent.m - (50 + 200 * model.secondGivenDifferent.m) / 300) < 1e-9)
        // Every pair had its first given name exact, whatever the second.
        #expect(abs(fitted.givenExactM - (100 + 200 * model.givenExactM) / 300) < 1e-9)
    }

    @Test func howOftenStrangersShareAPlaceOrARoleIsCounted() {
        // 3,200 records: 32 states of 100, ten to a school; 2,000 teachers and 1,200 assistants.
        let spread = LinkageModel.Spread(
            facilities: Array(repeating: 10, count: 320), jurisdictions: Array(repeating: 100, count: 32), parents: [],
            roles: [2_000, 1_200])
        let measured = model.measuring(spread)
        let n = 3_200.0 * 3_199
        #expect(abs(measured.placeSameFacility.u - 320 * 90 / n) < 1e-12)
        #expect(abs(measured.placeSameJurisdiction.u - (32 * 9_900 - 320 * 90) / n) < 1e-12)
        #expect(abs(measured.placeElsewhere.u - (1 - 32 * 9_900 / n)) < 1e-12)
        #expect(measured.placeNeighbouring == model.placeNeighbouring)
        #expect(abs(measured.roleSame.u - (2_000.0 * 1_999 + 1_200 * 1_199) / n) < 1e-12)
        // One state in 32: moving within it says more than the shipped one-in-twelve allowed.
        #expect(measured.placeSameJurisdiction.weight > model.placeSameJurisdiction.weight + 1)
        // The m side is untouched; a small database keeps the shipped values.
        #expect(measured.placeSameJurisdiction.m == model.placeSameJurisdiction.m)
        let small = LinkageModel.Spread(facilities: [400, 400], jurisdictions: [800], parents: [], roles: [800])
        #expect(model.measuring(small) == model)
    }

    @Test func aNationalIdentifierDecidesOnItsOwn() {
        let same = model.assess(
            record("Juan Pérez", nationalID: "K1"), record("J. Lopez Ayala", nationalID: "K1"), frequencies: frequencies)
        #expect(same.verdict == .link && same.comparisons.map(\.field) == [.nationalID])
        let different = model.assess(
            record("Xóchitl Tlacuilo Ayala", born: "1990-01-01", nationalID: "K1"),
            record("Xóchitl Tlacuilo Ayala", born: "1990-01-01", nationalID: "K2"), frequencies: frequencies)
        #expect(different.verdict == .distinct)
    }

    @Test func everyLinkExplainsItselfAndTheWeightsAddUp() {
        let result = model.assess(
            record("Rubén Tapia Ochoa", at: city, born: "1980-05-06"), record("Ruben Tapia", at: city, role: .director, born: "1980-06-05"),
            frequencies: frequencies)
        #expect(Set(result.comparisons.map(\.field)) == [.givenName, .surnames, .dateOfBirth, .role, .place])
        #expect(result.comparison(.dateOfBirth)?.level == "close")
        #expect(result.comparison(.role)?.level == "different")
        #expect(abs(result.comparisons.reduce(0) { $0 + $1.weight } - result.weight) < 1e-9)
    }

    @Test func theSameEvidenceNeedsMoreInALargerDatabase() {
        // Same shares of each name, a thousand times as many records: ten bits more to find.
        let village = NameFrequencies(given: ["itzel": 1], surnames: ["tlacuilo": 1, "ayala": 5], records: 1_000)
        let country = NameFrequencies(given: ["itzel": 1_000], surnames: ["tlacuilo": 1_000, "ayala": 5_000], records: 1_000_000)
        let a = record("Itzel Tlacuilo Ayala", at: city)
        let b = record("Itzel Tlacuilo Ayala", at: farCity)
        let small = model.assess(a, b, frequencies: village)
        let large = model.assess(a, b, frequencies: country)
        #expect(abs(small.weight - large.weight) < 1e-9)
        #expect(abs((small.score - large.score) - log2(1_000)) < 1e-9)
        // Linked with confidence among a village's records; among a country's, at most a weak link a regulator confirms.
        #expect(small.verdict == .link && small.score >= model.confirmThreshold, "\(small)")
        #expect(large.score < model.confirmThreshold, "\(large)")
    }

    @Test func theIdentifiersMeasureHowRareAMatchIs() {
        var frequencies = NameFrequencies(records: 1_000_000)
        // Too few identified records or pairs to measure: one in N.
        frequencies.identifiedRecords = 900
        frequencies.identifiedPairs = 50
        #expect(LinkageModel.prior(frequencies) == -log2(1_000_000))
        frequencies.identifiedRecords = 300_000
        frequencies.identifiedPairs = 19
        #expect(LinkageModel.prior(frequencies) == -log2(1_000_000))
        // 300,000 identified records, 450 pairs sharing an identifier: one pair in 10^8, not one in 10^6.
        frequencies.identifiedPairs = 450
        let measured = LinkageModel.prior(frequencies)
        #expect(abs(measured - log2(450 / (300_000.0 * 299_999 / 2))) < 1e-9)
        #expect(measured < -26 && measured > -27)
        // The evidence needed grows with it, by exactly the difference in the priors.
        let a = record("Itzel Tlacuilo Ayala", at: city, born: "1980-05-04")
        let b = record("Itzel Tlacuilo Ayala", at: farCity, born: "1980-05-04")
        let country = NameFrequencies(given: ["itzel": 300], surnames: ["tlacuilo": 200, "ayala": 5_000], records: 1_000_000)
        var identified = country
        identified.identifiedRecords = 300_000
        identified.identifiedPairs = 450
        let before = model.assess(a, b, frequencies: country)
        let after = model.assess(a, b, frequencies: identified)
        #expect(before.weight == after.weight)
        #expect(abs((before.score - after.score) - (-log2(1_000_000) - measured)) < 1e-9)
    }

    @Test func theKnownMatchesTeachHowNamesDrift() {
        // 300 pairs proven by their identifiers: in 240 the paternal surname is misspelt, in 60 not.
        var known: [(AdultRecord, AdultRecord)] = []
        for index in 0..<300 {
            let b = index < 240 ? "Ruben Fernadnez Ochoa" : "Ruben Fernandez Ochoa"
            known.append((record("Rubén Fernández Ochoa", at: city), record(b, at: otherCity)))
        }
        let fitted = model.fitted(toKnownMatches: known, frequencies: frequencies, pseudoPairs: 200)
        // Measured shares blended with the shipped ones as 200 more pairs.
        #expect(abs(fitted.surnamesBothFuzzyM - (240 + 200 * model.surnamesBothFuzzyM) / 500) < 1e-9)
        #expect(abs(fitted.surnamesBothExactM - (60 + 200 * model.surnamesBothExactM) / 500) < 1e-9)
        #expect(abs(fitted.surnamesSwappedM - 200 * model.surnamesSwappedM / 500) < 1e-9)
        // Fields the known pairs do not show keep their shipped m (no date of birth here).
        #expect(fitted.birthExact == model.birthExact)
        // A misspelt pair now weighs more, an exact one less; nothing known, nothing changes.
        let a = record("Rubén Fernández Ochoa", at: city)
        let b = record("Ruben Fernadnez Ochoa", at: otherCity)
        #expect(fitted.assess(a, b, frequencies: frequencies).weight > model.assess(a, b, frequencies: frequencies).weight + 1)
        #expect(model.fitted(toKnownMatches: [], frequencies: frequencies) == model)
    }

    @Test func aCommonNameMeetsOnItsDateOfBirth() {
        let keys = PersonResolution.blockKeys(NormalizedName("María Hernández García"), dateOfBirth: CalendarDate("1985-03-09"))
        #expect(keys.contains("b:1985-03-09:" + SpanishPhonetic.key("hernandez")))
        #expect(keys.contains("b:1985-03-09:" + SpanishPhonetic.key("garcia")))
        #expect(!PersonResolution.blockKeys(NormalizedName("María Hernández García")).contains { $0.hasPrefix("b:") })
        // Two records of a common name, the same day of birth, one surname misspelt: they share a block.
        let x = record("María Hernández García", born: "1985-03-09")
        let y = record("Maria Hernandes Garsia", born: "1985-03-09")
        let shared = PersonResolution.blockKeys(x.name, dateOfBirth: x.dateOfBirth)
            .intersection(PersonResolution.blockKeys(y.name, dateOfBirth: y.dateOfBirth))
        #expect(shared.contains { $0.hasPrefix("b:") })
        // Both surnames written differently (one misspelt, one left out): the day and the given name still meet.
        let z = record("Sofía Hrenández", born: "1985-03-09")
        let w = record("Sofia Hernández López", born: "1985-03-09")
        let met = PersonResolution.blockKeys(z.name, dateOfBirth: z.dateOfBirth).intersection(
            PersonResolution.blockKeys(w.name, dateOfBirth: w.dateOfBirth))
        #expect(met.contains("d:1985-03-09:" + SpanishPhonetic.key("sofia")) && !met.contains { $0.hasPrefix("b:") }, "\(met)")
    }

    // MARK: Blocking and persons

    @Test func typosStillMeetInABlock() {
        let records = [
            record("Rubén Hernández Tapia"), record("Ruben Ernandes Tapia"), record("Itzel Tlacuilo"), record("Itsel Tlacuilo Ayala"),
            record("Juan Pérez"),
        ]
        let pairs = Set(PersonResolution.candidatePairs(records).map { "\($0.0)-\($0.1)" })
        #expect(pairs.contains("0-1") && pairs.contains("2-3"))
        #expect(!pairs.contains("0-4") && !pairs.contains("2-4"))
    }

    @Test func personsNeverJoinWhatARegulatorOrAnIdentifierKeptApart() {
        let a = record("Rubén Tapia Ochoa", nationalID: "K1")
        let b = record("Ruben Tapia Ochoa")
        let c = record("Rubén Tapia", nationalID: "K2")
        let d = record("Itzel Tlacuilo")
        let e = record("Itzel Tlacuilo Ayala")
        let f = record("Itzel Tlacuilo A.")
        let links: [(RecordPair, Double)] = [
            (RecordPair(a.id, b.id), 20), (RecordPair(b.id, c.id), 18),  // c would bring a second identifier
            (RecordPair(d.id, e.id), 25), (RecordPair(e.id, f.id), 16),  // f was rejected beside d
        ]
        let persons = PersonResolution.persons([a, b, c, d, e, f], links: links, rejected: [RecordPair(f.id, d.id)])
        #expect(persons == [[a.id, b.id], [c.id], [d.id, e.id], [f.id]])
        #expect(RecordPair(a.id, b.id) == RecordPair(b.id, a.id))
    }
}
