/// A closed list of codes shared by the API, the domain and the database.
///
/// Each conforming enum's raw values are exactly the values allowed by the matching `CHECK`
/// constraint in `Schema/`; a store test inserts every case to keep the two in step.
public protocol ControlledVocabulary: RawRepresentable, CaseIterable, Hashable, Sendable, Codable
where RawValue == String {}

extension ControlledVocabulary {
    /// Parses a code, accepting exactly the stored spelling.
    public init?(code: String) {
        self.init(rawValue: code)
    }

    /// Every code, in declaration order, for error messages and documentation.
    public static var allCodes: [String] { allCases.map(\.rawValue) }
}
