/// Two adult records, in a fixed order: the key of a link, a review or a rejection.
public struct RecordPair: Hashable, Sendable {
    public let first: AdultRecord.ID
    public let second: AdultRecord.ID

    public init(_ a: AdultRecord.ID, _ b: AdultRecord.ID) {
        if a.description <= b.description {
            (first, second) = (a, b)
        } else {
            (first, second) = (b, a)
        }
    }
}

/// Entity resolution over adult records: which pairs to compare (blocking), and how linked pairs
/// group into persons. Comparing every pair of a country's records is out of the question, so only
/// records sharing a block key are compared: a Spanish phonetic key of a surname with the first
/// given name's initial, or of the first given name with a surname's initial, so that a typo in
/// one name still leaves the other to meet on; and, when the date of birth is known, the date with
/// each surname's key and with the first given name's key, so that two records of a common name
/// (whose name blocks are too large to compare) still meet when they were born on the same day,
/// even when both surnames were written differently (one misspelt, the other left out).
public enum PersonResolution {
    /// The block keys of a record.
    public static func blockKeys(_ name: NormalizedName, dateOfBirth: CalendarDate? = nil) -> Set<String> {
        var keys: Set<String> = []
        let givenInitial = name.firstGiven?.first.map(String.init) ?? "_"
        for surname in name.surnames {
            let sound = SpanishPhonetic.key(surname)
            keys.insert("s:" + sound + ":" + givenInitial)
            if let given = name.firstGiven, let initial = surname.first {
                keys.insert("g:" + SpanishPhonetic.key(given) + ":" + String(initial))
            }
            if let dateOfBirth { keys.insert("b:" + dateOfBirth.description + ":" + sound) }
        }
        if let dateOfBirth, let given = name.firstGiven { keys.insert("d:" + dateOfBirth.description + ":" + SpanishPhonetic.key(given)) }
        // The surname and given-name keys, for a given name the record may also be written under.
        func meet(as given: String) {
            for surname in name.surnames {
                keys.insert("s:" + SpanishPhonetic.key(surname) + ":" + String(given.first!))
                if let initial = surname.first { keys.insert("g:" + SpanishPhonetic.key(given) + ":" + String(initial)) }
            }
        }
        // A compound given name also meets records written with its second part alone:
        // "Alejandra Patricia Muñoz" the "Patricia Muñoz" ones.
        if name.given.count >= 2 { meet(as: name.given[1]) }
        // A nickname or an abbreviation also meets the names it stands for: "Chuy López" the
        // "Jesús López" records, "Ma. López" the "María López" ones.
        if let given = name.firstGiven { GivenNameVariants.blockingNames(given).forEach(meet) }
        return keys
    }

    /// The pairs of records (by index) that share a block key, each once, lower index first.
    /// Blocks larger than `maxBlock` (a very common name) are skipped: their records still meet
    /// through their other keys.
    public static func candidatePairs(_ records: [AdultRecord], maxBlock: Int = 2_000) -> [(Int, Int)] {
        var blocks: [String: [Int]] = [:]
        for (index, record) in records.enumerated() {
            for key in blockKeys(record.name, dateOfBirth: record.dateOfBirth) { blocks[key, default: []].append(index) }
        }
        var seen: Set<Int64> = []
        var pairs: [(Int, Int)] = []
        for members in blocks.values where members.count > 1 && members.count <= maxBlock {
            for i in members.indices {
                for j in members.index(after: i)..<members.endIndex {
                    let (a, b) = (min(members[i], members[j]), max(members[i], members[j]))
                    if seen.insert(Int64(a) << 32 | Int64(b)).inserted { pairs.append((a, b)) }
                }
            }
        }
        return pairs.sorted { $0 < $1 }
    }

    /// Groups records into persons from their links, strongest first. A merge that would put in
    /// one person two records a regulator said are different people, or two records with
    /// different national identifiers, is refused: a person is never built by chaining through a
    /// weak link what the evidence says are two. Every record is in exactly one person (alone
    /// when nothing links it). Persons and their records come in input order.
    public static func persons(
        _ records: [AdultRecord], links: [(RecordPair, Double)], rejected: Set<RecordPair> = []
    ) -> [[AdultRecord.ID]] {
        var index: [AdultRecord.ID: Int] = [:]
        for (i, record) in records.enumerated() { index[record.id] = i }
        var sets = DisjointSets(records.indices)
        var members: [[Int]] = records.indices.map { [$0] }
        func conflict(_ x: [Int], _ y: [Int]) -> Bool {
            for i in x {
                for j in y {
                    if let p = records[i].nationalIDHash, let q = records[j].nationalIDHash, p != q { return true }
                    if rejected.contains(RecordPair(records[i].id, records[j].id)) { return true }
                }
            }
            return false
        }
        let ordered = links.sorted {
            $0.1 != $1.1
                ? $0.1 > $1.1 : ($0.0.first.description, $0.0.second.description) < ($1.0.first.description, $1.0.second.description)
        }
        for (pair, _) in ordered {
            guard let a = index[pair.first], let b = index[pair.second] else { continue }
            let (ra, rb) = (sets.find(a), sets.find(b))
            guard ra != rb, !conflict(members[ra], members[rb]) else { continue }
            let keep = sets.union(ra, rb)
            let drop = keep == ra ? rb : ra
            members[keep] += members[drop]
            members[drop] = []
        }
        return records.indices.compactMap { i in
            sets.find(i) == i ? members[i].sorted().map { records[$0].id } : nil
        }
    }
}

/// A phonetic key for Spanish names: spellings that sound alike in Mexican Spanish share a key
/// (b/v, s/z/c before e and i, ll/y, silent h, qu/k/c, j/g before e and i, doubled letters).
public enum SpanishPhonetic {
    /// Whether two words share a key, as `key(a) == key(b)`, without building either: linking
    /// asks this of millions of pairs of surnames, and names come folded to ASCII letters, whose
    /// keys are worked out on the stack. Other words take the general path.
    public static func sameKey(_ a: String, _ b: String) -> Bool {
        var (x, y) = (a, b)
        let fast: Bool? = x.withUTF8 { s in
            y.withUTF8 { t in
                guard s.count <= 64, t.count <= 64, !s.contains(where: { $0 >= 0x80 }), !t.contains(where: { $0 >= 0x80 }) else {
                    return nil
                }
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 192) { buffer in
                    let n = asciiKey(s, scratch: buffer.baseAddress!, into: buffer.baseAddress! + 64)
                    let m = asciiKey(t, scratch: buffer.baseAddress!, into: buffer.baseAddress! + 128)
                    return n == m && (0..<n).allSatisfy { buffer[64 + $0] == buffer[128 + $0] }
                }
            }
        }
        return fast ?? (key(a) == key(b))
    }

    /// `key` of an ASCII word, written at `out` (at most 64 bytes); returns its length. The same
    /// rules as `key`, letter for letter.
    private static func asciiKey(
        _ word: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutablePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>
    )
        -> Int
    {
        var count = 0
        for byte in word {
            let lower = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
            if lower >= 0x61 && lower <= 0x7A {
                scratch[count] = lower
                count += 1
            }
        }
        func next(_ i: Int) -> UInt8? { i < count ? scratch[i] : nil }
        func letter(_ character: Unicode.Scalar) -> UInt8 { UInt8(ascii: character) }
        let vowels: [UInt8] = [letter("a"), letter("e"), letter("i"), letter("o"), letter("u")]
        var length = 0
        var index = 0
        while index < count {
            let following = next(index + 1)
            var sound: UInt8? = scratch[index]
            var step = 1
            switch scratch[index] {
            case letter("v"): sound = letter("b")
            case letter("z"): sound = letter("s")
            case letter("h"): sound = nil  // silent; "ch" is read at the c
            case letter("c"):
                if following == letter("h") {
                    sound = letter("x")
                    step = 2
                } else {
                    sound = following == letter("e") || following == letter("i") ? letter("s") : letter("k")
                }
            case letter("q"):
                sound = letter("k")
                if following == letter("u") { step = 2 }
            case letter("g"): if following == letter("e") || following == letter("i") { sound = letter("j") }
            case letter("l"):
                if following == letter("l") {
                    sound = letter("y")
                    step = 2
                }
            case letter("y"): sound = following.map(vowels.contains) ?? false ? letter("y") : letter("i")
            case letter("w"): sound = letter("u")
            default: break
            }
            if let sound, length == 0 || out[length - 1] != sound {
                out[length] = sound
                length += 1
            }
            index += step
        }
        return length
    }

    public static func key(_ word: String) -> String {
        // Block keys are taken from names already folded by NormalizedName, so this fold is
        // nearly always a no-op; it keeps the key right for any word.
        let letters = Array(
            NormalizedName.fold(word).unicodeScalars.filter {
                ($0.value >= 0x61 && $0.value <= 0x7A) || ($0.value >= 0x80 && $0.properties.isAlphabetic)
            }.map(Character.init))
        var out: [Character] = []
        var i = 0
        func next(_ offset: Int) -> Character? { i + offset < letters.count ? letters[i + offset] : nil }
        while i < letters.count {
            let c = letters[i]
            var sound: Character? = c
            var step = 1
            switch c {
            case "v": sound = "b"
            case "z": sound = "s"
            case "h": sound = nil  // silent; "ch" is read at the c
            case "c":
                if next(1) == "h" {
                    sound = "x"
                    step = 2
                }  // ch
                else if next(1) == "e" || next(1) == "i" {
                    sound = "s"
                } else {
                    sound = "k"
                }
            case "q":
                sound = "k"
                if next(1) == "u" { step = 2 }
            case "g": if next(1) == "e" || next(1) == "i" { sound = "j" }
            case "l":
                if next(1) == "l" {
                    sound = "y"
                    step = 2
                }
            case "y":
                let beforeVowel = next(1).map { "aeiou".contains($0) } ?? false
                sound = beforeVowel ? "y" : "i"
            case "w": sound = "u"
            default: break
            }
            if let sound, out.last != sound { out.append(sound) }
            i += step
        }
        return String(out)
    }
}
