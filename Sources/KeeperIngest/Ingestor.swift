// KeeperIngest — from the chain into the store: ingestion in confirmed ranges, reorg detection and repair
// (orphaned claims, orphaned routes), the registry and the planner of route intents, and the ingest service.
// Imports KeeperCore and KeeperStore; reports to operations only through `IngestObserver`.
import EthereumABI
import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperStore

/// What one ingestion step did.
public enum IngestStep: Sendable, Equatable {
    /// Nothing to do: the cursor is past the confirmed target.
    case caughtUp(cursor: UInt64, target: UInt64)
    /// Blocks `range` were ingested (in one or more committed chunks) with `events` events.
    case ingested(range: ClosedRange<UInt64>, events: Int)
    /// The stored tip was orphaned: everything above `ancestor` was dropped; the next step re-ingests.
    case reorg(ReorgRecord)
}

/// Ingestion: from `start_block` (or the cursor) up to the confirmed target, in ranges fetched with the
/// chain client's adaptive `eth_getLogs` filtered by the reward event and the treasury's events. Each
/// fetched chunk commits its events, the registry and intents it changes, its block hashes and the new
/// cursor in one store transaction. Before extending, the stored tip's hash is checked against the chain;
/// on a mismatch the ingestor walks back through the stored window to the common ancestor, deletes what
/// orphaned blocks produced and replays the surviving events into the registry and intents.
public final class Ingestor: Sendable {
    /// The validated configuration (confirmations, start block, ranges, contracts).
    public let config: KeeperConfig
    /// The reward-event and treasury-event bindings that decode the fetched logs.
    public let bindings: Bindings
    /// The store each chunk's events, registry, intents, block hashes and cursor commit to.
    public let store: KeeperStore
    /// The primary chain reader (`rpc_urls`): heads, headers and logs come from it.
    public let chain: any ChainReader
    /// A second provider whose log sets must agree (`verify_rpc_urls`), if configured.
    public let verifier: (any ChainReader)?
    let planner: Planner
    let topics: [Bytes32]
    let treasuryLogs: TreasuryLogDecoder

    /// An ingestor over its parts.
    public init(config: KeeperConfig, bindings: Bindings, store: KeeperStore, chain: any ChainReader, verifier: (any ChainReader)? = nil) {
        self.config = config; self.bindings = bindings; self.store = store; self.chain = chain; self.verifier = verifier
        planner = Planner(minRouteWei: config.keeper.minRouteWei)
        treasuryLogs = TreasuryLogDecoder(kind: config.treasury.kind)
        topics = [bindings.reward.event.topic0] + treasuryLogs.topics
    }

    /// The identity the store must match.
    public var identity: StoreIdentity {
        StoreIdentity(chainID: config.chain.chainID, staking: config.contracts.staking,
                      rewardTopic: bindings.reward.event.topic0, treasury: config.contracts.treasury)
    }

    /// Checks the endpoints' chain id against the config and binds the store to this chain and contracts.
    public func prepare() async throws {
        let id = try await chain.chainID()
        guard id == config.chain.chainID else {
            throw EngineError.chain("the RPC endpoints report chain id \(id) but chain.chain_id is \(config.chain.chainID)")
        }
        if let verifier {
            let v = try await verifier.chainID()
            guard v == id else { throw EngineError.chain("verify_rpc_urls report chain id \(v), rpc_urls report \(id)") }
        }
        try store.bind(to: identity)
    }

    /// The highest block the keeper may act on: head − confirmations, or the safe/finalized block. Nil
    /// while the chain is shorter than `confirmations`.
    public func target() async throws -> UInt64? {
        switch config.chain.confirmations {
        case let .blocks(n):
            let head = try await chain.head(.latest)
            return head >= n ? head - n : nil
        case .safe: return try await chain.head(.safe)
        case .finalized: return try await chain.head(.finalized)
        }
    }

    /// One step: a reorg check, then up to `max_ingest_range` blocks towards the target.
    public func step() async throws -> IngestStep {
        let start = try store.read { r in try r.cursor() } ?? config.chain.startBlock
        guard let target = try await target() else { return .caughtUp(cursor: start, target: 0) }
        if let reorg = try await checkTip() { return .reorg(reorg) }
        guard start <= target else { return .caughtUp(cursor: start, target: target) }
        let end = min(target, start + (config.chain.maxIngestRange - 1))
        var events = 0
        var committedTo: UInt64?
        try await chain.logs(addresses: [config.contracts.staking, config.contracts.treasury], topics: [topics], from: start, to: end) { range, logs in
            try Task.checkCancellation()
            events += try await commit(range: range, logs: logs, target: target)
            committedTo = range.upperBound
        }
        return .ingested(range: start...(committedTo ?? end), events: events)
    }

    /// Runs steps until the cursor reaches the target (or `shouldStop` says so). Returns the reorgs handled.
    @discardableResult
    public func catchUp(shouldStop: @Sendable () -> Bool = { false }) async throws -> [ReorgRecord] {
        var reorgs: [ReorgRecord] = []
        while !shouldStop() {
            switch try await step() {
            case .caughtUp: return reorgs
            case let .reorg(r): reorgs.append(r)
            case .ingested: continue
            }
        }
        return reorgs
    }

    // MARK: reorgs

    /// Checks the stored tip against the chain; on a mismatch walks back to the common ancestor and rolls
    /// the store back to it. Throws `.reorgTooDeep` when no stored block within the window is canonical.
    func checkTip() async throws -> ReorgRecord? {
        guard let tip = try store.read({ r in try r.tip() }) else { return nil }
        // A chain that got shorter than the stored tip orphaned it too (the node has no such block now).
        let head = try await chain.head(.latest)
        if tip.number <= head, try await chain.blocks([tip.number]).first?.hash == tip.hash { return nil }
        let window = config.chain.reorgWindow
        let lowest = tip.number >= window ? tip.number - window : 0
        let stored = try store.read { r in try r.blocks(atOrBelow: min(tip.number, head), limit: Int(window) + 1) }
            .filter { $0.number >= lowest }
        var ancestor: UInt64?
        var i = 0
        while i < stored.count && ancestor == nil {
            let slice = Array(stored[i..<min(stored.count, i + 100)])
            let headers = try await chain.blocks(slice.map(\.number))
            for (s, h) in zip(slice, headers) where s.hash == h.hash { ancestor = s.number; break }
            i += 100
        }
        guard let ancestor else {
            try? store.write { w in
                try w.increment("deep_reorgs")
                try w.setMeta("last_error", EngineError.reorgTooDeep(storedTip: tip.number, checkedDownTo: lowest, window: window).description)
            }
            throw EngineError.reorgTooDeep(storedTip: tip.number, checkedDownTo: lowest, window: window)
        }
        var record = ReorgRecord(oldTip: tip.number, ancestor: ancestor, depth: tip.number - ancestor,
                                 detectedAt: Int64(Date().timeIntervalSince1970))
        // One store transaction: a kill -9 leaves either the old fork's view (and the next start finds the same
        // mismatch) or the whole roll-back.
        record.id = try store.write { w in
            let id = try w.record(record)
            try w.undoOrphanedBlocks(above: ancestor, reason:
                "reorg #\(id): blocks \(ancestor + 1)...\(tip.number) orphaned (depth \(tip.number - ancestor))")
            try w.deleteAbove(ancestor)
            try replay(w)
            try w.setCursor(ancestor + 1)
            try w.increment("reorgs_seen")
            return id
        }
        return record
    }

    /// Rebuilds the registry and intents from the stored events (after a reorg removed some).
    func replay(_ w: StoreWriter) throws {
        let r = w.reader
        var events: [ChainEvent] = try r.rewardEvents().map { .reward($0) }
        events += try r.registrationEvents().map { .registration($0) }
        events += try r.treasuryEvents().map { .treasury($0) }
        events.sort { $0.position < $1.position }
        try w.clearDerived()
        try planner.replay(events, into: w)
    }

    // MARK: one chunk

    func commit(range: ClosedRange<UInt64>, logs: [RawLog], target: UInt64) async throws -> Int {
        let window = config.chain.reorgWindow
        // Hashes to keep: the window below the target, the chunk's last block, and the block before the chunk
        // (to prove the chunk extends what is stored).
        let windowLow = target >= window ? target - window + 1 : 0
        var numbers = Set<UInt64>()
        if range.upperBound >= windowLow {
            for n in max(range.lowerBound, windowLow)...range.upperBound { numbers.insert(n) }
        }
        numbers.insert(range.upperBound)
        let before = range.lowerBound > 0 ? range.lowerBound - 1 : nil
        let storedBefore = try before.flatMap { b in try store.read { r in try r.blockHash(b) } }
        if storedBefore != nil, let before { numbers.insert(before) }
        // Blocks of the chunk where the store recorded a settlement or a receipt: their canonical hash decides
        // whether that record still holds (a reorg the stored tip never saw may have orphaned it).
        let settlements = try store.read { r in try r.settlementBlocks(in: range) }
        numbers.formUnion(settlements)
        let sorted = numbers.sorted()
        var headers: [UInt64: Bytes32] = [:]
        var i = 0
        while i < sorted.count {
            for h in try await chain.blocks(Array(sorted[i..<min(sorted.count, i + 100)])) { headers[h.number] = h.hash }
            i += 100
        }
        if let before, let storedBefore, headers[before] != storedBefore {
            throw EngineError.chain("block \(before) changed while blocks \(range.lowerBound)...\(range.upperBound) were fetched (a reorg); retrying")
        }
        for log in logs {
            if let h = headers[log.blockNumber], h != log.blockHash {
                throw EngineError.chain("log \(log.blockNumber):\(log.logIndex) is from block hash \(log.blockHash.hexString), the canonical one is \(h.hexString) (a reorg during the fetch); retrying")
            }
        }
        if let verifier { try await crossCheck(verifier, range: range, logs: logs) }
        let events = try await decode(logs)
        try store.write { w in
            for n in settlements { if let h = headers[n] { try w.undoSettlements(inBlock: n, unlessHash: h) } }
            try planner.apply(events, to: w)
            for (n, h) in headers where n >= range.lowerBound { try w.putBlock(n, hash: h) }
            for log in logs { try w.putBlock(log.blockNumber, hash: log.blockHash) }
            try w.setCursor(range.upperBound + 1)
            if range.upperBound + 1 > window { try w.pruneBlocks(below: range.upperBound + 1 - window) }
            try w.deleteMeta("last_error")
        }
        return events.count
    }

    func crossCheck(_ verifier: any ChainReader, range: ClosedRange<UInt64>, logs: [RawLog]) async throws {
        var theirs: [RawLog] = []
        try await verifier.logs(addresses: [config.contracts.staking, config.contracts.treasury], topics: [topics],
                                from: range.lowerBound, to: range.upperBound) { _, chunk in theirs += chunk }
        // Each log whole: a provider that altered one field (an amount in `data`, a topic) disagrees.
        func key(_ l: RawLog) -> String {
            "\(l.blockHash.hexString):\(l.logIndex):\(l.transactionHash.hexString):\(l.address.lowercased):"
                + l.topics.map(\.hexString).joined(separator: ",") + ":" + l.data.hexString
        }
        let a = Set(logs.map(key)), b = Set(theirs.map(key))
        if a != b {
            let onlyOurs = a.subtracting(b).sorted().prefix(3), onlyTheirs = b.subtracting(a).sorted().prefix(3)
            let details = "\(a.count) logs from rpc_urls, \(b.count) from verify_rpc_urls; only in rpc_urls: \(Array(onlyOurs)); only in verify_rpc_urls: \(Array(onlyTheirs))"
            let error = EngineError.providerDisagreement(from: range.lowerBound, to: range.upperBound, details: details)
            try? store.write { w in try w.setMeta("last_error", error.description) }
            throw error
        }
    }

    /// Decodes a chunk's logs (in chain order) into events; the treasury's through `TreasuryLogDecoder` (a proven
    /// claim is mapped back to its log index from its block's receipts).
    func decode(_ logs: [RawLog]) async throws -> [ChainEvent] {
        var events: [ChainEvent?] = []
        var treasury: [(slot: Int, log: RawLog)] = []
        for log in logs {
            if log.address == config.contracts.treasury && log.address != config.contracts.staking {
                treasury.append((events.count, log))
                events.append(nil)
            } else {
                events.append(try decode(log))
            }
        }
        let decoded: [ChainEvent]
        let store = self.store
        do {
            decoded = try await treasuryLogs.decode(treasury.map(\.log), chain: chain) { hash in
                try store.read { r in try r.journaled(hash: hash) != nil }
            }
        } catch let e as EngineError { throw e } catch {
            throw EngineError.chain("a treasury log of blocks \(logs.first?.blockNumber ?? 0)...\(logs.last?.blockNumber ?? 0) is not a valid treasury event: \(error)")
        }
        for (t, e) in zip(treasury, decoded) { events[t.slot] = e }
        return events.compactMap { $0 }
    }

    /// Decodes one log of the filter into an event.
    func decode(_ log: RawLog) throws -> ChainEvent {
        guard let topic0 = log.topics.first, let logIndex = UInt32(exactly: log.logIndex) else {
            throw EngineError.chain("log \(log.blockNumber):\(log.logIndex) has no topics or an impossible index")
        }
        let position = LogPosition(block: log.blockNumber, logIndex: logIndex)
        func fail(_ what: String, _ error: any Error) -> EngineError {
            .chain("log \(position) of \(log.address.checksummed) (tx \(log.transactionHash.hexString)) is not a valid \(what): \(error)")
        }
        if log.address == config.contracts.staking && topic0 == bindings.reward.event.topic0 {
            do {
                let (staker, amount) = try bindings.reward.decode(topics: log.topics, data: log.data)
                return .reward(RewardEvent(position: position, blockHash: log.blockHash, txHash: log.transactionHash, staker: staker, amount: amount))
            } catch { throw fail(bindings.reward.event.signature, error) }
        }
        guard log.address == config.contracts.treasury else {
            throw EngineError.chain("log \(position) from \(log.address.checksummed) matched neither contract (a provider ignored the address filter)")
        }
        do {
            return try Self.decodeTreasury(log, position: position)
        } catch let e as EngineError { throw e } catch { throw fail("treasury event", error) }
    }

    /// Decodes one treasury log (OptedIn, OptedOut, Routed, RouteSkipped) at `position`; throws on any other topic.
    public static func decodeTreasury(_ log: RawLog, position: LogPosition) throws -> ChainEvent {
        func u(_ v: ABIValue) -> UInt256 { if case let .uint(x) = v { return x }; return .zero }
        func addr(_ v: ABIValue) -> Address { if case let .address(a) = v { return a }; return .zero }
        let topic0 = log.topics.first ?? .zero
        if topic0 == Bindings.optedIn.topic0 {
            let v = try Bindings.optedIn.decode(topics: log.topics, data: log.data)
            return .registration(RegistrationEvent(position: position, blockHash: log.blockHash, txHash: log.transactionHash,
                                                   staker: addr(v[0].value), optedIn: true, shareBps: UInt16(truncatingIfNeeded: u(v[1].value).l0),
                                                   sinceBlock: u(v[2].value).l0))
        }
        if topic0 == Bindings.optedOut.topic0 {
            let v = try Bindings.optedOut.decode(topics: log.topics, data: log.data)
            return .registration(RegistrationEvent(position: position, blockHash: log.blockHash, txHash: log.transactionHash,
                                                   staker: addr(v[0].value), optedIn: false, shareBps: 0, sinceBlock: 0))
        }
        if topic0 == Bindings.routed.topic0 {
            let v = try Bindings.routed.decode(topics: log.topics, data: log.data)
            return .treasury(TreasuryEvent(position: position, blockHash: log.blockHash, txHash: log.transactionHash, staker: addr(v[0].value),
                                           claim: LogPosition(block: u(v[1].value).l0, logIndex: UInt32(truncatingIfNeeded: u(v[2].value).l0)),
                                           outcome: .routed(reward: u(v[3].value), contributed: u(v[4].value),
                                                            shareBps: UInt16(truncatingIfNeeded: u(v[5].value).l0))))
        }
        if topic0 == Bindings.routeSkipped.topic0 {
            let v = try Bindings.routeSkipped.decode(topics: log.topics, data: log.data)
            return .treasury(TreasuryEvent(position: position, blockHash: log.blockHash, txHash: log.transactionHash, staker: addr(v[0].value),
                                           claim: LogPosition(block: u(v[1].value).l0, logIndex: UInt32(truncatingIfNeeded: u(v[2].value).l0)),
                                           outcome: .skipped(reason: UInt8(truncatingIfNeeded: u(v[3].value).l0))))
        }
        throw EngineError.chain("log \(position) of the treasury has an unknown topic0 \(topic0.hexString)")
    }
}

extension Planner {
    /// Replays stored events (already in the store) into the registry and intents.
    func replay(_ events: [ChainEvent], into w: StoreWriter) throws {
        try apply(events, to: w, storingEvents: false)
    }
}
