import Logging
import PostgresNIO

/// The live stream's order (`stream_events`, placed by `StreamSequencer`): which alert and case
/// events follow a position, among those the caller may see (row-level security on the events
/// filters the join), and where the stream's head is.
struct StreamStore: Sendable {
    /// One event's place in the stream: exactly one of the two ids is set.
    struct Place: Sendable, Equatable {
        var position: Int64
        var alertEventID: Int64?
        var caseEventID: Int64?
    }

    let logger: Logger

    /// Up to `limit` events after `position` that the caller may see, in stream order.
    func places(after position: Int64, limit: Int, on connection: PostgresConnection) async throws -> [Place] {
        var places: [Place] = []
        for try await (position, alertEvent, caseEvent) in try await connection.query(
            """
            SELECT s.position, s.alert_event_id, s.case_event_id FROM stream_events s
            LEFT JOIN alert_events a ON a.id = s.alert_event_id
            LEFT JOIN case_events c ON c.id = s.case_event_id
            WHERE s.position > \(position) AND (a.id IS NOT NULL OR c.id IS NOT NULL)
            ORDER BY s.position LIMIT \(limit)
            """, logger: logger
        ).decode((Int64, Int64?, Int64?).self) {
            places.append(Place(position: position, alertEventID: alertEvent, caseEventID: caseEvent))
        }
        return places
    }

    /// The newest position placed (0 when none), whoever may see its event: where a stream
    /// without Last-Event-ID starts, and how far a read that found less than a page has looked.
    func head(on connection: PostgresConnection) async throws -> Int64 {
        var head: Int64 = 0
        for try await value in try await connection.query("SELECT coalesce(max(position), 0) FROM stream_events", logger: logger)
            .decode(Int64.self)
        { head = value }
        return head
    }
}
