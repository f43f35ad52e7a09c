import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperPlanning
import KeeperStore
import Logging

/// Tracks every journaled transaction to a final state, one pass per poll (before any new batch is sent):
///
/// - receipt found `confirmations` deep → `confirmed`; its claims are settled from the receipt's
///   `Routed`/`RouteSkipped` logs (never assumed); other transactions at the nonce → `superseded`; claims
///   still `sent` afterwards (e.g. the nonce was taken by a cancel) return to the planner.
/// - receipt found but shallow → `mined`; a `mined` transaction whose receipt disappears was orphaned by a
///   reorg → back to `sent` and rebroadcast (the node may also re-include it by itself).
/// - status 0 → `reverted`: the revert is logged, the claims retried with back-off, parked after N attempts.
/// - no receipt and the account's `latest` nonce is past it → the nonce was consumed by a transaction that
///   is not ours → `superseded`, claims back to the planner (the treasury's at-most-once rule makes a re-send safe).
/// - no receipt for `replace_after_blocks` → replaced at the same nonce with both fees +12.5%, up to the cap;
///   at the cap it keeps rebroadcasting the last one and says so. Otherwise the newest is rebroadcast
///   every poll (same bytes, same hash: idempotent; covers restarts and mempools that dropped it).
public final class TransactionManager: SubmissionComponent, @unchecked Sendable {
    /// Head at which each transaction id was first tracked (in memory: a restart restarts the count).
    var firstSeen: [Int64: UInt64] = [:]
    var atCapLogged: Set<Int64> = []
    /// Polls to wait before the next batch after a revert.
    public internal(set) var backoffPolls = 0

    /// A manager; `signer` nil means it can rebroadcast and settle but not replace.
    public override init(config: KeeperConfig, settings: SubmissionSettings, store: KeeperStore, chain: any SubmissionChain,
                         reader: any ChainReader, signer: (any TransactionSigning)?, logger: Logger) {
        super.init(config: config, settings: settings, store: store, chain: chain, reader: reader, signer: signer, logger: logger)
    }

    /// One pass over every open nonce. `keeper` is the sending address.
    public func track(keeper: Address) async throws {
        let open = try store.read { r in try r.openNonces() }
        if open.isEmpty { return }
        // The nonce first, receipts second: a nonce consumed with no receipt of ours is then truly someone else's.
        let latest = try await chain.nonce(keeper, pending: false)
        let head = try await chain.headNumber()
        for n in open { try await track(nonce: n, latest: latest, head: head) }
    }

    func track(nonce n: UInt64, latest: UInt64, head: UInt64) async throws {
        let txs = try store.read { r in try r.journal(nonce: n) }.filter { $0.state == .sent || $0.state == .mined }
        guard let newest = txs.last else { return }
        var found: (JournaledTransaction, Receipt)?
        for t in txs.reversed() {
            if let r = try await chain.receipt(t.hash) { found = (t, r); break }
        }
        if let (t, r) = found {
            let depth = head >= r.blockNumber ? head - r.blockNumber + 1 : 0
            if depth < settings.confirmations {
                if t.state != .mined || t.minedBlock != r.blockNumber || t.minedBlockHash != r.blockHash {
                    try store.write { w in try w.setJournalState(id: t.id, .mined, minedBlock: r.blockNumber, minedBlockHash: r.blockHash) }
                    logger.info("transaction mined", metadata: ["tx": "\(t.hash.hexString)", "nonce": "\(n)", "block": "\(r.blockNumber)"])
                }
                return
            }
            try await settle(t, receipt: r, others: txs.filter { $0.id != t.id })
            return
        }
        // No receipt for any transaction at this nonce.
        for t in txs where t.state == .mined {
            try store.write { w in
                try w.setJournalState(id: t.id, .sent, minedBlock: nil)
                try w.increment("submit_reorged_out_total")
            }
            logger.warning("transaction orphaned by a reorg; tracking it again", metadata: ["tx": "\(t.hash.hexString)", "nonce": "\(n)"])
        }
        if latest > n {
            let returned = try store.write { w in
                for t in txs { try w.setJournalState(id: t.id, .superseded, minedBlock: nil) }
                try w.increment("submit_superseded_total")
                return try w.returnClaims(ofNonce: n, reason: nil)
            }
            logger.warning("nonce consumed by another transaction; ours superseded, claims returned to the planner",
                           metadata: ["nonce": "\(n)", "claims_returned": "\(returned)"])
            return
        }
        let seen = firstSeen[newest.id] ?? head
        firstSeen[newest.id] = seen
        if head >= seen &+ settings.replaceAfterBlocks, let signer {
            if try await replace(newest, signer: signer, head: head) { return }
        }
        await rebroadcast(newest)
    }

    func rebroadcast(_ t: JournaledTransaction) async {
        let outcome = await chain.broadcast(t.raw)
        switch outcome {
        case .accepted, .alreadyKnown: break
        case .nonceTooLow:
            logger.debug("rebroadcast: nonce too low (mined or consumed; the next pass decides)", metadata: ["tx": "\(t.hash.hexString)"])
        default:
            logger.warning("rebroadcast refused", metadata: ["tx": "\(t.hash.hexString)", "nonce": "\(t.nonce)", "outcome": "\(outcome)"])
        }
    }

    /// Replaces `t` with bumped fees; false when the cap leaves no room (the caller rebroadcasts `t`).
    func replace(_ t: JournaledTransaction, signer: any TransactionSigning, head: UInt64) async throws -> Bool {
        let market = try await chain.fees()
        guard let f = fees.replacement(maxFee: t.maxFeePerGas, tip: t.maxPriorityFeePerGas, nextBaseFee: market.nextBaseFee,
                                       suggestedTip: market.tip) else {
            if !atCapLogged.contains(t.id) {
                atCapLogged.insert(t.id)
                try store.write { w in try w.increment("submit_fee_cap_waits_total") }
                logger.warning("replacement needed but max_fee_per_gas_gwei is reached; waiting and rebroadcasting",
                               metadata: ["tx": "\(t.hash.hexString)", "nonce": "\(t.nonce)", "max_fee_per_gas": "\(t.maxFeePerGas)"])
            }
            return false
        }
        var tx = try SignedTransaction.decode(t.raw).transaction
        tx.kind = .dynamicFee(maxPriorityFeePerGas: f.tip, maxFeePerGas: f.maxFee, accessList: tx.accessList)
        let (raw, hash) = try signer.sign(tx)
        let entry = NewJournalEntry(nonce: t.nonce, hash: hash, raw: raw, gasLimit: tx.gasLimit, maxFeePerGas: f.maxFee,
                                    maxPriorityFeePerGas: f.tip, createdAt: Int64(Date().timeIntervalSince1970))
        let id = try store.write { w in
            try w.increment("submit_replacements_total")
            return try w.journalReplacement(entry, replacing: t.id)
        }
        firstSeen[id] = head
        logger.notice("replacing a transaction not mined in time", metadata: [
            "old": "\(t.hash.hexString)", "new": "\(hash.hexString)", "nonce": "\(t.nonce)",
            "max_fee_per_gas": "\(f.maxFee)", "max_priority_fee_per_gas": "\(f.tip)"])
        await rebroadcast(JournaledTransaction(id: id, nonce: t.nonce, hash: hash, raw: raw, gasLimit: tx.gasLimit, maxFeePerGas: f.maxFee,
                                               maxPriorityFeePerGas: f.tip, state: .sent, createdAt: entry.createdAt, minedBlock: nil,
                                               replacedBy: nil))
        return true
    }

    func settle(_ t: JournaledTransaction, receipt r: Receipt, others: [JournaledTransaction]) async throws {
        let decoder = TreasuryLogDecoder(kind: config.treasury.kind)
        let (routedEvent, skippedEvent) = Bindings.routeEvents(config.treasury.kind)
        let logs = r.logs.filter { log in
            guard log.address == config.contracts.treasury, !log.removed, let topic0 = log.topics.first else { return false }
            return topic0 == routedEvent.topic0 || topic0 == skippedEvent.topic0
        }
        let events = try await decoder.decode(logs, chain: reader) { _ in true }  // our own transaction's receipt
        let planner = Planner(minRouteWei: config.keeper.minRouteWei)
        var revertReason: String?
        if r.status != 1 {
            revertReason = await reason(of: t)
        }
        let (routed, skipped, returned, parked) = try store.write { w -> (Int, Int, Int, Int) in
            try w.setJournalState(id: t.id, r.status == 1 ? .confirmed : .reverted, minedBlock: r.blockNumber, minedBlockHash: r.blockHash)
            for o in others { try w.setJournalState(id: o.id, .superseded, minedBlock: nil) }
            try planner.apply(events, to: w, storingEvents: false)
            var routed = 0, skipped = 0
            for e in events { if case .treasury(let te) = e { if case .routed = te.outcome { routed += 1 } else { skipped += 1 } } }
            var parked = 0
            if r.status != 1 {
                try w.increment("submit_reverted_total")
                for i in try w.reader.claims(ofNonce: t.nonce) where i.state == .sent {
                    let key = "revert_attempts:\(i.id)"
                    let attempts = try w.reader.counter(key) + 1
                    try w.setMeta(key, "\(attempts)")
                    if attempts >= UInt64(settings.maxRevertAttempts) {
                        try w.parkClaim(i.id, reason: "parked: \(attempts) reverted batches (last: \(revertReason ?? "no reason"))")
                        parked += 1
                    }
                }
            } else {
                try w.increment("submit_confirmed_total")
                try w.increment("submit_claims_routed_total", by: UInt64(routed))
                try w.increment("submit_claims_skipped_total", by: UInt64(skipped))
                try w.increment("submit_gas_used_total", by: r.gasUsed)
            }
            let returned = try w.returnClaims(ofNonce: t.nonce, reason: r.status == 1 ? nil : "retry after revert")
            return (routed, skipped, returned, parked)
        }
        if r.status == 1 {
            logger.info("transaction confirmed; claims settled from its logs", metadata: [
                "tx": "\(t.hash.hexString)", "nonce": "\(t.nonce)", "block": "\(r.blockNumber)", "gas_used": "\(r.gasUsed)",
                "routed": "\(routed)", "skipped": "\(skipped)", "returned": "\(returned)"])
        } else {
            backoffPolls = min(64, max(2, backoffPolls * 2))
            logger.error("routing transaction reverted", metadata: [
                "tx": "\(t.hash.hexString)", "nonce": "\(t.nonce)", "reason": "\(revertReason ?? "unknown")",
                "claims_retried": "\(returned)", "claims_parked": "\(parked)"])
        }
    }

    /// The revert reason of `t`, by replaying its call at the latest block (best effort).
    func reason(of t: JournaledTransaction) async -> String? {
        guard let tx = try? SignedTransaction.decode(t.raw).transaction, let to = tx.to else { return nil }
        if case let .reverted(message, _)? = try? await reader.call(from: signer?.address, to: to, data: tx.data) { return message }
        return nil
    }
}
