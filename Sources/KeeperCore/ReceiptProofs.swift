import EthereumABI
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
    /// The transaction indexes in order (the order of the block's logs).
    let order: [UInt64]
    let trie: MerklePatriciaTrie.Built

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
        let built = trie.built()
        guard built.root == header.receiptsRoot else {
            throw Failure(description: "block \(header.number): the \(receipts.count) receipts rebuild a trie with root \(built.root), "
                          + "not the header's receiptsRoot \(header.receiptsRoot) (a receipt missing or reported differently)")
        }
        number = header.number; blockHash = hash; headerRLP = rlp; receiptsRoot = header.receiptsRoot; self.receipts = byIndex
        order = byIndex.keys.sorted()
        self.trie = built
    }

    /// Fetches block `number`'s header and receipts and checks them.
    /// The header and the receipts are two requests by number: a reorg (or a failover to a node at another height)
    /// between them shows as a root mismatch, so a mismatch is fetched once more before it is believed.
    public static func fetch(_ client: RPCClient, block number: UInt64) async throws -> BlockReceiptProofs {
        var attempt = 0
        while true {
            let (hash, header) = try await client.headerFields(number)
            let receipts = try await client.blockReceipts(number)
            do { return try BlockReceiptProofs(hash: hash, header: header, receipts: receipts) } catch {
                attempt += 1
                if attempt >= 2 { throw error }
            }
        }
    }

    /// The receipt and the position in it of the block's log number `logIndex` (its index in the block, as `eth_getLogs`
    /// reports it: the logs of all earlier receipts come first); nil when the block has fewer logs.
    public func location(ofLogIndex logIndex: UInt32) -> (txIndex: UInt64, position: UInt32)? {
        var before = 0
        for tx in order {
            let n = receipts[tx]?.logs.count ?? 0
            if Int(logIndex) < before + n { return (tx, UInt32(Int(logIndex) - before)) }
            before += n
        }
        return nil
    }

    /// The log at `position` in the receipt of transaction `txIndex`.
    public func log(txIndex: UInt64, position: UInt32) -> ReceiptLog? {
        guard let receipt = receipts[txIndex], Int(position) < receipt.logs.count else { return nil }
        return receipt.logs[Int(position)]
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

extension ChainReader {
    /// A reader that cannot serve receipts (test fakes) says so.
    public func receiptProofs(block number: UInt64) async throws -> BlockReceiptProofs {
        throw EngineError.chain("this chain reader cannot fetch block \(number)'s receipts (the proven treasury needs eth_getBlockReceipts)")
    }

    /// A reader that cannot serve receipts (test fakes) says so.
    public func logIndex(block number: UInt64, txIndex: UInt64, position: UInt32) async throws -> (logIndex: UInt32, blockHash: Bytes32)? {
        throw EngineError.chain("this chain reader cannot read block \(number)'s receipts")
    }
}

extension RPCChainReader {
    /// Block `number`'s header and all its receipts, checked against the block hash and receiptsRoot.
    public func receiptProofs(block number: UInt64) async throws -> BlockReceiptProofs {
        try await BlockReceiptProofs.fetch(client, block: number)
    }
}

/// `route_proven(headers, nodes, claims)` of the ProvenExpansionTreasury, built from checked block proofs: each
/// header once, each trie node once in the shared pool (a node common to several proofs is sent once), and per
/// claim (header index, transaction index, log position in the receipt, the proof's node offsets packed in one
/// word: node i at bits 24·i…24·i+23, the node count in the top byte). Anyone may send it: the treasury trusts
/// nothing in it that it does not verify.
public struct ProvenRouteCall: Sendable {
    /// `route_proven((bytes[],bytes,(uint8,uint32,uint32,uint256)[]))`.
    public static let function = try! ABIFunction(signature: "route_proven(bytes[],bytes,(uint8,uint32,uint32,uint256)[])")
    /// The treasury's bounds (ProvenExpansionTreasury.vy): claims and headers per call, pool bytes, nodes per proof.
    public static let maxClaims = 100, maxHeaders = 16, maxPoolBytes = 131_072, maxProofNodes = 9

    private(set) var headers: [[UInt8]] = []
    private var headerIndex: [Bytes32: Int] = [:]
    private(set) var pool: [UInt8] = []
    private var offsets: [[UInt8]: Int] = [:]
    private(set) var claims: [(header: Int, txIndex: UInt32, logPosition: UInt32, proof: UInt256)] = []

    /// An empty call.
    public init() {}

    /// Adds the claim of the reward log at `logPosition` in the receipt of transaction `txIndex` of `block`.
    public mutating func add(_ block: BlockReceiptProofs, txIndex: UInt64, logPosition: UInt32) throws(BlockReceiptProofs.Failure) {
        guard let receipt = block.receipts[txIndex], Int(logPosition) < receipt.logs.count else {
            throw .init(description: "block \(block.number): transaction \(txIndex) has no log at position \(logPosition)")
        }
        guard let tx32 = UInt32(exactly: txIndex) else { throw .init(description: "transaction index \(txIndex) exceeds uint32") }
        let nodes = try block.proof(transactionIndex: txIndex)
        guard nodes.count <= Self.maxProofNodes else {
            throw .init(description: "block \(block.number): a proof of \(nodes.count) nodes exceeds the treasury's \(Self.maxProofNodes)")
        }
        // Every bound is checked before anything is added: a claim that does not fit leaves the call as it was.
        guard claims.count < Self.maxClaims else { throw .init(description: "more than \(Self.maxClaims) claims in one call") }
        guard headerIndex[block.blockHash] != nil || headers.count < Self.maxHeaders else {
            throw .init(description: "more than \(Self.maxHeaders) blocks in one call")
        }
        var newBytes = 0
        var counted = Set<[UInt8]>()
        for node in nodes where offsets[node] == nil && counted.insert(node).inserted { newBytes += node.count }
        guard pool.count + newBytes <= Self.maxPoolBytes else { throw .init(description: "the node pool exceeds \(Self.maxPoolBytes) bytes") }
        let h: Int
        if let known = headerIndex[block.blockHash] { h = known } else {
            h = headers.count
            headers.append(block.headerRLP)
            headerIndex[block.blockHash] = h
        }
        var packed = UInt256(UInt64(nodes.count)) << 248
        for (i, node) in nodes.enumerated() {
            let offset: Int
            if let known = offsets[node] { offset = known } else {
                offset = pool.count
                pool += node
                offsets[node] = offset
            }
            packed = packed | (UInt256(UInt64(offset)) << (24 * i))
        }
        claims.append((h, tx32, logPosition, packed))
    }

    /// The claims added so far.
    public var count: Int { claims.count }

    /// One reward claim of a `forClaims` call, as found in its block's receipts.
    public struct LocatedClaim: Sendable, Equatable {
        /// The block number and the log's index in the block (as `eth_getLogs` reports it).
        public var block: UInt64, logIndex: UInt32
        /// The block's hash (its header was checked to hash to it).
        public var blockHash: Bytes32
        /// The receipt's transaction index and the log's position among its logs.
        public var txIndex: UInt64, logPosition: UInt32
        /// The reward's staker and amount, decoded from the log.
        public var staker: Address, amount: UInt256

        /// The JSON object of `prove --claim` and the API.
        public var json: [String: Any] {
            ["block": block, "log_index": Int(logIndex), "block_hash": blockHash.hexString, "tx_index": txIndex,
             "log_position": Int(logPosition), "staker": staker.checksummed, "amount": amount.decimalString]
        }
    }

    /// Why `forClaims` refused a claim (the claim and the reason, in words).
    public struct ClaimRefused: Error, CustomStringConvertible, Sendable {
        /// "BLOCK:LOG_INDEX: reason".
        public let description: String
    }

    /// The call routing the reward logs at `claims` ((block, log index in the block) each): every block fetched through
    /// `chain` and checked, every log found in its receipts and checked to be `reward` emitted by `source`. Throws
    /// `ClaimRefused` for a claim that is not such a log (or does not fit one call), the chain's errors otherwise.
    public static func forClaims(_ claims: [(block: UInt64, logIndex: UInt32)], reward: RewardEventBinding, source: Address,
                                 chain: any ChainReader) async throws -> (call: ProvenRouteCall, claims: [LocatedClaim]) {
        var blocks: [UInt64: BlockReceiptProofs] = [:]
        var call = ProvenRouteCall()
        var located: [LocatedClaim] = []
        // Chain order, each once: the treasury keeps one mark per staker and skips anything at or before it, so a
        // staker's later claim sent first would make the earlier one a DUPLICATE for good.
        var ordered: [(block: UInt64, logIndex: UInt32)] = []
        for c in claims.sorted(by: { ($0.block, $0.logIndex) < ($1.block, $1.logIndex) })
        where ordered.last.map({ $0.block != c.block || $0.logIndex != c.logIndex }) ?? true { ordered.append(c) }
        for c in ordered {
            let name = "\(c.block):\(c.logIndex)"
            if blocks[c.block] == nil {
                do { blocks[c.block] = try await chain.receiptProofs(block: c.block) } catch let f as BlockReceiptProofs.Failure {
                    throw ClaimRefused(description: "\(name): \(f.description)")
                }
            }
            guard let p = blocks[c.block] else { continue }
            guard let (tx, position) = p.location(ofLogIndex: c.logIndex), let log = p.log(txIndex: tx, position: position) else {
                throw ClaimRefused(description: "\(name): block \(c.block) has no log \(c.logIndex)")
            }
            guard log.address == source, log.topics.first == reward.event.topic0,
                  let (staker, amount) = try? reward.decode(topics: log.topics, data: log.data) else {
                throw ClaimRefused(description: "\(name): log \(c.logIndex) of block \(c.block) is not a \(reward.event.name) reward of the staking "
                                   + "contract \(source.checksummed) (it was emitted by \(log.address.checksummed))")
            }
            do { try call.add(p, txIndex: tx, logPosition: position) } catch {
                throw ClaimRefused(description: "\(name): \(error.description)")
            }
            located.append(LocatedClaim(block: c.block, logIndex: c.logIndex, blockHash: p.blockHash, txIndex: tx, logPosition: position,
                                        staker: staker, amount: amount))
        }
        return (call, located)
    }

    /// The calldata.
    public func calldata() throws -> [UInt8] {
        let claimValues = claims.map { c -> ABIValue in
            .tuple(ABIList([.uint(UInt256(UInt64(c.header))), .uint(UInt256(UInt64(c.txIndex))), .uint(UInt256(UInt64(c.logPosition))), .uint(c.proof)]))
        }
        return try Self.function.encodeCall([.array(ABIList(headers.map { .bytes($0) })), .bytes(pool), .array(ABIList(claimValues))])
    }
}
