import ArgumentParser
import CentinelaCore
import CentinelaStore
import Foundation

struct FacilitiesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facilities",
        abstract: "Manage the register of facilities.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Create or update facilities from a CSV file, all or nothing.",
            discussion: """
                The first line names the columns: code, name, kind, jurisdiction (required) and
                street, locality, postal_code, enrolment (optional). Existing codes are updated.
                Any bad row stops the import; every problem is listed with its line number.
                """)

        @Argument(help: "The CSV file (UTF-8).")
        var file: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await failingClearly {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ConfigurationErrorMessage("cannot read \(file)")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw ConfigurationErrorMessage("\(file) is not UTF-8 text")
                }
                let drafts: [(line: Int, draft: FacilityDraft)]
                do throws(FacilityCSV.ImportErrors) {
                    drafts = try FacilityCSV.drafts(from: text)
                } catch {
                    throw ImportFailure(file: file, errors: error)
                }
                let setup = try CommandSetup(log: log, database: database, quiet: true)
                let counts = try await setup.withCurrentSchema(database) { connection in
                    try await connection.operatorTransaction(logger: setup.logger) {
                        let counts: (created: Int, updated: Int)
                        do {
                            counts = try await FacilityStore(logger: setup.logger).importFacilities(drafts, on: connection)
                        } catch let error as FacilityCSV.ImportErrors {
                            throw ImportFailure(file: file, errors: error)
                        }
                        try await AuditLog.append(
                            .system(
                                action: "facility.import", objectType: "facility", objectID: nil,
                                details: ["created": "\(counts.created)", "updated": "\(counts.updated)"]),
                            on: connection, logger: setup.logger)
                        return counts
                    }
                }
                print("imported \(file): \(counts.created) created, \(counts.updated) updated")
            }
        }
    }
}

/// A refused import: every bad row on its own line of standard error, then the one-line summary.
struct ImportFailure: Error, CustomStringConvertible {
    var file: String
    var errors: FacilityCSV.ImportErrors

    var description: String {
        for row in errors.rows {
            printNote("\(file):\(row.line): \(row.column.map { "\($0): " } ?? "")\(row.message)")
        }
        return "\(file): \(errors.rows.count) problem(s); nothing was imported"
    }
}
