import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP connection to 127.0.0.1: sends what it is told, and tells when the server closed it.
public final class LoopbackConnection {
    public let descriptor: Int32

    public init(port: Int) throws {
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

    public func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(descriptor, &bytes, bytes.count)
    }

    /// Whether the server closed the connection (end of stream or reset) within `limit`, reading
    /// and discarding whatever it sent before. Sleeps between looks rather than blocking in poll:
    /// a blocked thread is one of the cooperative pool's two on 2 cores, and every other test's
    /// tasks (database health checks with 2 s limits among them) would wait for it.
    public func closedByPeer(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Looked at once more after the deadline: a task starved past it by a loaded machine still
        // sees a close that came in time.
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0 {
                if read(descriptor, &buffer, buffer.count) <= 0 { return true }
                continue
            }
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(20))) != nil else { return false }
        }
    }

    public func close() { Glibc.close(descriptor) }
}

/// A socket listening on 127.0.0.1 at a port of the system's choosing, and that port.
public func listenOnLoopback() throws -> (socket: Int32, port: Int) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
    }
    guard bound, listen(listener, 128) == 0 else {
        Glibc.close(listener)
        throw POSIXError(.EADDRNOTAVAIL)
    }
    return (listener, Int(UInt16(bigEndian: address.sin_port)))
}

/// A loopback port nobody listens on now: the system's pick, released for another program to take.
public func freeLoopbackPort() throws -> Int {
    let (socket, port) = try listenOnLoopback()
    Glibc.close(socket)
    return port
}
