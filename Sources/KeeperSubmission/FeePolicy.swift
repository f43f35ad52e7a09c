import EthereumCore
import KeeperCore
import KeeperIngest
import KeeperPlanning

/// EIP-1559 fees: a new transaction pays `2 × next base fee + tip` (tip from `eth_feeHistory`'s median,
/// at least 1 gwei / 1000 so a quiet chain still includes it), capped by `max_fee_per_gas`. A replacement
/// raises BOTH fields by at least 12.5% (geth needs 10%; the margin absorbs rounding), never above the cap.
public struct FeePolicy: Sendable, Equatable {
    /// The cap on `maxFeePerGas`.
    public var cap: UInt256

    /// A policy with a cap.
    public init(cap: UInt256) { self.cap = cap }

    /// The minimum priority fee (0.001 gwei).
    public static let minTip = UInt256(UInt64(1_000_000))

    /// Fees for a new transaction, or nil when the next base fee is above the cap (defer new batches).
    public func initial(nextBaseFee: UInt256, suggestedTip: UInt256) -> (maxFee: UInt256, tip: UInt256)? {
        if nextBaseFee > cap { return nil }
        var tip = max(suggestedTip, Self.minTip)
        var fee = nextBaseFee.multipliedReportingOverflow(by: UInt256(UInt64(2))).partialValue.addingReportingOverflow(tip).partialValue
        if fee > cap { fee = cap }
        if tip > fee { tip = fee }
        return (fee, tip)
    }

    /// `x × 1.125`, rounded up.
    public static func bumped(_ x: UInt256) -> UInt256 {
        let (q, r): (UInt256, UInt64) = x.quotientAndRemainder(dividingBy: UInt64(8))
        return x.addingReportingOverflow(q).partialValue.addingReportingOverflow(UInt256(r == 0 ? 0 : 1)).partialValue
    }

    /// Fees for replacing a transaction that paid (`maxFee`, `tip`): both ≥ +12.5%, at least the current market's,
    /// or nil when the bumped fee cap would exceed the cap (the caller keeps waiting and rebroadcasting).
    public func replacement(maxFee: UInt256, tip: UInt256, nextBaseFee: UInt256, suggestedTip: UInt256) -> (maxFee: UInt256, tip: UInt256)? {
        var newTip = max(Self.bumped(tip), max(suggestedTip, Self.minTip))
        var newFee = max(Self.bumped(maxFee), nextBaseFee.multipliedReportingOverflow(by: UInt256(UInt64(2))).partialValue
            .addingReportingOverflow(newTip).partialValue)
        if newFee > cap {
            // Still a valid replacement if the cap leaves room for +12.5% on both fields.
            guard Self.bumped(maxFee) <= cap else { return nil }
            newFee = cap
        }
        if newTip > newFee { newTip = newFee }
        guard newTip >= Self.bumped(tip) || tip.isZero else { return nil }
        return (newFee, newTip)
    }
}
