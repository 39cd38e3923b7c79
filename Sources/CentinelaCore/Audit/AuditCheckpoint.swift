import Crypto
import Foundation

/// A signed statement of the audit log at one moment — its size and root, and when — in the
/// checkpoint form transparency logs use (C2SP tlog-checkpoint inside a signed note): the
/// sequencer signs it with an Ed25519 key that is not in the database, and it is kept outside
/// the database (a file, the log, a regulator's copy). Given one, `MerkleLog`'s proofs show
/// whether today's log still holds everything it held then.
public struct AuditCheckpoint: Equatable, Sendable {
    /// Names the log (e.g. the deployment's host and `/audit`); the first line of the note.
    public var origin: String
    public var size: Int
    public var root: MerkleLog.Hash
    public var time: Date

    public init(origin: String, size: Int, root: MerkleLog.Hash, time: Date) {
        self.origin = origin
        self.size = size
        self.root = root
        self.time = time
    }

    /// What is signed: origin, size, root (base64) and time (RFC 3339, UTC), a line each.
    public var body: String {
        "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n\(time.formatted(.iso8601))\n"
    }

    /// The note: the body, an empty line, and the signature line `— name base64(id || sig)`,
    /// where `id` is the first four bytes of SHA-256(name, newline, 0x01, public key).
    public func signed(with key: Curve25519.Signing.PrivateKey, keyName: String) throws -> String {
        let signature = try key.signature(for: Data(body.utf8))
        let line = Data(Self.keyID(name: keyName, key: key.publicKey) + Array(signature)).base64EncodedString()
        return body + "\n— \(keyName) \(line)\n"
    }

    /// The checkpoint a note states, if `key` (named `keyName`) signed exactly this note.
    public static func verified(
        _ note: String, keyName: String, key: Curve25519.Signing.PublicKey
    ) throws(AuditCheckpointError) -> AuditCheckpoint {
        guard let split = note.range(of: "\n\n") else { throw .malformed("no signature after the body") }
        let body = String(note[..<split.lowerBound]) + "\n"
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count == 4, let size = Int(lines[1]), size >= 0,
            let root = Data(base64Encoded: String(lines[2])), root.count == 32,
            let time = try? Date(String(lines[3]), strategy: .iso8601)
        else { throw .malformed("the body is not origin, size, root and time") }
        let id = keyID(name: keyName, key: key)
        let signed = note[split.upperBound...].split(separator: "\n").contains { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "—", parts[1] == keyName, let raw = Data(base64Encoded: String(parts[2])),
                raw.count == 68, Array(raw.prefix(4)) == id
            else { return false }
            return key.isValidSignature(raw.dropFirst(4), for: Data(body.utf8))
        }
        guard signed else { throw .unsigned(keyName) }
        return AuditCheckpoint(origin: String(lines[0]), size: size, root: Array(root), time: time)
    }

    static func keyID(name: String, key: Curve25519.Signing.PublicKey) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Data(name.utf8))
        hasher.update(data: [0x0A, 0x01])
        hasher.update(data: key.rawRepresentation)
        return Array(hasher.finalize().prefix(4))
    }
}

public enum AuditCheckpointError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    /// No valid signature by this key on this exact note.
    case unsigned(String)
    /// A signing or verifier key that cannot be used, and why.
    case unusableKey(String)

    public var description: String {
        switch self {
        case .malformed(let why): "not a checkpoint: \(why)"
        case .unsigned(let key): "not signed by the key \(key): the checkpoint was altered, or comes from another log"
        case .unusableKey(let why): why
        }
    }
}

/// The key that signs checkpoints, and the public half a regulator keeps to check them, written
/// as a signed note's verifier key (C2SP signed-note): `name+id+base64(0x01 || public key)`, id
/// being the key id in hex. One line holds everything a verifier needs and nothing secret.
public struct AuditSigningKey: Sendable {
    public var name: String
    public var privateKey: Curve25519.Signing.PrivateKey

    /// `seed`: the private key's 32 bytes, base64 (as `centinela audit keygen` writes them).
    public init(name: String, seed: String) throws(AuditCheckpointError) {
        guard Self.isUsableName(name) else { throw .unusableKey("a key name is 1 to 100 characters with no space or '+'") }
        guard let raw = Data(base64Encoded: seed.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw .unusableKey("a signing key is 32 bytes, base64-encoded") }
        self.name = name
        self.privateKey = key
    }

    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) {
        self.name = name
        self.privateKey = privateKey
    }

    /// A new key (from the system's random source).
    public static func generated(name: String) -> AuditSigningKey {
        AuditSigningKey(name: name, privateKey: Curve25519.Signing.PrivateKey())
    }

    public var seed: String { privateKey.rawRepresentation.base64EncodedString() }

    public var verifierKey: String {
        let id = AuditCheckpoint.keyID(name: name, key: privateKey.publicKey).lowercaseHex
        return "\(name)+\(id)+\(Data([0x01] + privateKey.publicKey.rawRepresentation).base64EncodedString())"
    }

    public func sign(_ checkpoint: AuditCheckpoint) throws -> String { try checkpoint.signed(with: privateKey, keyName: name) }

    /// This key's public half, which checks what it signs.
    public var verifier: AuditVerifierKey { AuditVerifierKey(name: name, key: privateKey.publicKey) }

    /// A verifier key's name and public key; refused when its id does not match them.
    public static func verifier(_ text: String) throws(AuditCheckpointError) -> AuditVerifierKey {
        // The key's base64 may itself hold '+': only the first two separate.
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isUsableName(String(parts[0])), let raw = Data(base64Encoded: String(parts[2])), raw.count == 33,
            raw.first == 0x01, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw.dropFirst())
        else { throw .unusableKey("a verifier key is name+id+key, as `centinela audit keygen` prints it") }
        let name = String(parts[0])
        let id = AuditCheckpoint.keyID(name: name, key: key).lowercaseHex
        guard id == parts[1].lowercased() else { throw .unusableKey("the verifier key's id does not match its name and key") }
        return AuditVerifierKey(name: name, key: key)
    }

    public static func isUsableName(_ name: String) -> Bool {
        (1...100).contains(name.count) && !name.contains(where: { $0 == "+" || $0.isWhitespace || $0.isNewline })
    }
}

/// The public half of a checkpoint signing key, with the name its signatures carry.
public struct AuditVerifierKey: Sendable {
    public var name: String
    public var key: Curve25519.Signing.PublicKey

    /// The checkpoint a note states, if this key signed exactly this note.
    public func checkpoint(_ note: String) throws(AuditCheckpointError) -> AuditCheckpoint {
        try AuditCheckpoint.verified(note, keyName: name, key: key)
    }
}
