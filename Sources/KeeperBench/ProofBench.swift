import EthereumCore
import Foundation
import KeeperCore

/// Issue 19: the keeper's time to prove one claim from a fetched block of 1,000 receipts — check the header against
/// the block hash, rebuild the receipts trie and check its root, take the claim's proof (checked against the root) and
/// encode the route_proven call. Target: ≤ 5 ms. The reference in the same run is hashing each receipt's encoding
/// once (the floor of any check of the block's receipts), and the trie alone (root and proof, no checks, no call).
func proofBench() throws {
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 11 }
    let source = try Address("0x00000000000000000000000000000000000c0ffe")
    print("\(col("receipts", 10))\(col("prove one claim", 17))\(col("trie only", 12))\(col("hash receipts", 15))\(col("vs hashing", 12))\(col("target", 9))verdict")
    for count in [100, 1_000] {
        var receipts: [(index: UInt64, receipt: ReceiptFields)] = []
        var gas: UInt64 = 0
        for i in 0..<UInt64(count) {
            // Base-like: mostly EIP-1559 receipts with 0–6 logs of 0–256 bytes, a deposit receipt first.
            let logs = (0..<Int(next() % 7)).map { _ -> ReceiptLog in
                ReceiptLog(address: source, topics: (0..<Int(1 + next() % 3)).map { _ in Bytes32(w0: next(), w1: next(), w2: next(), w3: next()) },
                           data: [UInt8](repeating: UInt8(truncatingIfNeeded: next()), count: Int(next() % 9) * 32))
            }
            gas &+= 21_000 &+ next() % 200_000
            let deposit = i == 0
            receipts.append((i, ReceiptFields(type: deposit ? 0x7e : 0x02, status: 1, cumulativeGasUsed: gas,
                                              logsBloom: [UInt8](repeating: UInt8(truncatingIfNeeded: next()), count: 256), logs: logs,
                                              depositNonce: deposit ? 7 : nil, depositReceiptVersion: deposit ? 1 : nil)))
        }
        let claimIndex = receipts.firstIndex { $0.index >= UInt64(count / 2) && !$0.receipt.logs.isEmpty } ?? 1
        var trie = MerklePatriciaTrie()
        for r in receipts { trie.insert(key: ReceiptFields.trieKey(r.index), value: r.receipt.encoded()) }
        let root = trie.built().root
        let header = BlockHeaderFields(parentHash: Bytes32(w0: 0, w1: 0, w2: 0, w3: 1), ommersHash: Bytes32(w0: 0, w1: 0, w2: 0, w3: 2), beneficiary: source, stateRoot: Bytes32(w0: 0, w1: 0, w2: 0, w3: 3),
                                       transactionsRoot: Bytes32(w0: 0, w1: 0, w2: 0, w3: 4), receiptsRoot: root, logsBloom: [UInt8](repeating: 0, count: 256),
                                       difficulty: .zero, number: 30_000_000, gasLimit: 60_000_000, gasUsed: gas, timestamp: 1_760_000_000,
                                       extraData: [], mixHash: Bytes32(w0: 0, w1: 0, w2: 0, w3: 5), nonce: [UInt8](repeating: 0, count: 8),
                                       baseFeePerGas: UInt256(UInt64(1_000_000)), withdrawalsRoot: Bytes32(w0: 0, w1: 0, w2: 0, w3: 6), blobGasUsed: 0,
                                       excessBlobGas: 0, parentBeaconBlockRoot: Bytes32(w0: 0, w1: 0, w2: 0, w3: 7), requestsHash: Bytes32(w0: 0, w1: 0, w2: 0, w3: 8))
        let hash = try header.hash()
        let encodings = receipts.map { $0.receipt.encoded() }
        var failure: (any Error)?
        let m = compare(iterations: 1, rounds: count >= 1_000 ? 9 : 25, {
            do {
                let block = try BlockReceiptProofs(hash: hash, header: header, receipts: receipts)
                var call = ProvenRouteCall()
                try call.add(block, txIndex: receipts[claimIndex].index, logPosition: 0)
                blackHole(try call.calldata().count)
            } catch { failure = error }
        }, {
            var t = MerklePatriciaTrie()
            for r in receipts { t.insert(key: ReceiptFields.trieKey(r.index), value: r.receipt.encoded()) }
            let built = t.built()
            blackHole(built.proof(for: ReceiptFields.trieKey(receipts[claimIndex].index)).count)
        }, {
            var acc: UInt64 = 0
            for e in encodings { acc ^= Keccak256.hash(e).w0 }
            blackHole(acc)
        })
        if let failure { throw BenchError("proving a block of \(count) receipts failed: \(failure)") }
        let ms = m[0].nsPerOp / 1e6
        let ok = count < 1_000 || ms <= 5
        print("\(col(String(count), 10))\(col(fmt(ms, 3) + " ms", 17))\(col(fmt(m[1].nsPerOp / 1e6, 3) + " ms", 12))"
              + "\(col(fmt(m[2].nsPerOp / 1e6, 3) + " ms", 15))\(col(fmt(m[0].nsPerOp / m[2].nsPerOp, 1) + "×", 12))"
              + "\(col(count >= 1_000 ? "≤5 ms" : "-", 9))\(ok ? "ok" : "MISSED")")
    }
}
