import EthereumCore
import JSONRPC
import KeeperStore

/// `audit`: verifies every `Routed` of the treasury from chain data alone (no store). For each `Routed` the
/// cited reward log must exist, be the configured reward event of the staking contract, name the same
/// staker and amount; the staker must have been registered when it was routed with `since_block ≤ claim
/// block` and that share; and `contributed == floor(reward × share_bps / 10000)`. A claim routed twice is a
/// discrepancy. `RouteSkipped` moving no money, a skip citing no reward is a note. Reward payments of
/// registered stakers that were neither routed nor skipped are listed as unrouted.
public struct AuditReport: Sendable {
    /// A problem with one `Routed` event.
    public struct Discrepancy: Sendable {
        /// Where the `Routed` log is in the treasury's history.
        public var routedAt: LogPosition
        /// The transaction that emitted the `Routed` log.
        public var txHash: Bytes32
        /// The staker the `Routed` event names.
        public var staker: Address
        /// The reward log the `Routed` event cites.
        public var claim: LogPosition
        /// The wei the `Routed` event says were contributed.
        public var contributed: UInt256
        /// What is wrong, in words (a `Routed` with several problems yields one discrepancy per problem).
        public var problem: String
    }
    /// A reward of a registered staker with no `Routed`/`RouteSkipped`.
    public struct Unrouted: Sendable {
        /// Where the uncited reward log is.
        public var claim: LogPosition
        /// The staker the reward paid.
        public var staker: Address
        /// The reward amount, in wei.
        public var amount: UInt256
        /// The staker's registered share in basis points at the reward's block.
        public var shareBps: UInt16
    }
    /// First block audited (`--from-block`, by default the treasury's deploy block).
    public var fromBlock: UInt64
    /// Last block audited, inclusive (`--to-block` capped at the latest block).
    public var toBlock: UInt64
    /// Number of `Routed` events in the range that were checked.
    public var routedChecked: Int
    /// Number of `RouteSkipped` events in the range that were checked.
    public var skippedChecked: Int
    /// Total wei contributed by the `Routed` events that passed every check.
    public var justifiedWei: UInt256
    /// One entry per problem found with a `Routed` event; empty when the audit passes.
    public var discrepancies: [Discrepancy]
    /// Findings that move no money, such as a `RouteSkipped` citing no reward log.
    public var notes: [String]
    /// Rewards of registered stakers in the range that no `Routed` or `RouteSkipped` cites.
    public var unrouted: [Unrouted]

    /// True when every routed wei is justified.
    public var ok: Bool { discrepancies.isEmpty }

    struct Registration { var position: LogPosition; var optedIn: Bool; var share: UInt16; var since: UInt64 }

    /// Runs the audit over treasury events of blocks `from...to` (defaults: the treasury's deploy block and
    /// the latest block).
    public static func run(config: KeeperConfig, bindings: Bindings, chain: any ChainReader, from: UInt64?, to: UInt64?) async throws -> AuditReport {
        let deploy = config.contracts.treasuryDeployBlock
        let head = try await chain.head(.latest)
        let to = min(to ?? head, head)
        let from = from ?? deploy
        guard from <= to else { throw EngineError.chain("--from-block \(from) is after --to-block \(to)") }
        let treasuryTopics = [Bindings.optedIn.topic0, Bindings.optedOut.topic0, Bindings.routed.topic0, Bindings.routeSkipped.topic0]
        var events: [ChainEvent] = []
        let scanFrom = min(deploy, from)
        try await chain.logs(addresses: [config.contracts.treasury], topics: [treasuryTopics], from: scanFrom, to: to) { _, logs in
            for l in logs {
                guard let li = UInt32(exactly: l.logIndex) else { continue }
                events.append(try Ingestor.decodeTreasury(l, position: LogPosition(block: l.blockNumber, logIndex: li)))
            }
        }
        var rewards: [LogPosition: RewardEvent] = [:]
        var rewardOrder: [RewardEvent] = []
        try await chain.logs(addresses: [config.contracts.staking], topics: [[bindings.reward.event.topic0]], from: from, to: to) { _, logs in
            for l in logs {
                guard let li = UInt32(exactly: l.logIndex), let (s, a) = try? bindings.reward.decode(topics: l.topics, data: l.data) else { continue }
                let r = RewardEvent(position: LogPosition(block: l.blockNumber, logIndex: li), blockHash: l.blockHash,
                                    txHash: l.transactionHash, staker: s, amount: a)
                rewards[r.position] = r
                rewardOrder.append(r)
            }
        }
        var history: [Address: [Registration]] = [:]
        for case let .registration(g) in events {
            history[g.staker, default: []].append(Registration(position: g.position, optedIn: g.optedIn, share: g.shareBps, since: g.sinceBlock))
        }
        func registration(_ staker: Address, before position: LogPosition) -> Registration? {
            history[staker]?.last { $0.position < position }
        }

        var report = AuditReport(fromBlock: from, toBlock: to, routedChecked: 0, skippedChecked: 0, justifiedWei: .zero,
                                 discrepancies: [], notes: [], unrouted: [])
        var cited = Set<LogPosition>()
        var routedClaims = Set<LogPosition>()
        var blockLogs: [UInt64: [RawLog]] = [:]

        /// The log at `claim` when it is not among the fetched reward logs: every log of its block.
        func lookup(_ claim: LogPosition) async throws -> String {
            if blockLogs[claim.block] == nil {
                var all: [RawLog] = []
                try await chain.logs(addresses: [], topics: [], from: claim.block, to: claim.block) { _, logs in all += logs }
                blockLogs[claim.block] = all
            }
            guard let log = blockLogs[claim.block]?.first(where: { $0.logIndex == UInt64(claim.logIndex) }) else {
                return "the cited claim \(claim) does not exist (block \(claim.block) has no log \(claim.logIndex))"
            }
            if log.address != config.contracts.staking {
                return "the cited log \(claim) was emitted by \(log.address.checksummed), not the staking contract"
            }
            if log.topics.first != bindings.reward.event.topic0 {
                return "the cited log \(claim) is not a \(bindings.reward.event.name) event"
            }
            return "the cited log \(claim) is not a decodable \(bindings.reward.event.signature)"
        }

        for case let .treasury(t) in events where t.position.block >= from {
            cited.insert(t.claim)
            switch t.outcome {
            case let .skipped(code):
                report.skippedChecked += 1
                if rewards[t.claim] == nil && t.claim.block >= from {
                    report.notes.append("RouteSkipped at \(t.position) (\(Bindings.reasonName(code))) cites \(t.claim), which is no reward log")
                }
            case let .routed(reward, contributed, share):
                report.routedChecked += 1
                var problems: [String] = []
                if routedClaims.contains(t.claim) { problems.append("the claim \(t.claim) was already routed (routed twice)") }
                routedClaims.insert(t.claim)
                var paid = rewards[t.claim]
                if paid == nil && t.claim.block < from {
                    var found: RewardEvent?
                    try await chain.logs(addresses: [config.contracts.staking], topics: [[bindings.reward.event.topic0]],
                                         from: t.claim.block, to: t.claim.block) { _, logs in
                        for l in logs where l.logIndex == UInt64(t.claim.logIndex) {
                            if let (s, a) = try? bindings.reward.decode(topics: l.topics, data: l.data) {
                                found = RewardEvent(position: t.claim, blockHash: l.blockHash, txHash: l.transactionHash, staker: s, amount: a)
                            }
                        }
                    }
                    paid = found
                }
                if let paid {
                    if paid.staker != t.staker { problems.append("the reward at \(t.claim) was paid to \(paid.staker.checksummed), not \(t.staker.checksummed)") }
                    if paid.amount != reward { problems.append("Routed reports reward \(reward) but the log at \(t.claim) pays \(paid.amount)") }
                } else {
                    problems.append(try await lookup(t.claim))
                }
                let reg = registration(t.staker, before: t.position)
                if let reg, reg.optedIn {
                    if reg.since > t.claim.block {
                        problems.append("the claim at block \(t.claim.block) predates the registration (since_block \(reg.since))")
                    }
                    if reg.share != share { problems.append("Routed says share \(share) bps but the registration was \(reg.share) bps") }
                } else {
                    problems.append("\(t.staker.checksummed) was not registered when the claim was routed")
                }
                let basis = paid?.amount ?? reward
                let shareUsed = (reg?.optedIn == true) ? reg?.share ?? share : share
                let due = Planner.contribution(amount: basis, shareBps: shareUsed)
                if due != contributed { problems.append("contributed \(contributed) but floor(\(basis) × \(shareUsed) / 10000) = \(due)") }
                if problems.isEmpty {
                    report.justifiedWei = report.justifiedWei.addingReportingOverflow(contributed).partialValue
                } else {
                    for p in problems {
                        report.discrepancies.append(Discrepancy(routedAt: t.position, txHash: t.txHash, staker: t.staker, claim: t.claim,
                                                                contributed: contributed, problem: p))
                    }
                }
            }
        }
        // Rewards of registered stakers nobody routed or skipped.
        for r in rewardOrder where !cited.contains(r.position) {
            let reg = history[r.staker]?.last { $0.position.block <= r.position.block }
            if let reg, reg.optedIn, reg.since <= r.position.block {
                report.unrouted.append(Unrouted(claim: r.position, staker: r.staker, amount: r.amount, shareBps: reg.share))
            }
        }
        return report
    }

    /// The JSON document.
    public var json: [String: Any] {
        ["from_block": fromBlock, "to_block": toBlock, "ok": ok, "routed_checked": routedChecked, "skipped_checked": skippedChecked,
         "justified_wei": justifiedWei.decimalString,
         "discrepancies": discrepancies.map { d -> [String: Any] in
             ["routed_at": d.routedAt.description, "tx": d.txHash.hexString, "staker": d.staker.checksummed,
              "claim_block": d.claim.block, "claim_log_index": Int(d.claim.logIndex), "contributed": d.contributed.decimalString,
              "problem": d.problem]
         },
         "notes": notes,
         "unrouted": unrouted.map { u -> [String: Any] in
             ["claim_block": u.claim.block, "claim_log_index": Int(u.claim.logIndex), "staker": u.staker.checksummed,
              "reward": u.amount.decimalString, "share_bps": Int(u.shareBps)]
         }]
    }

    /// The human report.
    public var text: String {
        var out = "audit of treasury events in blocks \(fromBlock)...\(toBlock): \(routedChecked) Routed, \(skippedChecked) RouteSkipped checked\n"
        if discrepancies.isEmpty {
            out += "OK: every routed wei is justified (\(justifiedWei) wei)\n"
        } else {
            out += "\(discrepancies.count) DISCREPANCY(IES):\n"
            var t = TextTable(["routed_at", "staker", "claim", "contributed_wei", "problem"])
            for d in discrepancies { t.add([d.routedAt.description, d.staker.checksummed, d.claim.description, d.contributed.decimalString, d.problem]) }
            out += t.render()
        }
        for n in notes { out += "note: \(n)\n" }
        if !unrouted.isEmpty {
            out += "\(unrouted.count) reward(s) of registered stakers neither routed nor skipped:\n"
            var t = TextTable(["claim", "staker", "reward_wei", "share_bps"])
            for u in unrouted { t.add([u.claim.description, u.staker.checksummed, u.amount.decimalString, "\(u.shareBps)"]) }
            out += t.render()
        }
        return out
    }
}
