import EthereumCore

/// A log's position in the chain: (block number, log index within the block).
public struct LogPosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The block number.
    public var block: UInt64
    /// The log's index within its block.
    public var logIndex: UInt32

    /// A position from its parts.
    public init(block: UInt64, logIndex: UInt32) { self.block = block; self.logIndex = logIndex }

    /// Chain order: by block number, then by log index within the block.
    public static func < (a: LogPosition, b: LogPosition) -> Bool { (a.block, a.logIndex) < (b.block, b.logIndex) }
    /// `block:logIndex`, e.g. `1234:5`.
    public var description: String { "\(block):\(logIndex)" }
}

/// What the store was built for; it refuses to open for anything else.
public struct StoreIdentity: Equatable, Sendable {
    /// The chain id.
    public var chainID: UInt64
    /// The staking contract whose reward event is ingested.
    public var staking: Address
    /// topic0 of the configured reward event.
    public var rewardTopic: Bytes32
    /// The ExpansionTreasury.
    public var treasury: Address

    /// An identity from its parts.
    public init(chainID: UInt64, staking: Address, rewardTopic: Bytes32, treasury: Address) {
        self.chainID = chainID; self.staking = staking; self.rewardTopic = rewardTopic; self.treasury = treasury
    }
}

/// One reward payment (the configured reward event of the staking contract).
public struct RewardEvent: Equatable, Sendable {
    /// Where the log is.
    public var position: LogPosition
    /// The hash of the block that holds it.
    public var blockHash: Bytes32
    /// The transaction that emitted it.
    public var txHash: Bytes32
    /// The staker paid.
    public var staker: Address
    /// The reward, in token units (wei).
    public var amount: UInt256

    /// A reward event from its parts.
    public init(position: LogPosition, blockHash: Bytes32, txHash: Bytes32, staker: Address, amount: UInt256) {
        self.position = position; self.blockHash = blockHash; self.txHash = txHash; self.staker = staker; self.amount = amount
    }
}

/// One `OptedIn` / `OptedOut` of the treasury.
public struct RegistrationEvent: Equatable, Sendable {
    /// Where the log is.
    public var position: LogPosition
    /// The hash of the block that holds it.
    public var blockHash: Bytes32
    /// The transaction that emitted it.
    public var txHash: Bytes32
    /// The staker.
    public var staker: Address
    /// True for `OptedIn`, false for `OptedOut`.
    public var optedIn: Bool
    /// The share in basis points (0 for `OptedOut`).
    public var shareBps: UInt16
    /// The block from which the registration takes effect (0 for `OptedOut`).
    public var sinceBlock: UInt64

    /// A registration event from its parts.
    public init(position: LogPosition, blockHash: Bytes32, txHash: Bytes32, staker: Address, optedIn: Bool,
                shareBps: UInt16, sinceBlock: UInt64) {
        self.position = position; self.blockHash = blockHash; self.txHash = txHash; self.staker = staker
        self.optedIn = optedIn; self.shareBps = shareBps; self.sinceBlock = sinceBlock
    }
}

/// One `Routed` / `RouteSkipped` of the treasury.
public struct TreasuryEvent: Equatable, Sendable {
    /// What the treasury did with the claim.
    public enum Outcome: Equatable, Sendable {
        /// `Routed(reward, contributed, share_bps)`.
        case routed(reward: UInt256, contributed: UInt256, shareBps: UInt16)
        /// `RouteSkipped(reason)`.
        case skipped(reason: UInt8)
    }
    /// Where the log is.
    public var position: LogPosition
    /// The hash of the block that holds it.
    public var blockHash: Bytes32
    /// The routing transaction.
    public var txHash: Bytes32
    /// The staker of the claim.
    public var staker: Address
    /// The reward log the claim cites.
    public var claim: LogPosition
    /// Routed or skipped.
    public var outcome: Outcome

    /// A treasury event from its parts.
    public init(position: LogPosition, blockHash: Bytes32, txHash: Bytes32, staker: Address, claim: LogPosition, outcome: Outcome) {
        self.position = position; self.blockHash = blockHash; self.txHash = txHash; self.staker = staker
        self.claim = claim; self.outcome = outcome
    }
}

/// A staker's current registration in the registry.
public struct StakerRegistration: Equatable, Sendable {
    /// The staker.
    public var staker: Address
    /// Registered now (last event was `OptedIn`).
    public var registered: Bool
    /// The current share (the last `OptedIn`'s, kept after opt-out for reference).
    public var shareBps: UInt16
    /// The block from which the current registration takes effect.
    public var sinceBlock: UInt64

    /// A registration from its parts.
    public init(staker: Address, registered: Bool, shareBps: UInt16, sinceBlock: UInt64) {
        self.staker = staker; self.registered = registered; self.shareBps = shareBps; self.sinceBlock = sinceBlock
    }
}

/// The life of a route intent.
public enum IntentState: String, Sendable, CaseIterable, Codable {
    /// Waiting for the submitter.
    case pending
    /// Below `min_route_wei` (or a zero contribution): recorded, never sent.
    case policySkipped = "policy_skipped"
    /// The staker's registration changed (opt-out or new share) before the reward was routed: the
    /// treasury would no longer take it.
    case lapsed
    /// In a transaction the submitter sent (next issue).
    case sent
    /// The treasury emitted `Routed` for it.
    case routed
    /// The treasury emitted `RouteSkipped` for it.
    case skipped
}

/// A reward payment the keeper intends to route (or has decided about).
public struct RouteIntent: Equatable, Sendable {
    /// The reward log.
    public var claim: LogPosition
    /// The staker.
    public var staker: Address
    /// The hash of the reward's block (the `Claim.block_hash` the treasury checks).
    public var blockHash: Bytes32
    /// The reward amount.
    public var amount: UInt256
    /// The share the contribution was computed with.
    public var shareBps: UInt16
    /// floor(amount × share_bps / 10000) (for `routed`, the treasury's `contributed`).
    public var expected: UInt256
    /// Where it stands.
    public var state: IntentState
    /// Why it is skipped/lapsed (a policy or a treasury reason), if it is.
    public var reason: String?

    /// An intent from its parts.
    public init(claim: LogPosition, staker: Address, blockHash: Bytes32, amount: UInt256, shareBps: UInt16,
                expected: UInt256, state: IntentState, reason: String? = nil) {
        self.claim = claim; self.staker = staker; self.blockHash = blockHash; self.amount = amount
        self.shareBps = shareBps; self.expected = expected; self.state = state; self.reason = reason
    }
}

/// A reorg the ingestor handled.
public struct ReorgRecord: Equatable, Sendable {
    /// The stored tip that was found orphaned.
    public var oldTip: UInt64
    /// The common ancestor (last block kept).
    public var ancestor: UInt64
    /// Stored blocks dropped.
    public var depth: UInt64
    /// Unix seconds when it was handled.
    public var detectedAt: Int64

    /// A record from its parts.
    public init(oldTip: UInt64, ancestor: UInt64, depth: UInt64, detectedAt: Int64) {
        self.oldTip = oldTip; self.ancestor = ancestor; self.depth = depth; self.detectedAt = detectedAt
    }
}
