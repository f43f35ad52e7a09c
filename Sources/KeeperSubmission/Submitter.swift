// KeeperSubmission — the keeper's hands: batches formed within the safety gate's caps, simulated, signed,
// journaled before broadcast, tracked to a final state (rebroadcast, replace, settle, supersede), fees and
// nonces. Imports KeeperCore, KeeperIngest (the planner settles claims from receipts), KeeperPlanning (the
// per-claim diagnosis), KeeperStore (the journal).
import EthereumABI
import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperPlanning
import KeeperStore
import Logging

/// Forms, simulates, signs, journals and broadcasts routing batches.
///
/// The order is the guarantee: sign → ONE store transaction that inserts the raw transaction and marks its
/// claims `sent` → broadcast. A crash before the commit leaves nothing (the claims are still `pending`, no
/// transaction exists anywhere); a crash after it leaves a journaled transaction that the
/// `TransactionManager` rebroadcasts (same bytes, same hash) on restart before anything new is sent.
public final class Submitter: SubmissionComponent, @unchecked Sendable {
    let keeper: Address
    let gate: SafetyGate
    /// Builds each batch's calldata (`route`, or `route_proven` with receipt proofs checked before sending).
    let calls: RouteCalls
    var lastDeferral: String?
    var lastDryRun: String?
    var lastRecheck: UInt64 = 0
    /// Blocks between re-simulations of claims once judged skippable (they are never given up on for good).
    public static let recheckBlocks: UInt64 = 20

    /// Set by tests: called between the journal commit and the broadcast (the fault test's kill point).
    public var afterJournal: (@Sendable () -> Void)?

    /// A submitter for `keeper`; `signer` nil (dry-run) plans and simulates only.
    public init(config: KeeperConfig, settings: SubmissionSettings, store: KeeperStore, chain: any SubmissionChain,
                reader: any ChainReader, signer: (any TransactionSigning)?, keeper: Address, logger: Logger) {
        self.keeper = keeper
        gate = SafetyGate(settings: settings, treasury: config.contracts.treasury)
        calls = RouteCalls(config: config, chain: reader)
        super.init(config: config, settings: settings, store: store, chain: chain, reader: reader, signer: signer, logger: logger)
    }

    /// What one call of `submitOnce` did.
    public enum Outcome: Sendable, Equatable {
        case idle, deferred(String), dryRun(claims: Int), sent(nonce: UInt64, hash: Bytes32, claims: Int)
    }

    func deferred(_ why: String) -> Outcome {
        if lastDeferral != why {
            lastDeferral = why
            logger.warning("new batches deferred", metadata: ["reason": "\(why)"])
            try? store.write { w in try w.setMeta("submission_deferred", why) }
        }
        return .deferred(why)
    }

    /// Sends at most one new batch.
    public func submitOnce() async throws -> Outcome {
        if !settings.dryRun {
            let head = try await chain.headNumber()
            if head >= lastRecheck &+ Self.recheckBlocks {
                lastRecheck = head
                let n = try store.write { w in try w.reopenSimulationSkips() }
                if n > 0 { logger.debug("re-simulating claims once judged skippable", metadata: ["claims": "\(n)"]) }
            }
        }
        let (open, allPending, inFlight, spent) = try store.read { r in
            (try r.openNonces(), try r.intents(states: [.pending]), try r.intents(states: [.sent]),
             try r.journaledContribution(since: Int64(Date().timeIntervalSince1970) - 86_400))
        }
        // The treasury keeps one mark per staker (the last routed position) and skips anything at or before it
        // as DUPLICATE: a staker's claims must reach the chain in (block, log index) order. So a staker with a
        // claim in flight gets no new claim until it settles — were that transaction superseded, its claims
        // return to pending and must not find a later claim of theirs routed first.
        let busy = Set(inFlight.map(\.staker))
        let pending = allPending.filter { !busy.contains($0.staker) }
        if pending.isEmpty { return .idle }
        if !settings.dryRun && open.count >= settings.maxInFlight { return .idle }
        if let why = try await gate.pauseReason(chain: reader) { return deferred(why) }
        var (batch, capped) = gate.admit(pending, spentToday: spent)
        if batch.isEmpty { return deferred(capped ?? "caps") }
        calls.reset()
        let built = try await calls.build(batch)
        let lasting = built.held.filter(\.lasting)
        if !lasting.isEmpty {
            // Claims that cannot be proven (or aged past what the chain verifies) are held with the reason; a proof
            // problem is looked at again with the simulation skips, an aged-out claim is not (it never gets younger).
            if !settings.dryRun {
                try store.write { w in
                    for h in lasting {
                        try w.markWouldSkip(h.intent.id, reason: h.reason.hasPrefix("UNVERIFIABLE") ? h.reason : "simulation: \(h.reason)")
                    }
                }
            }
            for h in lasting { logger.notice("claim cannot be routed by proof; not sent", metadata: ["claim": "\(h.intent.claim)", "reason": "\(h.reason)"]) }
        }
        batch = built.included
        if batch.isEmpty { return .idle }
        var data = built.data
        let expected = batch.reduce(UInt256.zero) { $0.addingReportingOverflow($1.expected).partialValue }
        switch try await reader.call(from: keeper, to: config.contracts.treasury, data: data) {
        case let .reverted(message, _):
            return deferred("simulation of a \(batch.count)-claim batch reverts: \(message)")
        case let .returned(out):
            let total = (try? ABIDecoder.decode([.uint256], from: out)).flatMap { v -> UInt256? in
                if case let .uint(x)? = v.first { return x }; return nil
            }
            if total != expected {
                let skips = try await PlanReport.diagnose(batch, treasury: config.contracts.treasury, from: keeper, chain: reader, calls: calls)
                if !skips.isEmpty {
                    if !settings.dryRun {
                        try store.write { w in
                            for s in skips {
                                if let i = batch.first(where: { $0.claim == s.claim }) { try w.markWouldSkip(i.id, reason: "simulation: \(s.reason)") }
                            }
                        }
                    }
                    for s in skips { logger.notice("claim would be skipped; not sent", metadata: ["claim": "\(s.claim)", "reason": "\(s.reason)"]) }
                    // A staker's later claims wait with the skipped one (chain order; re-evaluated next poll).
                    var firstSkip: [Address: LogPosition] = [:]
                    for s in skips { if let i = batch.first(where: { $0.claim == s.claim }), firstSkip[i.staker] == nil { firstSkip[i.staker] = s.claim } }
                    batch.removeAll { i in firstSkip[i.staker].map { i.claim >= $0 } ?? false }
                    if batch.isEmpty { return .idle }
                    let rebuilt = try await calls.build(batch)
                    batch = rebuilt.included
                    if batch.isEmpty { return .idle }
                    data = rebuilt.data
                }
            }
        }
        if lastDeferral != nil { lastDeferral = nil; try store.write { w in try w.deleteMeta("submission_deferred") } }
        let estimate = try await reader.estimateGas(from: keeper, to: config.contracts.treasury, data: data)
        let gasLimit = estimate &* (100 &+ settings.gasMarginPercent) / 100 &+ 10_000
        let market = try await chain.fees()
        guard let f = fees.initial(nextBaseFee: market.nextBaseFee, suggestedTip: market.tip) else {
            return deferred("next base fee \(market.nextBaseFee) wei is above max_fee_per_gas_gwei")
        }
        let sum = batch.reduce(UInt256.zero) { $0.addingReportingOverflow($1.expected).partialValue }
        guard let signer, !settings.dryRun else {
            let key = batch.map { "\($0.claim)" }.joined(separator: ",")
            if lastDryRun != key {
                lastDryRun = key
                logger.notice("dry-run: would send a routing batch (not signed)", metadata: [
                    "claims": "\(batch.count)", "first": "\(batch.first?.claim.description ?? "")", "contribution_wei": "\(sum)",
                    "gas_limit": "\(gasLimit)", "max_fee_per_gas": "\(f.maxFee)", "max_priority_fee_per_gas": "\(f.tip)"])
            }
            return .dryRun(claims: batch.count)
        }
        let latest = try await chain.nonce(keeper, pending: false)
        let nonce = NonceManager.next(latest: latest, openNonces: open)
        let tx = EthereumCore.Transaction(kind: .dynamicFee(maxPriorityFeePerGas: f.tip, maxFeePerGas: f.maxFee, accessList: []),
                             chainId: config.chain.chainID, nonce: nonce, gasLimit: gasLimit, to: config.contracts.treasury, data: data)
        let (raw, hash) = try signer.sign(tx)
        let entry = NewJournalEntry(nonce: nonce, hash: hash, raw: raw, gasLimit: gasLimit, maxFeePerGas: f.maxFee,
                                    maxPriorityFeePerGas: f.tip, createdAt: Int64(Date().timeIntervalSince1970))
        // THE journal step: the raw transaction and its claims, in one store transaction, before any broadcast.
        try store.write { w in
            try w.journal(entry, claims: batch.map(\.id))
            try w.increment("submit_transactions_sent_total")
        }
        afterJournal?()
        let outcome = await chain.broadcast(raw)
        logger.info("routing batch sent", metadata: [
            "tx": "\(hash.hexString)", "nonce": "\(nonce)", "claims": "\(batch.count)", "contribution_wei": "\(sum)",
            "gas_limit": "\(gasLimit)", "max_fee_per_gas": "\(f.maxFee)", "broadcast": "\(outcome)"])
        return .sent(nonce: nonce, hash: hash, claims: batch.count)
    }
}
