import EthereumABI
import EthereumCore
import KeeperCore
import KeeperStore

/// One decoded event of an ingested range.
public enum ChainEvent: Sendable, Equatable {
    case reward(RewardEvent)
    case registration(RegistrationEvent)
    case treasury(TreasuryEvent)

    /// The log's position.
    public var position: LogPosition {
        switch self {
        case let .reward(e): return e.position
        case let .registration(e): return e.position
        case let .treasury(e): return e.position
        }
    }
}

/// The registry and the route planner, applied event by event in chain order inside the ingest transaction.
///
/// Rules (the treasury's; deploy/contracts/README.md): a reward of block B is routable iff its staker is
/// registered now and the registration's `since_block ≤ B` (`since_block` is taken from the `OptedIn` event:
/// the block after the `opt_in`); the contribution is floor(amount × share_bps / 10000) at the current share.
/// A share change or an opt-out makes every earlier unrouted reward of that staker unroutable for good: those
/// intents become `lapsed`. Contributions below `min_route_wei` (and zero contributions) are `policy_skipped`.
/// `Routed` / `RouteSkipped` settle the intent of the claim they cite — identified by (block hash, log index):
/// the event names only the position, so the hash comes from the routing transaction (`claimHash`).
public struct Planner: Sendable {
    /// Contributions below this are skipped by policy.
    public let minRouteWei: UInt256

    /// A planner with a dust threshold.
    public init(minRouteWei: UInt256) { self.minRouteWei = minRouteWei }

    /// floor(amount × share_bps / 10000), exact for any uint256 amount.
    public static func contribution(amount: UInt256, shareBps: UInt16) -> UInt256 {
        // amount × bps may exceed 2^256: split amount = q × 10000 + r.
        let (q, r): (UInt256, UInt64) = amount.quotientAndRemainder(dividingBy: UInt64(10_000))
        let bps = UInt64(shareBps)
        return q.multipliedReportingOverflow(by: UInt256(bps)).partialValue + UInt256((r * bps) / 10_000)
    }

    func intent(for r: RewardEvent, share: UInt16) -> RouteIntent {
        let expected = Self.contribution(amount: r.amount, shareBps: share)
        var state = IntentState.pending
        var reason: String?
        if expected.isZero { state = .policySkipped; reason = "zero contribution" }
        else if expected < minRouteWei { state = .policySkipped; reason = "below min_route_wei (\(minRouteWei))" }
        return RouteIntent(claim: r.position, staker: r.staker, blockHash: r.blockHash, amount: r.amount, shareBps: share,
                           expected: expected, state: state, reason: reason)
    }

    /// Stores `events` (in chain order) and updates the registry and intents (with `storingEvents` false:
    /// events already stored, only the registry and intents are derived).
    public func apply(_ events: [ChainEvent], to w: StoreWriter, storingEvents: Bool = true) throws {
        var cache: [Address: StakerRegistration?] = [:]
        var calldata: [Bytes32: [RouteCall.Claim]?] = [:]
        func registration(_ a: Address) throws -> StakerRegistration? {
            if let hit = cache[a] { return hit }
            let s = try w.reader.staker(a)
            cache[a] = .some(s)
            return s
        }
        for event in events {
            switch event {
            case let .reward(r):
                if storingEvents { try w.insert(r) }
                if let reg = try registration(r.staker), reg.registered, reg.sinceBlock <= r.position.block {
                    try w.put(intent(for: r, share: reg.shareBps))
                }
            case let .registration(g):
                if storingEvents { try w.insert(g) }
                let previous = try registration(g.staker)
                if g.optedIn {
                    let now = StakerRegistration(staker: g.staker, registered: true, shareBps: g.shareBps, sinceBlock: g.sinceBlock)
                    try w.putStaker(now)
                    cache[g.staker] = .some(now)
                    let why = previous?.registered == true ? "share changed to \(g.shareBps) bps at block \(g.position.block)"
                                                           : "registration renewed at block \(g.position.block)"
                    try w.lapseOpenIntents(of: g.staker, claimsBefore: g.sinceBlock, reason: why)
                } else {
                    let now = StakerRegistration(staker: g.staker, registered: false, shareBps: previous?.shareBps ?? 0,
                                                 sinceBlock: previous?.sinceBlock ?? 0)
                    try w.putStaker(now)
                    cache[g.staker] = .some(now)
                    try w.lapseOpenIntents(of: g.staker, claimsBefore: .max, reason: "opted out at block \(g.position.block)")
                }
            case let .treasury(event):
                var t = event
                if t.claimBlockHash == nil { t.claimBlockHash = try Self.claimHash(of: t, in: w.reader, calldata: &calldata) }
                if storingEvents { try w.insert(t) }
                // A claim of another fork (an ORPHANED/FUTURE skip of a re-mined transaction) settles nothing here.
                guard let id = t.claimID else { continue }
                // A skip from a transaction that is not ours settles the claim only when its reason is final for the claim
                // (not registered, before opt-in, duplicate, zero): anyone may call the proven treasury, with a broken proof
                // of a real claim or at a moment the staker's allowance is short; the keeper still routes the claim then.
                if case let .skipped(code) = t.outcome, !Bindings.finalSkipReasons.contains(code),
                   try w.reader.journaled(hash: t.txHash) == nil { continue }
                let existing = try w.reader.intent(id: id)
                if existing?.state == .orphaned { continue }
                let reward = try existing == nil ? w.reader.rewardEvent(at: t.claim).flatMap { $0.blockHash == id.blockHash ? $0 : nil } : nil
                guard existing != nil || reward != nil else { continue }  // cites no reward we know: audit reports it
                var i = existing ?? RouteIntent(claim: t.claim, staker: t.staker, blockHash: id.blockHash,
                                                amount: reward?.amount ?? .zero, shareBps: 0, expected: .zero, state: .pending)
                switch t.outcome {
                case let .routed(_, contributed, share):
                    i.state = .routed; i.expected = contributed; i.shareBps = share; i.reason = nil
                case let .skipped(code):
                    if i.state == .routed { continue }  // a later DUPLICATE skip never undoes a route
                    i.state = .skipped; i.reason = Bindings.reasonName(code)
                }
                i.settledBlock = t.position.block
                i.settledBlockHash = t.blockHash
                try w.put(i, overridingSettled: true)
            }
        }
    }

    /// The block hash of the claim a `Routed`/`RouteSkipped` settles. Our own routing transactions are in the
    /// journal: their calldata names the hash exactly. Otherwise the treasury's own checks tell: it compared
    /// the hash with the chain (within its verifiable window) and emitted ORPHANED or FUTURE when it did not
    /// match — those cite no canonical claim (nil); anything else cites the canonical reward at that position.
    static func claimHash(of t: TreasuryEvent, in r: StoreReader, calldata cache: inout [Bytes32: [RouteCall.Claim]?]) throws -> Bytes32? {
        if t.claim.logIndex == TreasuryEvent.unresolvedLogIndex { return nil }  // a proven claim that maps to no log
        if cache[t.txHash] == nil {
            cache[t.txHash] = .some(try r.journaled(hash: t.txHash).flatMap { try? RouteCall.claims(ofRawTransaction: $0.raw) })
        }
        if let claims = cache[t.txHash] ?? nil {
            return claims.first { $0.staker == t.staker && $0.position == t.claim }?.blockHash
        }
        if case let .skipped(code) = t.outcome, code == Bindings.reasonFuture || code == Bindings.reasonOrphaned { return nil }
        return try r.rewardEvent(at: t.claim)?.blockHash ?? r.blockHash(t.claim.block)
    }
}

/// The claims of a `route(claims)` call, decoded from a transaction's calldata.
public enum RouteCall {
    /// One `Claim` struct of the call.
    public struct Claim: Sendable, Equatable {
        /// The staker.
        public var staker: Address
        /// The reported reward.
        public var amount: UInt256
        /// (block number, log index) of the reward log.
        public var position: LogPosition
        /// The block hash the call gives for it.
        public var blockHash: Bytes32
    }

    /// Decodes `route(...)` calldata; throws when it is not a `route` call.
    public static func claims(ofCalldata data: [UInt8]) throws -> [Claim] {
        guard case let .array(list)? = try Bindings.route.decodeCall(data).first else { return [] }
        return try list.map { v in
            guard case let .tuple(f) = v, f.count == 5, case let .address(staker) = f[0], case let .uint(amount) = f[1],
                  case let .uint(block) = f[2], case let .uint(index) = f[3], case let .fixedBytes(hash, _) = f[4],
                  block <= UInt256(UInt64.max), index <= UInt256(UInt64(UInt32.max)) else {
                throw EngineError.chain("a route() claim with an unexpected shape")
            }
            return Claim(staker: staker, amount: amount, position: LogPosition(block: block.l0, logIndex: UInt32(index.l0)), blockHash: hash)
        }
    }

    /// Decodes the claims of a raw signed transaction that calls `route`.
    public static func claims(ofRawTransaction raw: [UInt8]) throws -> [Claim] {
        try claims(ofCalldata: try SignedTransaction.decode(raw).transaction.data)
    }
}

