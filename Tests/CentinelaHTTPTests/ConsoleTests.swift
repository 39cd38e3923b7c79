import CentinelaCore
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import CentinelaHTTP

/// The web console (issue 23) through its pages, as a browser uses them: sign-in, a regulator's
/// case work, a school's report, and what each may not see; every page is read with a parser.
@Suite struct ConsoleTests {
    @Test func aRegulatorSignsInAndWorksACaseToItsEnd() async throws {
        try await APITest.run { (api: APITest) async throws in
            let browser = ConsoleBrowser(client: api.client)
            // Not signed in: every page leads to the sign-in page.
            let away = try await browser.get("/console/cases")
            #expect(away.status == .seeOther && away.location == "/console/sign-in")

            let signInPage = try await browser.get("/console/sign-in")
            #expect(signInPage.contains("lang=\"es-MX\"") && signInPage.contains("Iniciar sesión"))
            Self.expectConsoleHeaders(signInPage)
            let preSession = try #require(signInPage.setCookies.first { $0.hasPrefix("centinela_signin=") })
            #expect(preSession.contains("HttpOnly") && preSession.contains("SameSite=Strict") && preSession.contains("Path=/console"))

            // A form without its anti-forgery field, and a bad key: refused, no session.
            let forged = try await browser.post("/console/sign-in", [("token", api.world.regulatorToken)])
            #expect(forged.status == .forbidden && browser.cookies["centinela_session"] == nil)
            let wrong = try await browser.post(
                "/console/sign-in", [("csrf", signInPage.field("csrf") ?? ""), ("token", "cen_" + String(repeating: "A", count: 43))])
            #expect(wrong.status == .unauthorized && wrong.contains("no es válida") && browser.cookies["centinela_session"] == nil)

            let signedIn = try await browser.signIn(api.world.regulatorToken)
            #expect(signedIn.status == .seeOther && signedIn.location == "/console/cases", "\(signedIn.body)")
            let session = try #require(signedIn.setCookies.first { $0.hasPrefix("centinela_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && !session.contains("Secure"))
            #expect(browser.cookies["centinela_signin"] == nil)

            // A school's report raises alerts: one case in the regulator's inbox.
            try await AlertAPITests().post(api, api.world.nuevoLeon.id)
            let inbox = try await browser.get("/console/cases")
            #expect(inbox.status == .ok && inbox.contains("Jardín de Niños Benito Juárez"), "\(inbox.body)")
            #expect(inbox.contains("Abiertos <span class=\"count\">1</span>"))
            Self.expectConsoleHeaders(inbox)
            // By jurisdiction: the state holds the case, its municipality of Monterrey does not;
            // the filter offers the regulator's own jurisdictions only, and the tabs keep it.
            let state = try await browser.get("/console/cases?jurisdiction=MX-NL")
            #expect(state.contains("Abiertos <span class=\"count\">1</span>") && state.contains("status=closed&amp;jurisdiction=MX-NL"))
            let city = try await browser.get("/console/cases?jurisdiction=MX-NL-MTY")
            #expect(city.contains("Abiertos <span class=\"count\">0</span>") && city.contains("No hay casos"))
            #expect(inbox.contains("value=\"MX-NL-MTY\"") && !inbox.contains("value=\"MX-OAX\""))
            let cases = try await api.call(.get, "/v1/cases", token: api.world.regulatorToken)
            let id = try #require(cases.items.first?["id"] as? String)
            let path = "/console/cases/\(id)"

            let page = try await browser.get(path)
            #expect(page.status == .ok && page.contains("Marcar como atendido") && page.contains("Se filmó o fotografió"))
            // Its evidence: the report behind its alerts, linked to the report's page.
            let reports = try await api.call(.get, "/v1/reports", token: api.world.regulatorToken)
            let report = try #require(reports.items.first?["id"] as? String)
            #expect(page.contains("Reportes que la sustentan") && page.contains("href=\"/console/reports/\(report)\""))
            let csrf = try #require(page.field("csrf"))
            // Forged (no or another token): refused and nothing changes.
            #expect(try await browser.post(path, [("action", "acknowledge")]).status == .forbidden)
            #expect(try await browser.post(path, [("csrf", String(csrf.reversed())), ("action", "acknowledge")]).status == .forbidden)
            #expect(try await api.call(.get, "/v1/cases/\(id)", token: api.world.regulatorToken).json["case"].map(Self.status) == "open")

            let acknowledged = try await browser.post(path, [("csrf", csrf), ("action", "acknowledge")])
            #expect(acknowledged.status == .seeOther && acknowledged.location == path + "?done=1")
            let after = try await browser.get(path + "?done=1")
            #expect(after.contains("Hecho.") && after.contains("Atendido"))
            // Closing needs a reason and a note; the page says so and keeps the case as it was.
            let noReason = try await browser.post(path, [("csrf", csrf), ("action", "close"), ("reason", ""), ("note", "x")])
            #expect(noReason.status == .unprocessableContent && noReason.contains("Elija un motivo de cierre"))
            let noNote = try await browser.post(path, [("csrf", csrf), ("action", "close"), ("reason", "action_taken"), ("note", " ")])
            #expect(noNote.status == .conflict && noNote.contains("Falta el texto"))
            #expect(
                try await browser.post(path, [("csrf", csrf), ("action", "refer"), ("reference", "FGE-NL/2026/7")]).status == .seeOther)
            let closed = try await browser.post(
                path, [("csrf", csrf), ("action", "close"), ("reason", "referred_to_authorities"), ("note", "La fiscalía investiga.")])
            #expect(closed.status == .seeOther)
            // The same case through the API: the console's steps are the case's own.
            let detail = try await api.call(.get, "/v1/cases/\(id)", token: api.world.regulatorToken)
            let record = try #require(detail.json["case"] as? [String: Any])
            #expect(record["status"] as? String == "closed" && record["referralReference"] as? String == "FGE-NL/2026/7")
            let kinds = (detail.json["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
            #expect(kinds.suffix(3) == ["acknowledged", "referred", "closed"], "\(kinds)")
            #expect(try await browser.get("/console/cases?status=closed").contains("Cerrados <span class=\"count\">1</span>"))

            // The facility's page: the score and the factors that make it.
            let facility = try await browser.get("/console/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())")
            #expect(facility.status == .ok && facility.contains("Puntaje de riesgo") && facility.contains("Formas de actuar"))
            #expect(facility.contains("class=\"c0\""), "factor bars are drawn")
            #expect(facility.contains("Cómo se calculó") && facility.contains("vida media"), "each factor's computation in Spanish")
            // Another jurisdiction's facility, a malformed id: no such page.
            #expect(try await browser.get("/console/facilities/\(api.world.oaxaca.id.uuidString.lowercased())").status == .notFound)
            #expect(try await browser.get("/console/cases/nope").status == .notFound)

            // Signing out ends the session on the server: the old cookie opens nothing.
            let cookie = try #require(browser.cookies["centinela_session"])
            let out = try await browser.post("/console/sign-out", [("csrf", csrf)])
            #expect(out.status == .seeOther && out.location == "/console/sign-in" && browser.cookies["centinela_session"] == nil)
            browser.setCookie("centinela_session", cookie)
            #expect(try await browser.get("/console/cases").location == "/console/sign-in")
        }
    }

    @Test func aRegulatorFiltersAlertsAndTakesEveryStepOnOne() async throws {
        try await APITest.run { (api: APITest) async throws in
            let more = try await AlertAPITests.moreRegulators(api.world)
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.regulatorToken)
            try await AlertAPITests().post(api, api.world.nuevoLeon.id)

            // Four rules fired: all open, counted per status; the filters narrow the list.
            let inbox = try await browser.get("/console/alerts")
            #expect(inbox.status == .ok && inbox.contains("Abiertas <span class=\"count\">4</span>"), "\(inbox.body)")
            #expect(inbox.contains("Se filmó o fotografió") && inbox.contains("Jardín de Niños Benito Juárez"))
            Self.expectConsoleHeaders(inbox)
            let filming = try await browser.get("/console/alerts?status=open&rule=filming&severity=critical")
            #expect(filming.contains("Abiertas <span class=\"count\">1</span>") && filming.contains("Quitar filtros"), "\(filming.body)")
            #expect(
                !filming.contains(">Varios adultos en un hecho muy grave</a>")
                    && inbox.contains(">Varios adultos en un hecho muy grave</a>"))
            // The jurisdiction filter offers the regulator's own jurisdictions and those below, no others.
            #expect(inbox.contains("value=\"MX-NL-MTY\"") && !inbox.contains("value=\"MX-OAX\"") && !inbox.contains("value=\"MX\""))
            // A jurisdiction outside the regulator's scope, or an unknown one: nothing, not an error.
            for other in ["MX-OAX", "XX-NOPE"] {
                let empty = try await browser.get("/console/alerts?jurisdiction=\(other)")
                #expect(empty.status == .ok && empty.contains("No hay alertas"), "\(other)")
            }
            // Unknown filter values are ignored.
            #expect(try await browser.get("/console/alerts?rule=nope&severity=x&status=y").contains("<span class=\"count\">4</span>"))

            let alert = try #require(try await AlertAPITests().alert(api, rule: "filming", token: api.world.regulatorToken))
            let id = try #require(alert["id"] as? String)
            let path = "/console/alerts/\(id)"
            let page = try await browser.get(path)
            #expect(page.status == .ok && page.contains("Un reporte dice que se filmó") && page.contains("Marcar como atendido"))
            #expect(!page.contains("Canalizar a</label>"), "an open alert is acknowledged before it is referred")
            let csrf = try #require(page.field("csrf"))
            #expect(try await browser.post(path, [("action", "acknowledge")]).status == .forbidden)
            #expect(try await browser.post(path, [("csrf", csrf), ("action", "acknowledge")]).location == path + "?done=1")

            // Assign: a colleague who cannot see the school is refused in words; empty is "to me".
            let oaxaca = try await browser.post(path, [("csrf", csrf), ("action", "assign"), ("assignee", UUID().uuidString)])
            #expect(oaxaca.status == .conflict && oaxaca.contains("no puede recibir la alerta"))
            let garbage = try await browser.post(path, [("csrf", csrf), ("action", "assign"), ("assignee", "Juana")])
            #expect(garbage.status == .unprocessableContent && garbage.contains("no puede recibir la alerta"))
            #expect(try await browser.post(path, [("csrf", csrf), ("action", "assign"), ("assignee", "")]).status == .seeOther)
            #expect(try await browser.get(path).contains("SEP Nuevo León"))
            #expect(
                try await browser.post(path, [("csrf", csrf), ("action", "assign"), ("assignee", more.nationalID)]).status == .seeOther)

            // Snooze: a day in the past, beyond 90 days or not a date is refused; tomorrow is taken.
            for until in ["2020-01-01", "2099-01-01", "mañana", "2026-02-30"] {
                let refused = try await browser.post(path, [("csrf", csrf), ("action", "snooze"), ("until", until), ("reason", "x")])
                #expect(refused.status == .unprocessableContent && refused.contains("dentro de 90 días"), "\(until)")
            }
            let tomorrow = ConsoleFormat.day(Date().addingTimeInterval(86_400))
            let noReason = try await browser.post(path, [("csrf", csrf), ("action", "snooze"), ("until", tomorrow), ("reason", " ")])
            #expect(noReason.status == .conflict && noReason.contains("Falta el texto (motivo)"))
            #expect(
                try await browser.post(
                    path, [("csrf", csrf), ("action", "snooze"), ("until", tomorrow), ("reason", "Esperamos el informe de la escuela")]
                ).status == .seeOther)
            #expect(try await browser.get(path).contains("Pospuesta hasta"))

            #expect(
                try await browser.post(path, [("csrf", csrf), ("action", "refer"), ("to", "nope"), ("reference", "x")]).status
                    == .unprocessableContent)
            #expect(
                try await browser.post(path, [("csrf", csrf), ("action", "refer"), ("to", "prosecutor"), ("reference", "FGE-NL/9")])
                    .status == .seeOther)
            let quiet = try await browser.post(path, [("csrf", csrf), ("action", "resolve"), ("resolution", "quiet"), ("note", "x")])
            #expect(quiet.status == .unprocessableContent && quiet.contains("Elija un motivo de resolución"))
            #expect(
                try await browser.post(
                    path, [("csrf", csrf), ("action", "resolve"), ("resolution", "referred_to_authorities"), ("note", "Fiscalía")]
                ).status == .seeOther)
            #expect(try await browser.post(path, [("csrf", csrf), ("action", "comment"), ("text", "Visto")]).status == .seeOther)
            let done = try await browser.get(path)
            #expect(done.contains("Resuelta") && done.contains("Fiscalía — FGE-NL/9") && !done.contains("Marcar como atendido"))

            // The same alert through the API: the console's steps are the alert's own.
            let detail = try await api.call(.get, "/v1/alerts/\(id)", token: api.world.regulatorToken)
            let kinds = (detail.json["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
            #expect(kinds == ["opened", "acknowledged", "assigned", "assigned", "snoozed", "referred", "resolved", "comment"], "\(kinds)")
            #expect(try await browser.get("/console/alerts?status=resolved").contains("Resueltas <span class=\"count\">1</span>"))

            // Another jurisdiction's regulator: no such alert; a school: no alert pages at all.
            let oaxacaBrowser = ConsoleBrowser(client: api.client)
            _ = try await oaxacaBrowser.signIn(api.world.otherRegulatorToken)
            #expect(try await oaxacaBrowser.get(path).status == .notFound)
            #expect(try await oaxacaBrowser.get("/console/alerts").contains("No hay alertas"))
            let school = ConsoleBrowser(client: api.client)
            _ = try await school.signIn(api.world.schoolToken)
            #expect(try await school.get("/console/alerts").status == .notFound)
            #expect(try await school.get(path).status == .notFound)
        }
    }

    @Test func aFacilitysRegulatorSeesWhoTheReportsNameAndSetsItsBandByHand() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await AlertAPITests().post(api, api.world.nuevoLeon.id)
            let facility = api.world.nuevoLeon.id.uuidString.lowercased()
            let path = "/console/facilities/\(facility)"
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.regulatorToken)
            let page = try await browser.get(path)
            #expect(page.status == .ok && page.contains("Personas que señalan los reportes"), "\(page.body)")
            #expect(page.contains("Hombre del disfraz") && page.contains("Mujer del disfraz") && page.contains("Fijar el nivel"))
            let csrf = try #require(page.field("csrf"))

            // Each mistake is said in words and changes nothing.
            let tomorrow = ConsoleFormat.day(Date().addingTimeInterval(86_400))
            for (fields, words) in [
                ([("band", "critical"), ("until", tomorrow), ("reason", " ")], "Escriba el motivo"),
                ([("band", "purple"), ("until", tomorrow), ("reason", "Visita")], "Elija un nivel"),
                ([("band", "critical"), ("until", "2020-01-01"), ("reason", "Visita")], "dentro de un año"),
                ([("band", "critical"), ("until", "2099-01-01"), ("reason", "Visita")], "dentro de un año"),
            ] {
                let refused = try await browser.post(path, [("csrf", csrf), ("action", "band")] + fields)
                #expect(refused.status == .unprocessableContent && refused.contains(words), "\(fields)")
            }
            let risk = "/v1/facilities/\(facility)/risk"
            #expect(try await api.call(.get, risk, token: api.world.regulatorToken).json["manualOverride"] as? [String: Any] == nil)

            try await RiskAPITests.rescored(api.world.nuevoLeon.id, in: api.world) {
                let set = try await browser.post(
                    path,
                    [("csrf", csrf), ("action", "band"), ("band", "critical"), ("until", tomorrow), ("reason", "Visita de inspección")])
                #expect(set.status == .seeOther && set.location == path + "?done=1")
            }
            let scored = try await api.call(.get, risk, token: api.world.regulatorToken)
            let manual = try #require(scored.json["manualOverride"] as? [String: Any], "\(scored.body)")
            #expect(manual["band"] as? String == "critical" && manual["reason"] as? String == "Visita de inspección")
            let after = try await browser.get(path + "?done=1")
            #expect(
                after.contains("Nivel fijado ahora:") && after.contains("Visita de inspección") && after.contains("Quitar el nivel fijado"))

            try await RiskAPITests.rescored(api.world.nuevoLeon.id, in: api.world) {
                let cleared = try await browser.post(path, [("csrf", csrf), ("action", "clear"), ("reason", "Se normalizó")])
                #expect(cleared.status == .seeOther)
            }
            #expect(try await api.call(.get, risk, token: api.world.regulatorToken).json["manualOverride"] as? [String: Any] == nil)

            // The school sees its page, not who its reports name nor the band form; it cannot post one.
            let school = ConsoleBrowser(client: api.client)
            _ = try await school.signIn(api.world.schoolToken)
            let own = try await school.get(path)
            #expect(own.status == .ok && !own.contains("Hombre del disfraz") && !own.contains("Fijar el nivel"))
            let schoolPost = try await school.post(
                path, [("csrf", own.field("csrf") ?? ""), ("action", "band"), ("band", "low"), ("until", tomorrow), ("reason", "x")])
            #expect(schoolPost.status == .notFound)
        }
    }

    @Test func theMapShadesTheRegulatorsStatesAndLeadsToTheirSchoolsByScore() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await AlertAPITests().post(api, api.world.nuevoLeon.id)
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.regulatorToken)
            let map = try await browser.get("/console/map")
            #expect(map.status == .ok && map.contains("Nuevo León: 1 caso(s) sin cerrar"), "\(map.body)")
            #expect(map.contains("href=\"/console/facilities?within=MX-NL\"") && map.contains("class=\"tile shade1\""))
            // Another state is drawn, greyed, and is not a link.
            #expect(map.contains("Oaxaca: fuera de su jurisdicción") && !map.contains("within=MX-OAX"))

            let state = try await browser.get("/console/facilities?within=MX-NL")
            #expect(state.status == .ok && state.contains("Escuelas de Nuevo León") && state.contains("Jardín de Niños Benito Juárez"))
            #expect(state.contains("href=\"/console/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())\""))
            for outside in ["MX-OAX", "MX", "NOPE", ""] {
                #expect(try await browser.get("/console/facilities?within=\(outside)").status == .notFound, "\(outside)")
            }
            #expect(try await browser.get("/console/facilities").status == .notFound)

            let school = ConsoleBrowser(client: api.client)
            _ = try await school.signIn(api.world.schoolToken)
            #expect(try await school.get("/console/map").status == .notFound)
            #expect(try await school.get("/console/facilities?within=MX-NL").status == .notFound)
        }
    }

    @Test func everyStateHasItsOwnTile() {
        let states = [
            "AGU", "BCN", "BCS", "CAM", "CHP", "CHH", "CMX", "COA", "COL", "DUR", "GUA", "GRO", "HID", "JAL", "MEX", "MIC",
            "MOR", "NAY", "NLE", "OAX", "PUE", "QUE", "ROO", "SLP", "SIN", "SON", "TAB", "TAM", "TLA", "VER", "YUC", "ZAC",
        ]
        let tiles = states.compactMap { ConsoleMapPage.tile(of: "MX-\($0)") }
        #expect(tiles.count == 32 && Set(tiles.map { "\($0.column),\($0.row)" }).count == 32)
        #expect(tiles.allSatisfy { (0..<10).contains($0.column) && (0..<5).contains($0.row) })
        #expect(ConsoleMapPage.tile(of: "MX-NL").map { "\($0)" } == ConsoleMapPage.tile(of: "MX-NLE").map { "\($0)" })
        #expect(ConsoleMapPage.tile(of: "MX") == nil && ConsoleMapPage.tile(of: "US-TX") == nil)
        #expect([0, 1, 2, 4, 5, 9, 10, 250].map(ConsoleMapPage.shade) == [0, 1, 2, 2, 3, 3, 4, 4])
    }

    @Test func aLongHistoryIsShownLatestFirstAndWholeOnRequest() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await AlertAPITests().post(api, api.world.nuevoLeon.id)
            let cases = try await api.call(.get, "/v1/cases", token: api.world.regulatorToken)
            let id = try #require(cases.items.first?["id"] as? String)
            for n in 1...(ConsoleCasePages.shownAtFirst + 5) {
                let added = try await api.call(
                    .post, "/v1/cases/\(id)/events", token: api.world.regulatorToken, json: #"{"kind":"comment","text":"Nota \#(n)"}"#)
                #expect(added.status == .created)
            }
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.regulatorToken)
            let first = try await browser.get("/console/cases/\(id)")
            let shown = first.body.components(separatedBy: "<span class=\"when\">").count - 1
            #expect(shown == ConsoleCasePages.shownAtFirst && first.contains("Ver todo"), "\(shown)")
            #expect(first.contains("Nota \(ConsoleCasePages.shownAtFirst + 5)<") && !first.contains("Nota 1<"), "the latest first")
            let all = try await browser.get("/console/cases/\(id)?all=1")
            #expect(all.contains("Nota 1<") && !all.contains("Ver todo"))
            #expect(all.body.components(separatedBy: "<span class=\"when\">").count - 1 > ConsoleCasePages.shownAtFirst + 5)
        }
    }

    /// The inbox's live stream ends when its session does (sign-out), not only with its token.
    @Test func signingOutEndsTheInboxesLiveStream() async throws {
        try await APITest.run(live: true, alertHeartbeat: .milliseconds(500)) { (api: APITest) async throws in
            let port = try #require(api.client.port)
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.regulatorToken)
            let cookie = try #require(browser.cookies["centinela_session"])
            let stream = try SSEClient(port: port, path: "/console/cases/stream", token: "", cookie: "centinela_session=\(cookie)")
            #expect(await stream.heartbeats(atLeast: 1, within: .seconds(20)) > 0, "open, with heartbeats")
            #expect(stream.status == 200 && !stream.ended)
            let csrf = try #require(try await browser.get("/console/cases").field("csrf"))
            #expect(try await browser.post("/console/sign-out", [("csrf", csrf)]).status == .seeOther)
            let signedOut = ContinuousClock.now
            _ = await stream.events(atLeast: 1, within: .seconds(20))
            #expect(stream.ended, "the stream of a session signed out ended")
            #expect(ContinuousClock.now - signedOut < .seconds(12))
            // The token itself still holds: its API calls and other sessions go on.
            #expect(try await api.call(.get, "/v1/cases", token: api.world.regulatorToken).status == .ok)
            // Without a session, the stream is not opened at all.
            let refused = try SSEClient(port: port, path: "/console/cases/stream", token: "", cookie: "centinela_session=\(cookie)")
            _ = await refused.events(atLeast: 1, within: .seconds(5))
            #expect(refused.status == 303)
        }
    }

    @Test func aSchoolFilesAReportAndSeesOnlyItsOwn() async throws {
        try await APITest.run { (api: APITest) async throws in
            let browser = ConsoleBrowser(client: api.client)
            #expect(try await browser.signIn(api.world.schoolToken).location == "/console/reports")
            let empty = try await browser.get("/console/reports")
            #expect(empty.status == .ok && empty.contains("Aún no hay reportes"))
            let form = try await browser.get("/console/reports/new")
            #expect(form.status == .ok && form.contains("Registrar un reporte"), "\(form.body)")
            let csrf = try #require(form.field("csrf"))
            let key = try #require(form.field("idempotency_key"))
            let facility = api.world.nuevoLeon.id.uuidString.lowercased()

            // Mistakes are shown beside their fields, and nothing typed is lost.
            let narrative = "Dos adultos disfrazados\nfilmaron a los niños en el patio."
            let bad = try await browser.post(
                "/console/reports",
                [
                    ("csrf", csrf), ("idempotency_key", key), ("facility", facility), ("occurred_from", "2099-01-01"),
                    ("discovered_on", "2026-02-03"), ("reporter_type", "parent"), ("adult_name", "Hombre del disfraz"),
                    ("adult_role", ""), ("child_ref", "Ana"), ("child_age", "4"), ("tactic", "disguise"), ("narrative", narrative),
                ])
            #expect(bad.status == .unprocessableContent)
            for field in ["occurred_from", "category", "adults", "children"] {  // and no other
                #expect(bad.contains("id=\"field-\(field)\"") && bad.contains("href=\"#field-\(field)\""), "\(field)")
            }
            for field in ["narrative", "reporter_type", "occurred_to", "discovered_on"] {
                #expect(!bad.contains("href=\"#field-\(field)\""), "\(field)")
            }
            #expect(bad.contains("value=\"2099-01-01\"") && bad.contains("value=\"Hombre del disfraz\"") && bad.contains("value=\"Ana\""))
            #expect(bad.contains(">Dos adultos disfrazados\nfilmaron a los niños en el patio.</textarea>"))
            #expect(bad.contains("value=\"disguise\" checked=\"checked\""))
            #expect(try await api.call(.get, "/v1/reports", token: api.world.schoolToken).items.isEmpty, "nothing was filed")

            let good: [(String, String)] = [
                ("csrf", csrf), ("idempotency_key", key), ("facility", facility), ("occurred_from", "2026-02-02"),
                ("occurred_to", ""), ("discovered_on", "2026-02-03"), ("category", "sexual_abuse"), ("reporter_type", "parent"),
                ("adult_name", "Hombre del disfraz"), ("adult_role", "other"), ("adult_name", ""), ("adult_role", ""),
                ("child_ref", "NNA-01"), ("child_age", "4"), ("child_ref", ""), ("child_age", ""), ("tactic", "disguise"),
                ("tactic", "filming"), ("narrative", narrative),
            ]
            let filed = try await browser.post("/console/reports", good)
            #expect(filed.status == .seeOther, "\(filed.body)")
            let receiptPath = try #require(filed.location)
            #expect(receiptPath.hasPrefix("/console/reports/") && receiptPath.hasSuffix("?filed=1"))
            // Sent twice (a double click, a reload): still one report.
            #expect(try await browser.post("/console/reports", good).location == receiptPath)
            let receipt = try await browser.get(receiptPath)
            #expect(receipt.status == .ok && receipt.contains("Reporte recibido") && receipt.contains("Abuso sexual"))
            #expect(receipt.contains("Hombre del disfraz") && receipt.contains("NNA-01, 4 años") && receipt.contains("Disfraces"))
            let reports = try await api.call(.get, "/v1/reports", token: api.world.schoolToken)
            #expect(reports.items.count == 1)
            let id = try #require(reports.items.first?["id"] as? String)
            #expect(receiptPath == "/console/reports/\(id)?filed=1")
            let stored = try await api.call(.get, "/v1/reports/\(id)", token: api.world.schoolToken)
            #expect(stored.json["narrative"] as? String == narrative)
            #expect(stored.json["modusOperandi"] as? [String] == ["disguise", "filming"])
            #expect(try await browser.get("/console/reports").contains("/console/reports/\(id)"))

            // A correction is appended with its reason; the report as submitted stays.
            let amendPath = "/console/reports/\(id)/amendments"
            let noReason = try await browser.post(amendPath, [("csrf", csrf), ("narrative", "Corregido."), ("note", "")])
            #expect(noReason.status == .unprocessableContent && noReason.contains("Escriba el relato corregido"))
            let amended = try await browser.post(
                amendPath, [("csrf", csrf), ("narrative", narrative + " Eran tres adultos."), ("note", "La madre precisó el número")])
            #expect(amended.status == .seeOther && amended.location == "/console/reports/\(id)?amended=1", "\(amended.body)")
            let withAmendment = try await browser.get("/console/reports/\(id)?amended=1")
            #expect(withAmendment.contains("Corrección agregada") && withAmendment.contains("La madre precisó el número"))
            let history = try await api.call(.get, "/v1/reports/\(id)", token: api.world.schoolToken)
            #expect((history.json["amendments"] as? [[String: Any]])?.count == 1)

            // The facility's case file, to print and as CSV; each export is audited.
            let file = try await browser.get("/console/facilities/\(facility)/file")
            #expect(file.status == .ok && file.contains("Expediente de Jardín de Niños Benito Juárez"), "\(file.body)")
            #expect(file.contains("Dos adultos disfrazados") && file.contains("Hombre del disfraz") && file.contains(id))
            let csv = try await browser.get("/console/facilities/\(facility)/file.csv")
            #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.headers[.contentDisposition] == "attachment; filename=\"expediente-NL001.csv\"")
            let lines = csv.body.components(separatedBy: "\r\n")
            #expect(lines.first == "\u{FEFF}" + ConsoleCaseFile.header.joined(separator: ","))
            #expect(lines.count == 3 && lines[1].hasPrefix(id + ",") && lines[1].contains("\"Dos adultos disfrazados\nfilmaron"))
            let exports = try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await TestDatabase.chainAuditEvents(on: connection)
                var formats: [String] = []
                for try await format in try await connection.query(
                    "SELECT details->>'format' FROM audit_events WHERE action = 'facility.export' ORDER BY position",
                    logger: TestDatabase.logger
                ).decode(String.self) { formats.append(format) }
                return formats
            }
            #expect(exports == ["html", "csv"])

            // A school sees no regulator page and no other school's report: there is no such page.
            #expect(try await browser.get("/console/cases").status == .notFound)
            let other = ConsoleBrowser(client: api.client)
            _ = try await other.signIn(api.world.otherSchoolToken)
            #expect(try await other.get("/console/reports/\(id)").status == .notFound)
            #expect(try await other.get("/console/facilities/\(facility)").status == .notFound)
            #expect(try await other.get("/console/facilities/\(facility)/file").status == .notFound)
            #expect(try await other.get("/console/facilities/\(facility)/file.csv").status == .notFound)
            #expect(!(try await other.get("/console/reports").contains(id)))
            // The facility's regulator reads it.
            let regulator = ConsoleBrowser(client: api.client)
            _ = try await regulator.signIn(api.world.regulatorToken)
            #expect(try await regulator.get("/console/reports/\(id)").contains("Dos adultos disfrazados"))
        }
    }

    @Test func revokingATokenEndsItsSessionsAndOperatorsAreNotLetIn() async throws {
        try await APITest.run { (api: APITest) async throws in
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.schoolToken)
            #expect(try await browser.get("/console/reports").status == .ok)
            try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                _ = try await TokenStore(logger: TestDatabase.logger).revoke(
                    String(api.world.schoolToken.prefix(12)), reason: "left the school", on: connection)
            }
            let after = try await browser.get("/console/reports")
            #expect(after.status == .seeOther && after.location == "/console/sign-in")

            let operatorBrowser = ConsoleBrowser(client: api.client)
            let refused = try await operatorBrowser.signIn(api.world.adminToken)
            #expect(refused.status == .forbidden && refused.contains("línea de comandos"))
            #expect(operatorBrowser.cookies["centinela_session"] == nil)

            // Sign-in and sign-out are in the audit trail.
            let actions = try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await TestDatabase.chainAuditEvents(on: connection)
                var actions: [String] = []
                for try await action in try await connection.query(
                    "SELECT action FROM audit_events WHERE action LIKE 'console.%' ORDER BY position", logger: TestDatabase.logger
                ).decode(String.self) { actions.append(action) }
                return actions
            }
            #expect(actions == ["console.sign_in"])
        }
    }

    @Test func theLanguageIsThePersonsChoiceThenTheBrowsers() async throws {
        try await APITest.run { (api: APITest) async throws in
            let english = ConsoleBrowser(client: api.client, acceptLanguage: "en-US,en;q=0.9,es;q=0.5")
            let page = try await english.get("/console/sign-in")
            #expect(page.contains("lang=\"en\"") && page.contains("Sign in to Centinela"))
            // The switch remembers Spanish and goes back to the page it was used on.
            let switched = try await english.post("/console/language", [("lang", "es-MX"), ("return", "/console/sign-in")])
            #expect(switched.status == .seeOther && switched.location == "/console/sign-in")
            #expect(try await english.get("/console/sign-in").contains("Iniciar sesión en Centinela"))
            // It never sends anyone to another site, and refuses a language it does not speak.
            for target in ["https://example.org/", "//example.org/console", "/v1/reports"] {
                #expect(try await english.post("/console/language", [("lang", "en"), ("return", target)]).location == "/console/")
            }
            #expect(try await english.post("/console/language", [("lang", "fr")]).status == .badRequest)
            // The style sheet and script are served without a session, cacheable.
            let css = try await english.get("/console/static/console.css")
            #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8" && css.contains(".topbar"))
            #expect(
                css.headers[.cacheControl] == "public, max-age=300" && css.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(try await english.get("/console/static/console.js").contains("EventSource"))
            // Errors are pages in the person's language, never JSON.
            let missing = try await english.get("/console/nothing-here")
            #expect(missing.status == .notFound)
        }
    }

    @Test func aRegulatorDecidesAProposedPairInWords() async throws {
        try await APITest.run { (api: APITest) async throws in
            let (monterrey, nuevoLeon) = try await LinkReviewAPITests.proposePair(api.world)
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.regulatorToken)
            let queue = try await browser.get("/console/review")
            #expect(queue.status == .ok && queue.contains("José García López") && queue.contains("José García"), "\(queue.body)")
            #expect(queue.contains("Misma persona con una probabilidad de") && queue.contains("Apellidos"))
            #expect(queue.contains("falta uno; el otro idéntico") || queue.contains("sólo uno coincide"), "surnames in words")
            let csrf = try #require(queue.field("csrf"))
            let decided = try await browser.post(
                "/console/review",
                [("csrf", csrf), ("first", monterrey), ("second", nuevoLeon), ("note", "Revisado con la SEP"), ("decision", "rejected")])
            #expect(decided.status == .seeOther && decided.location == "/console/review?done=1", "\(decided.body)")
            #expect(try await browser.get("/console/review?done=1").contains("Decisión registrada"))
            // A decision is final: the same again is refused in words; the API sees it decided.
            let again = try await browser.post(
                "/console/review", [("csrf", csrf), ("first", nuevoLeon), ("second", monterrey), ("decision", "accepted")])
            #expect(again.status == .conflict && again.contains("ya se había decidido"))
            #expect(try await api.call(.get, "/v1/links/review", token: api.world.regulatorToken).items.isEmpty)
            // Schools have no review queue.
            let school = ConsoleBrowser(client: api.client)
            _ = try await school.signIn(api.world.schoolToken)
            #expect(try await school.get("/console/review").status == .notFound)
        }
    }

    @Test func aNetworkShowsWhoAppearsWhereAsFarAsTheRegulatorMaySee() async throws {
        try await APITest.run { (api: APITest) async throws in
            _ = try await PatternAPITests.network(api.world)
            let national = try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await TokenStore(logger: TestDatabase.logger).create(
                    role: .regulator, holder: "SEP nacional", facilityCodes: [], jurisdictionCodes: ["MX"], expiresAt: nil, on: connection
                ).1.value
            }
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(national)
            let list = try await browser.get("/console/patterns")
            #expect(list.status == .ok && list.contains("Red de adultos"), "\(list.body)")
            let id = try #require(
                list.body.components(separatedBy: "href=\"/console/patterns/").dropFirst().first.map { String($0.prefix(36)) })
            let page = try await browser.get("/console/patterns/\(id)")
            #expect(page.status == .ok && page.contains("Red de adultos en 2 escuelas"), "\(page.body)")
            // Rubén, named at both schools, is the tie: drawn in red and listed first; Omar at one.
            #expect(page.contains("class=\"person bridge\"") && page.contains("class=\"tie bridge\""))
            let people = try #require(page.body.components(separatedBy: "id=\"people-heading\"").last)
            let ruben = try #require(people.range(of: "Rubén Tapia Ochoa") ?? people.range(of: "Ruben Tapia"), "\(people)")
            let omar = try #require(people.range(of: "Omar Tovar Urías"))
            #expect(ruben.lowerBound < omar.lowerBound)

            // The pattern's case file: every report of both schools, each with its school; as CSV too.
            let file = try await browser.get("/console/patterns/\(id)/file")
            #expect(file.status == .ok && file.contains("Expediente: Red de adultos en 2 escuelas"), "\(file.body)")
            #expect(file.contains("Preescolar Guelaguetza") && file.contains("Jardín de Niños Benito Juárez"))
            let csv = try await browser.get("/console/patterns/\(id)/file.csv")
            #expect(csv.status == .ok && csv.contains("NL001") && csv.contains("OAX01"), "\(csv.body)")
            #expect(csv.headers[.contentDisposition]?.contains("patron-") == true)
            // Nuevo León's regulator sees their side only: no one there is named elsewhere as far as they may see.
            let state = ConsoleBrowser(client: api.client)
            _ = try await state.signIn(api.world.regulatorToken)
            let side = try await state.get("/console/patterns/\(id)")
            #expect(side.status == .ok && side.contains("Omar Tovar Urías") && !side.contains("class=\"person bridge\""))
            #expect(!side.contains("Preescolar Guelaguetza"), "Oaxaca's school is not shown to Nuevo León")
            let sideFile = try await state.get("/console/patterns/\(id)/file")
            #expect(sideFile.status == .ok && !sideFile.contains("Preescolar Guelaguetza") && !sideFile.contains("OAX01"))
            #expect(try await state.get("/console/patterns/\(UUID())/file").status == .notFound)
            // On the school's page, Rubén is one person of two reports there, also held in Oaxaca
            // (whom to tell); Omar, named once, is not held elsewhere.
            let school = try await state.get("/console/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())")
            let adults = try #require(school.body.components(separatedBy: "id=\"adults-heading\"").last)
            let rubenRow = try #require(
                adults.components(separatedBy: "<tr>").first { $0.contains("Rubén Tapia") || $0.contains("Ruben Tapia") })
            #expect(rubenRow.contains("otras jurisdicciones: MX-OAX"), "\(rubenRow)")
            let omarRow = try #require(adults.components(separatedBy: "<tr>").first { $0.contains("Omar Tovar") })
            #expect(!omarRow.contains("otras jurisdicciones"), "\(omarRow)")
            // Schools have no pattern pages.
            let schoolBrowser = ConsoleBrowser(client: api.client)
            _ = try await schoolBrowser.signIn(api.world.schoolToken)
            #expect(try await schoolBrowser.get("/console/patterns/\(id)").status == .notFound)
            #expect(try await schoolBrowser.get("/console/patterns/\(id)/file").status == .notFound)
            #expect(try await schoolBrowser.get("/console/patterns/\(id)/file.csv").status == .notFound)
            // Every export is one audited event, with its format and how many reports it held.
            let exports = try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                try await TestDatabase.chainAuditEvents(on: connection)
                var formats: [String] = []
                for try await format in try await connection.query(
                    "SELECT details->>'format' FROM audit_events WHERE action = 'pattern.export' AND outcome = 'ok' ORDER BY position",
                    logger: TestDatabase.logger
                ).decode(String.self) { formats.append(format) }
                return formats
            }
            #expect(exports == ["html", "csv", "html"], "\(exports)")
        }
    }

    @Test func problemsFollowAcceptLanguage() async throws {
        try await APITest.run { (api: APITest) async throws in
            let missing = "/v1/reports/\(UUID().uuidString.lowercased())"
            let english = try await api.call(.get, missing, token: api.world.schoolToken)
            #expect(english.json["title"] as? String == "Not found" && english.headers[.contentLanguage] == "en")
            let spanish = try await api.call(
                .get, missing, token: api.world.schoolToken, headers: [.acceptLanguage: "es-MX,es;q=0.9,en;q=0.5"])
            #expect(spanish.json["title"] as? String == "No encontrado", "\(spanish.body)")
            #expect(spanish.json["detail"] as? String == "No hay ningún reporte con este id.")
            #expect(spanish.problemType == "not-found" && spanish.headers[.contentLanguage] == "es-MX")
            #expect(spanish.headers[.vary] == "Accept-Language")
            // Built from values: the values are said too; field names and codes stay as they are.
            let refused = try await api.call(.get, "/v1/cases", token: api.world.schoolToken, headers: [.acceptLanguage: "es"])
            #expect(
                refused.status == .forbidden && (refused.json["detail"] as? String)?.hasPrefix("Casos: sólo para") == true,
                "\(refused.body)")
            let invalid = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: "{}", headers: [.acceptLanguage: "es-MX"])
            #expect(invalid.json["title"] as? String == "Solicitud no válida", "\(invalid.body)")
            #expect(
                (invalid.json["detail"] as? String)?.hasSuffix("campos no son válidos.") == true
                    && invalid.errorFields.contains("/facility"))
            // Each field's message too; the field named stays as it is.
            let errors = invalid.json["errors"] as? [[String: Any]] ?? []
            let facility = errors.first { $0["field"] as? String == "/facility" }
            #expect(facility?["message"] as? String == "es obligatorio", "\(invalid.body)")
            let typed = try await api.call(
                .post, "/v1/reports", token: api.world.schoolToken, json: #"{"facility":5}"#, headers: [.acceptLanguage: "es-MX"])
            let wrongType = (typed.json["errors"] as? [[String: Any]] ?? []).first { $0["field"] as? String == "/facility" }
            #expect(wrongType?["message"] as? String == "debe ser texto, no un número", "\(typed.body)")
            let untyped = try await api.call(.post, "/v1/reports", token: api.world.schoolToken, json: #"{"facility":5}"#)
            #expect(untyped.body.contains("must be a string, not a number"))
            // A language the catalogs do not speak: English.
            #expect(
                try await api.call(.get, missing, token: api.world.schoolToken, headers: [.acceptLanguage: "fr"]).json["title"]
                    as? String == "Not found")
        }
    }

    @Test func riskReasonsFollowAcceptLanguage() async throws {
        try await APITest.run { (api: APITest) async throws in
            try await AlertAPITests().post(api, api.world.nuevoLeon.id)
            let path = "/v1/facilities/\(api.world.nuevoLeon.id.uuidString.lowercased())/risk"
            let english = try await api.call(.get, path, token: api.world.regulatorToken)
            let spanish = try await api.call(.get, path, token: api.world.regulatorToken, headers: [.acceptLanguage: "es-MX,es;q=0.9"])
            #expect(english.headers[.contentLanguage] == "en" && spanish.headers[.contentLanguage] == "es-MX")
            #expect(spanish.headers[.vary] == "Accept-Language")
            let said = (english.json["reasons"] as? [[String: Any]] ?? [], spanish.json["reasons"] as? [[String: Any]] ?? [])
            #expect(!said.0.isEmpty && said.0.count == said.1.count, "\(spanish.body)")
            for (en, es) in zip(said.0, said.1) {
                // Codes, points and evidence as they are; the summary in Spanish.
                #expect(en["code"] as? String == es["code"] as? String && en["points"] as? Double == es["points"] as? Double)
                #expect((en["evidence"] as? [Any])?.count == (es["evidence"] as? [Any])?.count)
                let summary = es["summary"] as? String ?? ""
                #expect(summary != en["summary"] as? String && !summary.contains(" report(s)"), "\(summary)")
            }
            #expect(said.1.contains { ($0["summary"] as? String)?.contains("vida media") == true })
            // An alert's page carries the same score in the same language.
            let alert = try #require(try await AlertAPITests().alert(api, rule: "filming", token: api.world.regulatorToken))
            let detail = try await api.call(
                .get, "/v1/alerts/\(alert["id"] as? String ?? "")", token: api.world.regulatorToken, headers: [.acceptLanguage: "es"])
            let risk = try #require(detail.json["risk"] as? [String: Any])
            #expect((risk["reasons"] as? [[String: Any]])?.allSatisfy { !(($0["summary"] as? String) ?? "").contains("half-life") } == true)
            #expect(detail.headers[.contentLanguage] == "es-MX")
        }
    }

    @Test func aSchoolKeepsItsRosterAndNoOneIsDeleted() async throws {
        try await APITest.run { (api: APITest) async throws in
            let browser = ConsoleBrowser(client: api.client)
            _ = try await browser.signIn(api.world.schoolToken)
            let page = try await browser.get("/console/roster")
            #expect(page.status == .ok && page.contains("La plantilla está vacía"), "\(page.body)")
            let csrf = try #require(page.field("csrf"))
            let facility = api.world.nuevoLeon.id.uuidString.lowercased()
            let add: [(String, String)] = [
                ("csrf", csrf), ("action", "add"), ("facility", facility), ("staff_ref", "S-0042"), ("full_name", "María Guadalupe Pérez"),
                ("role", "teacher"), ("date_of_birth", "1980-05-06"), ("starts_on", "2020-08-20"),
            ]
            let added = try await browser.post("/console/roster", add)
            #expect(added.status == .seeOther, "\(added.body)")
            let after = try await browser.get(try #require(added.location))
            #expect(after.contains("Plantilla actualizada") && after.contains("María Guadalupe Pérez") && after.contains("Docente"))
            // The same reference again, and a name left out: refused in words, what was typed kept.
            let twice = try await browser.post("/console/roster", add)
            #expect(twice.status == .unprocessableContent && twice.contains("Ya hay alguien con esa clave"))
            let unnamed = try await browser.post(
                "/console/roster",
                [("csrf", csrf), ("action", "add"), ("facility", facility), ("staff_ref", "S-7"), ("full_name", ""), ("role", "cook")])
            #expect(unnamed.status == .unprocessableContent && unnamed.contains("value=\"S-7\""))
            // Leaving is recorded, never a deletion; the API sees the same roster.
            let early = try await browser.post(
                "/console/roster",
                [("csrf", csrf), ("action", "end"), ("facility", facility), ("staff_ref", "S-0042"), ("ends_on", "2019-01-01")])
            #expect(early.status == .unprocessableContent && early.contains("no puede ser anterior al ingreso"))
            let left = try await browser.post(
                "/console/roster",
                [("csrf", csrf), ("action", "end"), ("facility", facility), ("staff_ref", "S-0042"), ("ends_on", "2026-06-30")])
            #expect(left.status == .seeOther)
            let staff = try await api.call(.get, "/v1/facilities/\(facility)/staff", token: api.world.schoolToken)
            #expect(staff.items.count == 1 && staff.items.first?["endsOn"] as? String == "2026-06-30", "\(staff.body)")
            // Another school's facility, and regulators: no roster page of theirs to change.
            let forged = try await browser.post(
                "/console/roster",
                [
                    ("csrf", csrf), ("action", "add"), ("facility", api.world.oaxaca.id.uuidString.lowercased()), ("staff_ref", "X1"),
                    ("full_name", "Nadie"), ("role", "cook"),
                ])
            #expect(forged.status == .notFound, "\(forged.status)")
            let regulator = ConsoleBrowser(client: api.client)
            _ = try await regulator.signIn(api.world.regulatorToken)
            #expect(try await regulator.get("/console/roster").status == .notFound)
        }
    }

    static func status(_ record: Any) -> String? { (record as? [String: Any])?["status"] as? String }

    static func expectConsoleHeaders(_ page: ConsoleBrowser.Page) {
        let policy = page.headers[.contentSecurityPolicy] ?? ""
        #expect(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
        #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
        #expect(page.headers[.cacheControl] == "no-store")
        #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
    }
}

/// The console's parts that need no database: language negotiation, form reading, catalogs and
/// templates.
@Suite struct ConsolePartsTests {
    @Test(
        arguments: [
            (nil, nil, ConsoleLanguage.spanish),
            (nil, "en", .english),
            (nil, "en-GB,es;q=0.8", .english),
            (nil, "fr-FR,es-MX;q=0.9,en;q=0.8", .spanish),
            (nil, "es;q=0.4,en;q=0.9", .english),
            (nil, "en;q=0", .spanish),
            (nil, "de, fr", .spanish),
            ("en", "es-MX", .english),
            ("es-MX", "en", .spanish),
            ("xx", "en", .english),
        ] as [(String?, String?, ConsoleLanguage)])
    func languageNegotiation(choice: String?, header: String?, expected: ConsoleLanguage) {
        #expect(ConsoleLanguage.negotiate(choice: choice, acceptLanguage: header) == expected)
    }

    @Test func formsAreReadAsBrowsersSendThem() throws {
        let form = try #require(ConsoleForm(encoded: "a=1&b=Jard%C3%ADn+de+Ni%C3%B1os&c=&a=2&d"))
        #expect(form.values("a") == ["1", "2"] && form.value("b") == "Jardín de Niños")
        #expect(form.value("c") == nil && form.raw("c") == "" && form.value("d") == nil && form.raw("d") == "")
        #expect(ConsoleForm(encoded: "a=%E0%A4") == nil, "invalid UTF-8")
        #expect(ConsoleForm(encoded: "a=%ZZ") == nil, "broken escape")
    }

    @Test func aFilledFormIsTheSubmissionTheAPIWouldTake() throws {
        let facility = UUID()
        let form = ConsoleForm(fields: [
            ("facility", facility.uuidString), ("occurred_from", "2026-03-01"), ("occurred_to", "2026-03-04"), ("approximate", "1"),
            ("discovered_on", "2026-03-05"), ("category", "grooming"), ("reporter_type", "hotline"), ("staff", "S-1"),
            ("adult_name", " Juan Pérez "), ("adult_role", "cook"), ("adult_name", ""), ("adult_role", ""), ("child_ref", "NNA-7"),
            ("child_age", "5"), ("tactic", "isolation"), ("narrative", "  Texto  "),
        ])
        let (submission, errors) = ConsoleReportPages.read(form, today: CalendarDate(year: 2026, month: 12, day: 1)!)
        #expect(errors.isEmpty)
        let read = try #require(submission)
        #expect(read.facilityID.rawValue == facility && read.occurredApproximate && read.category == .grooming)
        #expect(read.adults == [.rostered(staffRef: "S-1"), .described(name: "Juan Pérez", role: .cook)])
        #expect(read.children == [.init(reference: "NNA-7", ageYears: 5)] && read.modusOperandi == [.isolation])
        #expect(read.narrative == "  Texto  ", "the account is kept as typed")

        let (_, missing) = ConsoleReportPages.read(
            ConsoleForm(fields: [("narrative", " ")]), today: CalendarDate(year: 2026, month: 12, day: 1)!)
        #expect(missing == ["facility", "occurred_from", "discovered_on", "category", "reporter_type", "narrative"])

        // A start in the future is one mistake: the empty end and a sound discovery date are not blamed for it.
        var future = form
        future.drop("occurred_from")
        future.drop("occurred_to")
        let (_, blamed) = ConsoleReportPages.read(
            ConsoleForm(fields: future.fields + [("occurred_from", "2027-01-01")]), today: CalendarDate(year: 2026, month: 12, day: 1)!)
        #expect(blamed == ["occurred_from"])
    }

    @Test func csvFieldsAreQuotedAndNeverFormulas() {
        #expect(ConsoleCaseFile.field("plain") == "plain")
        #expect(ConsoleCaseFile.field("a, b") == "\"a, b\"")
        #expect(ConsoleCaseFile.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(ConsoleCaseFile.field("two\nlines") == "\"two\nlines\"")
        #expect(ConsoleCaseFile.field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(ConsoleCaseFile.field("+52 81") == "'+52 81" && ConsoleCaseFile.field("@x") == "'@x")
    }

    @Test func catalogsSayEverythingInBothLanguages() throws {
        let renderer = try ConsoleRenderer.load()
        let spanish = Set(renderer.catalog.table(.spanish).keys)
        let english = Set(renderer.catalog.table(.english).keys)
        #expect(spanish == english, "only in one: \(spanish.symmetricDifference(english).sorted())")
        for language in ConsoleLanguage.allCases { #expect(renderer.catalog.conflicts(language).isEmpty) }
        // Every message a template asks for exists.
        let used = try Self.templateKeys()
        #expect(!used.isEmpty)
        #expect(used.subtracting(spanish).isEmpty, "missing from the catalogs: \(used.subtracting(spanish).sorted())")
        // Every code of the vocabularies the pages show has its words.
        var needed: [String] = []
        needed += IncidentReport.Category.allCases.map { "report.category.\($0.rawValue)" }
        needed += IncidentReport.ReporterType.allCases.map { "report.reporter.\($0.rawValue)" }
        needed += IncidentReport.Status.allCases.map { "report.status.\($0.rawValue)" }
        needed += IncidentReport.ModusOperandi.allCases.map { "report.tactic.\($0.rawValue)" }
        needed += Adult.Role.allCases.map { "adult.role.\($0.rawValue)" }
        needed += Alert.Rule.allCases.map { "alert.rule.\($0.rawValue)" }
        needed += Alert.Severity.allCases.map { "alert.severity.\($0.rawValue)" }
        needed += RiskBand.allCases.map { "band.\($0.rawValue)" }
        needed += Case.Status.allCases.flatMap { ["case.status.\($0.rawValue)", "case.state.\($0.rawValue)"] }
        needed += Case.Kind.allCases.map { "case.kind.\($0.rawValue)" }
        needed += Case.CloseReason.allCases.map { "case.close_reason.\($0.rawValue)" }
        needed += Case.EventKind.allCases.map { "case.event.\($0.rawValue)" }
        needed += RiskAssessment.FactorCode.allCases.flatMap { ["factor.\($0.rawValue)", "factor_help.\($0.rawValue)"] }
        needed += Principal.Role.allCases.map { "role.\($0.rawValue)" }
        needed += ConsoleLanguage.allCases.map { "language.\($0.tag)" }
        #expect(Set(needed).subtracting(spanish).isEmpty, "\(Set(needed).subtracting(spanish).sorted())")
    }

    /// Every problem title and every fixed detail the API writes has its Spanish in the catalog
    /// (the English text is the message id, as in gettext); details built from values say so.
    @Test func everyProblemTheAPIWritesCanBeSaidInSpanish() throws {
        let catalog = try ConsoleRenderer.load().catalog
        let spanish = try #require(catalog.problems[.spanish])
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Sources/CentinelaHTTP")
        var titles = Set<String>()
        var details = Set<String>()
        let enumerator = try #require(FileManager.default.enumerator(atPath: folder.path))
        for case let path as String in enumerator where path.hasSuffix(".swift") && !path.hasPrefix("Console/") {
            let text = try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8)
            for match in text.matches(of: /title: "([^"\\]+)"/) { titles.insert(String(match.1)) }
            for match in text.matches(of: /\.(?:notFound|badRequest|conflict|forbidden|unauthorized|tooManyRequests)\("([^"\\]+)"/) {
                details.insert(String(match.1))
            }
            for match in text.matches(of: /detail: "([^"\\]+)"/) { details.insert(String(match.1)) }
            for match in text.matches(of: /saying\(\s*"([^"\\]+)"/) { details.insert(String(match.1)) }
        }
        #expect(titles.count >= 10 && details.count >= 40, "\(titles.count) titles, \(details.count) details found")
        #expect(titles.subtracting(spanish.titles.keys).isEmpty, "\(titles.subtracting(spanish.titles.keys).sorted())")
        #expect(details.subtracting(spanish.details.keys).isEmpty, "\(details.subtracting(spanish.details.keys).sorted())")
    }

    /// The `t.…` keys of every template.
    static func templateKeys() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Sources/CentinelaHTTP/Resources/console/templates")
        var keys = Set<String>()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for part in text.components(separatedBy: "{{").dropFirst() {
                guard let end = part.range(of: "}}") else { continue }
                var tag = String(part[..<end.lowerBound]).trimmingCharacters(in: .whitespaces)
                if let first = tag.first, "#^/".contains(first) { tag.removeFirst() }
                if tag.hasPrefix("t.") { keys.insert(String(tag.dropFirst(2))) }
            }
        }
        return keys
    }
}
