/// FNV-1a, 64 bit: the same value on every platform and in every run, which Swift's `Hasher` is
/// not. For keys and fingerprints that are stored or compared across processes; not for secrets.
public struct StableHash: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte) }
        combine(UInt8(0xff))  // never in UTF-8: "ab"+"c" and "a"+"bc" hash apart
    }

    public mutating func combine(_ number: Double) {
        var bits = (number == 0 ? 0 : number).bitPattern  // -0 and 0 are one value
        for _ in 0..<8 {
            combine(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    public mutating func combine(_ byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }

    /// The value as 16 lowercase hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
