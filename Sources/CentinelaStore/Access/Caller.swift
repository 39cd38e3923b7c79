import CentinelaCore

/// Who is asking, as a use case needs to know it: the authenticated principal, whose scope every
/// statement runs in, and the request's id, which ties the audit event to the service's logs.
public struct Caller: Sendable {
    public var principal: Principal
    public var requestID: String

    public init(principal: Principal, requestID: String) {
        self.principal = principal
        self.requestID = requestID
    }

    /// The audit event of this caller's `action` on an object.
    public func event(
        _ action: String, on objectType: String, id objectID: String?, outcome: AuditEvent.Outcome, details: [String: String] = [:]
    ) -> AuditEvent {
        AuditEvent(
            requestID: requestID, actor: principal, action: action, objectType: objectType, objectID: objectID, outcome: outcome,
            details: details)
    }
}
