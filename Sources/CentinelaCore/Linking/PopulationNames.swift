/// How common given names and surnames are in the population a register draws from, before the
/// register itself can say (docs/linking.md, "A young register"). In a register of a hundred
/// records every name has been seen once or twice and looks rare; María and Hernández are not.
/// `NameFrequencies` blends these shares with its own counts as if they were `NameFrequencies.
/// populationRecords` more records, so the register's counts dominate once it holds several times
/// that many.
///
/// Shipped: Hispanic first names of U.S. mortgage applicants (Tzioumis 2018, CC0) and Spanish
/// surnames of the 2010 U.S. Census (public domain) — the openly licensed tables closest to
/// Mexico's population found; Mexican tables (RENAPO, INE) are not openly published. Never the
/// simulator's own name lists, which would make the evaluation circular.
public struct PopulationNames: Sendable, Equatable {
    /// Share of people whose first given name this is.
    public var given: [String: Double]
    /// Share of records carrying this surname, paternal or maternal: twice a one-surname
    /// population's share, since a Mexican record carries two.
    public var surnames: [String: Double]

    public init(given: [String: Double], surnames: [String: Double]) {
        self.given = given
        self.surnames = surnames
    }

    /// The shipped tables.
    public static let shipped = PopulationNames(
        given: parse(givenCounts, total: givenTotal, scale: 1), surnames: parse(surnameCounts, total: surnameTotal, scale: 2))

    static func parse(_ text: String, total: Double, scale: Double) -> [String: Double] {
        var shares: [String: Double] = [:]
        for entry in text.split(whereSeparator: { $0 == " " || $0 == "\n" }).chunks(of: 2) where entry.count == 2 {
            if let count = Double(entry[entry.startIndex + 1]) { shares[String(entry[entry.startIndex])] = scale * count / total }
        }
        return shares
    }
}

extension Array {
    fileprivate func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
