import CentinelaCore
import CentinelaStore
import Foundation
import Logging
import Synchronization

/// Appends refused attempts (401, 403) to the audit trail, so that a regulator reviewing access
/// sees who tried what and was turned away — at most `perCaller` events a minute for one caller
/// (a token's display prefix, or "anonymous") and `overall` a minute in all, so that a flood of bad
/// requests cannot fill the table. What is left out is counted in the next event that is written
/// (`suppressed`).
final class RefusalAudit: Sendable {
    struct Window {
        var started: ContinuousClock.Instant
        var written = 0
        var suppressed = 0
    }

    private let database: ServiceDatabase
    private let perCaller: Int
    private let overall: Int
    /// The minute's events overall, and each caller's (with what was left out of theirs).
    private let windows = Mutex<(all: Window, callers: [String: Window])>((Window(started: .now), [:]))

    init(database: ServiceDatabase, perCaller: Int = 10, overall: Int = 120) {
        self.database = database
        self.perCaller = perCaller
        self.overall = overall
    }

    /// Whether to write an event for `caller` now, and how many were left out before it.
    func admit(_ caller: String, now: ContinuousClock.Instant = .now) -> (admitted: Bool, suppressed: Int) {
        windows.withLock { state in
            if now - state.all.started >= .seconds(60) { state.all = Window(started: now) }
            var window = state.callers[caller] ?? Window(started: now)
            if now - window.started >= .seconds(60) { window = Window(started: now, suppressed: window.suppressed) }
            defer {
                state.callers[caller] = window
                // Forget callers whose minute is over, so that the table of windows stays small.
                if state.callers.count > 10_000 { state.callers = state.callers.filter { now - $0.value.started < .seconds(60) } }
            }
            guard window.written < perCaller, state.all.written < overall else {
                window.suppressed += 1
                return (false, 0)
            }
            window.written += 1
            state.all.written += 1
            let suppressed = window.suppressed
            window.suppressed = 0
            return (true, suppressed)
        }
    }

    /// Records one refusal, unless the caller's or the overall allowance is spent. Never throws:
    /// a refusal is answered whether or not its audit row could be written.
    func record(
        status: Int, caller: String, principal: Principal?, method: String, path: String, requestID: String, logger: Logger
    ) async {
        let (admitted, suppressed) = admit(caller)
        guard admitted else { return }
        var details = ["status": String(status), "method": method, "path": String(path.prefix(200))]
        if principal == nil { details["caller"] = caller }
        if suppressed > 0 { details["suppressed"] = String(suppressed) }
        let event = AuditEvent(
            requestID: requestID, actor: principal, action: "access.refused", objectType: "route", objectID: nil, outcome: .denied,
            details: details)
        do {
            try await database.auditRefusal(event)
        } catch {
            logger.warning("refused attempt not audited", metadata: ["error": "\(DatabaseError.reason(for: error))"])
        }
    }
}
