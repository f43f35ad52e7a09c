import EthereumCore

/// One log as `eth_getLogs` / receipts return it; JSONRPC knows nothing of its ABI meaning.
public struct RawLog: Sendable, Hashable {
    /// The emitting contract.
    public var address: Address
    /// topic0 (the event id, unless anonymous) and up to three indexed arguments.
    public var topics: [Bytes32]
    /// The non-indexed arguments, ABI-encoded.
    public var data: [UInt8]
    /// The including block.
    public var blockNumber: UInt64
    /// The including block's hash (compare with the canonical chain to detect reorgs).
    public var blockHash: Bytes32
    /// The emitting transaction.
    public var transactionHash: Bytes32
    /// The transaction's position in the block.
    public var transactionIndex: UInt64
    /// The log's index within its block.
    public var logIndex: UInt64
    /// True when a reorg removed the log (filters only; `eth_getLogs` over a range answers false).
    public var removed: Bool

    /// A log from its fields.
    public init(address: Address, topics: [Bytes32], data: [UInt8], blockNumber: UInt64, blockHash: Bytes32,
                transactionHash: Bytes32, transactionIndex: UInt64, logIndex: UInt64, removed: Bool = false) {
        self.address = address; self.topics = topics; self.data = data
        self.blockNumber = blockNumber; self.blockHash = blockHash
        self.transactionHash = transactionHash; self.transactionIndex = transactionIndex
        self.logIndex = logIndex; self.removed = removed
    }

    /// Chain order: by block number, then log index.
    public static func chainOrder(_ a: RawLog, _ b: RawLog) -> Bool {
        (a.blockNumber, a.logIndex) < (b.blockNumber, b.logIndex)
    }

    /// Parses a whole `eth_getLogs` response body (the JSON-RPC envelope and its result) into logs.
    /// This is the hot path: hex goes straight into `Address`/`Bytes32`/integers, no `JSONDecoder`.
    public static func decodeResponse(_ body: [UInt8]) throws(RPCError) -> [RawLog] {
        switch try Envelope.decodeSingle(body, decode: { (s) throws(RPCError) -> [RawLog] in try RawLog.parseArray(&s) }) {
        case let .success(logs): return logs
        case let .failure(error): throw error
        }
    }

    static func parseArray(_ s: inout JSONScanner) throws(RPCError) -> [RawLog] {
        if s.consumeNull() { throw RPCError.nullResult(method: "") }
        try s.beginArray()
        var logs: [RawLog] = []
        var first = true
        while try s.nextElement(&first) { logs.append(try parse(&s)) }
        return logs
    }

    static func parse(_ s: inout JSONScanner) throws(RPCError) -> RawLog {
        let objectStart = s.pos
        try s.beginObject()
        var address: Address?, topics: [Bytes32]?, data: [UInt8]?, blockNumber: UInt64?, blockHash: Bytes32?
        var txHash: Bytes32?, txIndex: UInt64?, logIndex: UInt64?, removed = false
        var first = true
        while let k = try s.nextKey(&first) {
            if s.key(k, is: "address") { address = try s.address(field: "address") }
            else if s.key(k, is: "topics") {
                try s.beginArray()
                var t: [Bytes32] = []
                t.reserveCapacity(4)
                var f = true
                while try s.nextElement(&f) {
                    if t.count == 4 { throw s.fail(field: "topics", "more than 4 topics") }
                    t.append(try s.bytes32(field: "topics"))
                }
                topics = t
            }
            else if s.key(k, is: "data") { data = try s.data(field: "data") }
            else if s.key(k, is: "blockNumber") { blockNumber = try s.quantity(field: "blockNumber") }
            else if s.key(k, is: "blockHash") { blockHash = try s.bytes32(field: "blockHash") }
            else if s.key(k, is: "transactionHash") { txHash = try s.bytes32(field: "transactionHash") }
            else if s.key(k, is: "transactionIndex") { txIndex = try s.quantity(field: "transactionIndex") }
            else if s.key(k, is: "logIndex") { logIndex = try s.quantity(field: "logIndex") }
            else if s.key(k, is: "removed") { removed = try s.bool(field: "removed") }
            else { try s.skipValue() }
        }
        guard let address, let topics, let data, let blockNumber, let blockHash, let txHash, let txIndex, let logIndex else {
            let missing = [("address", address == nil), ("topics", topics == nil), ("data", data == nil),
                           ("blockNumber", blockNumber == nil), ("blockHash", blockHash == nil),
                           ("transactionHash", txHash == nil), ("transactionIndex", txIndex == nil),
                           ("logIndex", logIndex == nil)].first { $0.1 }?.0 ?? "?"
            s.pos = objectStart
            throw s.fail("log object is missing \"\(missing)\"")
        }
        return RawLog(address: address, topics: topics, data: data, blockNumber: blockNumber, blockHash: blockHash,
                      transactionHash: txHash, transactionIndex: txIndex, logIndex: logIndex, removed: removed)
    }
}
