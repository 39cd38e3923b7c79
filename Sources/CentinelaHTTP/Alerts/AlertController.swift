import CentinelaCore
import CentinelaStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// Alerts to regulators: the list of those in the caller's jurisdictions, one alert with its
/// history and the score behind it, and the regulator's transitions (docs/alerts.md). Schools never
/// see alerts: staff of the facility may be the ones implicated.
struct AlertController {
    let database: ServiceDatabase
    let limits: HTTPConfiguration
    let feed: AlertFeed
    var desk: AlertDesk { AlertDesk(database: database) }

    /// The routes below /v1, registered as Hummingbird registers any: the 405 answers and the
    /// OpenAPI contract test read them back from the router.
    var routes: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("alerts", use: list)
        routes.get("alerts/stream", use: stream)
        routes.get("alerts/{id}", use: get)
        routes.post("alerts/{id}/events", use: addEvent)
        return routes
    }

    struct AlertBody: Encodable, Sendable {
        var id: String
        var rule: String
        var severity: String
        var status: String
        var facility: FacilityBrief
        var jurisdiction: String
        @Nullable var subject: String?
        var summary: [String: String]
        @Nullable var assignee: [String: String]?
        @Nullable var referral: [String: String]?
        @Nullable var resolution: [String: String]?
        @Nullable var resolvedAt: Date?
        @Nullable var snoozedUntil: Date?
        @Nullable var snoozeReason: String?
        var reports: [String]
        var adults: [String]
        @Nullable var firstEvidenceAt: Date?
        @Nullable var lastEvidenceAt: Date?
        var score: Double
        var band: String
        var openedAt: Date
        var updatedAt: Date

        init(_ alert: AlertRecord) {
            id = alert.id.description
            rule = alert.rule.rawValue
            severity = alert.severity.rawValue
            status = alert.status.rawValue
            facility = .brief(of: alert)
            jurisdiction = alert.jurisdictionCode
            subject = alert.subject.isEmpty ? nil : alert.subject
            summary = Dictionary(uniqueKeysWithValues: AlertLanguage.allCases.map { ($0.rawValue, alert.summary(in: $0)) })
            assignee = alert.assigneeID.map { ["id": $0.description, "holder": alert.assignee ?? ""] }
            referral = alert.referral.map { ["to": $0.rawValue, "reference": alert.referralReference ?? ""] }
            resolution = alert.resolution.map { ["reason": $0.rawValue, "note": alert.resolutionNote ?? ""] }
            resolvedAt = alert.resolvedAt
            snoozedUntil = alert.snoozedUntil
            snoozeReason = alert.snoozeReason
            reports = alert.reports.map(\.description)
            adults = alert.adults
            firstEvidenceAt = alert.firstEvidenceAt
            lastEvidenceAt = alert.lastEvidenceAt
            score = alert.score
            band = alert.band.rawValue
            openedAt = alert.openedAt
            updatedAt = alert.updatedAt
        }

    }

    struct EventBody: Encodable, Sendable {
        var id: String
        var alert: String
        var kind: String
        var actor: [String: String]
        var at: Date
        var details: JSONValue

        init(_ event: AlertEventRecord) {
            id = String(event.id)
            alert = event.alertID.description
            kind = event.kind.rawValue
            actor = ["holder": event.actor].merging(event.actorID.map { ["id": $0.description] } ?? [:]) { first, _ in first }
            at = event.at
            details = (try? JSONValue.parse(Data(event.detailsJSON.utf8))) ?? .object([:])
        }
    }

    struct AlertDetail: Encodable, Sendable {
        var alert: AlertBody
        /// The facility's score and reasons when the alert opened or last had news.
        var risk: RiskController.RiskBody?
        var events: [EventBody]
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<AlertBody>> {
        let principal = try context.requireRegulator()
        var query = QueryReader(request)
        var filter = AlertFilter(
            statuses: query.codes("status", Alert.Status.self), severities: query.codes("severity", Alert.Severity.self),
            rules: query.codes("rule", Alert.Rule.self), jurisdictionCode: query.string("jurisdiction", maxLength: 32))
        if let text = query.string("facility", maxLength: 36) {
            if let id = Facility.ID(uuidString: text) { filter.facility = id } else { query.fail("facility", "must be a facility id") }
        }
        let limit = query.limit()
        var after: (openedAtMicroseconds: Int64, id: Alert.ID)?
        if let cursor = query.cursor() {
            if let position = InstantCursor(text: cursor) {
                after = (position.microseconds, Alert.ID(position.id))
            } else {
                query.fail("cursor", "is not a cursor this server issued")
            }
        }
        let total = query.total()
        try query.finish()
        let (alerts, count) = try await desk.list(filter, after: after, limit: limit + 1, total: total, caller: context.caller(principal))
        return JSONResponse(
            body: Page(
                rows: alerts, limit: limit, total: count, position: { InstantCursor($0.openedAt, id: $0.id.rawValue).text },
                item: AlertBody.init))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AlertDetail> {
        let principal = try context.requireRegulator()
        let id = try context.alertID()
        try QueryReader(request).finish()
        let dossier = try await desk.dossier(id, caller: context.caller(principal))
        return JSONResponse(
            body: AlertDetail(
                alert: AlertBody(dossier.alert),
                risk: dossier.score.map {
                    RiskController.RiskBody($0, of: .brief(of: dossier.alert), for: principal, in: request.reasonLanguage)
                },
                events: dossier.events.map(EventBody.init)), language: request.reasonLanguage ?? .english)
    }

    /// A regulator's transition or comment, named by the event it appends (the words the event
    /// comes back with): `{"kind": "acknowledged" | "assigned" | "referred" | "resolved" |
    /// "snoozed" | "comment", ...}`. Answers 201 with the appended event.
    @Sendable func addEvent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireRegulator()
        let id = try context.alertID()
        var request = request
        var body = try ObjectReader.body(try await request.jsonBody(limit: limits.maximumBodySize))
        let now = Date()
        let transition = try Self.transition(from: &body, now: now)
        let event = try await desk.apply(transition, to: id, now: now, caller: context.caller(principal))
        return try JSONResponse(status: .created, body: EventBody(event)).response(from: request, context: context)
    }
}

extension AlertController {
    /// The transition a request body asks for, or every field error at once; `now` bounds a snooze.
    static func transition(from body: inout ObjectReader, now: Date) throws(Problem) -> AlertTransition {
        var transition: AlertTransition?
        switch body.string("kind", required: true, maxLength: 20) {
        case "acknowledged":
            transition = .acknowledge
        case "assigned":
            if let text = body.string("assignee", required: true, maxLength: 36) {
                if let to = Principal.ID(uuidString: text) {
                    transition = .assign(to: to)
                } else {
                    body.fail("assignee", "must be a token id")
                }
            }
        case "referred":
            let to = body.code("to", Alert.Referral.self, required: true)
            let reference = body.string("reference", required: true, maxLength: 200)
            if let to, let reference { transition = .refer(to: to, reference: reference) }
        case "resolved":
            let reason = body.code("resolution", Alert.Resolution.self, required: true)
            let note = body.string("note", required: true, maxLength: 5000)
            if reason == .quiet { body.fail("resolution", "quiet is the service's own; choose another") }
            if let reason, let note, reason != .quiet { transition = .resolve(reason, note: note) }
        case "snoozed":
            let until = body.string("until", required: true, maxLength: 40)
            let reason = body.string("reason", required: true, maxLength: 1000)
            let parsed =
                until.flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: false).parse($0) }
                ?? until.flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) }
            if until != nil && parsed == nil { body.fail("until", "must be a date-time such as 2026-12-31T18:00:00Z") }
            if let parsed, parsed <= now || parsed.timeIntervalSince(now) > AlertTransition.longestSnooze {
                body.fail("until", "must be in the future and within 90 days")
            }
            if let parsed, let reason { transition = .snooze(until: parsed, reason: reason) }
        case "comment":
            if let text = body.string("text", required: true, maxLength: 5000) { transition = .comment(text) }
        case nil:
            break
        case let other?:
            body.fail("kind", "must be one of acknowledged, assigned, referred, resolved, snoozed, comment (not \(other))")
        }
        try body.finish()
        guard let transition else { throw Problem.badRequest("The event is invalid.") }
        return transition
    }

    /// Events read per query while catching up.
    static let streamPage = 200
    /// Token checks in a row the database may fail to answer before a stream ends (with the
    /// 5 s check: 15 s), since a revocation cannot be seen meanwhile.
    static let uncheckedTokenLimit = 3

    /// The live stream (Server-Sent Events) of alert and case events in the caller's
    /// jurisdictions, in stream order (decision 46). Each message's `id` is the event's position
    /// in the stream: a client that reconnects with `Last-Event-ID` receives exactly the events it
    /// missed; without it, the stream starts now.
    /// A comment line is sent at every heartbeat.
    @Sendable func stream(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await stream(request, context: context, holds: nil)
    }

    /// The stream, ended when `holds` answers false at a token check (the console's session
    /// signed out); by default, when the caller's token no longer holds.
    func stream(
        _ request: Request, context: AppRequestContext, holds: (@Sendable () async throws -> Bool)?
    ) async throws -> Response {
        let principal = try context.requireRegulator()
        try QueryReader(request).finish()
        var resume: Int64?
        if let header = request.headers[HTTPField.Name("Last-Event-ID")!] {
            guard let value = Int64(header.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw Problem.badRequest("Last-Event-ID must be the id of an event this stream sent.")
            }
            resume = value
        }
        let start = try await desk.openStream(resume: resume, caller: context.caller(principal))
        let (subscription, signals) = feed.subscribe()
        let (scoped, desk, signalling) = (database, desk, feed)
        let body = ResponseBody { writer in
            defer { signalling.unsubscribe(subscription) }
            // The HTTP server is the first service told to shut down, and it waits for open
            // responses: the stream ends by itself then (its signals finish), or SIGTERM would
            // wait for the client to go away.
            try await withGracefulShutdownHandler {
                var last = start
                // Advice to reconnect after 3 s; also sends the headers at once.
                try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
                var signals = signals.makeAsyncIterator()
                // Read when events were announced, or while a read that failed waits to be made
                // again (at the next token check or announcement): heartbeats never wait on the
                // database, so a slow or absent database does not silence a stream.
                var look = true
                var behind = false
                var failedChecks = 0
                streaming: while true {
                    while look {
                        let read: AlertDesk.StreamPage
                        do {
                            read = try await desk.streamPage(after: last, limit: Self.streamPage, principal: principal)
                        } catch let error where DatabaseError.isUnavailable(error) {
                            scoped.logger.notice(
                                "live stream: events not read, tried again later",
                                metadata: ["error": "\(DatabaseError.reason(for: error))"])
                            (look, behind) = (false, true)
                            break
                        }
                        behind = false
                        var messages = ""
                        for (position, event) in read.events {
                            switch event {
                            case .alert(let event, let alert):
                                let json = try AlertMessage(event, alert: alert).json()
                                messages += "id: \(position)\nevent: alert.\(event.kind.rawValue)\ndata: \(json)\n\n"
                            case .caseEvent(let event, let found):
                                let json = try CaseMessage(event, case: found).json()
                                messages += "id: \(position)\nevent: case.\(event.kind.rawValue)\ndata: \(json)\n\n"
                            }
                        }
                        if !messages.isEmpty { try await writer.write(ByteBuffer(string: messages)) }
                        last = read.reached
                        look = read.full
                    }
                    guard let signal = await signals.next() else { break }
                    switch signal {
                    case .heartbeat:
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    case .tokenCheck:
                        // A revoked or expired token ends its stream; reconnecting then answers 401.
                        // A check the database cannot answer is made again at the next one; a token
                        // that cannot be checked for `uncheckedTokenLimit` checks in a row ends it.
                        do {
                            let valid: Bool
                            if let holds { valid = try await holds() } else { valid = try await scoped.isStillValid(principal) }
                            guard valid else { break streaming }
                            failedChecks = 0
                        } catch let error where DatabaseError.isUnavailable(error) {
                            failedChecks += 1
                            guard failedChecks < Self.uncheckedTokenLimit else { break streaming }
                        }
                        look = behind
                    case .events:
                        look = true
                    }
                }
            } onGracefulShutdown: {
                signalling.unsubscribe(subscription)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"], body: body)
    }
}

extension AppRequestContext {
    /// Alerts and link reviews are for regulators only: schools (whose staff may be implicated)
    /// and the operator are refused (403). `what` names the data in the refusal.
    func requireRegulator(_ what: String = "Alerts") throws(Problem) -> Principal {
        let principal = try requirePrincipal()
        guard principal.role == .regulator else {
            throw Problem.forbidden("\(what) are for regulators.").saying("{what} are for regulators.", ["what": what])
        }
        return principal
    }

    /// The alert named by the path's `{id}`; a malformed id is simply not found.
    func alertID() throws(Problem) -> Alert.ID {
        guard let text = parameters.get("id"), let id = Alert.ID(uuidString: text) else {
            throw Problem.notFound("No alert with this id.")
        }
        return id
    }
}

extension AlertDesk.Refusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .alertNotFound: .notFound("No alert with this id.")
        }
    }
}

extension AlertStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .transition(let refusal): .conflict("\(refusal).")
        case .assigneeCannotSee:
            .validation([
                .init(field: "/assignee", message: "must be an active regulator token whose jurisdictions cover this alert's facility")
            ])
        }
    }
}
