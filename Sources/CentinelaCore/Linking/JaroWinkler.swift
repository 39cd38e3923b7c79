/// Jaro–Winkler similarity of two words, 0 (nothing in common) to 1 (equal): the usual measure for
/// comparing names in record linkage, forgiving of one dropped, doubled or swapped letter and
/// weighting agreement at the start of the word, where writers err least.
public enum JaroWinkler {
    public static func similarity(_ a: String, _ b: String) -> Double {
        if a == b { return 1 }
        // Jaro's greedy matching can score (a, b) and (b, a) differently; a linkage decision must
        // not depend on which record came first.
        if b < a { return similarity(b, a) }
        // Names are folded to a–z before they are compared: compare their bytes without copying,
        // with bit masks for the matched letters. Anything else goes letter by letter.
        var (x, y) = (a, b)
        if let result = x.withUTF8({ s in
            y.withUTF8({ t -> Double? in
                guard s.count <= 64, t.count <= 64, !s.contains(where: { $0 >= 0x80 }), !t.contains(where: { $0 >= 0x80 }) else {
                    return nil
                }
                return similarity(s, t)
            })
        }) {
            return result
        }
        return similarity(Array(a.unicodeScalars.map(\.value)), Array(b.unicodeScalars.map(\.value)))
    }

    static func similarity<C: RandomAccessCollection>(_ s: C, _ t: C) -> Double where C.Element: Equatable, C.Index == Int {
        if s.isEmpty && t.isEmpty { return 1 }
        if s.isEmpty || t.isEmpty { return 0 }
        let (n, m) = (s.count, t.count)
        let window = max(0, max(n, m) / 2 - 1)
        var sMatched = Flags(count: n)
        var tMatched = Flags(count: m)
        var matches = 0
        for i in 0..<n {
            let from = max(0, i - window)
            let to = min(m - 1, i + window)
            guard from <= to else { continue }
            for j in from...to where !tMatched[j] && s[s.startIndex + i] == t[t.startIndex + j] {
                sMatched[i] = true
                tMatched[j] = true
                matches += 1
                break
            }
        }
        guard matches > 0 else { return 0 }
        var transpositions = 0
        var j = 0
        for i in 0..<n where sMatched[i] {
            while !tMatched[j] { j += 1 }
            if s[s.startIndex + i] != t[t.startIndex + j] { transpositions += 1 }
            j += 1
        }
        let matched = Double(matches)
        let jaro = (matched / Double(n) + matched / Double(m) + (matched - Double(transpositions / 2)) / matched) / 3
        var prefix = 0
        while prefix < min(4, n, m) && s[s.startIndex + prefix] == t[t.startIndex + prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }

    /// Which letters are matched: a bit mask for words of up to 64 letters, an array beyond.
    struct Flags {
        var mask: UInt64 = 0
        var overflow: [Bool]

        init(count: Int) { overflow = count > 64 ? [Bool](repeating: false, count: count) : [] }

        subscript(index: Int) -> Bool {
            get { overflow.isEmpty ? mask & (1 << UInt64(index)) != 0 : overflow[index] }
            set {
                if overflow.isEmpty {
                    if newValue { mask |= 1 << UInt64(index) } else { mask &= ~(1 << UInt64(index)) }
                } else {
                    overflow[index] = newValue
                }
            }
        }
    }
}

/// Whether two words are one typing error apart — a letter dropped, added or replaced, or two
/// neighbours swapped (Damerau's four) — the commonest misspelling in registers. Jaro–Winkler
/// forgives these at the end of a word but not near its start ("Siruez" / "Syruez" scores 0.90).
public enum TypingError {
    /// With `replacing: false`, a replaced letter does not count: of short names it usually makes
    /// another name (Mora and Moya, Vera and Vega), where a letter dropped, added or two swapped
    /// rarely does ("Uc" and "Ucs", "Tojos" and "Tjos").
    public static func oneApart(_ a: String, _ b: String, replacing: Bool = true) -> Bool {
        var (x, y) = (a, b)
        return x.withUTF8 { s in y.withUTF8 { t in oneApart(s, t, replacing: replacing) } }
    }

    static func oneApart(_ s: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>, replacing: Bool = true) -> Bool {
        if s.count < t.count { return oneApart(t, s, replacing: replacing) }
        guard s.count - t.count <= 1 else { return false }
        // The first difference decides which error it could be; the rest must then agree.
        var i = 0
        while i < t.count && s[i] == t[i] { i += 1 }
        if i == t.count { return s.count != t.count }
        func same(_ from: Int, _ to: Int, offset: Int) -> Bool {
            var k = from
            while k < to {
                if s[k + offset] != t[k] { return false }
                k += 1
            }
            return true
        }
        if s.count > t.count { return same(i, t.count, offset: 1) }  // a letter added (or dropped)
        if replacing && same(i + 1, t.count, offset: 0) { return true }  // replaced
        return i + 1 < t.count && s[i] == t[i + 1] && s[i + 1] == t[i] && same(i + 2, t.count, offset: 0)  // swapped
    }
}
