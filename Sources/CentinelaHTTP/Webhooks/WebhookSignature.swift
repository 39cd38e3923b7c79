import Crypto
import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com): the receiver recomputes
/// HMAC-SHA256 over `id.timestamp.body` with the endpoint's secret and compares.
public enum WebhookSignature {
    /// A new endpoint secret: `whsec_` and 32 random bytes in base64.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "whsec_" + Data(bytes).base64EncodedString()
    }

    /// Whether `secret` is one this service can sign with.
    public static func isValid(secret: String) -> Bool { key(secret) != nil }

    /// The `webhook-signature` header value for a message, or nil for an unusable secret.
    public static func sign(id: String, timestamp: Int, body: String, secret: String) -> String? {
        guard let key = key(secret) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    private static func key(_ secret: String) -> Data? {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))), key.count >= 24 else { return nil }
        return key
    }
}
