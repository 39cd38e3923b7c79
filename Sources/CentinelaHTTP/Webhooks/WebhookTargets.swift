import Foundation
import Glibc

/// Where webhooks may be delivered (issue 21, item 8): https to public addresses. A URL whose host
/// is, or resolves to, a loopback, private, link-local (the cloud metadata service at
/// 169.254.169.254), shared, multicast or unspecified address is refused, at registration and again
/// before every delivery (a name may resolve elsewhere later), unless the operator allows that
/// network (`CENTINELA_WEBHOOK_ALLOW_NETWORKS`, e.g. a relay at 10.0.0.0/8); plain http only to
/// an allowed network.
public struct WebhookTargets: Sendable, Equatable {
    public var allowed: [IPNetwork]

    public init(allowed: [IPNetwork] = []) {
        self.allowed = allowed
    }

    /// Why the URL may not be a webhook target, or nil. Says nothing about whether the address
    /// answers: only what the URL and the names' addresses are.
    public func refusal(of text: String, resolve: (String) -> [IPAddress] = WebhookTargets.resolve) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), var host = url.host, !host.isEmpty,
            scheme == "https" || scheme == "http"
        else { return "must be an absolute https URL" }
        guard url.user == nil && url.password == nil else { return "must not carry credentials" }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let addresses = IPAddress(host).map { [$0] } ?? resolve(host)
        guard !addresses.isEmpty else { return "must name a host that resolves" }
        let allowedHere = addresses.allSatisfy { address in allowed.contains { $0.contains(address) } }
        if allowedHere { return nil }
        guard scheme == "https" else { return "must use https (plain http only to a network the operator allows)" }
        if addresses.contains(where: \.isInternal) {
            return "must not point to a loopback, private, link-local or other internal address"
        }
        return nil
    }

    /// The host's addresses, from the system resolver.
    public static func resolve(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var result: [IPAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            if let address = entry.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        let raw = UInt32(bigEndian: v4.pointee.sin_addr.s_addr)
                        result.append(.v4(raw))
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        result.append(.v6(withUnsafeBytes(of: v6.pointee.sin6_addr) { Array($0) }))
                    }
                default: break
                }
            }
            next = entry.pointee.ai_next
        }
        return result
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Sendable, Hashable {
    case v4(UInt32)
    case v6([UInt8])

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: v6) { Array($0) })
            return
        }
        return nil
    }

    /// An IPv4 address written as IPv6 (::ffff:a.b.c.d) is that IPv4 address.
    var unmapped: IPAddress {
        if case .v6(let bytes) = self, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return .v4(bytes[12...15].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        return self
    }

    /// Loopback, private, link-local, shared (CGNAT), multicast, unspecified, reserved.
    public var isInternal: Bool {
        Self.internalNetworks.contains { $0.contains(self) }
    }

    static let internalNetworks: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].compactMap(IPNetwork.init)
}

/// A network in CIDR notation: `10.0.0.0/8`, `fd00::/8`.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let prefix = Int(parts[1]) else { return nil }
        let bits = if case .v4 = address { 32 } else { 128 }
        guard (0...bits).contains(prefix) else { return nil }
        self.address = address
        self.prefix = prefix
    }

    public var description: String {
        switch address {
        case .v4(let raw): "\(raw >> 24).\(raw >> 16 & 255).\(raw >> 8 & 255).\(raw & 255)/\(prefix)"
        case .v6(let bytes):
            stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
                + "/\(prefix)"
        }
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate.unmapped) {
        case (.v4(let network), .v4(let value)):
            let mask: UInt32 = prefix == 0 ? 0 : UInt32.max << (32 - prefix)
            return network & mask == value & mask
        case (.v6(let network), .v6(let value)):
            var remaining = prefix
            for index in 0..<16 where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
                if network[index] & mask != value[index] & mask { return false }
                remaining -= bits
            }
            return true
        default:
            return false
        }
    }
}
