import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperPlanning

/// The submitter's knobs, from the config (`[keeper]`) with defaults for keys it does not set.
public struct SubmissionSettings: Sendable {
    /// Receipts this deep settle a transaction (the chain's `confirmations`; 1 for a `safe`/`finalized` tag).
    public var confirmations: UInt64
    /// Poll interval.
    public var pollIntervalMs: UInt64
    /// Claims per transaction.
    public var maxBatch: Int
    /// Fee cap in wei.
    public var maxFeePerGas: UInt256
    /// Blocks without a receipt before a replacement (`replace_after_blocks`, default 3).
    public var replaceAfterBlocks: UInt64
    /// Cap on contributions per transaction (`max_routed_per_tx` / `max_routed_per_tx_wei`), nil for none.
    public var maxRoutedPerTx: UInt256?
    /// Cap on contributions per rolling 24 h (`max_routed_per_day` / `max_routed_per_day_wei`), nil for none.
    public var maxRoutedPerDay: UInt256?
    /// Warn below this balance (`min_balance_eth`, default 0.01 ETH), in wei.
    public var minBalance: UInt256
    /// Reverted batches before a claim is parked (`max_revert_attempts`, default 3).
    public var maxRevertAttempts: Int
    /// Route transactions in flight at once (`max_in_flight`, default 4).
    public var maxInFlight: Int
    /// Plan and simulate only.
    public var dryRun: Bool
    /// The pause file.
    public var pauseFile: String
    /// Gas estimate margin: limit = estimate × (100 + margin) / 100 + 10,000.
    public var gasMarginPercent: UInt64 = 25

    /// Settings from a loaded config (its `[keeper]` keys, environment overrides already applied by the loader).
    public init(config: KeeperConfig, dryRun: Bool? = nil) {
        switch config.chain.confirmations {
        case let .blocks(n): confirmations = max(1, n)
        case .safe, .finalized: confirmations = 1
        }
        pollIntervalMs = config.chain.pollIntervalMs
        maxBatch = max(1, min(256, config.keeper.maxBatch))
        maxFeePerGas = Self.wei(gwei: config.keeper.maxFeePerGasGwei)
        maxRoutedPerDay = config.keeper.maxRoutedPerDayWei
        self.dryRun = dryRun ?? config.keeper.dryRun
        pauseFile = config.keeper.pauseFile
        replaceAfterBlocks = max(1, config.keeper.replaceAfterBlocks)
        maxRoutedPerTx = config.keeper.maxRoutedPerTxWei
        minBalance = config.keeper.minBalanceWei
        maxRevertAttempts = max(1, config.keeper.maxRevertAttempts)
        maxInFlight = max(1, config.keeper.maxInFlight)
    }

    /// gwei (decimal, ≥ 0) → wei, exact to the wei for values with up to 9 decimals.
    public static func wei(gwei: Double) -> UInt256 {
        guard gwei.isFinite, gwei > 0 else { return .zero }
        let whole = gwei.rounded(.down)
        let frac = ((gwei - whole) * 1e9).rounded()
        guard whole < 1.8e10 else { return UInt256(UInt64.max) }
        let w = UInt256(UInt64(whole)).multipliedReportingOverflow(by: UInt256(UInt64(1_000_000_000))).partialValue
        return w.addingReportingOverflow(UInt256(UInt64(frac))).partialValue
    }
}
