import EthereumABI
import EthereumCore
import Foundation

/// A problem with the ABI the config names, and the config key it belongs to.
struct BindingIssue: Error {
    var key: String
    var message: String
}

/// The configured reward event of the staking contract: which log is a reward payment, and where its
/// staker and amount are.
public struct RewardEventBinding: Sendable {
    /// The event (its topic0 filters `eth_getLogs`).
    public let event: ABIEvent
    /// Index of the staker parameter (type `address`).
    public let stakerIndex: Int
    /// Index of the amount parameter (type `uint256`).
    public let amountIndex: Int

    /// Decodes a reward log into (staker, amount); throws when the log is not this event.
    public func decode(topics: [Bytes32], data: [UInt8]) throws -> (staker: Address, amount: UInt256) {
        let values = try event.decode(topics: topics, data: data)
        guard case let .address(staker) = values[stakerIndex].value, case let .uint(amount) = values[amountIndex].value else {
            throw EngineError.chain("reward log fields have unexpected types")
        }
        return (staker, amount)
    }
}

/// The contract bindings the keeper uses: the configured reward event (from the staking ABI file) and
/// the ExpansionTreasury's events and functions (declared here by signature; a test proves they match
/// `ABI/ExpansionTreasury.json`, as go-ethereum's abigen bindings are checked against their ABI).
public struct Bindings: Sendable {
    /// The reward event.
    public let reward: RewardEventBinding

    /// `OptedIn(address indexed staker, uint16 share_bps, uint64 since_block)`.
    public static let optedIn = try! ABIEvent(signature: "OptedIn(address indexed staker,uint16 share_bps,uint64 since_block)")
    /// `OptedOut(address indexed staker)`.
    public static let optedOut = try! ABIEvent(signature: "OptedOut(address indexed staker)")
    /// `Routed(…)`: a claim routed.
    public static let routed = try! ABIEvent(signature:
        "Routed(address indexed staker,uint64 claim_block,uint32 claim_log_index,uint256 reward,uint256 contributed,uint16 share_bps)")
    /// `RouteSkipped(…)`: a claim skipped, with the treasury's reason code.
    public static let routeSkipped = try! ABIEvent(signature:
        "RouteSkipped(address indexed staker,uint64 claim_block,uint32 claim_log_index,uint8 reason)")
    /// `reward_token()`.
    public static let rewardTokenFunction = try! ABIFunction(signature: "reward_token()")

    /// The treasury's `reward_token()`; nil when the treasury does not answer it with an address (then `audit` cannot
    /// justify an omission by allowance or balance, and the API cannot name the token).
    public static func rewardToken(treasury: Address, chain: any ChainReader) async throws -> Address? {
        guard case let .returned(out) = try await chain.call(from: nil, to: treasury, data: try rewardTokenFunction.encodeCall([])),
              case let .address(a)? = try? ABIDecoder.decode([.address], from: out).first else { return nil }
        return a
    }

    /// `route((address,uint256,uint64,uint32,bytes32)[])`.
    public static let route = try! ABIFunction(signature:
        "route((address,uint256,uint64,uint32,bytes32)[] claims)")
    /// `paused()`.
    public static let paused = try! ABIFunction(signature: "paused()")
    /// `registration(address)`.
    public static let registration = try! ABIFunction(signature: "registration(address staker)")

    /// The treasury's reason codes (`RouteSkipped.reason`), as in deploy/contracts/README.md (11–16: the
    /// ProvenExpansionTreasury's own proof checks).
    public static let skipReasons: [UInt8: String] = [
        1: "NOT_REGISTERED", 2: "BEFORE_OPT_IN", 3: "DUPLICATE", 4: "FUTURE", 5: "ORPHANED", 6: "ZERO_CONTRIBUTION",
        7: "NO_ALLOWANCE", 8: "NO_BALANCE", 9: "TRANSFER_FAILED", 10: "OVERFLOW",
        11: "UNVERIFIABLE", 12: "BAD_HEADER", 13: "BAD_PROOF", 14: "BAD_RECEIPT", 15: "NOT_REWARD_SOURCE", 16: "NOT_REWARD_EVENT",
    ]

    /// `RouteSkipped` UNVERIFIABLE: the claim's block is older than the chain can verify (the staker keeps the reward).
    public static let reasonUnverifiable: UInt8 = 11
    /// `RouteSkipped` BAD_HEADER: the claim's header is not a decodable header (ProvenExpansionTreasury).
    public static let reasonBadHeader: UInt8 = 12
    /// Skips that say something final about the claim itself whoever sent them: NOT_REGISTERED, BEFORE_OPT_IN,
    /// DUPLICATE, ZERO_CONTRIBUTION. The others depend on the moment (allowance, balance, the token) or on the input
    /// (a proof), so only the keeper's own transaction settles a claim with them.
    public static let finalSkipReasons: Set<UInt8> = [1, 2, 3, 6]
    /// The ProvenExpansionTreasury's refusals of unproven input (11–16): nothing was taken, whoever sent it.
    public static let proofRefusals: ClosedRange<UInt8> = 11...16

    /// ProvenExpansionTreasury `Routed(…)`: the claim is (block, transaction index, log position in its receipt).
    public static let provenRouted = try! ABIEvent(signature:
        "Routed(address indexed staker,uint64 claim_block,uint32 claim_tx_index,uint32 claim_log_position,uint256 reward,uint256 contributed,uint16 share_bps)")
    /// ProvenExpansionTreasury `RouteSkipped(…)`.
    public static let provenRouteSkipped = try! ABIEvent(signature:
        "RouteSkipped(address indexed staker,uint64 claim_block,uint32 claim_tx_index,uint32 claim_log_position,uint8 reason)")
    /// ProvenExpansionTreasury `reward_source()`: the contract whose logs it accepts as rewards.
    public static let rewardSource = try! ABIFunction(signature: "reward_source()")
    /// ProvenExpansionTreasury `reward_topic()`: the reward event's topic 0.
    public static let rewardTopic = try! ABIFunction(signature: "reward_topic()")
    /// The EIP-2935 history contract (block hashes for 8,191 blocks).
    public static let historyContract = try! Address("0x0000F90827F1C53a10cb7A02335B175320002935")
    /// Blocks `BLOCKHASH` reaches back.
    public static let blockhashWindow: UInt64 = 256
    /// Blocks the EIP-2935 history contract reaches back.
    public static let historyWindow: UInt64 = 8191

    /// The treasury's `Routed` and `RouteSkipped` events of `kind`.
    public static func routeEvents(_ kind: KeeperConfig.TreasuryKind) -> (routed: ABIEvent, skipped: ABIEvent) {
        kind == .proven ? (provenRouted, provenRouteSkipped) : (routed, routeSkipped)
    }

    /// Topic 0 of every treasury event the keeper reads for `kind` (registrations, routes, skips).
    public static func treasuryTopics(_ kind: KeeperConfig.TreasuryKind) -> [Bytes32] {
        let (r, s) = routeEvents(kind)
        return [optedIn.topic0, optedOut.topic0, r.topic0, s.topic0]
    }

    /// The blocks the chain can verify for the ProvenExpansionTreasury: 8,191 when the EIP-2935 history contract
    /// answers, 256 (`BLOCKHASH`) otherwise.
    public static func verifiableWindow(chain: any ChainReader) async throws -> UInt64 {
        let head = try await chain.head(.latest)
        guard head > 1 else { return blockhashWindow }
        let query = try ABIEncoder.encode([.uint(UInt256(head - 1))], as: [.uint256])
        if case let .returned(out) = try await chain.call(from: nil, to: historyContract, data: query), out.count == 32,
           out.contains(where: { $0 != 0 }) {
            return historyWindow
        }
        return blockhashWindow
    }

    /// `RouteSkipped` FUTURE: the claim is dated in the routing block or later (it cites no past block).
    public static let reasonFuture: UInt8 = 4
    /// `RouteSkipped` ORPHANED: the chain serves another hash for the claim's block (a claim of another fork).
    public static let reasonOrphaned: UInt8 = 5

    /// A reason code's name (`REASON_<n>` when unknown).
    public static func reasonName(_ code: UInt8) -> String { skipReasons[code] ?? "REASON_\(code)" }

    /// Loads the bindings for a validated config.
    public init(config: KeeperConfig) throws(EngineError) {
        do {
            reward = try Self.rewardEvent(abiPath: config.contracts.stakingABI, event: config.contracts.rewardEvent,
                                          stakerField: config.contracts.rewardStakerField, amountField: config.contracts.rewardAmountField)
        } catch {
            throw .binding("config \(error.key): \(error.message)")
        }
    }

    /// Loads a JSON ABI and checks the reward event and its fields (staker: address, amount: uint256).
    static func rewardEvent(abiPath: String, event: String, stakerField: String, amountField: String) throws(BindingIssue) -> RewardEventBinding {
        let text: String
        do { text = try String(contentsOfFile: abiPath, encoding: .utf8) } catch {
            throw BindingIssue(key: "contracts.staking_abi", message: "cannot read \(abiPath): \(KeeperConfig.ioReason(abiPath))")
        }
        let contract: ABIContract
        do { contract = try ABIContract(json: text) } catch {
            throw BindingIssue(key: "contracts.staking_abi", message: "\(abiPath) is not a JSON ABI: \(error)")
        }
        guard let ev = contract.event(named: event) else {
            let names = contract.events.map(\.name).joined(separator: ", ")
            throw BindingIssue(key: "contracts.reward_event", message: "\(abiPath) has no event \"\(event)\" (events: \(names.isEmpty ? "none" : names))")
        }
        func field(_ name: String, _ type: ABIType, _ key: String) throws(BindingIssue) -> Int {
            guard let i = ev.parameters.firstIndex(where: { $0.name == name }) else {
                let have = ev.parameters.map { "\($0.name) \($0.type.canonical)" }.joined(separator: ", ")
                throw BindingIssue(key: key, message: "event \(ev.signature) has no field \"\(name)\" (fields: \(have))")
            }
            guard ev.parameters[i].type == type else {
                throw BindingIssue(key: key, message: "field \"\(name)\" of \(ev.signature) is \(ev.parameters[i].type.canonical), expected \(type.canonical)")
            }
            return i
        }
        let s = try field(stakerField, .address, "contracts.reward_staker_field")
        let a = try field(amountField, .uint256, "contracts.reward_amount_field")
        return RewardEventBinding(event: ev, stakerIndex: s, amountIndex: a)
    }
}
