import EthereumCore

/// A block header as `eth_getBlockBy*` returns it (transaction hashes only).
public struct BlockHeader: Sendable, Hashable {
    /// The block number.
    public var number: UInt64
    /// The hash.
    public var hash: Bytes32
    /// The parent block's hash.
    public var parentHash: Bytes32
    /// Seconds since the Unix epoch.
    public var timestamp: UInt64
    /// The block gas limit.
    public var gasLimit: UInt64
    /// Gas used.
    public var gasUsed: UInt64
    /// Absent before London.
    public var baseFeePerGas: UInt256?
    /// The fee recipient (coinbase).
    public var miner: Address
    /// Hashes of the block's transactions (when full objects were returned, their `hash` fields).
    public var transactionHashes: [Bytes32]

    static func parse(_ s: inout JSONScanner) throws(RPCError) -> BlockHeader {
        let start = s.pos
        try s.beginObject()
        var number: UInt64?, hash: Bytes32?, parent: Bytes32?, timestamp: UInt64?, gasLimit: UInt64?, gasUsed: UInt64?
        var baseFee: UInt256?, miner = Address.zero, txs: [Bytes32] = []
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "number") { number = try s.quantity(field: "number") }
            else if s.key(k, is: "hash") { hash = try s.bytes32(field: "hash") }
            else if s.key(k, is: "parentHash") { parent = try s.bytes32(field: "parentHash") }
            else if s.key(k, is: "timestamp") { timestamp = try s.quantity(field: "timestamp") }
            else if s.key(k, is: "gasLimit") { gasLimit = try s.quantity(field: "gasLimit") }
            else if s.key(k, is: "gasUsed") { gasUsed = try s.quantity(field: "gasUsed") }
            else if s.key(k, is: "baseFeePerGas") { baseFee = try s.optional { (s) throws(RPCError) in try s.quantity256(field: "baseFeePerGas") } }
            else if s.key(k, is: "miner") { miner = try s.address(field: "miner") }
            else if s.key(k, is: "transactions") {
                try s.beginArray()
                var f = true
                while try s.nextElement(&f) {
                    if s.peek() == UInt8(ascii: "{") {
                        txs.append(try Transaction.parse(&s).hash)
                    } else {
                        txs.append(try s.bytes32(field: "transactions"))
                    }
                }
            }
            else { try s.skipValue() }
        }
        guard let number, let hash, let parent, let timestamp, let gasLimit, let gasUsed else {
            s.pos = start
            throw s.fail("block object is missing a required field (number, hash, parentHash, timestamp, gasLimit, gasUsed)")
        }
        return BlockHeader(number: number, hash: hash, parentHash: parent, timestamp: timestamp, gasLimit: gasLimit,
                           gasUsed: gasUsed, baseFeePerGas: baseFee, miner: miner, transactionHashes: txs)
    }
}

/// A transaction as `eth_getTransactionByHash` returns it.
public struct Transaction: Sendable, Hashable {
    /// The hash.
    public var hash: Bytes32
    /// The sender.
    public var from: Address
    /// nil for contract creation.
    public var to: Address?
    /// The sender's nonce.
    public var nonce: UInt64
    /// Wei transferred.
    public var value: UInt256
    /// The calldata.
    public var input: [UInt8]
    /// The gas limit.
    public var gas: UInt64
    /// The EIP-2718 type (0 legacy, 2 EIP-1559, …).
    public var type: UInt64
    /// Legacy gas price (nodes also report the effective price here).
    public var gasPrice: UInt256?
    /// EIP-1559 fee cap.
    public var maxFeePerGas: UInt256?
    /// EIP-1559 tip cap.
    public var maxPriorityFeePerGas: UInt256?
    /// nil while pending.
    public var blockNumber: UInt64?
    /// The including block's hash.
    public var blockHash: Bytes32?

    static func parse(_ s: inout JSONScanner) throws(RPCError) -> Transaction {
        let start = s.pos
        try s.beginObject()
        var hash: Bytes32?, from: Address?, to: Address?, nonce: UInt64?, value: UInt256 = .zero, input: [UInt8] = []
        var gas: UInt64 = 0, type: UInt64 = 0, gasPrice: UInt256?, maxFee: UInt256?, maxPrio: UInt256?
        var blockNumber: UInt64?, blockHash: Bytes32?
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "hash") { hash = try s.bytes32(field: "hash") }
            else if s.key(k, is: "from") { from = try s.address(field: "from") }
            else if s.key(k, is: "to") { to = try s.optional { (s) throws(RPCError) in try s.address(field: "to") } }
            else if s.key(k, is: "nonce") { nonce = try s.quantity(field: "nonce") }
            else if s.key(k, is: "value") { value = try s.quantity256(field: "value") }
            else if s.key(k, is: "input") { input = try s.data(field: "input") }
            else if s.key(k, is: "gas") { gas = try s.quantity(field: "gas") }
            else if s.key(k, is: "type") { type = try s.quantity(field: "type") }
            else if s.key(k, is: "gasPrice") { gasPrice = try s.optional { (s) throws(RPCError) in try s.quantity256(field: "gasPrice") } }
            else if s.key(k, is: "maxFeePerGas") { maxFee = try s.optional { (s) throws(RPCError) in try s.quantity256(field: "maxFeePerGas") } }
            else if s.key(k, is: "maxPriorityFeePerGas") { maxPrio = try s.optional { (s) throws(RPCError) in try s.quantity256(field: "maxPriorityFeePerGas") } }
            else if s.key(k, is: "blockNumber") { blockNumber = try s.optional { (s) throws(RPCError) in try s.quantity(field: "blockNumber") } }
            else if s.key(k, is: "blockHash") { blockHash = try s.optional { (s) throws(RPCError) in try s.bytes32(field: "blockHash") } }
            else { try s.skipValue() }
        }
        guard let hash, let from, let nonce else {
            s.pos = start
            throw s.fail("transaction object is missing hash, from or nonce")
        }
        return Transaction(hash: hash, from: from, to: to, nonce: nonce, value: value, input: input, gas: gas, type: type,
                           gasPrice: gasPrice, maxFeePerGas: maxFee, maxPriorityFeePerGas: maxPrio,
                           blockNumber: blockNumber, blockHash: blockHash)
    }
}

/// A receipt as `eth_getTransactionReceipt` returns it.
public struct Receipt: Sendable, Hashable {
    /// The transaction this receipt is for.
    public var transactionHash: Bytes32
    /// The including block's hash.
    public var blockHash: Bytes32
    /// The including block.
    public var blockNumber: UInt64
    /// The position in the block.
    public var transactionIndex: UInt64
    /// 1 success, 0 reverted.
    public var status: UInt64
    /// Gas used.
    public var gasUsed: UInt64
    /// Gas used in the block up to and including this transaction.
    public var cumulativeGasUsed: UInt64
    /// The price per gas actually paid.
    public var effectiveGasPrice: UInt256?
    /// The sender.
    public var from: Address
    /// The recipient (nil for contract creation).
    public var to: Address?
    /// The created contract, if any.
    public var contractAddress: Address?
    /// The logs the transaction emitted.
    public var logs: [RawLog]

    static func parse(_ s: inout JSONScanner) throws(RPCError) -> Receipt {
        let start = s.pos
        try s.beginObject()
        var txHash: Bytes32?, blockHash: Bytes32?, blockNumber: UInt64?, txIndex: UInt64?, status: UInt64?
        var gasUsed: UInt64 = 0, cumulative: UInt64 = 0, price: UInt256?, from = Address.zero, to: Address?, created: Address?
        var logs: [RawLog] = []
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "transactionHash") { txHash = try s.bytes32(field: "transactionHash") }
            else if s.key(k, is: "blockHash") { blockHash = try s.bytes32(field: "blockHash") }
            else if s.key(k, is: "blockNumber") { blockNumber = try s.quantity(field: "blockNumber") }
            else if s.key(k, is: "transactionIndex") { txIndex = try s.quantity(field: "transactionIndex") }
            else if s.key(k, is: "status") { status = try s.quantity(field: "status") }
            else if s.key(k, is: "gasUsed") { gasUsed = try s.quantity(field: "gasUsed") }
            else if s.key(k, is: "cumulativeGasUsed") { cumulative = try s.quantity(field: "cumulativeGasUsed") }
            else if s.key(k, is: "effectiveGasPrice") { price = try s.optional { (s) throws(RPCError) in try s.quantity256(field: "effectiveGasPrice") } }
            else if s.key(k, is: "from") { from = try s.address(field: "from") }
            else if s.key(k, is: "to") { to = try s.optional { (s) throws(RPCError) in try s.address(field: "to") } }
            else if s.key(k, is: "contractAddress") { created = try s.optional { (s) throws(RPCError) in try s.address(field: "contractAddress") } }
            else if s.key(k, is: "logs") { logs = try RawLog.parseArray(&s) }
            else { try s.skipValue() }
        }
        guard let txHash, let blockHash, let blockNumber, let txIndex, let status else {
            s.pos = start
            throw s.fail("receipt object is missing transactionHash, blockHash, blockNumber, transactionIndex or status")
        }
        return Receipt(transactionHash: txHash, blockHash: blockHash, blockNumber: blockNumber, transactionIndex: txIndex,
                       status: status, gasUsed: gasUsed, cumulativeGasUsed: cumulative, effectiveGasPrice: price,
                       from: from, to: to, contractAddress: created, logs: logs)
    }
}

/// `eth_feeHistory`'s answer.
public struct FeeHistory: Sendable, Hashable {
    /// The first block covered.
    public var oldestBlock: UInt64
    /// One more entry than blocks: the last is the next block's base fee.
    public var baseFeePerGas: [UInt256]
    /// Per block, gas used ÷ gas limit.
    public var gasUsedRatio: [Double]
    /// Per block, the requested percentiles of priority fees (empty when none were requested).
    public var reward: [[UInt256]]

    static func parse(_ s: inout JSONScanner) throws(RPCError) -> FeeHistory {
        try s.beginObject()
        var oldest: UInt64?, base: [UInt256] = [], ratio: [Double] = [], reward: [[UInt256]] = []
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "oldestBlock") { oldest = try s.quantity(field: "oldestBlock") }
            else if s.key(k, is: "baseFeePerGas") {
                try s.beginArray(); var f = true
                while try s.nextElement(&f) { base.append(try s.quantity256(field: "baseFeePerGas")) }
            } else if s.key(k, is: "gasUsedRatio") {
                try s.beginArray(); var f = true
                while try s.nextElement(&f) {
                    let span = try s.numberSpan()
                    guard let d = Double(s.text(span)) else { throw s.fail(field: "gasUsedRatio", "not a number") }
                    ratio.append(d)
                }
            } else if s.key(k, is: "reward") {
                if s.consumeNull() { continue }
                try s.beginArray(); var f = true
                while try s.nextElement(&f) {
                    var row: [UInt256] = []
                    try s.beginArray(); var g = true
                    while try s.nextElement(&g) { row.append(try s.quantity256(field: "reward")) }
                    reward.append(row)
                }
            } else { try s.skipValue() }
        }
        guard let oldest else { throw s.fail(field: "oldestBlock", "missing") }
        return FeeHistory(oldestBlock: oldest, baseFeePerGas: base, gasUsedRatio: ratio, reward: reward)
    }
}
