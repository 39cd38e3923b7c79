import CentinelaCore
import Foundation
import Testing

@testable import CentinelaHTTP

/// Reading a request is pure: a body in, a value or every field error at once out. Tested here
/// without a database or a server, the clock passed in.
@Suite struct RequestReadingTests {
    /// 2026-12-07T00:00:00Z: a fixed clock.
    static let now = Date(timeIntervalSince1970: 1_796_601_600)

    func body(_ json: String) throws -> ObjectReader { try ObjectReader.body(try JSONValue.parse(Data(json.utf8))) }

    /// The fields a refusal names, or nil when the body was read.
    func refusedFields(_ json: String) throws -> [String]? {
        var reader = try body(json)
        do {
            _ = try AlertController.transition(from: &reader, now: Self.now)
            return nil
        } catch {
            return (error.errors ?? []).map(\.field)
        }
    }

    @Test(arguments: [
        (#"{"kind":"acknowledged"}"#, AlertTransition.acknowledge),
        (
            #"{"kind":"assigned","assignee":"5a0c2a4e-3f43-4a53-9d7e-0d1a55d9a2b1"}"#,
            .assign(to: Principal.ID(uuidString: "5a0c2a4e-3f43-4a53-9d7e-0d1a55d9a2b1")!)
        ),
        (#"{"kind":"referred","to":"prosecutor","reference":"FGE-NL-2026-0141"}"#, .refer(to: .prosecutor, reference: "FGE-NL-2026-0141")),
        (
            #"{"kind":"resolved","resolution":"action_taken","note":"  Personal separado.  "}"#,
            .resolve(.actionTaken, note: "Personal separado.")
        ),
        (
            #"{"kind":"snoozed","until":"2026-12-20T00:00:00Z","reason":"Visita programada."}"#,
            .snooze(until: Date(timeIntervalSince1970: 1_797_724_800), reason: "Visita programada.")
        ),
        (#"{"kind":"comment","text":"Seguimiento semanal."}"#, .comment("Seguimiento semanal.")),
    ])
    func anAlertEventIsReadAsTheTransitionItNames(json: String, expected: AlertTransition) throws {
        var reader = try body(json)
        #expect(try AlertController.transition(from: &reader, now: Self.now) == expected)
    }

    @Test(arguments: [
        (#"{}"#, ["/kind"]),
        (#"{"kind":"acknowledge"}"#, ["/kind"]),  // the verb of API 0.1.0
        (#"{"type":"acknowledged"}"#, ["/kind", "/type"]),
        (#"{"kind":"assigned","assignee":"someone"}"#, ["/assignee"]),
        (#"{"kind":"referred","to":"the press"}"#, ["/to", "/reference"]),
        (#"{"kind":"resolved","resolution":"quiet","note":"x"}"#, ["/resolution"]),
        (#"{"kind":"snoozed","until":"2026-12-01T00:00:00Z","reason":"x"}"#, ["/until"]),  // past
        (#"{"kind":"snoozed","until":"2027-06-01T00:00:00Z","reason":"x"}"#, ["/until"]),  // beyond 90 days
        (#"{"kind":"snoozed","until":"mañana","reason":"x"}"#, ["/until"]),
        (#"{"kind":"comment","text":"   "}"#, ["/text"]),
        (#"{"kind":"comment","text":"x","extra":true}"#, ["/extra"]),
    ])
    func aBadAlertEventNamesEveryBadField(json: String, fields: [String]) throws {
        #expect(try refusedFields(json).map(Set.init) == Set(fields))
    }

    @Test func aSnoozeIsBoundedByTheClockPassedIn() throws {
        let body = #"{"kind":"snoozed","until":"2026-12-20T00:00:00Z","reason":"x"}"#
        var early = try self.body(body)
        #expect(throws: Never.self) { try AlertController.transition(from: &early, now: Self.now) }
        var late = try self.body(body)
        #expect(throws: Problem.self) { try AlertController.transition(from: &late, now: Self.now.addingTimeInterval(30 * 86_400)) }
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "duplicate"),
        (#"{"a":"#, "not JSON"),
        (#"[1,2]"#, "not an object"),
    ])
    func aBodyThatIsNotOneJSONObjectIsRefusedWhole(json: String, why: String) {
        #expect(throws: Problem.self, "\(why)") { _ = try ObjectReader.body(try JSONValue.parse(Data(json.utf8))) }
    }

    @Test func stringsAreTrimmedBoundedAndFreeOfControlCharacters() throws {
        var reader = try body(
            #"{"name":"  María Guadalupe  ","long":"abcdef","control":"a\u0007b","blank":" \t ","nel":"Ana\u0085","ideographic":"\u3000José\u00a0","c1":"a\u009fb","zero":"\u200b","plain":"Luz","lines":"a\nb\tc"}"#
        )
        #expect(reader.string("name") == "María Guadalupe")
        #expect(reader.string("long", maxLength: 5) == nil)
        #expect(reader.string("control") == nil)
        #expect(reader.string("blank", required: true) == nil)
        #expect(reader.string("missing", required: true) == nil)
        #expect(reader.string("nel") == "Ana")
        #expect(reader.string("ideographic") == "José")
        #expect(reader.string("c1") == nil)
        #expect(reader.string("zero") == nil)
        #expect(reader.string("plain") == "Luz")
        #expect(reader.string("lines") == "a\nb\tc")
        #expect(Set(reader.problems.map(\.field)) == ["/long", "/control", "/blank", "/missing", "/c1", "/zero"])
    }

    @Test func numbersDatesAndInstantsAreCheckedWhereTheyAreRead() throws {
        var reader = try body(#"{"age":18,"day":"2026-02-30","at":"2026-12-07T09:30:00-06:00","count":2.5}"#)
        #expect(reader.integer("age", range: 0...17) == nil)
        #expect(reader.date("day") == nil)
        #expect(reader.instant("at") == Date(timeIntervalSince1970: 1_796_657_400))
        #expect(reader.integer("count", range: 0...10) == nil)
        #expect(Set(reader.problems.map(\.field)) == ["/age", "/day", "/count"])
    }

    // MARK: A report

    static let report = #"""
        {"facility":"0b5c1e52-3a4f-4d0e-9c1a-2f6a8e1d7b90","occurred":{"from":"2026-11-02","to":"2026-11-06","approximate":true},
         "discoveredOn":"2026-11-10","category":"sexual_abuse","reporterType":"school_staff",
         "adults":[{"staffRef":"DOC-07"},{"name":"Hombre disfrazado","role":"other"}],"children":[{"ref":"NNA-01","age":4}],
         "modusOperandi":["disguise","several_adults_present"],"narrative":"Una niña relató a su maestra lo ocurrido."}
        """#

    @Test func aReportIsReadIntoASubmission() throws {
        var reader = try body(Self.report)
        let submission = try #require(ReportController.readSubmission(&reader))
        #expect(reader.problems.isEmpty, "\(reader.problems)")
        #expect(submission.facilityID.description == "0b5c1e52-3a4f-4d0e-9c1a-2f6a8e1d7b90")
        #expect(submission.occurredFrom == CalendarDate("2026-11-02") && submission.occurredTo == CalendarDate("2026-11-06"))
        #expect(submission.occurredApproximate && submission.category == .sexualAbuse && submission.reporterType == .schoolStaff)
        #expect(
            submission.adults.count == 2 && submission.children.count == 1
                && submission.modusOperandi == [.disguise, .severalAdultsPresent])
        // Dates are checked against the day passed in, not the machine's clock.
        #expect(submission.validate(today: CalendarDate("2026-12-07")!).isEmpty)
        #expect(!submission.validate(today: CalendarDate("2026-11-05")!).isEmpty, "discovered after today")
    }

    @Test(arguments: [
        ("facility", #""not-an-id""#, "/facility"),
        ("category", #""bullying""#, "/category"),
        ("reporterType", "7", "/reporterType"),
        ("discoveredOn", #""2026-13-01""#, "/discoveredOn"),
        ("modusOperandi", #"["disguise","telepathy"]"#, "/modusOperandi/1"),
    ])
    func aBadReportFieldIsNamedAndTheRestStillRead(field: String, value: String, pointer: String) throws {
        let json = Self.report.replacingOccurrences(
            of: #""\#(field)":"#, with: #""\#(field)":\#(value),"ignored\#(field)":"#)
        var reader = try body(json)
        _ = ReportController.readSubmission(&reader)
        let fields = Set(reader.problems.map(\.field))
        #expect(fields.contains(pointer), "\(fields)")
        #expect(!fields.contains("/narrative") && !fields.contains("/children"), "\(fields)")
    }
}
