import EthereumABI
import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperStore

/// `status`: where ingestion stands (store, read-only) and how far behind the chain it is.
public struct StatusReport: Sendable {
    /// The chain id the store is bound to (the configured `chain_id` while the store has no identity yet).
    public var chainID: UInt64
    /// The latest block number from the RPC; nil when no chain reader was given or the query failed.
    public var head: UInt64?
    /// Why the head query failed; nil when it succeeded or no chain reader was given.
    public var headError: String?
    /// head − n for `confirmations = n`; nil with safe/finalized, without a head, or while the chain is shorter than n.
    public var target: UInt64?
    /// The next block to ingest (the store's `next_block`); nil before ingestion has started.
    public var cursor: UInt64?
    /// Number of reorgs the ingestor handled (entries in the store's reorg log).
    public var reorgsSeen: UInt64
    /// Number of reorgs deeper than `reorg_window` that halted ingestion (the `deep_reorgs` counter).
    public var deepReorgs: UInt64
    /// Number of reward events stored.
    public var rewardEvents: Int
    /// Number of route intents per state; a state with none may be absent.
    public var intents: [IntentState: Int]
    /// Stakers registered now (their last treasury event was `OptedIn`).
    public var registeredStakers: Int
    /// Stakers that ever registered, including those that opted out since.
    public var knownStakers: Int
    /// Nonces with a routing transaction not final yet (`sent`, or `mined` but not `confirmations` deep).
    public var inFlightTransactions: Int
    /// One in-flight nonce: its newest journaled transaction, when the nonce was first sent, its fees.
    public struct InFlight: Sendable {
        /// The account nonce (what `tx cancel|replace --nonce` takes).
        public var nonce: UInt64
        /// The newest transaction at this nonce (the one the node should have).
        public var hash: Bytes32
        /// `sent` or `mined`.
        public var state: JournalState
        /// Unix seconds when the nonce's first transaction was journaled (its age is measured from there).
        public var firstSentAt: Int64
        /// The newest transaction's fee cap, in wei.
        public var maxFeePerGas: UInt256
        /// The newest transaction's priority fee, in wei.
        public var maxPriorityFeePerGas: UInt256
        /// Transactions journaled at this nonce before the newest (fee bumps, rescues).
        public var replacements: Int
    }
    /// The pause file (`pause_file`, default `<data_dir>/PAUSE`) exists.
    public var pauseFilePresent: Bool = false
    /// The treasury's `paused()`; nil when no chain reader was given or the call failed.
    public var treasuryPaused: Bool? = nil
    /// Why the submitter last deferred new batches (the store's `submission_deferred` meta: a pause or a cap),
    /// nil when it is submitting.
    public var submissionDeferred: String? = nil

    /// New submissions are stopped by the pause file or the treasury's `paused()`.
    public var submissionPaused: Bool { pauseFilePresent || treasuryPaused == true }

    /// One line on submission: paused (and by what), deferred (and why), or active.
    public var submissionText: String {
        var why: [String] = []
        if pauseFilePresent { why.append("pause file present") }
        if treasuryPaused == true { why.append("the treasury is paused()") }
        if !why.isEmpty { return "paused (" + why.joined(separator: "; ") + ")" }
        if let submissionDeferred { return "deferred (\(submissionDeferred))" }
        return "active"
    }
    /// The last error recorded in the store's `last_error` meta; nil when none was recorded.
    public var lastError: String?
    /// The in-flight nonces, lowest first (the stuck one is usually the first).
    public var inFlight: [InFlight] = []
    /// When the report was made (Unix seconds), for the in-flight ages.
    public var now: Int64 = Int64(Date().timeIntervalSince1970)
    /// `[store] backend` ("sqlite" or "postgres") and where the data lives (file, or URL without password).
    public var store: (backend: String, location: String) = ("sqlite", "")
    /// With `[ha]`: this instance, its role ("leader" or "follower"), the lease holder ("none" when the lease expired
    /// with no one taking it yet), the epoch and how long the lease still runs (ms; negative once expired).
    public var ha: (instance: String, role: String, leader: String, epoch: UInt64, expiresInMs: Int64)?

    /// Blocks the keeper still has to ingest: `confirmed target − last ingested block`, 0 when caught up — the one
    /// definition the text, `--json`, the `expansion_keeper_lag_blocks` metric and readiness use (nil when the
    /// target is unknown). The head itself is shown beside it.
    public var lagBlocks: UInt64? {
        guard let target else { return nil }
        let last = (cursor ?? 0) == 0 ? 0 : (cursor ?? 1) - 1
        return target > last ? target - last : 0
    }

    /// Reads the store (read-only) and, when `chain` answers, the head.
    public static func make(config: KeeperConfig, store: KeeperStore, chain: (any ChainReader)?) async throws -> StatusReport {
        var report = try store.read { r in
            StatusReport(chainID: try r.identity()?.chainID ?? config.chain.chainID, head: nil, headError: nil, target: nil,
                         cursor: try r.cursor(), reorgsSeen: UInt64(try r.reorgs().count), deepReorgs: try r.counter("deep_reorgs"),
                         rewardEvents: try r.rewardCount(), intents: try r.intentCounts(),
                         registeredStakers: try r.stakers().filter(\.registered).count, knownStakers: try r.stakers().count,
                         inFlightTransactions: try r.inFlightTransactionCount(),
                         submissionDeferred: try r.meta("submission_deferred"), lastError: try r.meta("last_error"),
                         inFlight: Self.inFlight(try r.journal(states: nil)))
        }
        report.store = (store.backend.rawValue, store.path)
        if config.ha.enabled {
            let lease = try store.currentLease()
            let live = lease?.live == true
            report.ha = (config.ha.instance, live && lease?.holder == config.ha.instance ? "leader" : "follower",
                         live ? lease?.holder ?? "none" : "none (\(lease.map { "\($0.holder)'s lease expired" } ?? "never taken"))",
                         lease?.epoch ?? 0, lease.map { $0.expiresAtMs - $0.nowMs } ?? 0)
        }
        let pauseFile = config.keeper.pauseFile
        report.pauseFilePresent = FileManager.default.fileExists(atPath: pauseFile)
        if let chain {
            do {
                report.head = try await chain.head(.latest)
                switch config.chain.confirmations {
                case let .blocks(n): if let h = report.head { report.target = h >= n ? h - n : nil }
                case .safe: report.target = try await chain.head(.safe)
                case .finalized: report.target = try await chain.head(.finalized)
                }
            } catch {
                report.headError = "\(error)"
            }
            if case let .returned(out)? = try? await chain.call(from: nil, to: config.contracts.treasury,
                                                                data: try Bindings.paused.encodeCall([])),
               let v = try? ABIDecoder.decode([.bool], from: out), case let .bool(paused)? = v.first {
                report.treasuryPaused = paused
            }
        }
        return report
    }

    /// Groups the journal by nonce and keeps the nonces whose newest transaction is not final.
    static func inFlight(_ journal: [JournaledTransaction]) -> [InFlight] {
        var out: [InFlight] = []
        for (nonce, txs) in Dictionary(grouping: journal, by: \.nonce).sorted(by: { $0.key < $1.key }) {
            let ordered = txs.sorted { $0.id < $1.id }
            guard let open = ordered.last(where: { !$0.state.isFinal }), let first = ordered.first else { continue }
            out.append(InFlight(nonce: nonce, hash: open.hash, state: open.state, firstSentAt: first.createdAt,
                                maxFeePerGas: open.maxFeePerGas, maxPriorityFeePerGas: open.maxPriorityFeePerGas,
                                replacements: ordered.count - 1))
        }
        return out
    }

    /// The JSON document.
    public var json: [String: Any] {
        var counts: [String: Any] = [:]
        for s in IntentState.allCases { counts[s.rawValue] = intents[s] ?? 0 }
        return ["chain_id": chainID, "head": JSONOut.orNull(head), "head_error": JSONOut.orNull(headError),
                "confirmed_target": JSONOut.orNull(target),
                "cursor": JSONOut.orNull(cursor), "last_ingested_block": JSONOut.orNull(cursor.flatMap { $0 > 0 ? $0 - 1 : nil }),
                "lag_blocks": JSONOut.orNull(lagBlocks), "reorgs_seen": reorgsSeen, "deep_reorgs": deepReorgs,
                "reward_events": rewardEvents, "intents": counts, "registered_stakers": registeredStakers,
                "known_stakers": knownStakers, "in_flight_transactions": inFlightTransactions,
                "in_flight": inFlight.map { f -> [String: Any] in
                    ["nonce": f.nonce, "hash": f.hash.hexString, "state": f.state.rawValue, "age_seconds": max(0, now - f.firstSentAt),
                     "max_fee_per_gas": f.maxFeePerGas.decimalString, "max_priority_fee_per_gas": f.maxPriorityFeePerGas.decimalString,
                     "replacements": f.replacements]
                },
                "last_error": JSONOut.orNull(lastError),
                "submission_paused": submissionPaused, "pause_file_present": pauseFilePresent,
                "treasury_paused": JSONOut.orNull(treasuryPaused), "submission_deferred": JSONOut.orNull(submissionDeferred),
                "store": ["backend": store.backend, "location": store.location],
                "ha": ha.map { h -> Any in ["instance": h.instance, "role": h.role, "leader": h.leader, "epoch": h.epoch,
                                             "lease_expires_in_ms": h.expiresInMs] } ?? NSNull()]
    }

    /// The human table.
    public var text: String {
        var t = TextTable(["field", "value"])
        t.add(["chain id", "\(chainID)"])
        t.add(["head", head.map(String.init) ?? "unavailable (\(headError ?? "no RPC"))"])
        t.add(["cursor (next block)", cursor.map(String.init) ?? "not started"])
        t.add(["confirmed target", target.map(String.init) ?? "unknown"])
        t.add(["lag", lagBlocks.map { "\($0) blocks" } ?? "unknown"])
        t.add(["reorgs seen", "\(reorgsSeen)\(deepReorgs > 0 ? " (+\(deepReorgs) deeper than the window: ingestion halted)" : "")"])
        t.add(["reward events", "\(rewardEvents)"])
        for s in IntentState.allCases { t.add(["intents \(s.rawValue)", "\(intents[s] ?? 0)"]) }
        t.add(["registered stakers", "\(registeredStakers) (of \(knownStakers) ever registered)"])
        t.add(["submission", submissionText])
        t.add(["in-flight transactions", "\(inFlightTransactions)"])
        for f in inFlight {
            t.add(["  nonce \(f.nonce)", "\(f.hash.hexString) \(f.state.rawValue), age \(max(0, now - f.firstSentAt)) s, max fee \(f.maxFeePerGas) wei, "
                   + "tip \(f.maxPriorityFeePerGas) wei\(f.replacements > 0 ? ", \(f.replacements) replaced" : "")"])
        }
        t.add(["last error", lastError ?? "none"])
        t.add(["store", "\(store.backend) (\(store.location))"])
        if let ha { t.add(["ha", "instance \(ha.instance), role \(ha.role), leader \(ha.leader), epoch \(ha.epoch)"]) }
        return t.render()
    }
}

/// `registrations`: each staker of the registry with what was routed for them.
public struct RegistrationsReport: Sendable {
    /// One staker's row.
    public struct Row: Sendable {
        /// The staker's address.
        public var staker: Address
        /// True while the staker is registered, false once it opted out.
        public var registered: Bool
        /// The share in basis points of the staker's last `OptedIn` (kept after opt-out).
        public var shareBps: UInt16
        /// The block from which the staker's current registration takes effect.
        public var sinceBlock: UInt64
        /// Wei contributed for this staker, summed over the stored `Routed` events.
        public var totalContributed: UInt256
        /// Number of stored reward events paid to this staker.
        public var rewardsSeen: Int
        /// Number of this staker's intents in the `routed` state.
        public var rewardsRouted: Int
        /// Number of this staker's intents still `pending` or `sent`.
        public var rewardsPending: Int
        /// Skipped rewards by reason (`policy: …`, `lapsed: …`, treasury reason names).
        public var skipped: [String: Int]
    }
    /// One row per staker in address order; opted-out stakers only with `includeOptedOut`.
    public var rows: [Row]

    /// Builds the report from the store; `includeOptedOut` adds stakers no longer registered.
    public static func make(store: KeeperStore, includeOptedOut: Bool) throws -> RegistrationsReport {
        try store.read { r in
            var rows: [Row] = []
            for s in try r.stakers() where s.registered || includeOptedOut {
                var total = UInt256.zero
                for t in try r.treasuryEvents(staker: s.staker) {
                    if case let .routed(_, c, _) = t.outcome { total = total.addingReportingOverflow(c).partialValue }
                }
                let intents = try r.intents(staker: s.staker)
                var skipped: [String: Int] = [:]
                for i in intents {
                    switch i.state {
                    case .policySkipped: skipped["policy: \(i.reason ?? "-")", default: 0] += 1
                    case .lapsed: skipped["lapsed", default: 0] += 1
                    case .skipped: skipped[i.reason ?? "unknown", default: 0] += 1
                    default: break
                    }
                }
                rows.append(Row(staker: s.staker, registered: s.registered, shareBps: s.shareBps, sinceBlock: s.sinceBlock,
                                totalContributed: total, rewardsSeen: try r.rewardEvents(staker: s.staker).count,
                                rewardsRouted: intents.filter { $0.state == .routed }.count,
                                rewardsPending: intents.filter { $0.state == .pending || $0.state == .sent }.count, skipped: skipped))
            }
            return RegistrationsReport(rows: rows)
        }
    }

    /// The JSON document.
    public var json: [String: Any] {
        ["stakers": rows.map { r -> [String: Any] in
            ["address": r.staker.checksummed, "registered": r.registered, "share_bps": Int(r.shareBps), "since_block": r.sinceBlock,
             "total_contributed": r.totalContributed.decimalString, "rewards_seen": r.rewardsSeen, "rewards_routed": r.rewardsRouted,
             "rewards_pending": r.rewardsPending, "rewards_skipped": r.skipped]
        }]
    }

    /// The human table.
    public var text: String {
        var t = TextTable(["staker", "share_bps", "since_block", "contributed_wei", "seen", "routed", "pending", "skipped"])
        for r in rows {
            let skipped = r.skipped.isEmpty ? "0" : r.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            t.add([r.staker.checksummed + (r.registered ? "" : " (opted out)"), "\(r.shareBps)", "\(r.sinceBlock)",
                   r.totalContributed.decimalString, "\(r.rewardsSeen)", "\(r.rewardsRouted)", "\(r.rewardsPending)", skipped])
        }
        return t.render() + "\(rows.count) staker(s)\n"
    }
}
