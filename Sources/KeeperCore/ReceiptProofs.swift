import EthereumCore
import JSONRPC

/// A block's receipts trie rebuilt from the node's answers and checked against the block before anything is proven:
/// the header's RLP must hash to the block hash (so the field set matches the chain's fork) and the rebuilt trie's
/// root must equal the header's `receiptsRoot` (so every receipt is encoded as consensus encodes it). Only then does
/// it hand out proofs — what the ProvenExpansionTreasury verifies on chain.
public struct BlockReceiptProofs: Sendable {
    /// The block number.
    public let number: UInt64
    /// Its hash (= keccak256(headerRLP)).
    public let blockHash: Bytes32
    /// The header's RLP.
    public let headerRLP: [UInt8]
    /// The header's receipts root (= the rebuilt trie's root).
    public let receiptsRoot: Bytes32
    /// The receipts by transaction index, as the trie stores them.
    public let receipts: [UInt64: ReceiptFields]
    let trie: MerklePatriciaTrie

    /// Why a block's receipts could not be proven.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// What went wrong, in words.
        public let description: String
    }

    /// Checks and indexes a block from its header fields, the hash the node reported, and all its receipts.
    public init(hash: Bytes32, header: BlockHeaderFields, receipts: [(index: UInt64, receipt: ReceiptFields)]) throws(Failure) {
        let rlp: [UInt8]
        do { rlp = try header.rlp() } catch { throw Failure(description: "block \(header.number): \(error)") }
        let computed = Keccak256.hash(rlp)
        guard computed == hash else {
            throw Failure(description: "block \(header.number): the header's fields hash to \(computed), not to the block hash \(hash) "
                          + "(a header field the node did not report, or a fork whose fields this keeper does not know)")
        }
        var trie = MerklePatriciaTrie()
        var byIndex: [UInt64: ReceiptFields] = [:]
        for (index, receipt) in receipts {
            guard byIndex[index] == nil else { throw Failure(description: "block \(header.number): two receipts at index \(index)") }
            byIndex[index] = receipt
            trie.insert(key: ReceiptFields.trieKey(index), value: receipt.encoded())
        }
        guard trie.root == header.receiptsRoot else {
            throw Failure(description: "block \(header.number): the \(receipts.count) receipts rebuild a trie with root \(trie.root), "
                          + "not the header's receiptsRoot \(header.receiptsRoot) (a receipt missing or reported differently)")
        }
        number = header.number; blockHash = hash; headerRLP = rlp; receiptsRoot = header.receiptsRoot; self.receipts = byIndex
        self.trie = trie
    }

    /// Fetches block `number`'s header and receipts and checks them.
    public static func fetch(_ client: RPCClient, block number: UInt64) async throws -> BlockReceiptProofs {
        let (hash, header) = try await client.headerFields(number)
        let receipts = try await client.blockReceipts(number)
        return try BlockReceiptProofs(hash: hash, header: header, receipts: receipts)
    }

    /// The proof of the receipt at `transactionIndex` (root first), checked against the root before it is returned.
    public func proof(transactionIndex: UInt64) throws(Failure) -> [[UInt8]] {
        guard let receipt = receipts[transactionIndex] else {
            throw Failure(description: "block \(number) has no transaction at index \(transactionIndex)")
        }
        let nodes = trie.proof(for: ReceiptFields.trieKey(transactionIndex))
        let proven: [UInt8]?
        do { proven = try MerklePatriciaTrie.verify(root: receiptsRoot, key: ReceiptFields.trieKey(transactionIndex), proof: nodes) } catch {
            throw Failure(description: "block \(number), index \(transactionIndex): the proof does not verify: \(error)")
        }
        guard proven == receipt.encoded() else {
            throw Failure(description: "block \(number), index \(transactionIndex): the proof does not lead to the receipt")
        }
        return nodes
    }
}
