import EthereumCore

/// A block selector: a number or one of the tags nodes understand.
public enum BlockTag: Sendable, Equatable, CustomStringConvertible {
    case number(UInt64)
    case latest, pending, safe, finalized, earliest

    /// The JSON-RPC parameter (`"0x…"` or the tag name).
    public var json: JSONValue { .string(description) }

    /// The tag as JSON-RPC expects it.
    public var description: String {
        switch self {
        case let .number(n): return Quantity.hex(n)
        case .latest: return "latest"
        case .pending: return "pending"
        case .safe: return "safe"
        case .finalized: return "finalized"
        case .earliest: return "earliest"
        }
    }
}

/// JSON-RPC quantity encoding: `0x` + hex without leading zeros.
public enum Quantity {
    /// `0x0`, `0x1f`, …
    public static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
    /// The same for 256-bit values.
    public static func hex(_ v: UInt256) -> String { v.hexString }
}

/// Which logs `eth_getLogs` returns: emitted by any of `addresses` (all when empty) and matching
/// `topics` position by position (nil = any; a list = any of them).
public struct LogFilter: Sendable, Equatable {
    /// Emitting contracts (any when empty).
    public var addresses: [Address]
    /// Topic filters by position.
    public var topics: [[Bytes32]?]

    /// A filter from its parts.
    public init(addresses: [Address] = [], topics: [[Bytes32]?] = []) {
        self.addresses = addresses; self.topics = topics
    }

    func params(from: UInt64, to: UInt64) -> JSONValue { params([("fromBlock", .string(Quantity.hex(from))), ("toBlock", .string(Quantity.hex(to)))]) }

    func params(_ range: [(String, JSONValue)]) -> JSONValue {
        var members = range
        if addresses.count == 1 {
            members.append(("address", .string(addresses[0].lowercased)))
        } else if !addresses.isEmpty {
            members.append(("address", .array(addresses.map { .string($0.lowercased) })))
        }
        if !topics.isEmpty {
            members.append(("topics", .array(topics.map { alternatives in
                guard let alternatives else { return .null }
                return alternatives.count == 1 ? .string(alternatives[0].hexString) : .array(alternatives.map { .string($0.hexString) })
            })))
        }
        return .object(members)
    }
}

/// The parameters of `eth_call` / `eth_estimateGas`.
public struct CallRequest: Sendable, Equatable {
    /// The caller (nodes need a funded one for some calls).
    public var from: Address?
    /// The callee (nil to simulate a deployment).
    public var to: Address?
    /// The calldata.
    public var data: [UInt8]
    /// Wei sent with the call.
    public var value: UInt256?
    /// A gas limit for the call.
    public var gas: UInt64?

    /// A call from its parts.
    public init(from: Address? = nil, to: Address?, data: [UInt8], value: UInt256? = nil, gas: UInt64? = nil) {
        self.from = from; self.to = to; self.data = data; self.value = value; self.gas = gas
    }

    var json: JSONValue {
        var m: [(String, JSONValue)] = []
        if let from { m.append(("from", .string(from.lowercased))) }
        if let to { m.append(("to", .string(to.lowercased))) }
        m.append(("data", .string(Hex.encode(data))))
        if let value { m.append(("value", .string(value.hexString))) }
        if let gas { m.append(("gas", .string(Quantity.hex(gas)))) }
        return .object(m)
    }
}

/// Typed `eth_` calls (SPEC §4: everything the keeper needs).
extension RPCClient {
    /// `eth_chainId`.
    public func chainID() async throws(RPCError) -> UInt64 {
        try await call("eth_chainId", []) { (s) throws(RPCError) in try Self.required(&s) { (s) throws(RPCError) in try s.quantity(field: "result") } }
    }

    /// `eth_blockNumber`.
    public func blockNumber() async throws(RPCError) -> UInt64 {
        try await call("eth_blockNumber", []) { (s) throws(RPCError) in try Self.required(&s) { (s) throws(RPCError) in try s.quantity(field: "result") } }
    }

    /// `eth_getBlockByNumber(tag, false)`; a missing block is `.nullResult`.
    public func block(_ tag: BlockTag) async throws(RPCError) -> BlockHeader {
        try await call("eth_getBlockByNumber", [tag.json, .bool(false)]) { (s) throws(RPCError) in try Self.required(&s, BlockHeader.parse) }
    }

    /// `eth_getBlockByHash(hash, false)`; nil when the node does not know the block.
    public func block(hash: Bytes32) async throws(RPCError) -> BlockHeader? {
        try await call("eth_getBlockByHash", [.string(hash.hexString), .bool(false)]) { (s) throws(RPCError) in try s.optional(BlockHeader.parse) }
    }

    /// Headers of many blocks in JSON-RPC batches (one result per number, in order).
    public func blocks(_ numbers: [UInt64]) async throws(RPCError) -> [Result<BlockHeader, RPCError>] {
        try await batch(numbers.map { Call("eth_getBlockByNumber", [.string(Quantity.hex($0)), .bool(false)]) }) { (s) throws(RPCError) in
            try Self.required(&s, BlockHeader.parse)
        }
    }

    /// `eth_getLogs` over blocks `from...to` (inclusive) — one request; see `LogScanner` for any range.
    public func logs(_ filter: LogFilter, from: UInt64, to: UInt64) async throws(RPCError) -> [RawLog] {
        try await call("eth_getLogs", [filter.params(from: from, to: to)]) { (s) throws(RPCError) in try RawLog.parseArray(&s) }
    }

    /// `eth_getLogs` of one block by hash (EIP-234), immune to reorgs between calls.
    public func logs(_ filter: LogFilter, blockHash: Bytes32) async throws(RPCError) -> [RawLog] {
        try await call("eth_getLogs", [filter.params([("blockHash", .string(blockHash.hexString))])]) { (s) throws(RPCError) in try RawLog.parseArray(&s) }
    }

    /// `eth_call`; a revert is `.server(code: 3, …)` with the revert data in `revertData`.
    public func call(_ request: CallRequest, at tag: BlockTag = .latest) async throws(RPCError) -> [UInt8] {
        try await call("eth_call", [request.json, tag.json]) { (s) throws(RPCError) in try Self.required(&s) { (s) throws(RPCError) in try s.data(field: "result") } }
    }

    /// `eth_estimateGas`.
    public func estimateGas(_ request: CallRequest) async throws(RPCError) -> UInt64 {
        try await call("eth_estimateGas", [request.json]) { (s) throws(RPCError) in try Self.required(&s) { (s) throws(RPCError) in try s.quantity(field: "result") } }
    }

    /// `eth_feeHistory(blockCount, newest, percentiles)`.
    public func feeHistory(blockCount: UInt64, newest: BlockTag = .latest, percentiles: [Double] = []) async throws(RPCError) -> FeeHistory {
        try await call("eth_feeHistory", [.string(Quantity.hex(blockCount)), newest.json, .array(percentiles.map { .number(String($0)) })]) { (s) throws(RPCError) in
            try Self.required(&s, FeeHistory.parse)
        }
    }

    /// `eth_gasPrice`.
    public func gasPrice() async throws(RPCError) -> UInt256 {
        try await call("eth_gasPrice", []) { (s) throws(RPCError) in try Self.required(&s) { (s) throws(RPCError) in try s.quantity256(field: "result") } }
    }

    /// `eth_maxPriorityFeePerGas`.
    public func maxPriorityFeePerGas() async throws(RPCError) -> UInt256 {
        try await call("eth_maxPriorityFeePerGas", []) { (s) throws(RPCError) in try Self.required(&s) { (s) throws(RPCError) in try s.quantity256(field: "result") } }
    }

    /// `eth_getTransactionCount` (the nonce) at `tag` (`.latest` or `.pending`).
    public func transactionCount(_ address: Address, at tag: BlockTag = .latest) async throws(RPCError) -> UInt64 {
        try await call("eth_getTransactionCount", [.string(address.lowercased), tag.json]) { (s) throws(RPCError) in
            try Self.required(&s) { (s) throws(RPCError) in try s.quantity(field: "result") }
        }
    }

    /// `eth_getBalance` in wei.
    public func balance(_ address: Address, at tag: BlockTag = .latest) async throws(RPCError) -> UInt256 {
        try await call("eth_getBalance", [.string(address.lowercased), tag.json]) { (s) throws(RPCError) in
            try Self.required(&s) { (s) throws(RPCError) in try s.quantity256(field: "result") }
        }
    }

    /// `eth_getCode`.
    public func code(_ address: Address, at tag: BlockTag = .latest) async throws(RPCError) -> [UInt8] {
        try await call("eth_getCode", [.string(address.lowercased), tag.json]) { (s) throws(RPCError) in
            try Self.required(&s) { (s) throws(RPCError) in try s.data(field: "result") }
        }
    }

    /// `eth_sendRawTransaction`; returns the transaction hash. Never retried after the node answered
    /// with an error (a duplicate send answers `already known`, which the caller interprets).
    public func sendRawTransaction(_ raw: [UInt8]) async throws(RPCError) -> Bytes32 {
        try await call("eth_sendRawTransaction", [.string(Hex.encode(raw))]) { (s) throws(RPCError) in
            try Self.required(&s) { (s) throws(RPCError) in try s.bytes32(field: "result") }
        }
    }

    /// `eth_getTransactionReceipt`; nil while the transaction is pending or unknown.
    public func transactionReceipt(_ hash: Bytes32) async throws(RPCError) -> Receipt? {
        try await call("eth_getTransactionReceipt", [.string(hash.hexString)]) { (s) throws(RPCError) in try s.optional(Receipt.parse) }
    }

    /// `eth_getTransactionByHash`; nil when unknown.
    public func transaction(_ hash: Bytes32) async throws(RPCError) -> Transaction? {
        try await call("eth_getTransactionByHash", [.string(hash.hexString)]) { (s) throws(RPCError) in try s.optional(Transaction.parse) }
    }

    /// Asks every endpoint for its chain id (one retry each) and returns it when all that answer agree
    /// (and equal `expected`, if given); otherwise throws `.chainIdMismatch` naming them — the keeper
    /// refuses to start. An endpoint that does not answer now is checked before its first use and
    /// disabled if it reports another chain; when none answers, the last error is thrown.
    public func verifyChainID(expected: UInt64? = nil) async throws(RPCError) -> UInt64 {
        var seen: [(String, UInt64)] = []
        var lastError: RPCError?
        for (i, endpoint) in endpointStates.enumerated() {
            do {
                let id = try await call("eth_chainId", [], pinned: i, maxRetries: 1) { (s) throws(RPCError) in
                    try Self.required(&s) { (s) throws(RPCError) in try s.quantity(field: "result") }
                }
                seen.append((endpointNames[i], id))
                markVerified(endpoint)
            } catch {
                if case .cancelled = error { throw error }
                lastError = error
            }
        }
        guard let first = seen.first else { throw lastError ?? .invalidArgument(what: "no endpoint") }
        let listing = seen.map { "\($0.0) reports \($0.1)" }.joined(separator: ", ")
        if let expected, seen.contains(where: { $0.1 != expected }) {
            throw .chainIdMismatch(details: "expected \(expected); \(listing)")
        }
        if Set(seen.map(\.1)).count > 1 { throw .chainIdMismatch(details: listing) }
        setExpectedChainID(expected ?? first.1)
        return first.1
    }

    static func required<T>(_ s: inout JSONScanner, _ decode: (inout JSONScanner) throws(RPCError) -> T) throws(RPCError) -> T {
        if s.consumeNull() { throw RPCError.nullResult(method: "") }
        return try decode(&s)
    }
}
