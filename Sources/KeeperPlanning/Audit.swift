import EthereumABI
import EthereumCore
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperStore

/// `audit`: verifies the treasury's history from chain data alone (no store), strictly.
///
/// - Every `Routed`: the cited reward log must exist on the canonical chain, be the configured reward event
///   of the staking contract, name the same staker and amount; the staker must have been registered when it
///   was routed with `since_block ≤ claim block` and that share; `contributed == floor(reward × share_bps /
///   10000)`; no claim routed twice. Each problem is a discrepancy.
/// - Every `RouteSkipped` must cite a real reward of that staker — unless its reason is the treasury's own
///   ORPHANED or FUTURE check, which is what a routing transaction re-mined after a reorg produces: that is
///   justified (and cites nothing: it does not account for the canonical reward at the same position).
/// - Every eligible reward (registered staker, `since_block ≤` claim block, share > 0, in force at the claim)
///   older than the grace window must be routed or skipped — unless the chain shows it could not have been:
///   the staker's allowance or balance was below the contribution at the claim's block and at the end of the
///   grace window (`eth_call` at those blocks), the registration changed within the grace window, or the
///   keeper's configured policy excludes it (`min_route_wei`, a zero contribution, `max_routed_per_tx`).
///   Those are justified omissions, listed with their reason.
///
/// `ok` is false on any discrepancy or finding (the CLI exits 1); an audit that cannot be done (RPC failure,
/// a bad range, a provider that cannot serve a block's state) throws (the CLI exits 2).
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
    /// Something wrong that is not a `Routed` discrepancy, or a justified exception, about one claim.
    public struct Finding: Sendable {
        /// `skip_cites_no_reward`, `unrouted` (wrong); `orphaned_skip`, `future_skip`, `no_allowance`,
        /// `allowance_below_amount`, `balance_below_amount`, `registration_changed`, `policy` (justified).
        public var kind: String
        /// The reward log (or the position the event cites).
        public var claim: LogPosition
        /// The staker.
        public var staker: Address
        /// The reward amount in wei (nil when no reward exists at the position).
        public var amount: UInt256?
        /// The contribution due at the staker's share (nil when not applicable).
        public var contribution: UInt256?
        /// Why, in words.
        public var why: String
    }
    /// A reward of a registered staker with no `Routed`/`RouteSkipped` (wrong, or justified, or not yet due).
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
    /// Rewards must be routed or skipped within this many blocks (`--grace-blocks`).
    public var graceBlocks: UInt64 = 0
    /// Number of `Routed` events in the range that were checked.
    public var routedChecked: Int
    /// Number of `RouteSkipped` events in the range that were checked.
    public var skippedChecked: Int
    /// Total wei contributed by the `Routed` events that passed every check.
    public var justifiedWei: UInt256
    /// One entry per problem found with a `Routed` event.
    public var discrepancies: [Discrepancy]
    /// What else is wrong (a skip citing no reward, an eligible reward left unrouted past the grace window).
    public var findings: [Finding] = []
    /// Exceptions the chain justifies (orphaned/future skips, omissions the staker's allowance, balance,
    /// registration or the keeper's policy explain).
    public var justified: [Finding] = []
    /// Notes that are neither wrong nor justifications.
    public var notes: [String]
    /// Eligible rewards neither routed nor skipped (every one, due or not; the due and unexplained ones are
    /// also in `findings`).
    public var unrouted: [Unrouted]
    /// Eligible rewards younger than the grace window, not yet routed (not wrong yet).
    public var notYetDue: Int = 0

    /// True when every routed wei is justified and nothing is wrong or missing.
    public var ok: Bool { discrepancies.isEmpty && findings.isEmpty }

    struct Registration { var position: LogPosition; var optedIn: Bool; var share: UInt16; var since: UInt64 }

    /// The default grace window: `confirmations` (for safe/finalized, the head's current distance to that
    /// block) plus the blocks of two poll intervals at the chain's recent block time (from the timestamps of
    /// the last 100 blocks; at least one block).
    public static func defaultGrace(config: KeeperConfig, chain: any ChainReader, head: UInt64) async throws -> UInt64 {
        let confirmations: UInt64
        switch config.chain.confirmations {
        case let .blocks(n): confirmations = n
        case .safe: confirmations = head - min(head, try await chain.head(.safe))
        case .finalized: confirmations = head - min(head, try await chain.head(.finalized))
        }
        let span: UInt64 = min(100, head)
        var blockMs: UInt64 = 1000
        if span > 0 {
            let b = try await chain.blocks([head - span, head])
            if b.count == 2, b[1].timestamp > b[0].timestamp { blockMs = max(1, (b[1].timestamp - b[0].timestamp) * 1000 / span) }
        }
        let pollBlocks = max(1, (2 * config.chain.pollIntervalMs + blockMs - 1) / blockMs)
        return confirmations + pollBlocks
    }

    /// Runs the audit over treasury events of blocks `from...to` (defaults: the treasury's deploy block and
    /// the latest block). `graceBlocks` nil uses `defaultGrace`.
    public static func run(config: KeeperConfig, bindings: Bindings, chain: any ChainReader, from: UInt64?, to: UInt64?,
                           graceBlocks: UInt64? = nil) async throws -> AuditReport {
        let deploy = config.contracts.treasuryDeployBlock
        let id = try await chain.chainID()
        guard id == config.chain.chainID else {
            throw EngineError.chain("the RPC endpoints report chain id \(id) but chain.chain_id is \(config.chain.chainID): refusing to audit another chain")
        }
        let head = try await chain.head(.latest)
        let to = min(to ?? head, head)
        let from = from ?? deploy
        guard from <= to else { throw EngineError.chain("--from-block \(from) is after --to-block \(to)") }
        var grace = graceBlocks ?? 0
        if graceBlocks == nil { grace = try await defaultGrace(config: config, chain: chain, head: head) }
        let decoder = TreasuryLogDecoder(kind: config.treasury.kind)
        var events: [ChainEvent] = []
        let scanFrom = min(deploy, from)
        try await chain.logs(addresses: [config.contracts.treasury], topics: [decoder.topics], from: scanFrom, to: to) { _, logs in
            events += try await decoder.decode(logs.filter { UInt32(exactly: $0.logIndex) != nil }, chain: chain)
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

        var report = AuditReport(fromBlock: from, toBlock: to, graceBlocks: grace, routedChecked: 0, skippedChecked: 0,
                                 justifiedWei: .zero, discrepancies: [], notes: [], unrouted: [])
        var cited = Set<LogPosition>()
        var routedClaims = Set<LogPosition>()
        var blockLogs: [UInt64: [RawLog]] = [:]
        var olderBlocks: [UInt64: [LogPosition: RewardEvent]] = [:]

        /// The reward at `claim`: from the audited range, or (for claims before `from`) fetched once per block.
        func rewardLog(at claim: LogPosition) async throws -> RewardEvent? {
            if claim.block >= from { return rewards[claim] }
            if olderBlocks[claim.block] == nil {
                var found: [LogPosition: RewardEvent] = [:]
                try await chain.logs(addresses: [config.contracts.staking], topics: [[bindings.reward.event.topic0]],
                                     from: claim.block, to: claim.block) { _, logs in
                    for l in logs {
                        guard let li = UInt32(exactly: l.logIndex), let (s, a) = try? bindings.reward.decode(topics: l.topics, data: l.data) else { continue }
                        let p = LogPosition(block: l.blockNumber, logIndex: li)
                        found[p] = RewardEvent(position: p, blockHash: l.blockHash, txHash: l.transactionHash, staker: s, amount: a)
                    }
                }
                olderBlocks[claim.block] = found
            }
            return olderBlocks[claim.block]?[claim]
        }

        /// Why the log at `claim` is not a reward (it is missing, or another contract's, or another event).
        func lookup(_ claim: LogPosition) async throws -> String {
            if blockLogs[claim.block] == nil {
                var all: [RawLog] = []
                if claim.block <= head {
                    try await chain.logs(addresses: [], topics: [], from: claim.block, to: claim.block) { _, logs in all += logs }
                }
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
            switch t.outcome {
            case let .skipped(code):
                report.skippedChecked += 1
                let paid = try await rewardLog(at: t.claim)
                if code == Bindings.reasonOrphaned || code == Bindings.reasonFuture {
                    // Cites no canonical claim: the reward at that position (if any) still needs its own route.
                    let what = code == Bindings.reasonOrphaned ? "the treasury's orphaned-block check" : "the treasury's future-block check"
                    report.justified.append(Finding(kind: code == Bindings.reasonOrphaned ? "orphaned_skip" : "future_skip", claim: t.claim,
                                                    staker: t.staker, amount: nil, contribution: nil,
                                                    why: "RouteSkipped at \(t.position) (tx \(t.txHash.hexString)) is \(what): a routing "
                                                        + "transaction citing a block hash the chain does not have (re-mined after a reorg)"))
                    continue
                }
                if config.treasury.kind == .proven && Bindings.proofRefusals.contains(code) {
                    // The ProvenExpansionTreasury refused input it could not verify (anyone may send any): nothing was taken.
                    report.justified.append(Finding(kind: "proof_refused", claim: t.claim, staker: t.staker, amount: nil, contribution: nil,
                                                    why: "RouteSkipped at \(t.position) (\(Bindings.reasonName(code)), tx \(t.txHash.hexString)) is "
                                                        + "the treasury refusing a claim its proof checks did not accept; nothing was taken"))
                    continue
                }
                guard let paid, paid.staker == t.staker else {
                    var why = paid.map { "the reward at \(t.claim) was paid to \($0.staker.checksummed), not \(t.staker.checksummed)" } ?? ""
                    if paid == nil { why = try await lookup(t.claim) }
                    report.findings.append(Finding(kind: "skip_cites_no_reward", claim: t.claim, staker: t.staker, amount: nil, contribution: nil,
                                                   why: "RouteSkipped at \(t.position) (\(Bindings.reasonName(code)), tx \(t.txHash.hexString)) "
                                                       + "cites a reward that does not exist on the canonical chain: \(why)"))
                    continue
                }
                // With the proven treasury anyone may route: a skip for the moment's allowance, balance or token
                // (7–10) does not end the claim (it stays routable), so it does not account for the reward either —
                // the reward is judged below like one nobody routed.
                if config.treasury.kind == .proven && !Bindings.finalSkipReasons.contains(code) { continue }
                cited.insert(t.claim)
            case let .routed(reward, contributed, share):
                cited.insert(t.claim)
                report.routedChecked += 1
                var problems: [String] = []
                if routedClaims.contains(t.claim) { problems.append("the claim \(t.claim) was already routed (routed twice)") }
                routedClaims.insert(t.claim)
                let paid = try await rewardLog(at: t.claim)
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

        // Eligible rewards nobody routed or skipped.
        let token = try await Bindings.rewardToken(treasury: config.contracts.treasury, chain: chain)
        for r in rewardOrder where !cited.contains(r.position) {
            guard let reg = history[r.staker]?.last(where: { $0.position.block <= r.position.block }),
                  reg.optedIn, reg.share > 0, reg.since <= r.position.block else { continue }
            report.unrouted.append(Unrouted(claim: r.position, staker: r.staker, amount: r.amount, shareBps: reg.share))
            guard head >= r.position.block &+ grace else { report.notYetDue += 1; continue }
            let contribution = Planner.contribution(amount: r.amount, shareBps: reg.share)
            let end = r.position.block + grace
            func omission(_ kind: String, _ why: String) -> Finding {
                Finding(kind: kind, claim: r.position, staker: r.staker, amount: r.amount, contribution: contribution, why: why)
            }
            if contribution.isZero {
                report.justified.append(omission("policy", "zero contribution at \(reg.share) bps")); continue
            }
            if contribution < config.keeper.minRouteWei {
                report.justified.append(omission("policy", "contribution below min_route_wei (\(config.keeper.minRouteWei))")); continue
            }
            if let cap = config.keeper.maxRoutedPerTxWei, contribution > cap {
                report.justified.append(omission("policy", "contribution alone exceeds max_routed_per_tx (\(cap) wei)")); continue
            }
            if let change = history[r.staker]?.first(where: { $0.position.block > r.position.block && $0.position.block <= end }) {
                report.justified.append(omission("registration_changed", change.optedIn
                    ? "the staker changed the share at block \(change.position.block), within the grace window"
                    : "the staker opted out at block \(change.position.block), within the grace window"))
                continue
            }
            if let token {
                let spender = config.contracts.treasury
                let allowance = try await uintCall(chain, token, "allowance(address,address)", [.address(r.staker), .address(spender)],
                                                   at: [r.position.block, end])
                if allowance.allSatisfy({ $0 < contribution }) {
                    let none = allowance.allSatisfy(\.isZero)
                    report.justified.append(omission(none ? "no_allowance" : "allowance_below_amount", none
                        ? "no allowance: the staker's allowance to the treasury was 0 at blocks \(r.position.block) and \(end)"
                        : "allowance below the amount: \(allowance.map(\.decimalString).joined(separator: " and ")) wei at blocks "
                            + "\(r.position.block) and \(end), below the contribution \(contribution)"))
                    continue
                }
                let balance = try await uintCall(chain, token, "balanceOf(address)", [.address(r.staker)], at: [r.position.block, end])
                if balance.allSatisfy({ $0 < contribution }) {
                    report.justified.append(omission("balance_below_amount",
                        "balance below the amount: \(balance.map(\.decimalString).joined(separator: " and ")) wei at blocks "
                            + "\(r.position.block) and \(end), below the contribution \(contribution)"))
                    continue
                }
            }
            report.findings.append(omission("unrouted", "an eligible reward (\(reg.share) bps, contribution \(contribution) wei) was neither "
                + "routed nor skipped \(head - r.position.block) blocks later (grace \(grace) blocks)"))
        }
        return report
    }

    /// A `uint256` view of `token` at each of `blocks`. A node that cannot serve a block's state (pruned)
    /// makes the audit impossible: the error names the block.
    static func uintCall(_ chain: any ChainReader, _ token: Address, _ signature: String, _ args: [ABIValue],
                         at blocks: [UInt64]) async throws -> [UInt256] {
        let data = try ABIFunction(signature: signature).encodeCall(args)
        var out: [UInt256] = []
        for b in blocks {
            let outcome: CallOutcome
            do { outcome = try await chain.call(from: nil, to: token, data: data, block: b) } catch {
                throw EngineError.chain("cannot read the state of block \(b) (\(signature) on \(token.checksummed)): \(error) "
                                        + "— the provider may have pruned it; audit with an archive node")
            }
            guard case let .returned(ret) = outcome, case let .uint(v)? = try? ABIDecoder.decode([.uint256], from: ret).first else {
                throw EngineError.chain("\(signature) on \(token.checksummed) at block \(b) did not return a uint256")
            }
            out.append(v)
        }
        return out
    }

    /// The JSON document.
    public var json: [String: Any] {
        func finding(_ f: Finding) -> [String: Any] {
            ["kind": f.kind, "claim_block": f.claim.block, "claim_log_index": Int(f.claim.logIndex), "staker": f.staker.checksummed,
             "amount": JSONOut.orNull(f.amount?.decimalString), "contribution": JSONOut.orNull(f.contribution?.decimalString), "why": f.why]
        }
        return ["from_block": fromBlock, "to_block": toBlock, "grace_blocks": graceBlocks, "ok": ok, "routed_checked": routedChecked,
                "skipped_checked": skippedChecked, "justified_wei": justifiedWei.decimalString,
                "discrepancies": discrepancies.map { d -> [String: Any] in
                    ["routed_at": d.routedAt.description, "tx": d.txHash.hexString, "staker": d.staker.checksummed,
                     "claim_block": d.claim.block, "claim_log_index": Int(d.claim.logIndex), "contributed": d.contributed.decimalString,
                     "problem": d.problem]
                },
                "findings": findings.map(finding), "justified": justified.map(finding), "notes": notes,
                "not_yet_due": notYetDue,
                "unrouted": unrouted.map { u -> [String: Any] in
                    ["claim_block": u.claim.block, "claim_log_index": Int(u.claim.logIndex), "staker": u.staker.checksummed,
                     "reward": u.amount.decimalString, "share_bps": Int(u.shareBps)]
                }]
    }

    /// The human report.
    public var text: String {
        var out = "audit of treasury events in blocks \(fromBlock)...\(toBlock): \(routedChecked) Routed, \(skippedChecked) RouteSkipped checked; "
            + "grace \(graceBlocks) blocks\n"
        if ok {
            out += "OK: every routed wei is justified (\(justifiedWei) wei) and no eligible reward is missing\n"
        } else {
            out += "FAILED: \(discrepancies.count) discrepancy(ies), \(findings.count) other finding(s)\n"
        }
        if !discrepancies.isEmpty {
            out += "\(discrepancies.count) DISCREPANCY(IES):\n"
            var t = TextTable(["routed_at", "staker", "claim", "contributed_wei", "problem"])
            for d in discrepancies { t.add([d.routedAt.description, d.staker.checksummed, d.claim.description, d.contributed.decimalString, d.problem]) }
            out += t.render()
        }
        func table(_ fs: [Finding]) -> String {
            var t = TextTable(["kind", "claim", "staker", "amount_wei", "why"])
            for f in fs { t.add([f.kind, f.claim.description, f.staker.checksummed, f.amount?.decimalString ?? "-", f.why]) }
            return t.render()
        }
        if !findings.isEmpty { out += "\(findings.count) FINDING(S):\n" + table(findings) }
        if !justified.isEmpty { out += "\(justified.count) justified exception(s) (not failures):\n" + table(justified) }
        if notYetDue > 0 { out += "\(notYetDue) eligible reward(s) younger than the grace window, not yet routed (not failures)\n" }
        for n in notes { out += "note: \(n)\n" }
        return out
    }
}
