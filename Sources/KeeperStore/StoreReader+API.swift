import EthereumCore
import Foundation

/// One staker's public record, as the stakers' API shows it.
public struct StakerSummary: Equatable, Sendable {
    /// Opted in now.
    public var registered: Bool
    /// The share in basis points (0 when not registered).
    public var shareBps: UInt16
    /// The first block whose rewards the registration covers (nil when not registered).
    public var sinceBlock: UInt64?
    /// The sum of the staker's `Routed.contributed`.
    public var contributed: UInt256
    /// `Routed` events of the staker.
    public var routes: Int
    /// `RouteSkipped` events of the staker.
    public var skips: Int
    /// Eligible claims of the staker not yet settled (intents `pending` or `sent`).
    public var pending: Int
}

/// One treasury event of a staker (a route or a skip) with the reward it cites.
public struct Contribution: Equatable, Sendable {
    /// The treasury event itself (its position, transaction, claim and outcome).
    public var event: TreasuryEvent
    /// The reward's amount: `Routed.reward`, or for a skip the stored reward log at the cited claim (nil when the
    /// skip cites no stored reward, e.g. an ORPHANED claim).
    public var reward: UInt256?
    /// The share the claim was routed (or planned) with; nil when unknown.
    public var shareBps: UInt16?
}

/// The treasury's totals from the stored events.
public struct TreasuryTotals: Equatable, Sendable {
    /// Stakers registered now.
    public var stakersRegistered: Int
    /// `Routed` events.
    public var routes: Int
    /// `RouteSkipped` events.
    public var skips: Int
    /// The sum of `Routed.contributed`.
    public var contributed: UInt256
}

extension StoreReader {
    /// The public record of `staker` (zeros when the store has never seen it).
    public func stakerSummary(_ staker: Address) throws -> StakerSummary {
        let reg = try self.staker(staker)
        var contributed = UInt256.zero, routes = 0, skips = 0
        for row in try rows("SELECT routed, contributed FROM treasury_events WHERE staker = ?", [staker.blob]) {
            let c = Col(row: row, table: "treasury_events")
            if try c.bool("routed") {
                routes += 1
                contributed = contributed.addingReportingOverflow(try c.optionalUInt256("contributed") ?? .zero).partialValue
            } else {
                skips += 1
            }
        }
        let pending = try count("SELECT COUNT(*) FROM intents WHERE staker = ? AND state IN ('pending', 'sent')", [staker.blob])
        let registered = reg?.registered ?? false
        return StakerSummary(registered: registered, shareBps: registered ? (reg?.shareBps ?? 0) : 0,
                             sinceBlock: registered ? reg?.sinceBlock : nil, contributed: contributed,
                             routes: routes, skips: skips, pending: pending)
    }

    /// The staker's treasury events, newest first, strictly before `before` (a page cursor) when given.
    public func contributions(of staker: Address, before: LogPosition? = nil, limit: Int) throws -> [Contribution] {
        let select = """
            SELECT t.*, r.amount AS cited_amount, i.share_bps AS planned_share FROM treasury_events t
            LEFT JOIN reward_events r ON r.block_number = t.claim_block AND r.log_index = t.claim_log_index
                AND r.block_hash = t.claim_block_hash
            LEFT JOIN intents i ON i.block_hash = t.claim_block_hash AND i.claim_log_index = t.claim_log_index
            WHERE t.staker = ?
            """
        let found: [SQLRow]
        if let before {
            found = try rows(select + " AND (t.block_number < ? OR (t.block_number = ? AND t.log_index < ?)) ORDER BY t.block_number DESC, t.log_index DESC LIMIT ?",
                             [staker.blob, Int64(clamping: before.block), Int64(clamping: before.block), Int64(before.logIndex), limit])
        } else {
            found = try rows(select + " ORDER BY t.block_number DESC, t.log_index DESC LIMIT ?", [staker.blob, limit])
        }
        return try found.map { row in
            let event = try Self.treasury(row)
            let c = Col(row: row, table: "treasury_events")
            switch event.outcome {
            case let .routed(reward, _, share):
                return Contribution(event: event, reward: reward, shareBps: share)
            case .skipped:
                let planned = try c.optionalU64("planned_share").flatMap { UInt16(exactly: $0) }
                return Contribution(event: event, reward: try c.optionalUInt256("cited_amount"), shareBps: planned)
            }
        }
    }

    /// The treasury's totals.
    public func treasuryTotals() throws -> TreasuryTotals {
        var contributed = UInt256.zero, routes = 0
        for row in try rows("SELECT contributed FROM treasury_events WHERE routed = 1") {
            routes += 1
            contributed = contributed.addingReportingOverflow(try Col(row: row, table: "treasury_events").optionalUInt256("contributed") ?? .zero).partialValue
        }
        let skips = try count("SELECT COUNT(*) FROM treasury_events WHERE routed = 0")
        let registered = try count("SELECT COUNT(*) FROM stakers WHERE registered = 1")
        return TreasuryTotals(stakersRegistered: registered, routes: routes, skips: skips, contributed: contributed)
    }
}
