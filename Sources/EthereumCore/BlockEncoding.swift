/// A block header's fields in consensus order, RLP-encoded so that its keccak256 is the block hash. The field set
/// grows with forks; the trailing fields are present exactly when the chain's fork has them, which is how a node
/// reports them over JSON-RPC: London adds `baseFeePerGas`, Shanghai `withdrawalsRoot`, Cancun `blobGasUsed`,
/// `excessBlobGas` and `parentBeaconBlockRoot`, Prague `requestsHash` (OP Stack chains follow the same list).
/// A later field without an earlier one is refused: no fork adds fields out of order.
public struct BlockHeaderFields: Equatable, Sendable {
    /// The parent block's hash.
    public var parentHash: Bytes32
    /// The ommers (uncles) hash (`sha3Uncles`).
    public var ommersHash: Bytes32
    /// The fee recipient (`miner`).
    public var beneficiary: Address
    /// The state root.
    public var stateRoot: Bytes32
    /// The transactions root.
    public var transactionsRoot: Bytes32
    /// The receipts root: what receipt proofs verify against.
    public var receiptsRoot: Bytes32
    /// The 256-byte logs bloom.
    public var logsBloom: [UInt8]
    /// The difficulty (0 after the merge).
    public var difficulty: UInt256
    /// The block number.
    public var number: UInt64
    /// The gas limit.
    public var gasLimit: UInt64
    /// Gas used.
    public var gasUsed: UInt64
    /// Seconds since the Unix epoch.
    public var timestamp: UInt64
    /// The extra data.
    public var extraData: [UInt8]
    /// The mix hash (`prevRandao` after the merge).
    public var mixHash: Bytes32
    /// The 8-byte nonce.
    public var nonce: [UInt8]
    /// London.
    public var baseFeePerGas: UInt256?
    /// Shanghai.
    public var withdrawalsRoot: Bytes32?
    /// Cancun.
    public var blobGasUsed: UInt64?
    /// Cancun.
    public var excessBlobGas: UInt64?
    /// Cancun.
    public var parentBeaconBlockRoot: Bytes32?
    /// Prague.
    public var requestsHash: Bytes32?

    /// The fields (the fork-dependent ones nil when the block's fork lacks them).
    public init(parentHash: Bytes32, ommersHash: Bytes32, beneficiary: Address, stateRoot: Bytes32, transactionsRoot: Bytes32,
                receiptsRoot: Bytes32, logsBloom: [UInt8], difficulty: UInt256, number: UInt64, gasLimit: UInt64, gasUsed: UInt64,
                timestamp: UInt64, extraData: [UInt8], mixHash: Bytes32, nonce: [UInt8], baseFeePerGas: UInt256? = nil,
                withdrawalsRoot: Bytes32? = nil, blobGasUsed: UInt64? = nil, excessBlobGas: UInt64? = nil,
                parentBeaconBlockRoot: Bytes32? = nil, requestsHash: Bytes32? = nil) {
        self.parentHash = parentHash; self.ommersHash = ommersHash; self.beneficiary = beneficiary; self.stateRoot = stateRoot
        self.transactionsRoot = transactionsRoot; self.receiptsRoot = receiptsRoot; self.logsBloom = logsBloom
        self.difficulty = difficulty; self.number = number; self.gasLimit = gasLimit; self.gasUsed = gasUsed
        self.timestamp = timestamp; self.extraData = extraData; self.mixHash = mixHash; self.nonce = nonce
        self.baseFeePerGas = baseFeePerGas; self.withdrawalsRoot = withdrawalsRoot; self.blobGasUsed = blobGasUsed
        self.excessBlobGas = excessBlobGas; self.parentBeaconBlockRoot = parentBeaconBlockRoot; self.requestsHash = requestsHash
    }

    /// The header's RLP; throws when the fork fields are not a prefix of the fork order.
    public func rlp() throws(EthereumCoreError) -> [UInt8] {
        var items: [RLPItem] = [
            .bytes(parentHash.bytes), .bytes(ommersHash.bytes), .address(beneficiary), .bytes(stateRoot.bytes),
            .bytes(transactionsRoot.bytes), .bytes(receiptsRoot.bytes), .bytes(logsBloom), .uint(difficulty), .uint(number),
            .uint(gasLimit), .uint(gasUsed), .uint(timestamp), .bytes(extraData), .bytes(mixHash.bytes), .bytes(nonce),
        ]
        let tail: [RLPItem?] = [
            baseFeePerGas.map { .uint($0) }, withdrawalsRoot.map { .bytes($0.bytes) }, blobGasUsed.map { .uint($0) },
            excessBlobGas.map { .uint($0) }, parentBeaconBlockRoot.map { .bytes($0.bytes) }, requestsHash.map { .bytes($0.bytes) },
        ]
        let present = tail.prefix { $0 != nil }.count
        guard tail.dropFirst(present).allSatisfy({ $0 == nil }) else {
            throw .invalidRLP(reason: "header fields out of fork order (a later fork's field without an earlier one's)", offset: 0)
        }
        items += tail.prefix(present).compactMap { $0 }
        return RLP.encode(.list(items))
    }

    /// keccak256 of the RLP: the block hash when the fields are right.
    public func hash() throws(EthereumCoreError) -> Bytes32 { Keccak256.hash(try rlp()) }
}

/// One log as receipts carry it.
public struct ReceiptLog: Equatable, Sendable {
    /// The emitting contract.
    public var address: Address
    /// The topics.
    public var topics: [Bytes32]
    /// The data.
    public var data: [UInt8]
    /// A log.
    public init(address: Address, topics: [Bytes32], data: [UInt8]) { self.address = address; self.topics = topics; self.data = data }
}

/// A transaction receipt's consensus encoding (the value of the receipts trie): `rlp([status, cumulativeGasUsed,
/// logsBloom, logs])` for legacy receipts, prefixed by the type byte for typed ones (EIP-2718: 0x01, 0x02, 0x03,
/// 0x04), and for OP Stack deposit receipts (type 0x7e) with `depositNonce` and, from Canyon, `depositReceiptVersion`.
public struct ReceiptFields: Equatable, Sendable {
    /// The EIP-2718 type (0 legacy).
    public var type: UInt8
    /// 1 success, 0 reverted.
    public var status: UInt64
    /// Gas used in the block up to and including this transaction.
    public var cumulativeGasUsed: UInt64
    /// The 256-byte logs bloom.
    public var logsBloom: [UInt8]
    /// The logs, in order.
    public var logs: [ReceiptLog]
    /// OP Stack deposits (0x7e).
    public var depositNonce: UInt64?
    /// OP Stack deposits from Canyon.
    public var depositReceiptVersion: UInt64?

    /// A receipt.
    public init(type: UInt8, status: UInt64, cumulativeGasUsed: UInt64, logsBloom: [UInt8], logs: [ReceiptLog],
                depositNonce: UInt64? = nil, depositReceiptVersion: UInt64? = nil) {
        self.type = type; self.status = status; self.cumulativeGasUsed = cumulativeGasUsed; self.logsBloom = logsBloom
        self.logs = logs; self.depositNonce = depositNonce; self.depositReceiptVersion = depositReceiptVersion
    }

    /// The encoding stored in the receipts trie.
    public func encoded() -> [UInt8] {
        var items: [RLPItem] = [
            .uint(status), .uint(cumulativeGasUsed), .bytes(logsBloom),
            .list(logs.map { .list([.address($0.address), .list($0.topics.map { .bytes($0.bytes) }), .bytes($0.data)]) }),
        ]
        if type == 0x7e, let nonce = depositNonce {
            items.append(.uint(nonce))
            if let version = depositReceiptVersion { items.append(.uint(version)) }
        }
        let body = RLP.encode(.list(items))
        return type == 0 ? body : [type] + body
    }

    /// The receipts trie's key of the transaction at `index`: `rlp(index)`.
    public static func trieKey(_ index: UInt64) -> [UInt8] { RLP.encode(.uint(index)) }
}
