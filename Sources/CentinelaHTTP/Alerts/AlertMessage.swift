import CentinelaCore
import CentinelaStore
import Foundation

/// An alert event as it leaves the service, on the live stream and in webhooks: the event, and the
/// alert as it is now. One shape for both, so a receiver parses one thing.
struct AlertMessage: Encodable, Sendable {
    var event: AlertController.EventBody
    var alert: AlertController.AlertBody?

    init(_ event: AlertEventRecord, alert: AlertRecord?) {
        self.event = AlertController.EventBody(event)
        self.alert = alert.map(AlertController.AlertBody.init)
    }

    /// Compact JSON (one line: SSE `data` must not break).
    func json() throws -> String {
        String(decoding: try JSONResponseEncoding.encoder.encode(self), as: UTF8.self)
    }

    /// The Standard Webhooks envelope: `{"type": "alert.<kind>", "timestamp": …, "data": …}`.
    struct Envelope: Encodable, Sendable {
        var type: String
        var timestamp: Date
        var data: AlertMessage
    }

    func webhookBody() throws -> String {
        String(
            decoding: try JSONResponseEncoding.encoder.encode(Envelope(type: "alert.\(event.kind)", timestamp: event.at, data: self)),
            as: UTF8.self)
    }
}

/// A case event as the live stream carries it (`event: case.<kind>`): the event and the case as it
/// stands, as far as the reader may see it.
struct CaseMessage: Encodable, Sendable {
    var event: CaseController.EventBody
    var `case`: CaseController.CaseBody?

    init(_ event: CaseEventRecord, case record: CaseRecord?) {
        self.event = CaseController.EventBody(event)
        self.case = record.map(CaseController.CaseBody.init)
    }

    /// Compact JSON (one line: SSE `data` must not break).
    func json() throws -> String {
        String(decoding: try JSONResponseEncoding.encoder.encode(self), as: UTF8.self)
    }
}

extension CaseMessage {
    struct Envelope: Encodable, Sendable {
        var type: String
        var timestamp: Date
        var data: CaseMessage
    }

    /// The Standard Webhooks envelope: `{"type": "case.<kind>", "timestamp": …, "data": …}`.
    func webhookBody() throws -> String {
        String(
            decoding: try JSONResponseEncoding.encoder.encode(Envelope(type: "case.\(event.kind)", timestamp: event.at, data: self)),
            as: UTF8.self)
    }
}
