import EthereumCore
import KeeperTesting
import XCTest

/// The hand-written Merkle-Patricia trie against py-trie's `HexaryTrie` (an independent implementation): roots of
/// random tries of every shape (embedded small nodes, extensions, branch values, keys that prefix others), proofs
/// node for node where every node is hashed (as in receipts tries), and `verify` on good, absent and tampered proofs.
final class MerklePatriciaTrieTests: XCTestCase {
    func testEmptyTrieRootIsTheKnownConstant() {
        XCTAssertEqual(MerklePatriciaTrie().root.hexString, "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
    }

    func testRootsAndProofsEqualPyTrie() throws {
        var rng = SplitMix64(seed: 0x4d50_5431)
        var requests: [[String: Any]] = []
        var tries: [(MerklePatriciaTrie, [[UInt8]: [UInt8]], [[UInt8]])] = []
        for round in 0..<60 {
            var trie = MerklePatriciaTrie()
            var pairs: [[UInt8]: [UInt8]] = [:]
            // Up to a big Base block: round 57 is a receipts trie of 5,000 receipt-sized values (issue 19: 1–5,000).
            let count = round == 57 ? 5_000 : [1, 2, 3, 17, 40, 130, 300][round % 7]
            let bigValues = round % 2 == 0 || round == 57
            for i in 0..<count {
                let key: [UInt8]
                switch round % 3 {
                case 0: key = RLP.encode(.uint(UInt64(i)))  // the receipts trie's keys
                case 1: key = (0..<Int.random(in: 1...4, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                default: key = (0..<Int.random(in: 0...3, using: &rng)).map { _ in UInt8.random(in: 0...2, using: &rng) }  // prefixes
                }
                let length = bigValues ? Int.random(in: 40...300, using: &rng) : Int.random(in: 1...6, using: &rng)
                let value = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                trie.insert(key: key, value: value)
                pairs[key] = value
            }
            let asked = Array(pairs.keys.prefix(5)) + [[0xde, 0xad]]
            requests.append(["op": "mpt", "pairs": pairs.map { [Hex.encode($0.key, prefix: false), Hex.encode($0.value, prefix: false)] },
                             "keys": asked.map { Hex.encode($0, prefix: false) }])
            tries.append((trie, pairs, asked))
        }
        let answers = try PythonOracle.ask("core_oracle.py", requests)
        XCTAssertEqual(answers.count, tries.count)
        var provenNodeForNode = 0
        for ((trie, pairs, asked), answer) in zip(tries, answers) {
            XCTAssertEqual(trie.root.hexString, "0x" + (answer["root"] as? String ?? ""), "root of \(pairs.count) pairs")
            let theirs = answer["proofs"] as? [[String]] ?? []
            for (key, their) in zip(asked, theirs) {
                let mine = trie.proof(for: key)
                let expected = pairs[key]
                XCTAssertEqual(try MerklePatriciaTrie.verify(root: trie.root, key: key, proof: mine), expected, "verify \(key)")
                // Where no node is embedded (every node ≥ 32 bytes, as in receipts tries) the proofs are the same nodes.
                if their.allSatisfy({ $0.count >= 64 }) {
                    XCTAssertEqual(mine.map { Hex.encode($0, prefix: false) }, their, "proof of \(key)")
                    provenNodeForNode += 1
                }
            }
        }
        XCTAssertGreaterThan(provenNodeForNode, 50, "enough proofs compared node for node")
    }

    func testTamperedProofsAreRefusedNeverAccepted() throws {
        var trie = MerklePatriciaTrie()
        for i in 0..<50 { trie.insert(key: RLP.encode(.uint(UInt64(i))), value: [UInt8](repeating: UInt8(i), count: 80)) }
        let key = RLP.encode(.uint(UInt64(7)))
        let proof = trie.proof(for: key)
        XCTAssertEqual(try MerklePatriciaTrie.verify(root: trie.root, key: key, proof: proof), [UInt8](repeating: 7, count: 80))
        var rng = SplitMix64(seed: 99)
        for _ in 0..<500 {
            var bad = proof
            let n = Int.random(in: 0..<bad.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bad[n][Int.random(in: 0..<bad[n].count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: bad[n] = Array(bad[n].prefix(Int.random(in: 0..<bad[n].count, using: &rng)))
            case 2: bad.remove(at: n)
            default: bad[n] += [0x00]
            }
            if let value = try? MerklePatriciaTrie.verify(root: trie.root, key: key, proof: bad) {
                XCTAssertEqual(value, [UInt8](repeating: 7, count: 80), "a tampered proof never yields another value")
            }
        }
        XCTAssertNil(try MerklePatriciaTrie.verify(root: trie.root, key: RLP.encode(.uint(UInt64(51))), proof: trie.proof(for: RLP.encode(.uint(UInt64(51))))))
        XCTAssertThrowsError(try MerklePatriciaTrie.verify(root: trie.root, key: key, proof: Array(repeating: proof[0], count: 65)))
    }
}
