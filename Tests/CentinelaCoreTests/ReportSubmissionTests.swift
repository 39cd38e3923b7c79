import CentinelaCore
import Testing

@Suite struct ReportSubmissionTests {
    static let today = CalendarDate("2026-11-30")!

    static func submission(
        from: String = "2026-11-01", to: String = "2026-11-03", discovered: String = "2026-11-05",
        adults: [ReportSubmission.ImplicatedAdult] = [.rostered(staffRef: "T-1")],
        children: [ReportSubmission.AffectedChild] = [.init(reference: "NNA-1", ageYears: 4)],
        tags: [IncidentReport.ModusOperandi] = [.filming], narrative: String = "relato"
    ) -> ReportSubmission {
        ReportSubmission(
            facilityID: .random(), occurredFrom: CalendarDate(from)!, occurredTo: CalendarDate(to)!, occurredApproximate: false,
            discoveredOn: CalendarDate(discovered)!, category: .sexualAbuse, reporterType: .parent, adults: adults,
            children: children, modusOperandi: tags, narrative: narrative)
    }

    func fields(_ s: ReportSubmission) -> [String] { s.validate(today: Self.today).map(\.field) }

    @Test func aSoundReportPasses() {
        #expect(fields(Self.submission()).isEmpty)
        #expect(fields(Self.submission(from: "2026-11-30", to: "2026-11-30", discovered: "2026-11-30")).isEmpty)
        #expect(Self.submission().involvesChildUnderSix)
        #expect(!Self.submission(children: [.init(reference: "C7", ageYears: 6)]).involvesChildUnderSix)
    }

    @Test func datesMustBeOrderedAndNotInTheFuture() {
        #expect(fields(Self.submission(from: "2026-11-05", to: "2026-11-01")) == ["/occurred/to"])
        #expect(
            fields(Self.submission(from: "2026-12-01", to: "2026-12-02", discovered: "2026-12-03"))
                == ["/occurred/from", "/occurred/to", "/discoveredOn"])
        #expect(fields(Self.submission(discovered: "2026-10-01")) == ["/discoveredOn"])
    }

    @Test(arguments: ["María", "Juan Pérez", "ana", "", "NNA 1", "-1", String(repeating: "A1", count: 40)])
    func childrenAreNeverNamed(_ reference: String) {
        #expect(fields(Self.submission(children: [.init(reference: reference, ageYears: 3)])) == ["/children/0/ref"])
    }

    @Test(arguments: ["NNA-01", "C3", "nino.7", "A_1"])
    func pseudonymousReferencesAreAccepted(_ reference: String) {
        #expect(ReportSubmission.childReferenceProblem(reference) == nil)
    }

    @Test func childrenAreMinorsListedOnce() {
        let twice = Self.submission(children: [.init(reference: "N1", ageYears: 3), .init(reference: "N1", ageYears: 4)])
        #expect(fields(twice) == ["/children/1/ref"])
        #expect(fields(Self.submission(children: [.init(reference: "N1", ageYears: 18)])) == ["/children/0/age"])
    }

    @Test func adultsAndTagsAreNotRepeatedAndNarrativeIsPresent() {
        #expect(fields(Self.submission(adults: [.rostered(staffRef: "T-1"), .rostered(staffRef: "T-1")])) == ["/adults"])
        #expect(fields(Self.submission(adults: [.rostered(staffRef: "bad ref")])) == ["/adults/0/staffRef"])
        #expect(fields(Self.submission(adults: [.described(name: "  ", role: .teacher)])) == ["/adults/0/name"])
        #expect(fields(Self.submission(tags: [.filming, .filming])) == ["/modusOperandi"])
        #expect(fields(Self.submission(narrative: " \n ")) == ["/narrative"])
        #expect(fields(Self.submission(narrative: String(repeating: "x", count: 20_001))) == ["/narrative"])
    }

    @Test func statusesMoveForwardButNeverBackToReceived() {
        #expect(IncidentReport.Status.received.mayChange(to: .underReview))
        #expect(IncidentReport.Status.unfounded.mayChange(to: .underReview))
        #expect(!IncidentReport.Status.underReview.mayChange(to: .underReview))
        #expect(!IncidentReport.Status.substantiated.mayChange(to: .received))
    }
}

@Suite struct CalendarDateTests {
    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "26-01-01", "2026-1-1", "2026/01/01", "２０２６-01-01", "1899-12-31"])
    func refusesWhatIsNotADay(_ text: String) {
        #expect(CalendarDate(text) == nil)
    }

    @Test func parsesOrdersAndCounts() throws {
        let leap = try #require(CalendarDate("2024-02-29"))
        #expect(leap.description == "2024-02-29")
        #expect(try #require(CalendarDate("1970-01-01")).daysSinceEpoch == 0)
        #expect(try #require(CalendarDate("2000-03-01")).daysSinceEpoch == 11_017)
        #expect(CalendarDate("2026-01-31")! < CalendarDate("2026-02-01")!)
    }
}

@Suite struct CSVTests {
    @Test func parsesQuotesCommasLineBreaksAndABOM() throws {
        let table = try CSVTable(parsing: "\u{FEFF}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",z")
        #expect(table.records.map(\.fields) == [["a", "b"], ["x, y", "say \"hi\""], ["multi\nline", "z"]])
        #expect(table.records.map(\.line) == [1, 2, 4])
    }

    @Test func reportsBrokenQuoting() {
        #expect(throws: CSVTable.ParseError(line: 2, message: "a quoted field is not closed")) {
            try CSVTable(parsing: "a\n\"open")
        }
        #expect(throws: CSVTable.ParseError.self) { try CSVTable(parsing: "a\nx\"y") }
    }

    @Test func facilityImportNeedsItsColumns() {
        #expect(throws: FacilityCSV.ImportErrors.self) { try FacilityCSV.drafts(from: "code,name\nA,B\n") }
        #expect(throws: FacilityCSV.ImportErrors.self) { try FacilityCSV.drafts(from: "") }
        do {
            _ = try FacilityCSV.drafts(from: "code,name,kind,jurisdiction,colour\nA1,B,primary,MX,red\n")
            Issue.record("an unknown column must be refused")
        } catch {
            #expect(error.rows.map(\.column) == ["colour"])
        }
    }

    @Test func facilityRowsBecomeDrafts() throws {
        let drafts = try FacilityCSV.drafts(
            from: "JURISDICTION,code,Name,kind,enrolment,postal_code\nMX-JAL,14DJN0001A,Jardín,preschool,120,44100\n")
        #expect(drafts.count == 1)
        #expect(drafts[0].line == 2)
        #expect(
            drafts[0].draft
                == FacilityDraft(
                    code: "14DJN0001A", name: "Jardín", kind: .preschool, jurisdictionCode: "MX-JAL",
                    address: Address(postalCode: "44100"), enrolment: 120))
    }
}
