import CentinelaCore

/// Mexican given names and surnames with rough relative frequencies, and the ways a name gets
/// written differently from one record to the next. Common names repeat on purpose: different
/// people with the same common name must not be linked without more evidence.
///
/// The common names are half of all surnames drawn and 60 % of given names; the rest come from a
/// long tail of rarer names, as in a real register, where the 80 most common surnames cover about
/// half the population and tens of thousands of others share the rest, most of them held by a few
/// families. The tail is synthetic (Spanish syllables), weighted by a Zipf–Mandelbrot law.
public enum SpanishNames {
    static let femaleGiven: [(String, Double)] = [
        ("María", 30), ("Guadalupe", 12), ("Juana", 6), ("Margarita", 5), ("Verónica", 5), ("Leticia", 5),
        ("Rosa", 5), ("Patricia", 6), ("Elizabeth", 5), ("Alejandra", 6), ("Gabriela", 6), ("Adriana", 5),
        ("Claudia", 5), ("Silvia", 4), ("Martha", 4), ("Laura", 5), ("Ana", 6), ("Sofía", 3), ("Fernanda", 3),
        ("Mónica", 4), ("Araceli", 3), ("Yolanda", 3), ("Norma", 3), ("Lucía", 3), ("Beatriz", 3), ("Itzel", 2),
        ("Ximena", 2), ("Daniela", 3), ("Karla", 3), ("Brenda", 3), ("Érika", 3), ("Irma", 2), ("Josefina", 2),
        ("Teresa", 3), ("Citlali", 1), ("Xóchitl", 1), ("Nayeli", 1), ("Dulce", 2), ("Maricela", 2), ("Socorro", 2),
    ]
    static let maleGiven: [(String, Double)] = [
        ("José", 30), ("Juan", 20), ("Luis", 10), ("Miguel", 8), ("Jesús", 8), ("Francisco", 7), ("Antonio", 7),
        ("Alejandro", 6), ("Pedro", 5), ("Carlos", 6), ("Manuel", 6), ("Ricardo", 4), ("Fernando", 4), ("Jorge", 5),
        ("Roberto", 4), ("Eduardo", 4), ("Javier", 4), ("Sergio", 4), ("Raúl", 4), ("Arturo", 3), ("Héctor", 3),
        ("Martín", 3), ("Óscar", 3), ("Rafael", 3), ("Daniel", 4), ("Ángel", 3), ("Alberto", 3), ("Enrique", 3),
        ("Gerardo", 3), ("Víctor", 3), ("Rubén", 2), ("Hugo", 2), ("Armando", 2), ("Efraín", 1), ("Joaquín", 2),
        ("Ramón", 2), ("Salvador", 2), ("Tomás", 2), ("Cuauhtémoc", 1), ("Emiliano", 2),
    ]
    static let surnames: [(String, Double)] = [
        ("Hernández", 60), ("García", 40), ("Martínez", 38), ("López", 36), ("González", 34), ("Pérez", 25),
        ("Rodríguez", 25), ("Sánchez", 23), ("Ramírez", 22), ("Cruz", 16), ("Flores", 16), ("Gómez", 15),
        ("Morales", 12), ("Vázquez", 12), ("Reyes", 11), ("Jiménez", 11), ("Torres", 11), ("Díaz", 10),
        ("Gutiérrez", 10), ("Ruiz", 9), ("Mendoza", 9), ("Aguilar", 9), ("Ortiz", 8), ("Moreno", 8), ("Castillo", 8),
        ("Romero", 7), ("Álvarez", 7), ("Méndez", 7), ("Chávez", 7), ("Rivera", 7), ("Juárez", 7), ("Ramos", 6),
        ("Domínguez", 6), ("Herrera", 6), ("Medina", 6), ("Castro", 5), ("Vargas", 5), ("Guzmán", 5),
        ("Velázquez", 5), ("Muñoz", 5), ("Rojas", 4), ("Contreras", 4), ("Salazar", 4), ("Luna", 4), ("Ortega", 4),
        ("Santiago", 4), ("Guerrero", 4), ("Estrada", 4), ("Bautista", 3), ("Cortés", 3), ("Soto", 3), ("Alvarado", 3),
        ("Espinoza", 3), ("Lara", 3), ("Ávila", 3), ("Ríos", 3), ("Cervantes", 2), ("Silva", 2), ("Delgado", 2),
        ("Vega", 2), ("Márquez", 2), ("Sandoval", 2), ("Carrillo", 2), ("León", 2), ("Mejía", 2), ("Solís", 2),
        ("Ibarra", 2), ("Zúñiga", 1), ("Nava", 2), ("Valdez", 2), ("Xicoténcatl", 0.2), ("Tlatoani", 0.1),
        ("Quetzal", 0.1), ("Uc", 0.5), ("Pech", 0.5), ("Chan", 0.6), ("Canul", 0.4), ("Ek", 0.3),
    ]

    /// Names with weights; one uniform number per draw, whatever the table's size, so that every
    /// other random choice of the simulation stays the same when a table changes.
    struct Table {
        let names: [String]
        let cumulative: [Double]
        init(_ weighted: [(String, Double)]) {
            names = weighted.map(\.0)
            var total = 0.0
            cumulative = weighted.map {
                total += $0.1
                return total
            }
        }

        /// The common names, then `tail` sharing `tailShare` of the draws, the r-th weighted 1/(r + offset).
        init(_ common: [(String, Double)], tail: [String], tailShare: Double, tailOffset: Double) {
            let commonTotal = common.reduce(0) { $0 + $1.1 }
            let tailTotal = tail.indices.reduce(0.0) { $0 + 1 / (Double($1 + 1) + tailOffset) }
            let scale = commonTotal * tailShare / (1 - tailShare) / tailTotal
            self.init(common + tail.enumerated().map { ($0.element, scale / (Double($0.offset + 1) + tailOffset)) })
        }

        func draw(_ rng: inout SeededRandom) -> String { rng.pick(names, cumulative: cumulative) }
    }

    static let female = Table(
        femaleGiven, tail: syntheticNames(20_000, endings: ["a", "ia", "ela", "ina"]), tailShare: 0.4, tailOffset: 40)
    static let male = Table(
        maleGiven, tail: syntheticNames(20_000, endings: ["o", "io", "el", "ín", "ar"]), tailShare: 0.4, tailOffset: 40)
    static let surname = Table(
        surnames,
        tail: syntheticNames(100_000, endings: ["", "n", "s", "l", "r", "z", "ez", "es", "al", "ar", "ón", "ado", "edo", "illo", "ero"]),
        tailShare: 0.5, tailOffset: 100)

    /// `count` distinct names of two syllables and an ending, in an order unrelated to their
    /// spelling (so that the common end of the tail is not all one initial).
    static func syntheticNames(_ count: Int, endings: [String]) -> [String] {
        let onsets = [
            "B", "C", "Ch", "D", "F", "G", "J", "L", "Ll", "M", "N", "P", "Qu", "R", "S", "T", "V", "Y", "Z", "Br", "Cr", "Gr", "Pr", "Tr",
        ]
        let middles = ["b", "c", "d", "g", "j", "l", "ll", "m", "n", "ñ", "r", "rr", "s", "t", "v", "z"]
        let vowels = ["a", "e", "i", "o", "u"]
        let first = onsets.flatMap { onset in vowels.map { onset + $0 } }.filter {
            !($0.hasPrefix("Qu") && ($0.hasSuffix("a") || $0.hasSuffix("o") || $0.hasSuffix("u")))
        }
        let middle = middles.flatMap { onset in vowels.map { onset + $0 } }
        let total = first.count * middle.count * endings.count
        precondition(count <= total)
        // A multiplier coprime with the total walks every combination once, in scrambled order.
        var step = 7_919
        while gcd(step, total) != 1 { step += 2 }
        return (0..<count).map { rank in
            var index = (rank * step + 12_345) % total
            let ending = endings[index % endings.count]
            index /= endings.count
            return first[index / middle.count] + middle[index % middle.count] + ending
        }
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// A person's name as a school would register it.
    public struct PersonName: Hashable, Sendable {
        public var given: String
        public var paternal: String
        public var maternal: String?

        public init(given: String, paternal: String, maternal: String?) {
            self.given = given
            self.paternal = paternal
            self.maternal = maternal
        }

        public var full: String { [given, paternal, maternal].compactMap { $0 }.joined(separator: " ") }
    }

    public static func draw(_ rng: inout SeededRandom, female isFemale: Bool) -> PersonName {
        var given = (isFemale ? female : male).draw(&rng)
        if rng.chance(0.25) {
            // Compound given names are common: "María Guadalupe", "José Luis".
            let second = (isFemale ? female : male).draw(&rng)
            if second != given { given += " " + second }
        }
        return PersonName(given: given, paternal: surname.draw(&rng), maternal: surname.draw(&rng))
    }

    /// One of the commonest full names ("María Guadalupe Hernández García"): namesakes.
    public static func drawCommon(_ rng: inout SeededRandom, female isFemale: Bool) -> PersonName {
        let given = (isFemale ? femaleGiven : maleGiven).prefix(3).map(\.0)
        var first = given[rng.below(given.count)]
        if rng.chance(0.3) {
            let second = given[rng.below(given.count)]
            if second != first { first += " " + second }
        }
        let common = surnames.prefix(8).map(\.0)
        return PersonName(given: first, paternal: common[rng.below(common.count)], maternal: common[rng.below(common.count)])
    }

    /// How given names are shortened on forms and in speech (the simulator's own list, written as
    /// people write them; linking has its own, GivenNameVariants).
    static let shortForms: [String: [String]] = [
        "María": ["Ma.", "Mª"], "Guadalupe": ["Gpe.", "Lupe", "Lupita"], "Francisco": ["Fco.", "Paco", "Pancho"],
        "Jesús": ["Chuy", "Chucho"], "José": ["Pepe"], "Antonio": ["Toño"], "Alberto": ["Beto"], "Roberto": ["Beto"],
        "Eduardo": ["Lalo"], "Enrique": ["Quique"], "Patricia": ["Paty"], "Leticia": ["Lety"], "Gabriela": ["Gaby"],
        "Teresa": ["Tere"], "Rafael": ["Rafa"], "Fernando": ["Fdo.", "Nando"], "Salvador": ["Chava"], "Socorro": ["Coco"],
        "Sergio": ["Checo"], "Manuel": ["Manolo"], "Alejandra": ["Ale"], "Alejandro": ["Alex"], "Margarita": ["Mague"],
    ]

    /// A given name written short: an abbreviation or nickname of its first part, or its second
    /// part alone ("Guadalupe" for "María Guadalupe"); nil when it was written in full.
    static func shortForm(of given: String, _ rng: inout SeededRandom) -> String? {
        let parts = given.split(separator: " ").map(String.init)
        guard rng.chance(0.6), let first = parts.first else { return nil }
        if parts.count == 2, rng.chance(0.35) { return parts[1] }
        guard let forms = shortForms[first] else { return nil }
        return ([forms[rng.below(forms.count)]] + parts.dropFirst()).joined(separator: " ")
    }

    /// How the same person's name drifts between records: accents lost, surnames swapped or
    /// dropped, a typo; with `shortForms`, often an abbreviation or nickname. At least one change
    /// is made.
    public static func variant(of name: PersonName, shortForms: Bool = false, _ rng: inout SeededRandom) -> PersonName {
        var result = name
        var changed = false
        if shortForms, let short = shortForm(of: name.given, &rng) {
            result.given = short
            changed = true
        }
        if rng.chance(0.45) {
            result = stripAccents(result)
            changed = true
        }
        if rng.chance(0.2), let maternal = result.maternal {
            result = PersonName(given: result.given, paternal: maternal, maternal: result.paternal)
            changed = true
        }
        if rng.chance(0.3) {
            result.maternal = nil
            changed = true
        }
        if rng.chance(0.3) || !changed {
            result.paternal = typo(result.paternal, &rng)
        }
        if result == name { result.given = typo(result.given, &rng) }
        return result
    }

    static func stripAccents(_ name: PersonName) -> PersonName {
        PersonName(given: stripAccents(name.given), paternal: stripAccents(name.paternal), maternal: name.maternal.map(stripAccents))
    }

    public static func stripAccents(_ text: String) -> String {
        let map: [Character: Character] = [
            "á": "a", "é": "e", "í": "i", "ó": "o", "ú": "u", "ü": "u", "ñ": "n",
            "Á": "A", "É": "E", "Í": "I", "Ó": "O", "Ú": "U", "Ü": "U", "Ñ": "N",
        ]
        return String(text.map { map[$0] ?? $0 })
    }

    /// One letter dropped, doubled, swapped with its neighbour or replaced by a near key.
    static func typo(_ word: String, _ rng: inout SeededRandom) -> String {
        var letters = Array(word)
        guard letters.count >= 4 else { return word + "s" }
        let i = rng.between(1...(letters.count - 2))
        switch rng.below(4) {
        case 0: letters.remove(at: i)
        case 1: letters.insert(letters[i], at: i)
        case 2: letters.swapAt(i, i + 1)
        default:
            let near: [Character: Character] = [
                "s": "z", "z": "s", "v": "b", "b": "v", "c": "s", "g": "j", "j": "g", "i": "y", "n": "m", "m": "n", "e": "i", "o": "u",
            ]
            if let replacement = near[letters[i]] { letters[i] = replacement } else { letters.remove(at: i) }
        }
        let result = String(letters)
        return result == word ? word + "a" : result
    }
}
