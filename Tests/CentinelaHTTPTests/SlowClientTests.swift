import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HummingbirdTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

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
            #expect(stalled.closedByPeer(within: .seconds(5)), "closed after 1 s of silence")
            // A connection opened and never used: closed too.
            let idle = try LoopbackConnection(port: port)
            defer { idle.close() }
            #expect(idle.closedByPeer(within: .seconds(5)))
        }
    }

    @Test func aLiveStreamOutlastsTheIdleTimeout() async throws {
        try await APITest.run(limits: Self.limits, live: true, alertHeartbeat: .milliseconds(500)) { (api: APITest) async throws in
            let port = try #require(api.client.port)
            let stream = try SSEClient(port: port, path: "/v1/alerts/stream", token: api.world.regulatorToken)
            #expect(await stream.heartbeats(atLeast: 6, within: .seconds(15)) >= 6, "heartbeats for 3 s and more")
            #expect(stream.status == 200 && !stream.ended)
        }
    }
}

/// A raw TCP connection to 127.0.0.1: sends what it is told, and tells when the server closed it.
final class LoopbackConnection {
    let descriptor: Int32

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        descriptor = fd
    }

    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(descriptor, &bytes, bytes.count)
    }

    /// Whether the server closed the connection (end of stream or reset) within `limit`, reading
    /// and discarding whatever it sent before.
    func closedByPeer(within limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            if read(descriptor, &buffer, buffer.count) <= 0 { return true }
        }
        return false
    }

    func close() { Glibc.close(descriptor) }
}
