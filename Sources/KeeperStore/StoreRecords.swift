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

/// A reward claim's identity: the hash of the block that paid it and the log's index in that block. Two
/// forks can carry different rewards at the same (number, log index); they never share a block hash, so
/// everything the keeper decides about a claim is keyed by this, with the block number as an attribute.
public struct ClaimID: Hashable, Sendable, CustomStringConvertible {
    /// The hash of the block holding the reward log.
    public var blockHash: Bytes32
    /// The log's index within that block.
    public var logIndex: UInt32

    /// An identity from its parts.
    public init(blockHash: Bytes32, logIndex: UInt32) { self.blockHash = blockHash; self.logIndex = logIndex }

    /// `0x<block hash>:<log index>`.
    public var description: String { "\(blockHash.hexString):\(logIndex)" }
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
    /// The block hash the routing transaction gave for the claim (the event does not carry it): read from the
    /// journaled transaction when it was ours, otherwise the canonical hash of `claim.block` — except for the
    /// treasury's ORPHANED and FUTURE skips, which by definition cite no canonical block (nil: unknown).
    public var claimBlockHash: Bytes32?
    /// Routed or skipped.
    public var outcome: Outcome

    /// A treasury event from its parts.
    public init(position: LogPosition, blockHash: Bytes32, txHash: Bytes32, staker: Address, claim: LogPosition,
                claimBlockHash: Bytes32? = nil, outcome: Outcome) {
        self.position = position; self.blockHash = blockHash; self.txHash = txHash; self.staker = staker
        self.claim = claim; self.claimBlockHash = claimBlockHash; self.outcome = outcome
    }

    /// `claim.logIndex` of a ProvenExpansionTreasury event whose claim could not be mapped to a log (its header or proof
    /// did not verify: it cites no known claim).
    public static let unresolvedLogIndex = UInt32.max

    /// The claim this event settles, when its block hash is known.
    public var claimID: ClaimID? { claimBlockHash.map { ClaimID(blockHash: $0, logIndex: claim.logIndex) } }
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

/// The life of a route intent. The full table of states and transitions is in deploy/docs/exactly-once.md
/// ("Intent states"); this type mirrors it.
public enum IntentState: String, Sendable, CaseIterable, Codable {
    /// Waiting for the submitter.
    case pending
    /// Below `min_route_wei` (or a zero contribution), or judged skippable by a simulation: recorded, not
    /// sent (simulation skips are re-simulated every 20 blocks).
    case policySkipped = "policy_skipped"
    /// The staker's registration changed (opt-out or new share) before the reward was routed: the
    /// treasury would no longer take it.
    case lapsed
    /// In a journaled transaction that is not settled yet.
    case sent
    /// The treasury emitted `Routed` for it, in a block still canonical (`settled_block_hash`).
    case routed
    /// The treasury emitted `RouteSkipped` for it, in a block still canonical (`settled_block_hash`).
    case skipped
    /// Terminal: a reorg removed the block that paid the reward; the claim no longer exists and is never
    /// sent again (a transaction that already carried it is still tracked by the journal to a final state).
    case orphaned

    /// States an intent never leaves by planning (only the chain's events, or a reorg, move them).
    public var isSettled: Bool { self == .routed || self == .skipped }
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
    /// Why it is skipped/lapsed/orphaned (a policy, a treasury reason or the reorg), if it is.
    public var reason: String?
    /// For `routed`/`skipped`: the block of the `Routed`/`RouteSkipped` event that settled it.
    public var settledBlock: UInt64?
    /// For `routed`/`skipped`: that block's hash; the settlement holds only while it is canonical.
    public var settledBlockHash: Bytes32?

    /// An intent from its parts.
    public init(claim: LogPosition, staker: Address, blockHash: Bytes32, amount: UInt256, shareBps: UInt16,
                expected: UInt256, state: IntentState, reason: String? = nil, settledBlock: UInt64? = nil,
                settledBlockHash: Bytes32? = nil) {
        self.claim = claim; self.staker = staker; self.blockHash = blockHash; self.amount = amount
        self.shareBps = shareBps; self.expected = expected; self.state = state; self.reason = reason
        self.settledBlock = settledBlock; self.settledBlockHash = settledBlockHash
    }

    /// The claim's identity (block hash, log index).
    public var id: ClaimID { ClaimID(blockHash: blockHash, logIndex: claim.logIndex) }
}

/// A reorg the ingestor handled.
public struct ReorgRecord: Equatable, Sendable {
    /// The row id in the reorg log (0 until recorded).
    public var id: Int64 = 0
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
