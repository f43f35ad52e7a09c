import EthereumABI
import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperPlanning
import KeeperStore

/// The kill switches and caps in front of every NEW batch (never in front of tracking, replacing or
/// settling what was already sent): the pause file, the treasury's `paused()`, the per-transaction and
/// rolling-24-hour caps on contributions routed.
public struct SafetyGate: Sendable {
    /// The settings.
    public let settings: SubmissionSettings
    /// The treasury.
    public let treasury: Address

    /// `is_keeper(address)`.
    public static let isKeeper = try! ABIFunction(signature: "is_keeper(address keeper)")

    /// A gate over `settings`.
    public init(settings: SubmissionSettings, treasury: Address) { self.settings = settings; self.treasury = treasury }

    /// Why new submissions are stopped now, nil when they may go on.
    public func pauseReason(chain: any ChainReader) async throws -> String? {
        if FileManager.default.fileExists(atPath: settings.pauseFile) { return "pause file \(settings.pauseFile) exists" }
        if case let .returned(out) = try await chain.call(from: nil, to: treasury, data: try Bindings.paused.encodeCall([])),
           let v = try? ABIDecoder.decode([.bool], from: out), case .bool(true)? = v.first {
            return "the treasury is paused()"
        }
        return nil
    }

    /// Refuses to start when `keeper` is not an enabled keeper on the treasury.
    public func checkKeeperRole(_ keeper: Address, chain: any ChainReader) async throws {
        let out: [UInt8]
        switch try await chain.call(from: nil, to: treasury, data: try Self.isKeeper.encodeCall([.address(keeper)])) {
        case let .returned(o): out = o
        case let .reverted(message, _):
            throw EngineError.config([ConfigIssue(key: "contracts.treasury", message:
                "\(treasury.checksummed) reverts is_keeper(\(keeper.checksummed)) (\(message.isEmpty ? "no reason" : message)): not an "
                + "ExpansionTreasury (the staking contract or another contract?); set contracts.treasury to the address `contracts deploy` printed")])
        }
        if out.isEmpty {
            throw EngineError.config([ConfigIssue(key: "contracts.treasury", message:
                "\(treasury.checksummed) has no contract code (wrong address or chain.rpc_urls, or not deployed yet); "
                + "set contracts.treasury to the address `contracts deploy` printed")])
        }
        guard let v = try? ABIDecoder.decode([.bool], from: out), case .bool(true)? = v.first else {
            throw EngineError.config([ConfigIssue(key: "keeper.keystore", message:
                "the key \(keeper.checksummed) is not an enabled keeper on treasury \(treasury.checksummed) "
                + "(the owner must call set_keeper(\(keeper.checksummed), true)); refusing to start")])
        }
    }

    /// What stops the keeper routing through a ProvenExpansionTreasury at `config.contracts.treasury`, each naming its
    /// config key (empty when nothing does): the contract must answer `reward_source()` with `contracts.staking` and
    /// `reward_topic()` with the reward event's topic 0; the reward event must carry the staker as its first indexed
    /// field and the amount as its first data word (what the contract reads from the proven log); and the confirmed
    /// `block` must be provable (its header fields hash to its block hash: the keeper knows the chain's fork).
    public static func provenTreasuryIssues(config: KeeperConfig, chain: any ChainReader) async throws -> [ConfigIssue] {
        let treasury = config.contracts.treasury
        let fix = "set contracts.treasury to the address `contracts deploy --kind proven` printed, or [treasury] kind = \"keeper\""
        let event: ABIEvent
        do { event = try Bindings(config: config).reward.event } catch {
            return [ConfigIssue(key: "contracts.reward_event", message: "\(error)")]
        }
        func read(_ f: ABIFunction) async throws -> [UInt8]? {
            if case let .returned(out) = try await chain.call(from: nil, to: treasury, data: try f.encodeCall([])), out.count == 32 { return out }
            return nil
        }
        guard let source = try await read(Bindings.rewardSource), let topic = try await read(Bindings.rewardTopic) else {
            return [ConfigIssue(key: "treasury.kind", message: "\(treasury.checksummed) does not answer reward_source() and reward_topic(): "
                                + "not a ProvenExpansionTreasury (kind = \"proven\" needs one); \(fix)")]
        }
        var issues: [ConfigIssue] = []
        if (try? Address(source.suffix(20))) != config.contracts.staking {
            issues.append(ConfigIssue(key: "contracts.staking", message: "the treasury \(treasury.checksummed) accepts rewards from "
                                      + "\((try? Address(source.suffix(20)))?.checksummed ?? "?"), not contracts.staking \(config.contracts.staking.checksummed)"))
        }
        if topic != event.topic0.bytes {
            issues.append(ConfigIssue(key: "contracts.reward_event", message: "the treasury \(treasury.checksummed) accepts the event with topic 0 "
                                      + "\(Hex.encode(topic)), not \(event.signature) (\(event.topic0.hexString))"))
        }
        let (stakerField, amountField) = (config.contracts.rewardStakerField, config.contracts.rewardAmountField)
        if event.parameters.first(where: \.indexed)?.name != stakerField {
            issues.append(ConfigIssue(key: "contracts.reward_staker_field", message: "the proven treasury reads the staker from topic 1: "
                                      + "\(stakerField) must be the first indexed field of \(event.signature)"))
        }
        if event.parameters.first(where: { !$0.indexed })?.name != amountField {
            issues.append(ConfigIssue(key: "contracts.reward_amount_field", message: "the proven treasury reads the amount from the first "
                                      + "data word: \(amountField) must be the first non-indexed field of \(event.signature)"))
        }
        // The confirmed target: the newest block the keeper acts on, and how far it is below the head.
        let head = try await chain.head(.latest)
        let target: UInt64
        switch config.chain.confirmations {
        case let .blocks(n): target = head >= n ? head - n : 0
        case .safe: target = try await chain.head(.safe)
        case .finalized: target = try await chain.head(.finalized)
        }
        let window = try await Bindings.verifiableWindow(chain: chain)
        let depth = head >= target ? head - target : 0
        if depth + RouteCalls.margin(window: window) >= window {
            issues.append(ConfigIssue(key: "chain.confirmations", message: "claims are sent \(depth) blocks deep, but the proven treasury "
                                      + "verifies only the last \(window) blocks (less \(RouteCalls.margin(window: window)) for a transaction to be mined): "
                                      + "every claim would be UNVERIFIABLE; confirm fewer blocks"))
        }
        if target > 0 {
            do { _ = try await chain.receiptProofs(block: target) } catch let e as BlockReceiptProofs.Failure {
                issues.append(ConfigIssue(key: "treasury.kind", message: "the keeper cannot prove this chain's blocks: \(e.description)"))
            }
        }
        return issues
    }

    /// The prefix of `intents` (claim order) that fits the per-transaction cap and what is left of the
    /// rolling-24-hour cap (`spentToday`), at most `max_batch` long. Empty when a cap defers everything;
    /// `deferred` then says which cap.
    public func admit(_ intents: [RouteIntent], spentToday: UInt256) -> (batch: [RouteIntent], deferred: String?) {
        var out: [RouteIntent] = []
        var total = UInt256.zero
        let dayLeft: UInt256? = settings.maxRoutedPerDay.map { $0 > spentToday ? $0.subtractingReportingOverflow(spentToday).partialValue : .zero }
        for i in intents.prefix(settings.maxBatch) {
            let next = total.addingReportingOverflow(i.expected).partialValue
            if let cap = settings.maxRoutedPerTx, next > cap {
                return (out, out.isEmpty ? "claim \(i.claim) alone (\(i.expected) wei) exceeds max_routed_per_tx (\(cap) wei)" : nil)
            }
            if let left = dayLeft, next > left {
                return (out, out.isEmpty ? "max_routed_per_day reached (\(spentToday) wei in the last 24 h)" : nil)
            }
            out.append(i)
            total = next
        }
        return (out, nil)
    }
}
