import EthereumABI
import EthereumCore
import Foundation
import KeeperCore
import KeeperStore

/// How a batch of intents becomes the treasury's calldata: `route(claims)` for the ExpansionTreasury (the keeper's
/// word), `route_proven(headers, nodes, claims)` for the ProvenExpansionTreasury — each claimed block's header and
/// receipts fetched and checked (the header hashes to the block hash, the rebuilt receipts trie to its
/// receiptsRoot), each claim's log found at (transaction index, position in its receipt) and compared with the intent
/// (the staking contract's reward event, the staker in topic 1, the amount in the first data word) BEFORE anything is
/// sent. Claims sharing a block share its header and the trie nodes of their proofs.
public final class RouteCalls: @unchecked Sendable {
    /// A batch's calldata and what was left out of it.
    public struct Built: Sendable {
        /// The calldata (empty when nothing is included).
        public var data: [UInt8]
        /// The intents in the call: a prefix of each staker's claims, in claim order.
        public var included: [RouteIntent]
        /// Claims not included and why; `lasting` ones will not change by waiting a poll (the submitter records them).
        public var held: [(intent: RouteIntent, reason: String, lasting: Bool)]
    }

    let config: KeeperConfig
    let chain: any ChainReader
    var proofs: [UInt64: BlockReceiptProofs] = [:]
    /// The reward event's topic 0, read from the staking ABI once (not once per batch or per diagnosed claim).
    lazy var rewardTopic: Result<Bytes32, EngineError> = Result { () throws(EngineError) in try Bindings(config: config).reward.event.topic0 }
    var window: (head: UInt64, blocks: UInt64)?

    /// Calls for the treasury `config` names, reading blocks through `chain`.
    public init(config: KeeperConfig, chain: any ChainReader) { self.config = config; self.chain = chain }

    /// Forgets fetched blocks (each poll starts fresh; a block's proofs are reused within one poll).
    public func reset() { proofs.removeAll(keepingCapacity: true); window = nil }

    /// The calldata for `intents` (claim order).
    public func build(_ intents: [RouteIntent]) async throws -> Built {
        guard config.treasury.kind == .proven else {
            return Built(data: intents.isEmpty ? [] : try PlanReport.calldata(intents), included: intents, held: [])
        }
        return try await buildProven(intents)
    }

    /// The blocks the chain verifies now, and the head it was read at.
    func verifiable() async throws -> (head: UInt64, blocks: UInt64) {
        if let window { return window }
        let w = (try await chain.head(.latest), try await Bindings.verifiableWindow(chain: chain))
        window = w
        return w
    }

    func block(_ number: UInt64, hash: Bytes32) async throws -> BlockReceiptProofs {
        if let p = proofs[number], p.blockHash == hash { return p }
        if proofs.count >= 64 { proofs.removeAll(keepingCapacity: true) }
        let p = try await chain.receiptProofs(block: number)
        proofs[number] = p
        return p
    }

    /// Blocks before the window's edge at which the keeper stops sending a claim: the time a transaction may wait to be
    /// mined (replacements, a backlog), 1/16 of the window (512 blocks of 8,191, 16 of 256).
    public static func margin(window: UInt64) -> UInt64 { max(2, window / 16) }

    func buildProven(_ intents: [RouteIntent]) async throws -> Built {
        let rewardTopic = try self.rewardTopic.get()
        let (head, verifiable) = try await verifiable()
        var call = ProvenRouteCall()
        var out = Built(data: [], included: [], held: [])
        var blocked = Set<Address>()  // a staker's later claims wait with an earlier held one (chain order)
        var unprovable: [UInt64: String] = [:]  // blocks whose header or receipts did not check out this poll
        let margin = Self.margin(window: verifiable)
        for i in intents {
            if blocked.contains(i.staker) {
                out.held.append((i, "waits for the staker's earlier claim (claims reach the treasury in chain order)", false))
                continue
            }
            func hold(_ reason: String, lasting: Bool) { out.held.append((i, reason, lasting)); blocked.insert(i.staker) }
            let age = head >= i.claim.block ? head - i.claim.block : 0
            if age + margin > verifiable {
                hold("UNVERIFIABLE: block \(i.claim.block) is \(age) blocks old; the chain verifies only the last \(verifiable) "
                     + "and a transaction may wait \(margin) blocks to be mined (the treasury would skip it; the staker keeps the reward)",
                     lasting: true)
                continue
            }
            if let why = unprovable[i.claim.block] { hold(why, lasting: false); continue }
            let p: BlockReceiptProofs
            do { p = try await block(i.claim.block, hash: i.blockHash) } catch let f as BlockReceiptProofs.Failure {
                // Checked twice and still not matching: this block's claims wait (the next poll tries again), others go on.
                unprovable[i.claim.block] = "cannot prove block \(i.claim.block) now: \(f.description)"
                hold(unprovable[i.claim.block] ?? "", lasting: false)
                continue
            }
            guard p.blockHash == i.blockHash else {
                hold("block \(i.claim.block) is now \(p.blockHash.hexString), not the claim's \(i.blockHash.hexString) "
                     + "(a reorg the ingestor has not repaired yet)", lasting: false)
                continue
            }
            guard let (tx, position) = p.location(ofLogIndex: i.claim.logIndex), let log = p.log(txIndex: tx, position: position) else {
                hold("proof: block \(i.claim.block) has no log \(i.claim.logIndex)", lasting: true)
                continue
            }
            let staker = log.topics.count >= 2 ? try? Address(log.topics[1].bytes.suffix(20)) : nil
            let amount = log.data.count >= 32 ? try? UInt256(bigEndianBytes: log.data.prefix(32)) : nil
            guard log.address == config.contracts.staking, log.topics.first == rewardTopic, staker == i.staker, amount == i.amount else {
                hold("proof: log \(i.claim) in the block's receipts is not the reward of \(i.staker.checksummed) for \(i.amount) wei "
                     + "from \(config.contracts.staking.checksummed)", lasting: true)
                continue
            }
            do { try call.add(p, txIndex: tx, logPosition: position) } catch {
                if call.count == 0 { hold("proof: \(error.description)", lasting: true); continue }
                break  // the call is full (claims, headers or node bytes): the rest goes in the next batch
            }
            out.included.append(i)
        }
        if !out.included.isEmpty { out.data = try call.calldata() }
        return out
    }
}
