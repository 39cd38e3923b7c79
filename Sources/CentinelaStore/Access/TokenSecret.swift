import Crypto
import Foundation

/// The secret half of an API token: `cen_` followed by 43 URL-safe base64 characters (32 random
/// bytes). The prefix makes a leaked token recognisable to secret scanners and to people; only
/// its SHA-256 is stored, which suffices because the secret has 256 bits of entropy.
public struct TokenSecret: Sendable, Equatable {
    public static let prefix = "cen_"

    /// The full token, to show once and never store or log.
    public let value: String

    /// A new random token.
    public static func generate() -> TokenSecret {
        TokenSecret(uncheckedValue: prefix + RandomToken.generate())
    }

    private init(uncheckedValue: String) {
        self.value = uncheckedValue
    }

    /// Accepts only text of a token's exact shape, so that junk never reaches the database.
    public init?(presented text: String) {
        guard text.hasPrefix(Self.prefix), RandomToken.isWellFormed(text.dropFirst(Self.prefix.count)) else { return nil }
        self.value = text
    }

    /// What the database stores and looks tokens up by.
    public var sha256: [UInt8] { Array(SHA256.hash(data: Data(value.utf8))) }

    /// `cen_` and the next 8 characters: enough to tell tokens apart in lists, useless to an attacker.
    public var displayPrefix: String { String(value.prefix(Self.prefix.count + 8)) }
}

/// 32 random bytes as URL-safe base64 without padding (43 characters): the secret part of an API
/// token, and the console's session ids, anti-forgery values and idempotency keys.
public enum RandomToken {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether text has the shape of ``generate()``: anything else never reaches the database.
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 43
            && text.utf8.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2D || byte == 0x5F
            }
    }
}
