import EthereumABI
import EthereumCore
import JSONRPC
import KeeperCore
import KeeperStore

/// Decodes the treasury's logs for either kind of treasury into `ChainEvent`s.
///
/// The `ExpansionTreasury`'s `Routed`/`RouteSkipped` name a claim as (block, log index) — the keeper's own claim
/// identity. The `ProvenExpansionTreasury`'s name it as (block, transaction index, log position in that receipt): the
/// decoder maps that back to the block-wide log index from that one receipt (`ChainReader.logIndex`), and records the
/// block's canonical hash as the claim's (the contract verified the header against it). Anyone may call the proven
/// treasury with any input, so only what can settle a claim is looked up — a `Routed`, a skip the contract gave after
/// verifying the proof, or a proof refusal (11–16) of the keeper's own transaction (`ours`). A stranger's refusals and
/// the skips given before the header was verified (FUTURE, ORPHANED, BAD_HEADER, UNVERIFIABLE) cite no known claim
/// (`TreasuryEvent.unresolvedLogIndex`) and cost no lookup.
public struct TreasuryLogDecoder: Sendable {
    /// Which treasury.
    public let kind: KeeperConfig.TreasuryKind
    let routed: ABIEvent
    let skipped: ABIEvent

    /// A decoder for `kind`.
    public init(kind: KeeperConfig.TreasuryKind) {
        self.kind = kind
        (routed, skipped) = Bindings.routeEvents(kind)
    }

    /// Topic 0 of every treasury event of this kind.
    public var topics: [Bytes32] { Bindings.treasuryTopics(kind) }

    /// A proven claim still to be mapped to its log index.
    struct Pending {
        var event: Int
        var block: UInt64
        var txIndex: UInt64
        var logPosition: UInt32
    }

    /// Decodes `logs` (all from the treasury, in order) and resolves proven claims through `chain`; `ours` tells the
    /// keeper's own routing transactions (whose proof refusals settle the claims they name).
    public func decode(_ logs: [RawLog], chain: any ChainReader, ours: (Bytes32) throws -> Bool = { _ in false }) async throws -> [ChainEvent] {
        var events: [ChainEvent] = []
        var pending: [Pending] = []
        for log in logs {
            let (event, claim) = try decodeOne(log)
            if let claim, case let .treasury(t) = event {
                var wanted = true
                if case let .skipped(code) = t.outcome, Bindings.proofRefusals.contains(code) { wanted = try ours(t.txHash) }
                if wanted { pending.append(Pending(event: events.count, block: claim.block, txIndex: claim.txIndex, logPosition: claim.logPosition)) }
            }
            events.append(event)
        }
        try await resolve(&events, pending, chain: chain)
        return events
    }

    /// One log; for the proven kind also the (block, tx index, log position) to resolve (nil when it needs none).
    func decodeOne(_ log: RawLog) throws -> (ChainEvent, (block: UInt64, txIndex: UInt64, logPosition: UInt32)?) {
        guard let logIndex = UInt32(exactly: log.logIndex) else {
            throw EngineError.chain("log \(log.blockNumber):\(log.logIndex) has an impossible index")
        }
        let position = LogPosition(block: log.blockNumber, logIndex: logIndex)
        guard kind == .proven else { return (try Ingestor.decodeTreasury(log, position: position), nil) }
        func u(_ v: ABIValue) -> UInt256 { if case let .uint(x) = v { return x }; return .zero }
        func addr(_ v: ABIValue) -> Address { if case let .address(a) = v { return a }; return .zero }
        let topic0 = log.topics.first ?? .zero
        guard topic0 == routed.topic0 || topic0 == skipped.topic0 else { return (try Ingestor.decodeTreasury(log, position: position), nil) }
        let isRouted = topic0 == routed.topic0
        let v = try (isRouted ? routed : skipped).decode(topics: log.topics, data: log.data)
        let block = u(v[1].value).l0, tx = u(v[2].value).l0, pos = UInt32(truncatingIfNeeded: u(v[3].value).l0)
        let outcome: TreasuryEvent.Outcome = isRouted
            ? .routed(reward: u(v[4].value), contributed: u(v[5].value), shareBps: UInt16(truncatingIfNeeded: u(v[6].value).l0))
            : .skipped(reason: UInt8(truncatingIfNeeded: u(v[4].value).l0))
        let event = TreasuryEvent(position: position, blockHash: log.blockHash, txHash: log.transactionHash, staker: addr(v[0].value),
                                  claim: LogPosition(block: block, logIndex: TreasuryEvent.unresolvedLogIndex), outcome: outcome)
        if case let .skipped(code) = outcome, Self.headerUnverified.contains(code) { return (.treasury(event), nil) }
        return (.treasury(event), (block, tx, pos))
    }

    /// Skip reasons given before the contract verified the claim's header against the chain.
    static let headerUnverified: Set<UInt8> = [Bindings.reasonFuture, Bindings.reasonOrphaned, Bindings.reasonUnverifiable, Bindings.reasonBadHeader]

    func resolve(_ events: inout [ChainEvent], _ pending: [Pending], chain: any ChainReader) async throws {
        var found: [String: (logIndex: UInt32, blockHash: Bytes32)?] = [:]
        for p in pending {
            guard case var .treasury(t) = events[p.event] else { continue }
            let key = "\(p.block):\(p.txIndex):\(p.logPosition)"
            if found[key] == nil {
                do { found[key] = .some(try await chain.logIndex(block: p.block, txIndex: p.txIndex, position: p.logPosition)) } catch {
                    throw EngineError.chain("the treasury's claim in block \(p.block) (tx \(t.txHash.hexString)) cannot be mapped to its log: \(error)")
                }
            }
            if let (index, hash) = found[key] ?? nil {
                t.claim = LogPosition(block: p.block, logIndex: index)
                t.claimBlockHash = hash
            } else if case .routed = t.outcome {
                throw EngineError.chain("the treasury routed a claim at block \(p.block), transaction \(p.txIndex), log position \(p.logPosition) "
                                        + "(tx \(t.txHash.hexString)), but the chain's block has no such log")
            }
            events[p.event] = .treasury(t)
        }
    }
}
