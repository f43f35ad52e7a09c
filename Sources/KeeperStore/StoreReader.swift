import EthereumCore
import Foundation

/// Read access inside one transaction (`KeeperStore.read`, or `StoreWriter.reader`).
public struct StoreReader {
    let db: any SQLSession

    func rows(_ sql: String, _ args: SQLArguments = []) throws -> [SQLRow] {
        try db.query(sql, args.map(\.sqlValue))
    }

    /// The first column of the first row as a count (COUNT(*) queries).
    func count(_ sql: String, _ args: SQLArguments = []) throws -> Int {
        guard let row = try rows(sql, args).first, case let .integer(n)? = row.values.first else { return 0 }
        return Int(n)
    }

    /// A `meta` value.
    public func meta(_ key: String) throws -> String? {
        try rows("SELECT value FROM meta WHERE key = ?", [key]).first.map { try Col(row: $0, table: "meta").text("value") }
    }

    /// What the store was built for, nil for an empty store.
    public func identity() throws -> StoreIdentity? {
        guard let chain = try meta("chain_id"), let staking = try meta("staking"),
              let topic = try meta("reward_topic"), let treasury = try meta("treasury") else { return nil }
        guard let id = UInt64(chain) else { throw StoreError.corrupt(table: "meta", column: "chain_id", reason: "not a number") }
        do {
            return StoreIdentity(chainID: id, staking: try Address(staking), rewardTopic: try Bytes32(hex: topic), treasury: try Address(treasury))
        } catch {
            throw StoreError.corrupt(table: "meta", column: "identity", reason: "unreadable address or topic")
        }
    }

    /// The next block to ingest; nil before the first ingested range.
    public func cursor() throws -> UInt64? {
        guard let text = try meta("next_block") else { return nil }
        guard let v = UInt64(text) else { throw StoreError.corrupt(table: "meta", column: "next_block", reason: "not a number") }
        return v
    }

    /// An integer `meta` counter (0 when absent).
    public func counter(_ key: String) throws -> UInt64 { try meta(key).flatMap(UInt64.init) ?? 0 }

    /// The highest stored block (the tip the next step checks), nil when none is stored.
    public func tip() throws -> (number: UInt64, hash: Bytes32)? {
        try blocks(atOrBelow: .max, limit: 1).first
    }

    /// Stored block hashes at or below `number`, highest first.
    public func blocks(atOrBelow number: UInt64, limit: Int) throws -> [(number: UInt64, hash: Bytes32)] {
        let top = Int64(clamping: number)
        return try rows("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC LIMIT ?", [top, limit]).map { row in
            let c = Col(row: row, table: "blocks")
            return (try c.u64("number"), try c.bytes32("hash"))
        }
    }

    /// The stored hash of block `number`.
    public func blockHash(_ number: UInt64) throws -> Bytes32? {
        try rows("SELECT hash FROM blocks WHERE number = ?", [Int64(clamping: number)]).first.map { try Col(row: $0, table: "blocks").bytes32("hash") }
    }

    /// Number of stored block hashes.
    public func blockCount() throws -> Int { try count("SELECT COUNT(*) FROM blocks") }

    // MARK: reward events

    static func reward(_ row: SQLRow) throws -> RewardEvent {
        let c = Col(row: row, table: "reward_events")
        return RewardEvent(position: LogPosition(block: try c.u64("block_number"), logIndex: try c.u32("log_index")),
                           blockHash: try c.bytes32("block_hash"), txHash: try c.bytes32("tx_hash"),
                           staker: try c.address("staker"), amount: try c.uint256("amount"))
    }

    /// Reward events in chain order (of one staker, when given).
    public func rewardEvents(staker: Address? = nil) throws -> [RewardEvent] {
        if let staker {
            return try rows("SELECT * FROM reward_events WHERE staker = ? ORDER BY block_number, log_index", [staker.blob]).map(Self.reward)
        }
        return try rows("SELECT * FROM reward_events ORDER BY block_number, log_index").map(Self.reward)
    }

    /// The reward event at `position`, if stored.
    public func rewardEvent(at position: LogPosition) throws -> RewardEvent? {
        try rows("SELECT * FROM reward_events WHERE block_number = ? AND log_index = ?",
                 [Int64(clamping: position.block), Int64(position.logIndex)]).first.map(Self.reward)
    }

    /// Reward events of `staker` in block `block` (chain order).
    public func rewardEvents(staker: Address, inBlock block: UInt64) throws -> [RewardEvent] {
        try rows("SELECT * FROM reward_events WHERE staker = ? AND block_number = ? ORDER BY log_index",
                 [staker.blob, Int64(clamping: block)]).map(Self.reward)
    }

    /// Number of reward events.
    public func rewardCount() throws -> Int { try count("SELECT COUNT(*) FROM reward_events") }

    // MARK: registrations and the registry

    static func registration(_ row: SQLRow) throws -> RegistrationEvent {
        let c = Col(row: row, table: "registrations")
        return RegistrationEvent(position: LogPosition(block: try c.u64("block_number"), logIndex: try c.u32("log_index")),
                                 blockHash: try c.bytes32("block_hash"), txHash: try c.bytes32("tx_hash"),
                                 staker: try c.address("staker"), optedIn: try c.bool("opted_in"),
                                 shareBps: try c.u16("share_bps"), sinceBlock: try c.u64("since_block"))
    }

    /// Registration history in chain order (of one staker, when given).
    public func registrationEvents(staker: Address? = nil) throws -> [RegistrationEvent] {
        if let staker {
            return try rows("SELECT * FROM registrations WHERE staker = ? ORDER BY block_number, log_index", [staker.blob]).map(Self.registration)
        }
        return try rows("SELECT * FROM registrations ORDER BY block_number, log_index").map(Self.registration)
    }

    /// Was `staker` registered for a claim paid in block `block`, and with which share? The registration
    /// in force after every event of blocks ≤ `block` (the contract's view for a claim of that block routed
    /// right after it): registered, with `since_block ≤ block`. Nil when not.
    public func registration(of staker: Address, forClaimAt block: UInt64) throws -> (shareBps: UInt16, sinceBlock: UInt64)? {
        let last = try rows("""
            SELECT * FROM registrations WHERE staker = ? AND block_number <= ?
            ORDER BY block_number DESC, log_index DESC LIMIT 1
            """, [staker.blob, Int64(clamping: block)]).first.map(Self.registration)
        guard let last, last.optedIn, last.sinceBlock <= block else { return nil }
        return (last.shareBps, last.sinceBlock)
    }

    static func staker(_ row: SQLRow) throws -> StakerRegistration {
        let c = Col(row: row, table: "stakers")
        return StakerRegistration(staker: try c.address("staker"), registered: try c.bool("registered"),
                                  shareBps: try c.u16("share_bps"), sinceBlock: try c.u64("since_block"))
    }

    /// The registry: every staker that ever registered, with the current registration, by address.
    public func stakers() throws -> [StakerRegistration] {
        try rows("SELECT * FROM stakers ORDER BY staker").map(Self.staker)
    }

    /// One staker's current registration.
    public func staker(_ address: Address) throws -> StakerRegistration? {
        try rows("SELECT * FROM stakers WHERE staker = ?", [address.blob]).first.map(Self.staker)
    }

    // MARK: treasury events

    static func treasury(_ row: SQLRow) throws -> TreasuryEvent {
        let c = Col(row: row, table: "treasury_events")
        let outcome: TreasuryEvent.Outcome
        if try c.bool("routed") {
            guard let reward = try c.optionalUInt256("reward"), let contributed = try c.optionalUInt256("contributed"),
                  let share = try c.optionalU64("share_bps"), let s16 = UInt16(exactly: share) else {
                throw StoreError.corrupt(table: "treasury_events", column: "reward", reason: "a Routed row without amounts")
            }
            outcome = .routed(reward: reward, contributed: contributed, shareBps: s16)
        } else {
            guard let reason = try c.optionalU64("reason"), let r8 = UInt8(exactly: reason) else {
                throw StoreError.corrupt(table: "treasury_events", column: "reason", reason: "a RouteSkipped row without a reason")
            }
            outcome = .skipped(reason: r8)
        }
        return TreasuryEvent(position: LogPosition(block: try c.u64("block_number"), logIndex: try c.u32("log_index")),
                             blockHash: try c.bytes32("block_hash"), txHash: try c.bytes32("tx_hash"),
                             staker: try c.address("staker"),
                             claim: LogPosition(block: try c.u64("claim_block"), logIndex: try c.u32("claim_log_index")),
                             claimBlockHash: try c.optionalBytes32("claim_block_hash"), outcome: outcome)
    }

    /// Treasury `Routed`/`RouteSkipped` events in chain order (of one staker, when given).
    public func treasuryEvents(staker: Address? = nil) throws -> [TreasuryEvent] {
        if let staker {
            return try rows("SELECT * FROM treasury_events WHERE staker = ? ORDER BY block_number, log_index", [staker.blob]).map(Self.treasury)
        }
        return try rows("SELECT * FROM treasury_events ORDER BY block_number, log_index").map(Self.treasury)
    }

    /// Treasury events that cite `claim`.
    public func treasuryEvents(citing claim: LogPosition) throws -> [TreasuryEvent] {
        try rows("SELECT * FROM treasury_events WHERE claim_block = ? AND claim_log_index = ? ORDER BY block_number, log_index",
                 [Int64(clamping: claim.block), Int64(claim.logIndex)]).map(Self.treasury)
    }

    // MARK: intents

    static func intent(_ row: SQLRow) throws -> RouteIntent {
        let c = Col(row: row, table: "intents")
        let stateText = try c.text("state")
        guard let state = IntentState(rawValue: stateText) else {
            throw StoreError.corrupt(table: "intents", column: "state", reason: "unknown state")
        }
        return RouteIntent(claim: LogPosition(block: try c.u64("claim_block"), logIndex: try c.u32("claim_log_index")),
                           staker: try c.address("staker"), blockHash: try c.bytes32("block_hash"),
                           amount: try c.uint256("amount"), shareBps: try c.u16("share_bps"),
                           expected: try c.uint256("expected"), state: state, reason: try c.optionalText("reason"),
                           settledBlock: try c.optionalU64("settled_block"), settledBlockHash: try c.optionalBytes32("settled_block_hash"))
    }

    /// Intents in claim order, optionally only those in `states` and/or of one staker.
    public func intents(states: [IntentState]? = nil, staker: Address? = nil) throws -> [RouteIntent] {
        var clauses: [String] = []
        var args: SQLArguments = []
        if let states {
            if states.isEmpty { return [] }
            clauses.append("state IN (" + states.map { _ in "?" }.joined(separator: ",") + ")")
            for s in states { args.append(s.rawValue) }
        }
        if let staker { clauses.append("staker = ?"); args.append(staker.blob) }
        let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        return try rows("SELECT * FROM intents" + whereSQL + " ORDER BY claim_block, claim_log_index", args).map(Self.intent)
    }

    /// The intent for the claim `id` (block hash, log index), whatever its state.
    public func intent(id: ClaimID) throws -> RouteIntent? {
        try rows("SELECT * FROM intents WHERE block_hash = ? AND claim_log_index = ?", [id.blockHash.blob, Int64(id.logIndex)]).first.map(Self.intent)
    }

    /// The live (not `orphaned`) intent at the chain position `claim`, if any. Orphaned intents of other forks
    /// at the same position are history: `intents(atPosition:)` lists them all.
    public func intent(at claim: LogPosition) throws -> RouteIntent? {
        try intents(atPosition: claim).first { $0.state != .orphaned }
    }

    /// Every intent ever planned at the chain position `claim` (one per fork that carried a reward there).
    public func intents(atPosition claim: LogPosition) throws -> [RouteIntent] {
        try rows("SELECT * FROM intents WHERE claim_block = ? AND claim_log_index = ?",
                 [Int64(clamping: claim.block), Int64(claim.logIndex)]).map(Self.intent)
    }

    /// Blocks in `range` where an intent was settled or a journaled transaction was mined, as recorded (the
    /// ingestor checks their hashes against the canonical chain when it ingests them).
    public func settlementBlocks(in range: ClosedRange<UInt64>) throws -> [UInt64] {
        let args: SQLArguments = [Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound),
                                        Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound)]
        return try rows("""
            SELECT settled_block AS n FROM intents WHERE settled_block BETWEEN ? AND ?
            UNION SELECT mined_block AS n FROM transactions WHERE mined_block BETWEEN ? AND ? ORDER BY n
            """, args).map { try Col(row: $0, table: "intents").u64("n") }
    }

    /// The block of the oldest claim the keeper has still to route — pending, sent, held for a proof problem or parked
    /// after reverts (nil when none): how close the proven treasury's claims are to the age the chain can no longer
    /// verify. Claims held because the staker's allowance or balance does not cover them wait on the staker, not the
    /// keeper, and are not counted.
    public func oldestWaitingClaimBlock() throws -> UInt64? {
        guard let row = try rows("""
            SELECT MIN(claim_block) AS b FROM intents WHERE state IN ('pending', 'sent')
                OR (state = 'policy_skipped' AND (reason LIKE 'simulation: proof:%' OR reason LIKE 'simulation: cannot prove%' OR reason LIKE 'parked:%'))
            """).first else { return nil }
        return try Col(row: row, table: "intents").optionalU64("b")
    }

    /// Intent counts by state (every state present, zero when none).
    public func intentCounts() throws -> [IntentState: Int] {
        var out: [IntentState: Int] = [:]
        for s in IntentState.allCases { out[s] = 0 }
        for row in try rows("SELECT state, COUNT(*) AS n FROM intents GROUP BY state") {
            let c = Col(row: row, table: "intents")
            if let s = IntentState(rawValue: try c.text("state")) { out[s] = Int(try c.u64("n")) }
        }
        return out
    }

    /// Nonces whose journaled transaction is not final yet (`sent`, or `mined` fewer than `confirmations`
    /// deep): the measure of the submitter's `max_in_flight` (`openNonces`); replacements at one nonce count once.
    public func inFlightTransactionCount() throws -> Int {
        let open = JournalState.allCases.filter { !$0.isFinal }.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try count("SELECT COUNT(DISTINCT nonce) FROM transactions WHERE state IN (\(open))")
    }

    // MARK: reorgs

    /// Handled reorgs, oldest first.
    public func reorgs() throws -> [ReorgRecord] {
        try rows("SELECT * FROM reorgs ORDER BY id").map { row in
            let c = Col(row: row, table: "reorgs")
            var r = ReorgRecord(oldTip: try c.u64("old_tip"), ancestor: try c.u64("ancestor"), depth: try c.u64("depth"),
                                detectedAt: try c.int64("detected_at"))
            r.id = try Int64(exactly: c.u64("id")) ?? 0
            return r
        }
    }

    /// A canonical text of everything derived from the chain (events, registry, intents, cursor, the
    /// hashes of blocks at or below `blocksAtOrBelow`): two stores built from the same chain give the
    /// same text however their ingestion was interrupted. Used by the kill -9 and reorg tests.
    public func canonicalDump(blocksAtOrBelow: UInt64 = .max) throws -> String {
        var out = "cursor \(try cursor().map(String.init) ?? "-")\n"
        for r in try rewardEvents() {
            out += "reward \(r.position) \(r.blockHash.hexString) \(r.txHash.hexString) \(r.staker.lowercased) \(r.amount)\n"
        }
        for r in try registrationEvents() {
            out += "registration \(r.position) \(r.blockHash.hexString) \(r.staker.lowercased) \(r.optedIn) \(r.shareBps) \(r.sinceBlock)\n"
        }
        for s in try stakers() { out += "staker \(s.staker.lowercased) \(s.registered) \(s.shareBps) \(s.sinceBlock)\n" }
        for t in try treasuryEvents() { out += "treasury \(t.position) \(t.staker.lowercased) \(t.claim) \(t.outcome)\n" }
        for i in try intents() where i.state != .orphaned {
            out += "intent \(i.claim) \(i.staker.lowercased) \(i.amount) \(i.shareBps) \(i.expected) \(i.state.rawValue) \(i.reason ?? "-")\n"
        }
        for b in try blocks(atOrBelow: blocksAtOrBelow, limit: Int.max).reversed() { out += "block \(b.number) \(b.hash.hexString)\n" }
        return out
    }
}
