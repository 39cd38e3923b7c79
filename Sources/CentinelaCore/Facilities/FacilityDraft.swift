/// A facility as an operator describes it, before it is stored: from the API or a CSV import.
/// One set of rules validates both.
public struct FacilityDraft: Hashable, Sendable {
    public var code: String
    public var name: String
    public var kind: Facility.Kind
    public var jurisdictionCode: String
    public var address: Address
    public var enrolment: Int?

    public init(
        code: String, name: String, kind: Facility.Kind, jurisdictionCode: String, address: Address = Address(),
        enrolment: Int? = nil
    ) {
        self.code = code
        self.name = name
        self.kind = kind
        self.jurisdictionCode = jurisdictionCode
        self.address = address
        self.enrolment = enrolment
    }
}

/// The rules for the fields of facilities and jurisdictions, shared by every way in. Each returns
/// nil when the value is acceptable, or what is wrong with it.
public enum FacilityRules {
    /// Official establishment codes: letters, digits and `._/-`, starting with a letter or digit.
    public static func code(_ text: String) -> String? {
        matches(text, first: isCodeStart, rest: { isCodeStart($0) || "._/-".unicodeScalars.contains($0) }, max: 40)
            ? nil : "must be 1 to 40 letters, digits or . _ / -, starting with a letter or digit"
    }

    public static func jurisdictionCode(_ text: String) -> String? {
        matches(
            text, first: { isUpperOrDigit($0) }, rest: { isUpperOrDigit($0) || "._-".unicodeScalars.contains($0) },
            max: 32) ? nil : "must be 1 to 32 upper-case letters, digits or . _ -, e.g. MX-JAL"
    }

    public static func name(_ text: String, max: Int = 300) -> String? {
        let trimmed = text.trimmingWhitespace
        return trimmed.isEmpty || trimmed.count > max ? "must be 1 to \(max) characters" : nil
    }

    public static func postalCode(_ text: String) -> String? {
        let ok =
            (1...12).contains(text.count)
            && text.unicodeScalars.allSatisfy { isCodeStart($0) || $0 == " " || $0 == "-" }
        return ok ? nil : "must be 1 to 12 letters, digits, spaces or -"
    }

    public static let enrolmentRange = 0...100_000

    static func matches(
        _ text: String, first: (Unicode.Scalar) -> Bool, rest: (Unicode.Scalar) -> Bool, max: Int
    ) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard let head = scalars.first, scalars.count <= max, first(head) else { return false }
        return scalars.dropFirst().allSatisfy(rest)
    }

    static func isCodeStart(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
    }

    static func isUpperOrDigit(_ s: Unicode.Scalar) -> Bool { ("A"..."Z").contains(s) || ("0"..."9").contains(s) }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
