import Foundation

/// A person's name as linking compares it: accents removed, case folded, punctuation and titles
/// dropped, Spanish particles joined to the surname they introduce ("de la Cruz" → `delacruz`), and
/// split into given names and up to two surnames (paternal, then maternal).
///
/// Names reach us from rosters and from reports written by hand, so the split is a reading, not a
/// fact: "María Guadalupe López" may be two given names and one surname, or one and two. The
/// comparison (`NameComparison`) is built to tolerate that: surnames are compared in both orders
/// and with one missing, and given names by their first token. See docs/linking.md.
public struct NormalizedName: Hashable, Sendable {
    /// Given names, in order; empty when the name was only a surname ("Mtra. Pérez").
    public var given: [String]
    public var paternal: String?
    public var maternal: String?

    public init(given: [String], paternal: String?, maternal: String?) {
        self.given = given
        self.paternal = paternal
        self.maternal = maternal
    }

    /// Reads a name as written. "Apellidos, Nombres" (with a comma) is read surnames first.
    public init(_ written: String) {
        let parts = written.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            let surnames = Self.tokens(String(parts[0]))
            self.init(given: Self.tokens(String(parts[1])), paternal: surnames.first, maternal: surnames.dropFirst().last)
            return
        }
        let tokens = Self.tokens(written)
        switch tokens.count {
        case 0: self.init(given: [], paternal: nil, maternal: nil)
        case 1: self.init(given: tokens, paternal: nil, maternal: nil)
        case 2: self.init(given: [tokens[0]], paternal: tokens[1], maternal: nil)
        default: self.init(given: Array(tokens.dropLast(2)), paternal: tokens[tokens.count - 2], maternal: tokens[tokens.count - 1])
        }
    }

    /// The surnames present, paternal first.
    public var surnames: [String] { [paternal, maternal].compactMap { $0 } }

    /// The first given name: the one people are called by, and the one compared.
    public var firstGiven: String? { given.first }

    /// True when nothing usable was written.
    public var isEmpty: Bool { given.isEmpty && paternal == nil }

    /// Words that introduce a surname and belong to it.
    static let particles: Set<String> = ["de", "del", "la", "las", "los", "y", "san", "santa", "van", "von", "da", "di"]
    /// Titles and forms of address written before a name in reports; never part of it.
    static let titles: Set<String> = [
        "profesor", "profesora", "profe", "prof", "profr", "profra", "maestro", "maestra", "mtro", "mtra", "miss", "lic", "licenciado",
        "licenciada", "sr", "sra", "srta", "senor", "senora", "senorita", "dr", "dra", "doctor", "doctora", "don", "dona",
        "ing", "arq", "psic", "educadora", "educador", "directora", "director", "teacher",
    ]

    /// Folds case and accents, keeps letters only, drops titles, joins particles to what follows.
    static func tokens(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in fold(text).unicodeScalars {
            // Folded names are nearly all a–z; the Unicode property lookup is for the rest.
            if (scalar.value >= 0x61 && scalar.value <= 0x7A) || (scalar.value >= 0x80 && scalar.properties.isAlphabetic) {
                current.append(scalar)
            } else if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        var tokens: [String] = []
        var pending = ""
        var joinsPrevious = false
        for word in words where !titles.contains(word) {
            // "Peña y Lillo": y joins two words into one surname.
            if word == "y", pending.isEmpty, !tokens.isEmpty {
                joinsPrevious = true
                continue
            }
            if particles.contains(word) {
                pending += word
                continue
            }
            if joinsPrevious, let last = tokens.popLast() {
                tokens.append(last + "y" + pending + word)
            } else {
                tokens.append(pending + word)
            }
            pending = ""
            joinsPrevious = false
        }
        // A name ending in a particle ("Juan de"): keep the particle as written rather than lose it.
        if !pending.isEmpty { tokens.append(pending) }
        return tokens
    }

    /// Lower case without diacritics: "MÉNDEZ" and "mendez" are the same surname; ñ becomes n, as
    /// it does on many forms and keyboards. Latin letters are folded here directly (a national
    /// rebuild folds millions of names); a text with anything else goes through Foundation's
    /// folding whole.
    public static func fold(_ text: String) -> String { fold(text, options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive]) }

    /// `fold`, with Foundation's `options` for what is not a Latin letter: the risk model's keys
    /// of described adults were made without `.widthInsensitive`, and keep being made so.
    static func fold(_ text: String, options: String.CompareOptions) -> String {
        var folded = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                folded.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(value + 0x20)! : scalar)
            } else if let latin = latinFolds[value] {
                folded.append(latin)
            } else {
                // Anything else (a combining accent typed after its letter, another script): the
                // whole text as Foundation folds it, a mark with the letter it belongs to.
                return text.folding(options: options, locale: nil)
            }
        }
        return String(folded)
    }

    /// Accented Latin letters of Spanish (and a few neighbours), both cases, to their plain lower case.
    static let latinFolds: [UInt32: Unicode.Scalar] = {
        let pairs: [(String, Unicode.Scalar)] = [
            ("áàâäãåÁÀÂÄÃÅ", "a"), ("éèêëÉÈÊË", "e"), ("íìîïÍÌÎÏ", "i"), ("óòôöõÓÒÔÖÕ", "o"), ("úùûüÚÙÛÜ", "u"),
            ("ñÑ", "n"), ("çÇ", "c"), ("ýÿÝ", "y"),
        ]
        var table: [UInt32: Unicode.Scalar] = [:]
        for (letters, plain) in pairs { for scalar in letters.unicodeScalars { table[scalar.value] = plain } }
        return table
    }()
}

extension NormalizedName: CustomStringConvertible {
    public var description: String {
        (given + surnames).joined(separator: " ")
    }
}
