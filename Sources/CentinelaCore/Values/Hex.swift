extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal, two digits each: digests and key ids as they are
    /// printed and stored. Written by hand: `String(format: "%02x")` per byte was a third of the
    /// audit sequencer's CPU when it sealed reports.
    public var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
