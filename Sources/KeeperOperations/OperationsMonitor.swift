import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperStore
import KeeperSubmission
import Logging

/// The one place the poll loop reports to: it updates the metrics from the step and the store, the
/// health state behind /healthz and /readyz, and systemd (READY once, STATUS on change, WATCHDOG every
/// iteration, STOPPING on shutdown). The loop calls it; nothing else sends WATCHDOG, so a hung loop
/// is restarted by systemd.
public final class OperationsMonitor: @unchecked Sendable {
    /// The metrics handles.
    public let metrics: KeeperMetrics
    /// Health state behind /healthz and /readyz.
    public let health: KeeperHealth
    /// The systemd notifier.
    public let notifier: SystemdNotifier
    let logger: Logger
    let lock = NSLock()
    var sentReady = false
    var rewardCount: Int?
    var routedCount: Int?
    var skippedCount: Int?
    var reorgCount: UInt64?
    var routedWei = UInt256.zero
    var confirmations: UInt64?
    var latestHead: UInt64 = 0
    var lastTarget: UInt64 = 0
    var lastRefresh: ContinuousClock.Instant?
    var loggedOutcomes: Set<LogPosition>?

    /// A monitor over its parts.
    public init(metrics: KeeperMetrics, health: KeeperHealth, notifier: SystemdNotifier, logger: Logger) {
        self.metrics = metrics; self.health = health; self.notifier = notifier; self.logger = logger
    }

    /// The configuration's fixed facts (dry-run — `keeper.dry_run` or `run --dry-run`; in dry-run no key is needed,
    /// so the key counts as loaded — and the balance threshold of the LowBalance alert, in ETH).
    public func configured(dryRun: Bool, minBalanceEth: Double? = nil) {
        metrics.dryRun.set(dryRun ? 1.0 : 0.0)
        if dryRun { health.setKeyLoaded(true) }
        if let minBalanceEth { metrics.minBalanceEth.set(minBalanceEth) }
    }

    /// The keeper key was decrypted and is ready to sign (call from where the key is loaded).
    public func keyLoaded() { health.setKeyLoaded(true) }

    /// The latest head seen (blocks).
    public func chainHead(_ block: UInt64) {
        lock.lock(); latestHead = block; lock.unlock()
        metrics.chainHead.set(Double(block))
    }

    /// `confirmations` as a block depth (to estimate the target from the head while catching up).
    public func setConfirmations(_ depth: UInt64) { lock.lock(); confirmations = depth; lock.unlock() }

    /// A chunk up to `block` was ingested (the loop goes on at once): the lag is estimated from the head
    /// seen by the RPC instrumentation (or the last known target).
    public func pollIngested(upTo block: UInt64, store: KeeperStore?) {
        let target: UInt64 = {
            lock.lock(); defer { lock.unlock() }
            var t = lastTarget
            if let confirmations, latestHead >= confirmations { t = max(t, latestHead - confirmations) }
            return max(t, block)
        }()
        pollSucceeded(cursor: block + 1, target: target, store: store)
    }

    /// One poll iteration completed without error: `cursor` is the next block to ingest, `target` the
    /// confirmed target. Refreshes store-derived gauges, pings the watchdog, sends READY the first time.
    public func pollSucceeded(cursor: UInt64, target: UInt64, store: KeeperStore?) {
        lock.lock(); lastTarget = max(lastTarget, target); lock.unlock()
        let ingested = cursor > 0 ? cursor - 1 : 0
        let lag = target > ingested ? target - ingested : 0
        metrics.cursor.set(Double(ingested))
        metrics.confirmedTarget.set(Double(target))
        metrics.lag.set(Double(lag))
        metrics.lastSuccessfulPoll.set(Date().timeIntervalSince1970)
        health.pollSucceeded(lag: lag)
        if let store, refreshDue(caughtUp: lag == 0) { refresh(from: store) }
        let status = lag == 0 ? "caught up at block \(ingested)" : "catching up: block \(ingested) of \(target) (\(lag) behind)"
        let first: Bool = { lock.lock(); defer { lock.unlock() }; let f = !sentReady; sentReady = true; return f }()
        if first {
            notifier.ready(status: status)
            logger.notice("ready", metadata: ["cursor": "\(ingested)", "target": "\(target)", "lag_blocks": "\(lag)"])
        } else {
            notifier.status(status)
        }
        notifier.watchdog()
        metrics.ready.set(health.readiness().ok ? 1.0 : 0.0)
    }

    /// One poll iteration failed with a transient error (the loop retries): the loop is alive.
    public func pollFailed(_ error: any Error) {
        health.pollFailed("\(error)")
        notifier.status("poll failed, retrying: \(error)")
        notifier.watchdog()
        metrics.ready.set(health.readiness().ok ? 1.0 : 0.0)
    }

    /// A reorg was repaired.
    public func reorg(depth: UInt64) {
        metrics.reorgs.increment()
        health.beat()
        notifier.watchdog()
    }

    /// Ingestion stopped for good (deep reorg, provider disagreement): not ready; the process stays up for
    /// diagnosis (`HaltGuard` feeds the watchdog) until an operator restarts it.
    public func halted(_ error: any Error) {
        let text = "\(error)"
        health.setHalted(text)
        metrics.halted.set(1.0)
        metrics.ready.set(0.0)
        if case EngineError.providerDisagreement = error { metrics.providerDisagreements.increment() }
        notifier.status("halted: \(text)")
    }

    /// The halted state's own loop is alive (it feeds the watchdog; `/healthz` stays 200, `/readyz` 503).
    public func haltedBeat() {
        health.beat()
        notifier.status("halted: \(health.halted ?? "unknown")")
        notifier.watchdog()
    }

    /// The service group is shutting down.
    public func stopping() {
        notifier.stopping(status: "stopping")
        metrics.ready.set(0.0)
    }

    /// Store-derived gauges are refreshed at most once a second while catching up (each refresh reads
    /// the store's event totals), on every poll once caught up.
    func refreshDue(caughtUp: Bool) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let now = ContinuousClock.now
        if !caughtUp, let last = lastRefresh, now - last < .seconds(1) { return false }
        lastRefresh = now
        return true
    }

    /// Store-derived gauges and the counters of ingested events (counted as deltas of the store's totals,
    /// so a restart does not re-count what an earlier process already exported).
    public func refresh(from store: KeeperStore) {
        do {
            let snapshot = try store.read { r -> (Int, [IntentState: Int], Int, [ReorgRecord], Int, [TreasuryEvent], UInt64) in
                (try r.stakers().filter(\.registered).count, try r.intentCounts(), try r.inFlightTransactionCount(),
                 try r.reorgs(), try r.rewardCount(), try r.treasuryEvents(), try r.counter("reorgs_seen"))
            }
            let (stakers, intents, inflight, reorgs, rewards, treasury, _) = snapshot
            metrics.registeredStakers.set(Double(stakers))
            for state in KeeperMetrics.intentStates {
                let count = intents.first(where: { $0.key.rawValue == state })?.value ?? 0
                metrics.intents(state: state).set(Double(count))
            }
            metrics.txInflight.set(Double(inflight))
            metrics.reorgDepthMax.set(Double(reorgs.map(\.depth).max() ?? 0))
            var routed = 0, skipped = 0
            var wei = UInt256.zero
            for e in treasury {
                switch e.outcome {
                case let .routed(_, contributed, _):
                    routed += 1
                    let (sum, overflow) = wei.addingReportingOverflow(contributed)
                    if !overflow { wei = sum }
                case .skipped: skipped += 1
                }
            }
            logOutcomes(treasury)
            lock.lock()
            let dRewards = rewards - (rewardCount ?? 0)
            let dRouted = routed - (routedCount ?? 0)
            let dSkipped = skipped - (skippedCount ?? 0)
            let previousWei = routedWei
            rewardCount = rewards; routedCount = routed; skippedCount = skipped; routedWei = wei
            lock.unlock()
            // The first refresh counts everything already in the store, so the counters equal the store's (and the
            // chain's) totals: routed_claims_total{outcome="routed"} is the number of claims routed on-chain.
            if dRewards > 0 { metrics.rewardEvents.increment(by: dRewards) }
            if dRouted > 0 { metrics.routedClaims(outcome: "routed").increment(by: dRouted) }
            if dSkipped > 0 { metrics.routedClaims(outcome: "skipped").increment(by: dSkipped) }
            if wei > previousWei {
                let (delta, _) = wei.subtractingReportingOverflow(previousWei)
                metrics.routedTokens.increment(by: Self.tokens(delta))
            }
        } catch {
            logger.warning("metrics refresh from the store failed", metadata: ["error": "\(error)"])
        }
    }

    /// One line per claim settled on-chain (new since the last refresh), with the claim's identifiers and
    /// the routing transaction, so `grep` on a staker or a claim position tells its story. The first refresh
    /// only remembers what is already there (a restart does not replay history into the log).
    func logOutcomes(_ events: [TreasuryEvent]) {
        lock.lock()
        let first = loggedOutcomes == nil
        var seen = loggedOutcomes ?? []
        var fresh: [TreasuryEvent] = []
        for e in events where seen.insert(e.position).inserted { if !first { fresh.append(e) } }
        loggedOutcomes = seen
        lock.unlock()
        for e in fresh {
            var metadata: Logger.Metadata = [
                "staker": "\(e.staker.checksummed)", "block": "\(e.claim.block)", "log_index": "\(e.claim.logIndex)",
                "tx": "\(e.txHash.hexString)", "routed_in_block": "\(e.position.block)",
            ]
            switch e.outcome {
            case let .routed(reward, contributed, shareBps):
                metadata["reward_wei"] = "\(reward.decimalString)"
                metadata["contributed_wei"] = "\(contributed.decimalString)"
                metadata["share_bps"] = "\(shareBps)"
                logger.info("claim routed on-chain", metadata: metadata)
            case let .skipped(reason):
                metadata["reason"] = "\(reason)"
                logger.notice("claim skipped on-chain", metadata: metadata)
            }
        }
    }

    /// Wei as token units (1e18 wei = 1 token), as a float (for metrics only).
    static func tokens(_ wei: UInt256) -> Double {
        let words = [wei.l0, wei.l1, wei.l2, wei.l3]
        var d = 0.0
        for (i, w) in words.enumerated() { d += Double(w) * pow(2.0, Double(64 * i)) }
        return d / 1e18
    }
}

extension OperationsMonitor: IngestObserver {}
