import EthereumCore

/// What a receipt proof is built from: a block's full header (every consensus field, so that its RLP hashes to the
/// block hash) and all of its receipts in consensus form (`eth_getBlockReceipts`).
extension RPCClient {
    /// `eth_getBlockByNumber(n, false)` with every header field, and the hash the node reports.
    public func headerFields(_ number: UInt64) async throws(RPCError) -> (hash: Bytes32, fields: BlockHeaderFields) {
        try await call("eth_getBlockByNumber", [.string(Quantity.hex(number)), .bool(false)]) { (s) throws(RPCError) in
            try Self.required(&s, Self.parseHeaderFields)
        }
    }

    /// `eth_getBlockReceipts(n)`: the block's receipts in transaction order, each with its transaction index.
    public func blockReceipts(_ number: UInt64) async throws(RPCError) -> [(index: UInt64, receipt: ReceiptFields)] {
        try await call("eth_getBlockReceipts", [.string(Quantity.hex(number))]) { (s) throws(RPCError) in
            if s.consumeNull() { throw RPCError.nullResult(method: "eth_getBlockReceipts") }
            try s.beginArray()
            var out: [(index: UInt64, receipt: ReceiptFields)] = []
            var first = true
            while try s.nextElement(&first) { out.append(try Self.parseReceiptFields(&s)) }
            return out
        }
    }

    static func parseHeaderFields(_ s: inout JSONScanner) throws(RPCError) -> (hash: Bytes32, fields: BlockHeaderFields) {
        let start = s.pos
        try s.beginObject()
        var hash: Bytes32?, parent: Bytes32?, ommers: Bytes32?, miner: Address?, state: Bytes32?, txRoot: Bytes32?, receiptsRoot: Bytes32?
        var bloom: [UInt8]?, difficulty: UInt256?, number: UInt64?, gasLimit: UInt64?, gasUsed: UInt64?, timestamp: UInt64?
        var extra: [UInt8]?, mix: Bytes32?, nonce: [UInt8]?, baseFee: UInt256?, withdrawals: Bytes32?, blobGas: UInt64?
        var excessBlob: UInt64?, beacon: Bytes32?, requests: Bytes32?
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "hash") { hash = try s.bytes32(field: "hash") }
            else if s.key(k, is: "parentHash") { parent = try s.bytes32(field: "parentHash") }
            else if s.key(k, is: "sha3Uncles") { ommers = try s.bytes32(field: "sha3Uncles") }
            else if s.key(k, is: "miner") { miner = try s.address(field: "miner") }
            else if s.key(k, is: "stateRoot") { state = try s.bytes32(field: "stateRoot") }
            else if s.key(k, is: "transactionsRoot") { txRoot = try s.bytes32(field: "transactionsRoot") }
            else if s.key(k, is: "receiptsRoot") { receiptsRoot = try s.bytes32(field: "receiptsRoot") }
            else if s.key(k, is: "logsBloom") { bloom = try s.data(field: "logsBloom") }
            else if s.key(k, is: "difficulty") { difficulty = try s.quantity256(field: "difficulty") }
            else if s.key(k, is: "number") { number = try s.quantity(field: "number") }
            else if s.key(k, is: "gasLimit") { gasLimit = try s.quantity(field: "gasLimit") }
            else if s.key(k, is: "gasUsed") { gasUsed = try s.quantity(field: "gasUsed") }
            else if s.key(k, is: "timestamp") { timestamp = try s.quantity(field: "timestamp") }
            else if s.key(k, is: "extraData") { extra = try s.data(field: "extraData") }
            else if s.key(k, is: "mixHash") { mix = try s.bytes32(field: "mixHash") }
            else if s.key(k, is: "nonce") { nonce = try s.data(field: "nonce") }
            else if s.key(k, is: "baseFeePerGas") { baseFee = try s.optional { (s) throws(RPCError) in try s.quantity256(field: "baseFeePerGas") } }
            else if s.key(k, is: "withdrawalsRoot") { withdrawals = try s.optional { (s) throws(RPCError) in try s.bytes32(field: "withdrawalsRoot") } }
            else if s.key(k, is: "blobGasUsed") { blobGas = try s.optional { (s) throws(RPCError) in try s.quantity(field: "blobGasUsed") } }
            else if s.key(k, is: "excessBlobGas") { excessBlob = try s.optional { (s) throws(RPCError) in try s.quantity(field: "excessBlobGas") } }
            else if s.key(k, is: "parentBeaconBlockRoot") { beacon = try s.optional { (s) throws(RPCError) in try s.bytes32(field: "parentBeaconBlockRoot") } }
            else if s.key(k, is: "requestsHash") { requests = try s.optional { (s) throws(RPCError) in try s.bytes32(field: "requestsHash") } }
            else { try s.skipValue() }
        }
        guard let hash, let parent, let ommers, let miner, let state, let txRoot, let receiptsRoot, let bloom, let difficulty, let number,
              let gasLimit, let gasUsed, let timestamp, let extra, let mix, let nonce else {
            s.pos = start
            throw s.fail("block object lacks a consensus header field (hash, parentHash, sha3Uncles, miner, stateRoot, transactionsRoot, "
                         + "receiptsRoot, logsBloom, difficulty, number, gasLimit, gasUsed, timestamp, extraData, mixHash or nonce)")
        }
        return (hash, BlockHeaderFields(
            parentHash: parent, ommersHash: ommers, beneficiary: miner, stateRoot: state, transactionsRoot: txRoot,
            receiptsRoot: receiptsRoot, logsBloom: bloom, difficulty: difficulty, number: number, gasLimit: gasLimit, gasUsed: gasUsed,
            timestamp: timestamp, extraData: extra, mixHash: mix, nonce: nonce, baseFeePerGas: baseFee, withdrawalsRoot: withdrawals,
            blobGasUsed: blobGas, excessBlobGas: excessBlob, parentBeaconBlockRoot: beacon, requestsHash: requests))
    }

    static func parseReceiptFields(_ s: inout JSONScanner) throws(RPCError) -> (index: UInt64, receipt: ReceiptFields) {
        let start = s.pos
        try s.beginObject()
        var index: UInt64?, type: UInt64 = 0, status: UInt64?, cumulative: UInt64?, bloom: [UInt8]?, logs: [RawLog] = []
        var depositNonce: UInt64?, depositVersion: UInt64?
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "transactionIndex") { index = try s.quantity(field: "transactionIndex") }
            else if s.key(k, is: "type") { type = try s.quantity(field: "type") }
            else if s.key(k, is: "status") { status = try s.quantity(field: "status") }
            else if s.key(k, is: "cumulativeGasUsed") { cumulative = try s.quantity(field: "cumulativeGasUsed") }
            else if s.key(k, is: "logsBloom") { bloom = try s.data(field: "logsBloom") }
            else if s.key(k, is: "logs") { logs = try RawLog.parseArray(&s) }
            else if s.key(k, is: "depositNonce") { depositNonce = try s.optional { (s) throws(RPCError) in try s.quantity(field: "depositNonce") } }
            else if s.key(k, is: "depositReceiptVersion") {
                depositVersion = try s.optional { (s) throws(RPCError) in try s.quantity(field: "depositReceiptVersion") }
            }
            else { try s.skipValue() }
        }
        guard let index, let status, let cumulative, let bloom, type <= 0x7f else {
            s.pos = start
            throw s.fail("receipt lacks transactionIndex, status (pre-Byzantium receipts are not supported), cumulativeGasUsed or "
                         + "logsBloom, or has a type above 0x7f")
        }
        let receipt = ReceiptFields(type: UInt8(type), status: status, cumulativeGasUsed: cumulative, logsBloom: bloom,
                                    logs: logs.map { ReceiptLog(address: $0.address, topics: $0.topics, data: $0.data) },
                                    depositNonce: depositNonce, depositReceiptVersion: depositVersion)
        return (index, receipt)
    }
}
