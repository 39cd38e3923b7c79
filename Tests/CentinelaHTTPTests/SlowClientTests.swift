import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HummingbirdTesting
import Testing

/// Slow and stalled clients (issue 21, abuse limits): a connection that sends nothing for the idle
/// timeout while idle or still sending its request is closed; a response being written (a live
/// stream) is never cut by it.
@Suite struct SlowClientTests {
    static let limits = HTTPConfiguration(host: "127.0.0.1", port: 0, idleTimeout: .seconds(1))

    @Test func aRequestThatStopsHalfWayIsClosedAtTheIdleTimeout() async throws {
        try await APITest.run(limits: Self.limits, live: true) { (api: APITest) async throws in
            let port = try #require(api.client.port)
            // Half a request head, then nothing.
            let stalled = try LoopbackConnection(port: port)
            defer { stalled.close() }
            stalled.send("GET /v1/facilities HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ")
            #expect(await stalled.closedByPeer(within: .seconds(10)), "closed after 1 s of silence")
            // A connection opened and never used: closed too.
            let idle = try LoopbackConnection(port: port)
            defer { idle.close() }
            #expect(await idle.closedByPeer(within: .seconds(10)))
        }
    }

    @Test func aLiveStreamOutlastsTheIdleTimeout() async throws {
        try await APITest.run(limits: Self.limits, live: true, alertHeartbeat: .milliseconds(500)) { (api: APITest) async throws in
            let port = try #require(api.client.port)
            let stream = try SSEClient(port: port, path: "/v1/alerts/stream", token: api.world.regulatorToken)
            // Six heartbeats take 3 s; the wait is generous because in the suite's busiest seconds the
            // stream's first read can itself wait for a pooled connection.
            #expect(await stream.heartbeats(atLeast: 6, within: .seconds(30)) >= 6, "heartbeats for 3 s and more")
            #expect(stream.status == 200 && !stream.ended)
        }
    }
}
