import CentinelaHTTP
import Foundation
import Testing

/// Webhook targets (issue 21, item 8): loopback, private, link-local and metadata addresses were
/// accepted, and a delivery's error told whether an internal address answered.
@Suite struct WebhookTargetsTests {
    let none = WebhookTargets()
    func publicName(_ host: String) -> [IPAddress] { [IPAddress("93.184.216.34")!] }
    func internalName(_ host: String) -> [IPAddress] { [IPAddress("93.184.216.34")!, IPAddress("10.0.0.5")!] }

    @Test(arguments: [
        "https://127.0.0.1:8443/hook", "https://10.1.2.3/hook", "https://172.20.0.1/hook", "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[fe80::1]/hook", "https://[fd00::5]/hook",
        "https://[::ffff:127.0.0.1]/hook", "https://100.64.0.1/hook", "https://0.0.0.0/hook",
    ])
    func internalAddressesAreRefused(url: String) {
        #expect(none.refusal(of: url, resolve: publicName)?.contains("internal address") == true, "\(url)")
    }

    @Test func aNameIsJudgedByEveryAddressItResolvesTo() {
        #expect(none.refusal(of: "https://hooks.example.org/x", resolve: publicName) == nil)
        #expect(none.refusal(of: "https://hooks.example.org/x", resolve: internalName) != nil)
        #expect(none.refusal(of: "https://nowhere.invalid/x", resolve: { _ in [] }) == "must name a host that resolves")
    }

    @Test func plainHTTPOnlyToANetworkTheOperatorAllows() {
        #expect(none.refusal(of: "http://hooks.example.org/x", resolve: publicName)?.contains("https") == true)
        #expect(none.refusal(of: "http://127.0.0.1:9000/x", resolve: publicName) != nil)
        let relay = WebhookTargets(allowed: [IPNetwork("10.0.0.0/8")!])
        #expect(relay.refusal(of: "http://10.2.3.4:9000/x", resolve: publicName) == nil)
        #expect(relay.refusal(of: "https://hooks.internal/x", resolve: { _ in [IPAddress("10.9.9.9")!] }) == nil)
        #expect(relay.refusal(of: "https://192.168.0.2/x", resolve: publicName) != nil)
        #expect(none.refusal(of: "https://user:pw@hooks.example.org/x", resolve: publicName) == "must not carry credentials")
        #expect(none.refusal(of: "ftp://hooks.example.org/x", resolve: publicName) != nil)
    }

    @Test func networksAreReadInCIDR() throws {
        #expect(
            try HTTPConfiguration.parseNetworks("10.0.0.0/8, fd00::/8", source: "x").map(\.description) == [
                "10.0.0.0/8", "fd00:0:0:0:0:0:0:0/8",
            ])
        #expect(throws: ConfigurationError.self) { try HTTPConfiguration.parseNetworks("10.0.0.0/33", source: "x") }
        #expect(throws: ConfigurationError.self) { try HTTPConfiguration.parseNetworks("example.org", source: "x") }
        #expect(IPNetwork("192.168.0.0/16")!.contains(IPAddress("192.168.255.1")!))
        #expect(!IPNetwork("192.168.0.0/16")!.contains(IPAddress("192.169.0.1")!))
    }
}
