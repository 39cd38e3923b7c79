/// RFC 4180 CSV: comma-separated fields, double quotes around fields that hold commas, quotes or
/// line breaks, `""` for a quote inside them; CRLF or LF line ends. A UTF-8 byte-order mark at the
/// start is skipped (spreadsheets write one).
public struct CSVTable: Sendable, Equatable {
    public struct ParseError: Error, Equatable, Sendable {
        /// 1-based line of the file where the problem is.
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// Each record with the 1-based line it starts on. Blank lines are skipped.
    public var records: [(line: Int, fields: [String])]

    public static func == (lhs: CSVTable, rhs: CSVTable) -> Bool {
        lhs.records.map(\.line) == rhs.records.map(\.line) && lhs.records.map(\.fields) == rhs.records.map(\.fields)
    }

    public init(parsing text: String) throws(ParseError) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var i = 0
        var quoted = false
        var fieldStarted = false  // the current record has content (so a blank line is not a record)

        func endRecord() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            if fieldStarted || fields.count > 1 || !(fields.first ?? "").isEmpty {
                records.append((recordLine, fields))
            }
            fields = []
            fieldStarted = false
        }

        while i < scalars.count {
            let c = scalars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" {
                        field.append("\"")
                        i += 2
                        continue
                    }
                    quoted = false
                    i += 1
                    if i < scalars.count, !["," as Unicode.Scalar, "\n", "\r"].contains(scalars[i]) {
                        throw ParseError(line: line, message: "a quoted field must be followed by a comma or a line end")
                    }
                    continue
                }
                if c == "\n" { line += 1 }
                field.append(c)
                i += 1
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty else {
                    throw ParseError(line: line, message: "a quote inside an unquoted field; quote the whole field")
                }
                if !fieldStarted { recordLine = line }
                quoted = true
                fieldStarted = true
            case ",":
                if !fieldStarted { recordLine = line }
                fieldStarted = true
                fields.append(String(field))
                field = String.UnicodeScalarView()
            case "\r":
                if i + 1 < scalars.count && scalars[i + 1] == "\n" { i += 1 }
                endRecord()
                line += 1
            case "\n":
                endRecord()
                line += 1
            default:
                if !fieldStarted { recordLine = line }
                fieldStarted = true
                field.append(c)
            }
            i += 1
        }
        if quoted { throw ParseError(line: recordLine, message: "a quoted field is not closed") }
        if fieldStarted || !field.isEmpty { endRecord() }
        self.records = records
    }
}

/// Reads facilities from CSV with a header row. Columns (any order, header names case-insensitive):
/// `code`, `name`, `kind`, `jurisdiction` (required) and `street`, `locality`, `postal_code`,
/// `enrolment` (optional). Either every row is valid, or the errors of every bad row are returned.
public enum FacilityCSV {
    public struct RowError: Error, Equatable, Sendable {
        /// The file's line number (the header is line 1).
        public var line: Int
        public var column: String?
        public var message: String

        public init(line: Int, column: String?, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }
    }

    /// Every problem found, so that the whole file can be fixed in one go.
    public struct ImportErrors: Error, Equatable, Sendable {
        public var rows: [RowError]

        public init(rows: [RowError]) {
            self.rows = rows
        }
    }

    public static let requiredColumns = ["code", "name", "kind", "jurisdiction"]
    public static let optionalColumns = ["street", "locality", "postal_code", "enrolment"]
    public static let maximumRows = 500_000

    public static func drafts(from text: String) throws(ImportErrors) -> [(line: Int, draft: FacilityDraft)] {
        let table: CSVTable
        do {
            table = try CSVTable(parsing: text)
        } catch {
            throw ImportErrors(rows: [RowError(line: error.line, column: nil, message: error.message)])
        }
        guard let header = table.records.first else {
            throw ImportErrors(rows: [RowError(line: 1, column: nil, message: "the file is empty; the first line must name the columns")])
        }
        let names = header.fields.map { $0.trimmingWhitespace.lowercased() }
        var errors: [RowError] = []
        let known = Set(requiredColumns + optionalColumns)
        for name in names where !known.contains(name) {
            errors.append(
                RowError(
                    line: header.line, column: name,
                    message: "unknown column; columns are \((requiredColumns + optionalColumns).joined(separator: ", "))"))
        }
        for name in requiredColumns where !names.contains(name) {
            errors.append(RowError(line: header.line, column: name, message: "required column is missing"))
        }
        if Set(names).count != names.count {
            errors.append(RowError(line: header.line, column: nil, message: "a column is named twice"))
        }
        guard errors.isEmpty else { throw ImportErrors(rows: errors) }
        guard table.records.count - 1 <= maximumRows else {
            throw ImportErrors(rows: [RowError(line: header.line, column: nil, message: "at most \(maximumRows) rows per import")])
        }

        var drafts: [(Int, FacilityDraft)] = []
        var seenCodes: [String: Int] = [:]
        for record in table.records.dropFirst() {
            guard record.fields.count == names.count else {
                errors.append(
                    RowError(line: record.line, column: nil, message: "has \(record.fields.count) fields; the header has \(names.count)"))
                continue
            }
            var row: [String: String] = [:]
            for (name, value) in zip(names, record.fields) { row[name] = value.trimmingWhitespace }
            func fail(_ column: String, _ message: String) {
                errors.append(RowError(line: record.line, column: column, message: message))
            }
            let code = row["code"] ?? ""
            if let problem = FacilityRules.code(code) { fail("code", problem) }
            if let first = seenCodes[code] { fail("code", "repeats the code of line \(first)") } else { seenCodes[code] = record.line }
            let name = row["name"] ?? ""
            if let problem = FacilityRules.name(name) { fail("name", problem) }
            let kind = Facility.Kind(rawValue: row["kind"] ?? "")
            if kind == nil { fail("kind", "must be one of \(Facility.Kind.allCodes.joined(separator: ", "))") }
            let jurisdiction = row["jurisdiction"] ?? ""
            if let problem = FacilityRules.jurisdictionCode(jurisdiction) { fail("jurisdiction", problem) }
            var address = Address()
            if let street = row["street"], !street.isEmpty {
                if let problem = FacilityRules.name(street) { fail("street", problem) } else { address.street = street }
            }
            if let locality = row["locality"], !locality.isEmpty {
                if let problem = FacilityRules.name(locality, max: 200) { fail("locality", problem) } else { address.locality = locality }
            }
            if let postal = row["postal_code"], !postal.isEmpty {
                if let problem = FacilityRules.postalCode(postal) { fail("postal_code", problem) } else { address.postalCode = postal }
            }
            var enrolment: Int?
            if let text = row["enrolment"], !text.isEmpty {
                if let value = Int(text), FacilityRules.enrolmentRange.contains(value) {
                    enrolment = value
                } else {
                    fail("enrolment", "must be a whole number from 0 to 100000")
                }
            }
            if let kind {
                drafts.append(
                    (
                        record.line,
                        FacilityDraft(
                            code: code, name: name, kind: kind, jurisdictionCode: jurisdiction, address: address, enrolment: enrolment)
                    ))
            }
        }
        guard errors.isEmpty else { throw ImportErrors(rows: errors) }
        return drafts.map { (line: $0.0, draft: $0.1) }
    }
}
