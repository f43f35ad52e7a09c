import EthereumCore
import JSONRPC

/// A block's identity as the reorg logic needs it.
public struct ChainBlock: Sendable, Equatable {
    /// The number.
    public var number: UInt64
    /// The hash.
    public var hash: Bytes32
    /// The parent's hash.
    public var parentHash: Bytes32
    /// Seconds since the Unix epoch (0 when unknown).
    public var timestamp: UInt64

    /// A block from its parts.
    public init(number: UInt64, hash: Bytes32, parentHash: Bytes32, timestamp: UInt64 = 0) {
        self.number = number; self.hash = hash; self.parentHash = parentHash; self.timestamp = timestamp
    }
}

/// Which head the keeper works below.
public enum HeadTag: Sendable, Equatable {
    case latest, safe, finalized
}

/// What an `eth_call` did.
public enum CallOutcome: Sendable, Equatable {
    /// Returned data.
    case returned([UInt8])
    /// Reverted, with the node's message and the revert data.
    case reverted(message: String, data: [UInt8])
}

/// Everything the engine reads from the chain. `RPCChainReader` implements it over JSONRPC; tests may
/// implement it over a fake chain.
public protocol ChainReader: Sendable {
    /// `eth_chainId` (every endpoint must agree).
    func chainID() async throws -> UInt64
    /// The number of the `latest` / `safe` / `finalized` block.
    func head(_ tag: HeadTag) async throws -> UInt64
    /// Canonical headers of `numbers`, in order; throws when one is missing.
    func blocks(_ numbers: [UInt64]) async throws -> [ChainBlock]
    /// Logs of `addresses` matching `topics` over `from...to`, delivered in contiguous chunks in chain
    /// order (never a gap, never a duplicate); after `onChunk(a...b)` every log of `from...b` was delivered.
    func logs(addresses: [Address], topics: [[Bytes32]?], from: UInt64, to: UInt64,
              onChunk: (ClosedRange<UInt64>, [RawLog]) async throws -> Void) async throws
    /// `eth_call` at the latest block.
    func call(from: Address?, to: Address, data: [UInt8]) async throws -> CallOutcome
    /// `eth_call` against the state after block `block` (`audit` reads allowances and balances in the past).
    func call(from: Address?, to: Address, data: [UInt8], block: UInt64) async throws -> CallOutcome
    /// `eth_estimateGas`.
    func estimateGas(from: Address?, to: Address, data: [UInt8]) async throws -> UInt64
    /// Block `number`'s header and all its receipts, checked (`BlockReceiptProofs`): what the proven treasury's
    /// claims are built from and mapped back with.
    func receiptProofs(block number: UInt64) async throws -> BlockReceiptProofs
    /// The block-wide index (as `eth_getLogs` reports it) of the log at `position` in the receipt of transaction
    /// `txIndex` of block `number`, and the block's hash; nil when the block has no such transaction or log. Reads one
    /// receipt (`eth_getBlockByNumber` for the transaction's hash, then `eth_getTransactionReceipt`), not the block's.
    func logIndex(block number: UInt64, txIndex: UInt64, position: UInt32) async throws -> (logIndex: UInt32, blockHash: Bytes32)?
}

/// `ChainReader` over a JSONRPC client (failover, retries, adaptive `eth_getLogs`).
public final class RPCChainReader: ChainReader {
    /// The client.
    public let client: RPCClient
    let scan: LogScanSettings

    /// A reader over `urls` with `eth_getLogs` ranges up to `maxLogsRange`.
    public convenience init(urls: [String], maxLogsRange: UInt64) throws {
        try self.init(client: RPCClient(urls: urls), maxLogsRange: maxLogsRange)
    }

    /// A reader over an existing client (`run` passes one whose requests are counted in the metrics).
    public init(client: RPCClient, maxLogsRange: UInt64) {
        self.client = client
        var s = LogScanSettings()
        s.maxRange = maxLogsRange
        s.initialRange = min(s.initialRange, maxLogsRange)
        scan = s
    }

    deinit { client.shutdown() }

    /// The chain id every endpoint agrees on (`eth_chainId`); throws when they disagree.
    public func chainID() async throws -> UInt64 { try await client.verifyChainID() }

    /// `eth_blockNumber` for `latest`, otherwise the number of the node's `safe` / `finalized` block.
    public func head(_ tag: HeadTag) async throws -> UInt64 {
        switch tag {
        case .latest: return try await client.blockNumber()
        case .safe: return try await client.block(.safe).number
        case .finalized: return try await client.block(.finalized).number
        }
    }

    /// Headers of `numbers` in order; throws `EngineError.chain` naming the first block that is missing.
    public func blocks(_ numbers: [UInt64]) async throws -> [ChainBlock] {
        var out: [ChainBlock] = []
        out.reserveCapacity(numbers.count)
        for (n, r) in zip(numbers, try await client.blocks(numbers)) {
            switch r {
            case let .success(h): out.append(ChainBlock(number: h.number, hash: h.hash, parentHash: h.parentHash, timestamp: h.timestamp))
            case let .failure(e): throw EngineError.chain("block \(n): \(e)")
            }
        }
        return out
    }

    /// Scans with adaptive `eth_getLogs` ranges of at most `maxLogsRange` blocks, calling `onChunk` per chunk.
    public func logs(addresses: [Address], topics: [[Bytes32]?], from: UInt64, to: UInt64,
                     onChunk: (ClosedRange<UInt64>, [RawLog]) async throws -> Void) async throws {
        let scanner = LogScanner(client: client, filter: LogFilter(addresses: addresses, topics: topics), settings: scan)
        try await scanner.scan(from: from, to: to, onChunk: onChunk)
    }

    /// `eth_call` at the latest block; error code 3 or a "revert" message is `.reverted`, other errors throw.
    public func call(from: Address?, to: Address, data: [UInt8]) async throws -> CallOutcome {
        try await call(from: from, to: to, data: data, tag: .latest)
    }

    /// `eth_call` at block `block`; as `call(from:to:data:)` otherwise.
    public func call(from: Address?, to: Address, data: [UInt8], block: UInt64) async throws -> CallOutcome {
        try await call(from: from, to: to, data: data, tag: .number(block))
    }

    func call(from: Address?, to: Address, data: [UInt8], tag: BlockTag) async throws -> CallOutcome {
        do {
            return .returned(try await client.call(CallRequest(from: from, to: to, data: data), at: tag))
        } catch {
            if case let .server(code, message, _) = error, code == 3 || message.lowercased().contains("revert") {
                return .reverted(message: message, data: error.revertData ?? [])
            }
            throw error
        }
    }

    /// One receipt's log, located: see `ChainReader.logIndex(block:txIndex:position:)`. A block the node does not have
    /// (not yet mined) is nil, like a missing transaction or log.
    public func logIndex(block number: UInt64, txIndex: UInt64, position: UInt32) async throws -> (logIndex: UInt32, blockHash: Bytes32)? {
        let header: BlockHeader
        do { header = try await client.block(.number(number)) } catch {
            if case .nullResult = error { return nil }
            throw error
        }
        guard txIndex < UInt64(header.transactionHashes.count) else { return nil }
        guard let receipt = try await client.transactionReceipt(header.transactionHashes[Int(txIndex)]) else { return nil }
        guard receipt.blockHash == header.hash, receipt.transactionIndex == txIndex else {
            throw EngineError.chain("block \(number) changed while its transaction \(txIndex)'s receipt was read (a reorg); retrying")
        }
        guard Int(position) < receipt.logs.count, let index = UInt32(exactly: receipt.logs[Int(position)].logIndex) else { return nil }
        return (index, header.hash)
    }

    /// `eth_estimateGas` of the call, in gas units; throws the RPC error when the node refuses.
    public func estimateGas(from: Address?, to: Address, data: [UInt8]) async throws -> UInt64 {
        try await client.estimateGas(CallRequest(from: from, to: to, data: data))
    }
}
