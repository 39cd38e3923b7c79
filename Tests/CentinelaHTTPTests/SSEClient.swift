import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal Server-Sent Events client over a plain socket, enough to read a live stream in a
/// test: one GET, chunked body decoded, events parsed as they arrive. Blocking reads run on a
/// dispatch queue, never on the cooperative pool.
final class SSEClient: @unchecked Sendable {
    struct Event: Equatable, Sendable {
        var id: String?
        var event: String?
        var data: String
    }

    private let fd: Int32
    private let queue = DispatchQueue(label: "sse-client")
    private var raw: [UInt8] = []
    private var headersDone = false
    private var body: [UInt8] = []
    private(set) var status = 0
    private(set) var comments = 0
    /// The server ended the response (its last, empty chunk) or closed the connection.
    private(set) var ended = false

    /// `token` as a bearer token, or with `cookie`, a `Cookie` header instead (the console's stream).
    init(port: Int, path: String, token: String, lastEventID: String? = nil, cookie: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        request += cookie.map { "Cookie: \($0)\r\n" } ?? "Authorization: Bearer \(token)\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
    }

    deinit { Glibc.close(fd) }

    /// Reads until `count` events have arrived in all, or `timeout` passes; returns every event
    /// received so far.
    func events(atLeast count: Int, within timeout: Duration) async -> [Event] {
        await read(within: timeout) { $0.headersDone && $0.parsedEvents().count >= count }
        return parsedEvents()
    }

    /// Reads until `count` heartbeats (comment lines) have arrived in all, or `timeout` passes;
    /// a test that needs a heartbeat waits for one rather than for a fixed time (CI runs slow).
    func heartbeats(atLeast count: Int, within timeout: Duration) async -> Int {
        await read(within: timeout) { $0.headersDone && $0.parsedHeartbeats() >= count }
        return parsedHeartbeats()
    }

    private func read(within timeout: Duration, until done: @escaping @Sendable (SSEClient) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                let deadline = ContinuousClock.now + timeout
                while !done(self), !self.ended, ContinuousClock.now < deadline {
                    var pollfd = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                    let remaining = Int32(max(1, (deadline - ContinuousClock.now).components.seconds * 1000 + 100))
                    guard poll(&pollfd, 1, min(remaining, 200)) > 0 else { continue }
                    var chunk = [UInt8](repeating: 0, count: 65_536)
                    let n = recv(self.fd, &chunk, chunk.count, 0)
                    if n <= 0 {
                        self.ended = true
                        break
                    }
                    self.raw += chunk[0..<n]
                    self.decode()
                }
                continuation.resume()
            }
        }
    }

    /// Splits headers from the chunked body and appends complete chunks to `body`.
    private func decode() {
        if !headersDone {
            guard let end = find([13, 10, 13, 10], in: raw) else { return }
            let head = String(decoding: raw[0..<end], as: UTF8.self)
            status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            raw.removeFirst(end + 4)
            headersDone = true
        }
        while let lineEnd = find([13, 10], in: raw) {
            guard let size = Int(String(decoding: raw[0..<lineEnd], as: UTF8.self), radix: 16) else { return }
            guard raw.count >= lineEnd + 2 + size + 2 else { return }
            if size == 0 { ended = true }
            body += raw[(lineEnd + 2)..<(lineEnd + 2 + size)]
            raw.removeFirst(lineEnd + 2 + size + 2)
        }
    }

    private func parsedHeartbeats() -> Int {
        _ = parsedEvents()
        return comments
    }

    private func parsedEvents() -> [Event] {
        var events: [Event] = []
        comments = 0
        let text = String(decoding: body, as: UTF8.self)
        for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
            var event = Event(id: nil, event: nil, data: "")
            var isEvent = false
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    comments += 1
                    continue
                }
                if line.hasPrefix("id: ") {
                    event.id = String(line.dropFirst(4))
                    isEvent = true
                }
                if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") {
                    event.data += String(line.dropFirst(6))
                    isEvent = true
                }
            }
            // Only complete blocks count: the last one may still be arriving.
            if isEvent && text.contains(block + "\n\n") { events.append(event) }
        }
        return events
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where Array(haystack[index..<(index + needle.count)]) == needle {
            return index
        }
        return nil
    }
}
