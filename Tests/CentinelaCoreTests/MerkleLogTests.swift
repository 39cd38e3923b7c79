import CentinelaCore
import Crypto
import Foundation
import Testing

/// The audit log's tree and checkpoints (issue 24): RFC 9162's hashes and proofs, and signed
/// checkpoints that say exactly one thing.
@Suite struct MerkleLogTests {
    static func leaves(_ n: Int) -> [MerkleLog.Hash] { (0..<n).map { MerkleLog.leafHash(Array("event \($0)".utf8)) } }

    static func hex(_ hash: MerkleLog.Hash) -> String { hash.map { String(format: "%02x", $0) }.joined() }

    /// The chain hashes the time as this text: written by hand now, it must be the text the
    /// calendar wrote (and the chain's SQL function before it), to the microsecond, either side
    /// of 1970, on leap days and at the ends of centuries.
    @Test func anEventsTimeIsWrittenAsTheCalendarWroteIt() {
        func calendar(_ microseconds: Int64) -> String {
            let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
            let fraction = microseconds - seconds * 1_000_000
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents(
                [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            return String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
                parts.minute ?? 0, parts.second ?? 0, Int(fraction))
        }
        var values: [Int64] = [
            0, 1, -1, 999_999, -999_999, 1_000_000, -1_000_000, 951_782_400_000_000, 951_868_799_999_999, 4_107_542_399_999_999,
            -2_208_988_800_000_000, 1_796_601_600_123_456,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 { values.append(Int64.random(in: -2_208_988_800_000_000...4_102_444_800_000_000, using: &generator)) }
        for value in values { #expect(AuditEventDigest.timestamp(value) == calendar(value), "\(value)") }
        // The same writer with milliseconds (a score's times): the microsecond text cut to three digits.
        for value in values {
            let milliseconds = value >= 0 ? value / 1000 : -((-value + 999) / 1000)
            #expect(UTCTimestamp.text(ticks: milliseconds, fractionDigits: 3) == calendar(milliseconds * 1000).dropLast(4) + "Z")
        }
        #expect(RiskAssessment.timestamp(Date(timeIntervalSince1970: 1_796_601_600.1239)) == "2026-12-07T00:00:00.123Z")
        #expect(RiskAssessment.timestamp(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect([UInt8]([0x00, 0x0f, 0xa5, 0xff]).lowercaseHex == "000fa5ff" && [UInt8]().lowercaseHex == "")
    }

    @Test func hashesAreRFC9162s() {
        // The empty tree: SHA-256 of nothing. A leaf: SHA-256(0x00 ‖ entry). A node: SHA-256(0x01 ‖ l ‖ r).
        #expect(Self.hex(MerkleLog.root([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex(MerkleLog.leafHash([UInt8]())) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        let two = Self.leaves(2)
        #expect(MerkleLog.root(two) == MerkleLog.nodeHash(two[0], two[1]))
        let three = Self.leaves(3)
        #expect(MerkleLog.root(three) == MerkleLog.nodeHash(MerkleLog.nodeHash(three[0], three[1]), three[2]))
    }

    /// The roots of Certificate Transparency's reference test tree (RFC 6962's test data, as the
    /// reference implementations carry it): the same hashing as every CT log and tooling.
    @Test func theReferenceTreesRootsAreReproduced() {
        let entries = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .map { hex in stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16)! } }
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
        let leaves = entries.map { MerkleLog.leafHash($0) }
        for (size, expected) in roots.enumerated() {
            #expect(Self.hex(MerkleLog.root(leaves.prefix(size + 1))) == expected, "size \(size + 1)")
        }
    }

    @Test func everyEntryProvesItsPlaceAndNoOtherEntryDoes() {
        for size in 1...33 {
            let leaves = Self.leaves(size)
            let root = MerkleLog.root(leaves)
            for index in 0..<size {
                let proof = MerkleLog.inclusionProof(of: index, in: leaves[...])
                #expect(MerkleLog.verifyInclusion(leaf: leaves[index], index: index, size: size, proof: proof, root: root))
                // An edited entry, or the entry claimed at another place: refused. (A size is only
                // ever checked with the root signed beside it, so it is not varied alone.)
                #expect(!MerkleLog.verifyInclusion(leaf: MerkleLog.leafHash([9]), index: index, size: size, proof: proof, root: root))
                if size > 1 {
                    #expect(
                        !MerkleLog.verifyInclusion(leaf: leaves[index], index: (index + 1) % size, size: size, proof: proof, root: root))
                }
            }
        }
    }

    @Test func aLaterLogProvesItKeptEverythingAnEarlierOneHeld() {
        for second in 1...33 {
            let leaves = Self.leaves(second)
            let secondRoot = MerkleLog.root(leaves)
            for first in 1...second {
                let firstRoot = MerkleLog.root(leaves[..<first])
                let proof = MerkleLog.consistencyProof(from: first, in: leaves[...])
                #expect(
                    MerkleLog.verifyConsistency(first: first, firstRoot: firstRoot, second: second, secondRoot: secondRoot, proof: proof),
                    "\(first) → \(second)")
                guard first < second else { continue }
                // An entry of the earlier log edited since: refused.
                var edited = leaves
                edited[first - 1] = MerkleLog.leafHash([7])
                #expect(
                    !MerkleLog.verifyConsistency(
                        first: first, firstRoot: firstRoot, second: second, secondRoot: MerkleLog.root(edited), proof: proof))
            }
        }
        // Truncation: the newest entries deleted cannot be consistent with what was signed.
        let leaves = Self.leaves(10)
        let truncated = Array(leaves.prefix(7))
        #expect(
            !MerkleLog.verifyConsistency(
                first: 10, firstRoot: MerkleLog.root(leaves), second: 7, secondRoot: MerkleLog.root(truncated), proof: []))
    }

    @Test func aCheckpointIsSignedAndSaysExactlyOneThing() throws {
        let key = Curve25519.Signing.PrivateKey()
        let root = MerkleLog.root(Self.leaves(5))
        let checkpoint = AuditCheckpoint(
            origin: "centinela.example/audit", size: 5, root: root, time: Date(timeIntervalSince1970: 1_796_000_000))
        let note = try checkpoint.signed(with: key, keyName: "centinela.example/audit")
        #expect(note.hasPrefix("centinela.example/audit\n5\n") && note.contains("\n\n— centinela.example/audit "))
        #expect(try AuditCheckpoint.verified(note, keyName: "centinela.example/audit", key: key.publicKey) == checkpoint)
        // Another size, another root, another key or another name: refused.
        let bigger = note.replacingOccurrences(of: "\n5\n", with: "\n6\n")
        #expect(throws: AuditCheckpointError.unsigned("centinela.example/audit")) {
            try AuditCheckpoint.verified(bigger, keyName: "centinela.example/audit", key: key.publicKey)
        }
        let other = Curve25519.Signing.PrivateKey()
        #expect(throws: AuditCheckpointError.unsigned("centinela.example/audit")) {
            try AuditCheckpoint.verified(note, keyName: "centinela.example/audit", key: other.publicKey)
        }
        #expect(throws: (any Error).self) { try AuditCheckpoint.verified(note, keyName: "someone-else", key: key.publicKey) }
        #expect(throws: AuditCheckpointError.self) { try AuditCheckpoint.verified("nonsense", keyName: "k", key: key.publicKey) }
    }

    /// The frontier the sequencer keeps (log₂ n hashes) states the same root as the whole tree,
    /// at every size, and is refused back from storage unless it fits its size.
    @Test func theFrontierStatesTheTreesRootAtEverySize() {
        let leaves = Self.leaves(70)
        var frontier = MerkleLog.Frontier()
        #expect(frontier.root == MerkleLog.root([]))
        for (index, leaf) in leaves.enumerated() {
            frontier.append(leaf)
            #expect(frontier.size == index + 1)
            #expect(frontier.root == MerkleLog.root(leaves.prefix(index + 1)), "size \(index + 1)")
            #expect(frontier.subtrees.count == (index + 1).nonzeroBitCount)
            #expect(MerkleLog.Frontier(size: frontier.size, subtrees: frontier.subtrees) == frontier)
        }
        #expect(MerkleLog.Frontier(size: 6, subtrees: [leaves[0]]) == nil)
        #expect(MerkleLog.Frontier(size: 1, subtrees: [[1, 2, 3]]) == nil)
    }

    /// The verifier key a regulator keeps: one line, read back to the same key, refused when any
    /// part of it is altered; checkpoints signed by the key verify with it alone.
    @Test func theVerifierKeyIsOneLineThatChecksTheKeysCheckpoints() throws {
        let key = AuditSigningKey.generated(name: "centinela.example/audit")
        let line = key.verifierKey
        #expect(line.hasPrefix("centinela.example/audit+") && !line.contains("\n"))
        let verifier = try AuditSigningKey.verifier(line)
        #expect(verifier.name == key.name && verifier.key.rawRepresentation == key.privateKey.publicKey.rawRepresentation)
        let checkpoint = AuditCheckpoint(
            origin: key.name, size: 3, root: MerkleLog.root(Self.leaves(3)), time: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(try verifier.checkpoint(try key.sign(checkpoint)) == checkpoint)

        let parts = line.split(separator: "+", maxSplits: 2).map(String.init)
        for altered in [
            "other+\(parts[1])+\(parts[2])", "\(parts[0])+00000000+\(parts[2])", "\(parts[0])+\(parts[1])+\(parts[2].dropLast(4))AAA=",
            "\(parts[0])+\(parts[1])", "", "a b+\(parts[1])+\(parts[2])",
        ] {
            #expect(throws: AuditCheckpointError.self, "\(altered)") { try AuditSigningKey.verifier(altered) }
        }
        // The seed reads back to the same key; anything else is refused.
        #expect(try AuditSigningKey(name: key.name, seed: key.seed + "\n").verifierKey == line)
        for seed in ["", "not base64", Data(repeating: 1, count: 31).base64EncodedString()] {
            #expect(throws: AuditCheckpointError.self) { try AuditSigningKey(name: "k", seed: seed) }
        }
        #expect(throws: AuditCheckpointError.self) { try AuditSigningKey(name: "has space", seed: key.seed) }
    }
}
