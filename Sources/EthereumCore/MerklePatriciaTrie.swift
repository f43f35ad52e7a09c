/// The Merkle-Patricia trie of the Yellow Paper (Appendix D), as Ethereum commits to a block's transactions and
/// receipts: built from all its key/value pairs at once, it gives the root hash and, for any key, the proof —
/// the RLP of every node on the path that is referenced by hash (nodes shorter than 32 bytes are embedded in
/// their parent, as the protocol does), root first. `verify` walks a proof back to the value, refusing anything
/// malformed. Keys of the receipts trie are `rlp(transaction index)`.
public struct MerklePatriciaTrie: Sendable {
    private var pairs: [[UInt8]: [UInt8]] = [:]

    /// An empty trie.
    public init() {}

    /// Sets `key` to `value` (an empty value is not stored: the protocol never stores one).
    public mutating func insert(key: [UInt8], value: [UInt8]) {
        pairs[key] = value.isEmpty ? nil : value
    }

    /// The root hash (keccak256 of the RLP of the empty string for an empty trie). Builds the trie: to ask for the
    /// root and several proofs, `built()` once.
    public var root: Bytes32 { built().root }

    /// The proof of `key` (see `Built.proof(for:)`). Builds the trie: for several proofs, `built()` once.
    public func proof(for key: [UInt8]) -> [[UInt8]] { built().proof(for: key) }

    /// The trie built once: its root and the proof of any key, without rebuilding per question.
    public func built() -> Built {
        var store: [[UInt8]: RLPItem] = [:]
        let rootNode = build(&store)
        return Built(rootNode: rootNode, store: store)
    }

    /// A built trie: the root node and every hash-referenced node by its hash.
    public struct Built: Sendable {
        let rootNode: RLPItem?
        let store: [[UInt8]: RLPItem]
        /// The root hash.
        public let root: Bytes32

        init(rootNode: RLPItem?, store: [[UInt8]: RLPItem]) {
            self.rootNode = rootNode
            self.store = store
            root = Keccak256.hash(RLP.encode(rootNode ?? .bytes([])))
        }

        /// The proof of `key`: the RLP of each hash-referenced node from the root to the key's leaf (or to where the
        /// path ends when the key is absent).
        public func proof(for key: [UInt8]) -> [[UInt8]] {
            guard let rootNode else { return [] }
            var out = [RLP.encode(rootNode)]
            var node = rootNode
            var path = MerklePatriciaTrie.nibbles(key)[...]
            while true {
                guard case let .list(items) = node else { return out }
                let next: RLPItem
                if items.count == 17 {
                    guard let n = path.first else { return out }
                    next = items[Int(n)]
                    path = path.dropFirst()
                } else if items.count == 2, case let .bytes(encodedPath) = items[0] {
                    let (nibbles, leaf) = MerklePatriciaTrie.decodePath(encodedPath)
                    guard !leaf, path.starts(with: nibbles) else { return out }
                    path = path.dropFirst(nibbles.count)
                    next = items[1]
                } else {
                    return out
                }
                switch next {
                case let .bytes(hash) where hash.count == 32:
                    guard let child = store[hash] else { return out }
                    out.append(RLP.encode(child))
                    node = child
                case .list:
                    node = next
                default:
                    return out
                }
            }
        }
    }

    /// Why a proof was refused.
    public struct ProofError: Error, Equatable, Sendable, CustomStringConvertible {
        /// What was wrong, in words.
        public let description: String
    }

    /// Walks `proof` from `root` along `key`: the value stored under `key`, or nil when the proof shows the key is
    /// absent. Throws when a node is missing, does not hash to its reference, or is malformed. Bounded: at most
    /// `maxNodes` nodes, each at most `maxNodeBytes` bytes.
    public static func verify(root: Bytes32, key: [UInt8], proof: [[UInt8]], maxNodes: Int = 64,
                              maxNodeBytes: Int = 1 << 16) throws(ProofError) -> [UInt8]? {
        guard proof.count <= maxNodes else { throw ProofError(description: "proof of \(proof.count) nodes exceeds \(maxNodes)") }
        var byHash: [Bytes32: [UInt8]] = [:]
        for node in proof {
            guard node.count <= maxNodeBytes else { throw ProofError(description: "a proof node of \(node.count) bytes exceeds \(maxNodeBytes)") }
            byHash[Keccak256.hash(node)] = node
        }
        func load(_ hash: Bytes32) throws(ProofError) -> RLPItem {
            guard let bytes = byHash[hash] else { throw ProofError(description: "the proof lacks the node \(hash)") }
            do { return try RLP.decode(bytes, limits: .init(maxDepth: 4, maxInputBytes: maxNodeBytes)) } catch {
                throw ProofError(description: "node \(hash) is not RLP: \(error)")
            }
        }
        var node = try load(root)
        var path = nibbles(key)[...]
        for _ in 0..<(2 * key.count + 2) {
            guard case let .list(items) = node else { throw ProofError(description: "a trie node is not a list") }
            let next: RLPItem
            if items.count == 17 {
                guard let n = path.first else {
                    guard case let .bytes(v) = items[16] else { throw ProofError(description: "a branch value is not a string") }
                    return v.isEmpty ? nil : v
                }
                next = items[Int(n)]
                path = path.dropFirst()
            } else if items.count == 2, case let .bytes(encodedPath) = items[0], !encodedPath.isEmpty {
                guard encodedPath[0] >> 4 <= 3 else { throw ProofError(description: "a node path has an invalid flag") }
                let (nibbles, leaf) = decodePath(encodedPath)
                if leaf {
                    guard case let .bytes(v) = items[1] else { throw ProofError(description: "a leaf value is not a string") }
                    return path.elementsEqual(nibbles) ? v : nil
                }
                guard path.starts(with: nibbles) else { return nil }
                path = path.dropFirst(nibbles.count)
                next = items[1]
            } else {
                throw ProofError(description: "a trie node has \(items.count) items (expected 2 or 17)")
            }
            switch next {
            case let .bytes(b) where b.isEmpty: return nil
            case let .bytes(b) where b.count == 32: node = try load(try! Bytes32(b))
            case .bytes: throw ProofError(description: "a child reference is neither a hash nor an embedded node")
            case .list: node = next
            }
        }
        throw ProofError(description: "the proof is longer than the key allows")
    }

    // MARK: building

    /// The root node, nil when empty; `store` receives every hash-referenced node by its hash.
    private func build(_ store: inout [[UInt8]: RLPItem]) -> RLPItem? {
        guard !pairs.isEmpty else { return nil }
        let entries = pairs.map { (Self.nibbles($0.key), $0.value) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
        return Self.node(entries[...], depth: 0, &store)
    }

    private static func node(_ entries: ArraySlice<([UInt8], [UInt8])>, depth: Int, _ store: inout [[UInt8]: RLPItem]) -> RLPItem {
        if entries.count == 1, let only = entries.first {
            return .list([.bytes(encodePath(Array(only.0[depth...]), leaf: true)), .bytes(only.1)])
        }
        // The longest common prefix beyond `depth` (entries are sorted: first and last bound it).
        let first = entries.first!.0, last = entries.last!.0
        var common = 0
        while depth + common < first.count, depth + common < last.count, first[depth + common] == last[depth + common] { common += 1 }
        if common > 0 {
            let child = node(entries, depth: depth + common, &store)
            return .list([.bytes(encodePath(Array(first[depth..<(depth + common)]), leaf: false)), reference(child, &store)])
        }
        var items = [RLPItem](repeating: .bytes([]), count: 17)
        var rest = entries
        if let head = rest.first, head.0.count == depth {
            items[16] = .bytes(head.1)
            rest = rest.dropFirst()
        }
        var start = rest.startIndex
        while start < rest.endIndex {
            let nibble = rest[start].0[depth]
            var end = start
            while end < rest.endIndex, rest[end].0[depth] == nibble { end += 1 }
            items[Int(nibble)] = reference(node(rest[start..<end], depth: depth + 1, &store), &store)
            start = end
        }
        return .list(items)
    }

    /// A child as its parent holds it: embedded when its RLP is shorter than 32 bytes, else its hash.
    private static func reference(_ child: RLPItem, _ store: inout [[UInt8]: RLPItem]) -> RLPItem {
        let encoded = RLP.encode(child)
        guard encoded.count >= 32 else { return child }
        let hash = Keccak256.hash(encoded).bytes
        store[hash] = child
        return .bytes(hash)
    }

    static func nibbles(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(b >> 4); out.append(b & 0x0f) }
        return out
    }

    /// Hex-prefix encoding (Appendix C).
    static func encodePath(_ nibbles: [UInt8], leaf: Bool) -> [UInt8] {
        let flag: UInt8 = leaf ? 2 : 0
        var out: [UInt8]
        var rest = nibbles[...]
        if nibbles.count % 2 == 1 {
            out = [((flag + 1) << 4) | nibbles[0]]
            rest = rest.dropFirst()
        } else {
            out = [flag << 4]
        }
        while let hi = rest.first {
            let lo = rest.dropFirst().first ?? 0
            out.append(hi << 4 | lo)
            rest = rest.dropFirst(2)
        }
        return out
    }

    static func decodePath(_ encoded: [UInt8]) -> (nibbles: [UInt8], leaf: Bool) {
        guard let first = encoded.first else { return ([], false) }
        let flag = first >> 4
        var out: [UInt8] = flag & 1 == 1 ? [first & 0x0f] : []
        for b in encoded.dropFirst() { out.append(b >> 4); out.append(b & 0x0f) }
        return (out, flag & 2 == 2)
    }
}
