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

    public var description: String {
        switch self {
        case .malformed(let why): "not a checkpoint: \(why)"
        case .unsigned(let key): "not signed by the key \(key): the checkpoint was altered, or comes from another log"
        }
    }
}
