import Crypto
import Foundation

/// The audit log's tree (issue 24): a Merkle tree over the log's entries in the order the
/// sequencer gave them, hashed as RFC 9162 (Certificate Transparency 2.0) §2.1 says, so that a
/// regulator holding a checkpoint (a size and a root) can be shown, by a few hashes, that one
/// entry is in the log and that a later log extends the one they hold — and any removal, edit or
/// reordering of what they were shown fails those proofs. Pure functions over values: verified in
/// Swift, never by code stored in the database the log lives in.
public enum MerkleLog {
    public typealias Hash = [UInt8]

    /// The hash of an entry (RFC 9162: SHA-256 of 0x00 and the entry).
    public static func leafHash(_ entry: some DataProtocol) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0])
        hasher.update(data: entry)
        return Array(hasher.finalize())
    }

    /// The hash of two subtrees (RFC 9162: SHA-256 of 0x01, the left and the right).
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [1])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of a tree of these leaf hashes (the empty tree's is SHA-256 of nothing).
    public static func root(_ leaves: ArraySlice<Hash>) -> Hash {
        switch leaves.count {
        case 0: return Array(SHA256.hash(data: [UInt8]()))
        case 1: return leaves[leaves.startIndex]
        default:
            let split = leaves.startIndex + largestPowerOfTwo(below: leaves.count)
            return nodeHash(root(leaves[..<split]), root(leaves[split...]))
        }
    }

    public static func root(_ leaves: [Hash]) -> Hash { root(leaves[...]) }

    /// The hashes that show leaf `index` is in the tree of `leaves` (RFC 9162 §2.1.3.1).
    public static func inclusionProof(of index: Int, in leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(leaves.indices.contains(leaves.startIndex + index), "no such leaf")
        guard leaves.count > 1 else { return [] }
        let k = largestPowerOfTwo(below: leaves.count)
        let split = leaves.startIndex + k
        return index < k
            ? inclusionProof(of: index, in: leaves[..<split]) + [root(leaves[split...])]
            : inclusionProof(of: index - k, in: leaves[split...]) + [root(leaves[..<split])]
    }

    /// Whether `proof` shows that `leaf` is entry `index` of a tree of `size` entries whose root
    /// is `root` (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leaf: Hash, index: Int, size: Int, proof: [Hash], root: Hash) -> Bool {
        guard index >= 0, index < size else { return false }
        var (fn, sn, r) = (index, size - 1, leaf)
        for p in proof {
            guard sn > 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                climbRightEdge(&fn, &sn)
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// The hashes that show the tree of the first `size` leaves is a prefix of the tree of
    /// `leaves` (RFC 9162 §2.1.4.1); empty when the sizes are equal.
    public static func consistencyProof(from size: Int, in leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(size > 0 && size <= leaves.count, "no such earlier tree")
        return subproof(size, leaves, complete: true)
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<Hash>, complete: Bool) -> [Hash] {
        if m == leaves.count { return complete ? [] : [root(leaves)] }
        let k = largestPowerOfTwo(below: leaves.count)
        let split = leaves.startIndex + k
        return m <= k
            ? subproof(m, leaves[..<split], complete: complete) + [root(leaves[split...])]
            : subproof(m - k, leaves[split...], complete: false) + [root(leaves[..<split])]
    }

    /// Whether `proof` shows that the tree of `first` entries with root `firstRoot` is a prefix
    /// of the tree of `second` entries with root `secondRoot` (RFC 9162 §2.1.4.2): nothing of the
    /// first was removed, changed or reordered.
    public static func verifyConsistency(first: Int, firstRoot: Hash, second: Int, secondRoot: Hash, proof: [Hash]) -> Bool {
        guard first > 0, first <= second else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var (fn, sn) = (first - 1, second - 1)
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var (fr, sr) = (path[0], path[0])
        for c in path.dropFirst() {
            guard sn > 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                climbRightEdge(&fn, &sn)
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == firstRoot && sr == secondRoot && sn == 0
    }

    /// RFC 9162's step for a node on the right edge of its subtree (`fn == sn` with `fn` even):
    /// up until `fn` is a right child or the root is reached.
    private static func climbRightEdge(_ fn: inout Int, _ sn: inout Int) {
        guard fn & 1 == 0 else { return }
        repeat {
            fn >>= 1
            sn >>= 1
        } while fn & 1 == 0 && fn != 0
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

extension MerkleLog {
    /// The right edge of a growing tree: the roots of its perfect subtrees, largest first (one
    /// per set bit of `size`). It is all the sequencer keeps to append leaves and state the root
    /// (log₂ n hashes, not the n leaves), and all `audit verify` keeps while it streams the log.
    public struct Frontier: Sendable, Equatable {
        public private(set) var size: Int
        public private(set) var subtrees: [Hash]

        public init() {
            size = 0
            subtrees = []
        }

        /// A frontier read back from storage; nil unless it holds one hash per set bit of `size`.
        public init?(size: Int, subtrees: [Hash]) {
            guard size >= 0, size.nonzeroBitCount == subtrees.count, subtrees.allSatisfy({ $0.count == 32 }) else { return nil }
            self.size = size
            self.subtrees = subtrees
        }

        /// Appends a leaf hash (`MerkleLog.leafHash` of the entry).
        public mutating func append(_ leaf: Hash) {
            var node = leaf
            var carried = size
            while carried & 1 == 1 {
                node = nodeHash(subtrees.removeLast(), node)
                carried >>= 1
            }
            subtrees.append(node)
            size += 1
        }

        /// The tree's root, as `MerkleLog.root` of all the leaves appended so far.
        public var root: Hash {
            guard var node = subtrees.last else { return Array(SHA256.hash(data: [UInt8]())) }
            for subtree in subtrees.dropLast().reversed() { node = nodeHash(subtree, node) }
            return node
        }
    }
}
