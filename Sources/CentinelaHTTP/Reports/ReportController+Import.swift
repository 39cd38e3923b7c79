import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/reports:import`: a regulator's intake brings in history from another system as
/// NDJSON, one report a line, each with its original receipt time, its decisions and its source.
/// All or nothing: any invalid line refuses the whole file (422, every problem by line number);
/// a second import of the same file stores nothing new. See docs/operations.md, "Importing history".
extension ReportController {
    /// A national backlog of 100,000 reports is about 60 MB of NDJSON.
    static let maximumImportBytes = 256 * 1024 * 1024
    /// Problems listed in one refusal: enough to fix a file, not a flood.
    static let maximumImportProblems = 1_000

    struct ImportedLine: Encodable, Sendable {
        var line: Int
        var id: String
        /// false: imported before from the same source; left as it was.
        var new: Bool
    }

    struct ImportReceipt: Encodable, Sendable {
        var imported: Int
        var alreadyImported: Int
        var reports: [ImportedLine]
    }

    @Sendable func importReports(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.role == .regulator else {
            throw Problem.forbidden("Imports are for regulators' intake; a school files its reports one by one.")
        }
        var request = request
        try request.requireMediaType("application/x-ndjson")
        let bytes = try await request.collectBody(limit: Self.maximumImportBytes)
        let now = Date()
        var reports: [ImportedReport] = []
        var lineOf: [Int] = []
        var problems: [Problem.FieldError] = []
        var number = 0
        for raw in Lines(bytes.readableBytesView) {
            number += 1
            if number % 1_000 == 0 { try Task.checkCancellation() }
            guard problems.count < Self.maximumImportProblems else { break }
            let line = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw[...]
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { continue }
            let pointer = "/lines/\(number)"
            guard let value = try? JSONValue.parse(Data(line)), var body = ObjectReader.item(value, pointer: pointer) else {
                problems.append(.init(field: pointer, message: "must be one JSON object on one line (UTF-8)"))
                continue
            }
            let submission = Self.readSubmission(&body)
            let receivedAt = body.instant("receivedAt", required: true)
            var source: (String, String)?
            if var object = body.object("source", required: true) {
                let system = object.string("system", required: true, maxLength: 64)
                let id = object.string("id", required: true, maxLength: 200)
                object.refuseUnknownFields()
                if let system, let id { source = (system, id) }
            }
            var decisions: [ImportedReport.Decision] = []
            for (item, at) in body.arrayItems("decisions", maxCount: ImportedReport.maximumDecisions) ?? [] {
                guard var decision = body.element(item, at: at) else { continue }
                let status = decision.code("status", IncidentReport.Status.self, required: true)
                let when = decision.instant("at", required: true)
                let reason = decision.string("reason", maxLength: 5000)
                decision.refuseUnknownFields()
                if let status, let when { decisions.append(.init(status: status, at: when, reason: reason)) }
            }
            body.refuseUnknownFields()
            problems += body.problems
            guard !body.hasErrors, let submission, let receivedAt, let (system, id) = source else { continue }
            let report = ImportedReport(
                submission: submission, receivedAt: receivedAt, sourceSystem: system, sourceID: id, decisions: decisions)
            let issues = report.validate(now: now)
            problems += issues.map { .init(field: pointer + $0.field, message: $0.message) }
            if issues.isEmpty {
                reports.append(report)
                lineOf.append(number)
            }
        }
        if problems.isEmpty && reports.isEmpty { throw Problem.badRequest("The file holds no report: one JSON object a line.") }
        guard problems.isEmpty else { throw Self.importRefused(problems) }
        let outcome: ImportOutcome
        do {
            outcome = try await intake.importReports(reports, caller: context.caller(principal))
        } catch let refusal as ImportRefusal {
            throw Self.importRefused(refusal.problems.map { .init(field: "/lines/\(lineOf[$0.index])" + $0.field, message: $0.message) })
        }
        let receipt = ImportReceipt(
            imported: outcome.imported, alreadyImported: reports.count - outcome.imported,
            reports: outcome.ids.indices.map { ImportedLine(line: lineOf[$0], id: outcome.ids[$0].description, new: outcome.new[$0]) })
        return try JSONResponse(status: outcome.imported > 0 ? .created : .ok, body: receipt).response(from: request, context: context)
    }

    static func importRefused(_ problems: [Problem.FieldError]) -> Problem {
        var problem = Problem.validation(Array(problems.prefix(maximumImportProblems)))
        let lines = Set(problems.map { $0.field.split(separator: "/").dropFirst().first ?? "" }).count
        problem.detail = "\(lines) line\(lines == 1 ? " is" : "s are") invalid; nothing was imported. Each field is /lines/<line number>/…"
        return problem
    }
}

/// The lines of a body, one at a time: splitting a 100,000-line file into an array first took
/// seconds (tens in a debug build) in which the import could not be cancelled.
private struct Lines: Sequence, IteratorProtocol {
    private let bytes: ByteBufferView
    private var start: ByteBufferView.Index?

    init(_ bytes: ByteBufferView) {
        self.bytes = bytes
        self.start = bytes.startIndex
    }

    /// The next line without its newline; the text after the last newline is a line too (empty
    /// when the body ends with one), as `split(omittingEmptySubsequences: false)` gives it.
    mutating func next() -> ByteBufferView? {
        guard let from = start else { return nil }
        guard let newline = bytes[from...].firstIndex(of: UInt8(ascii: "\n")) else {
            start = nil
            return bytes[from...]
        }
        start = bytes.index(after: newline)
        return bytes[from..<newline]
    }
}
