import EthereumCore
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperPlanning

/// What the submitter needs from the chain beyond `ChainReader`: nonces, fees, balances, broadcast, receipts.
public protocol SubmissionChain: Sendable {
    /// `eth_getTransactionCount(address, latest|pending)`.
    func nonce(_ address: Address, pending: Bool) async throws -> UInt64
    /// The next block's base fee and a suggested priority fee (from `eth_feeHistory`).
    func fees() async throws -> (nextBaseFee: UInt256, tip: UInt256)
    /// `eth_getBalance(address, latest)`.
    func balance(_ address: Address) async throws -> UInt256
    /// `eth_sendRawTransaction`, classified.
    func broadcast(_ raw: [UInt8]) async -> BroadcastOutcome
    /// The receipt of `hash` on the canonical chain, nil when not mined (or orphaned).
    func receipt(_ hash: Bytes32) async throws -> Receipt?
    /// The latest block number.
    func headNumber() async throws -> UInt64
}

/// What the node said to a broadcast. Only `.accepted`, `.alreadyKnown` mean "it is in the pool or mined".
public enum BroadcastOutcome: Sendable, Equatable {
    /// Accepted into the pool.
    case accepted
    /// The node already has it (pool or chain): idempotent success.
    case alreadyKnown
    /// The nonce is below the account's: another transaction consumed it (the tracker decides what that means).
    case nonceTooLow(String)
    /// A pool transaction at the same nonce pays more than this one can replace.
    case underpriced(String)
    /// The node could not be reached or refused for now (429/503, dropped connection): retry next poll.
    case transient(String)
    /// Any other deterministic refusal (insufficient funds, intrinsic gas, chain id): logged, retried next poll.
    case rejected(String)

    /// Classifies a node's error text (geth, Erigon, Nethermind, Reth and the local chain share these phrases).
    public static func classify(_ error: RPCError) -> BroadcastOutcome {
        if case let .server(_, message, _) = error {
            let m = message.lowercased()
            if m.contains("already known") || m.contains("known transaction") || m.contains("already imported") { return .alreadyKnown }
            if m.contains("nonce too low") || m.contains("nonce is too low") { return .nonceTooLow(message) }
            if m.contains("underpriced") { return .underpriced(message) }
            return error.isRetryable ? .transient(error.description) : .rejected(error.description)
        }
        return .transient(error.description)
    }
}

/// Signs a transaction for the keeper's address. The engine never sees key material: the CLI adapts the
/// keystore's key to this. Absent in dry-run: nothing can be signed then.
public protocol TransactionSigning: Sendable {
    /// The keeper's address.
    var address: Address { get }
    /// Signs `tx` and returns its raw EIP-2718 bytes and hash.
    func sign(_ tx: EthereumCore.Transaction) throws -> (raw: [UInt8], hash: Bytes32)
}

/// `SubmissionChain` over a JSONRPC client (failover, retries on transport errors and rate limits).
public struct RPCSubmissionChain: SubmissionChain {
    /// The client.
    public let client: RPCClient

    /// A chain over `client`.
    public init(client: RPCClient) { self.client = client }

    /// The account's transaction count at `pending` or `latest`.
    public func nonce(_ address: Address, pending: Bool) async throws -> UInt64 {
        try await client.transactionCount(address, at: pending ? .pending : .latest)
    }

    /// The latest base fee and the median priority fee (50th percentile) of the last five blocks.
    public func fees() async throws -> (nextBaseFee: UInt256, tip: UInt256) {
        let h = try await client.feeHistory(blockCount: 5, newest: .latest, percentiles: [50])
        let base = h.baseFeePerGas.last ?? .zero
        var tips = h.reward.compactMap(\.first)
        tips.sort()
        let tip = tips.isEmpty ? .zero : tips[tips.count / 2]
        return (base, tip)
    }

    /// The account's balance in wei.
    public func balance(_ address: Address) async throws -> UInt256 { try await client.balance(address) }

    /// Sends a raw signed transaction; the node's answer classified (accepted, already known, nonce too low, …).
    public func broadcast(_ raw: [UInt8]) async -> BroadcastOutcome {
        do {
            _ = try await client.sendRawTransaction(raw)
            return .accepted
        } catch {
            return BroadcastOutcome.classify(error)
        }
    }

    /// The receipt of `hash`, nil while it is not mined.
    public func receipt(_ hash: Bytes32) async throws -> Receipt? { try await client.transactionReceipt(hash) }

    /// The latest block number.
    public func headNumber() async throws -> UInt64 { try await client.blockNumber() }
}
