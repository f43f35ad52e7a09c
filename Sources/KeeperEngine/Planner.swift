import EthereumCore
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
/// Rules (the treasury's, SPEC §3): a reward of block B is routable iff its staker is registered now and
/// the registration's `since_block ≤ B`; the contribution is floor(amount × share_bps / 10000) at the
/// current share. Because `opt_in` sets `since_block` to its own block, a share change or an opt-out makes
/// every earlier unrouted reward of that staker unroutable for good: those intents become `lapsed`.
/// Contributions below `min_route_wei` (and zero contributions) are `policy_skipped`. `Routed` /
/// `RouteSkipped` settle the intent they cite.
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
                    // Rewards paid in the registration's own block are routable under it (since_block ≤ block).
                    for r in try w.reader.rewardEvents(staker: g.staker, inBlock: g.sinceBlock) {
                        try w.put(intent(for: r, share: g.shareBps))
                    }
                } else {
                    let now = StakerRegistration(staker: g.staker, registered: false, shareBps: previous?.shareBps ?? 0,
                                                 sinceBlock: previous?.sinceBlock ?? 0)
                    try w.putStaker(now)
                    cache[g.staker] = .some(now)
                    try w.lapseOpenIntents(of: g.staker, claimsBefore: .max, reason: "opted out at block \(g.position.block)")
                }
            case let .treasury(t):
                if storingEvents { try w.insert(t) }
                let existing = try w.reader.intent(at: t.claim)
                let reward = try existing == nil ? w.reader.rewardEvent(at: t.claim) : nil
                guard existing != nil || reward != nil else { continue }  // cites no reward we know: audit reports it
                var i = existing ?? RouteIntent(claim: t.claim, staker: t.staker, blockHash: reward?.blockHash ?? .zero,
                                                amount: reward?.amount ?? .zero, shareBps: 0, expected: .zero, state: .pending)
                switch t.outcome {
                case let .routed(_, contributed, share):
                    i.state = .routed; i.expected = contributed; i.shareBps = share; i.reason = nil
                case let .skipped(code):
                    if i.state == .routed { continue }  // a later DUPLICATE skip never undoes a route
                    i.state = .skipped; i.reason = Bindings.reasonName(code)
                }
                try w.put(i, overridingSettled: true)
            }
        }
    }
}
