// TransactionJournal — the submitter's journal in the `transactions` table (schema v1) and the intents'
// `tx_id`. Owns: the SQL of journaling a signed transaction together with its claims, of moving a
// transaction through its states, and of returning claims to the planner. Must not import: JSONRPC,
// EthereumABI, the Keeper* modules above it (rows in, values out; the engine decides).
//
// Exactly-once rests on one rule kept here: `journal(_:claims:)` inserts the raw signed transaction and
// marks its claims `sent` in ONE store transaction, and the caller broadcasts only after it committed.
import EthereumCore
import Foundation

/// Where a journaled transaction stands.
public enum JournalState: String, Sendable, CaseIterable {
    /// Signed and written; broadcast (maybe more than once) but no receipt seen yet.
    case sent
    /// A receipt was seen at `minedBlock`, fewer than `confirmations` deep (a reorg may still undo it).
    case mined
    /// Mined, succeeded, `confirmations` deep: its claims are settled from its logs.
    case confirmed
    /// Mined `confirmations` deep with status 0 (the batch itself reverted).
    case reverted
    /// Its nonce was consumed by another transaction (a replacement, a cancel, an operator's send).
    case superseded

    /// True for the states a transaction never leaves (confirmed, reverted, superseded); `sent` and `mined` are in flight.
    public var isFinal: Bool {
        switch self {
        case .sent, .mined: return false
        case .confirmed, .reverted, .superseded: return true
        }
    }
}

/// One row of the journal.
public struct JournaledTransaction: Equatable, Sendable {
    /// Row id (intents' `tx_id` names the first transaction of a nonce).
    public var id: Int64
    /// The sender's nonce.
    public var nonce: UInt64
    /// The transaction hash.
    public var hash: Bytes32
    /// The raw signed transaction (EIP-2718 envelope), exactly as broadcast.
    public var raw: [UInt8]
    /// Its gas limit.
    public var gasLimit: UInt64
    /// Its fee cap.
    public var maxFeePerGas: UInt256
    /// Its priority fee.
    public var maxPriorityFeePerGas: UInt256
    /// Where it stands.
    public var state: JournalState
    /// Unix seconds when it was journaled.
    public var createdAt: Int64
    /// The block of its receipt, once seen.
    public var minedBlock: UInt64?
    /// The hash of that block (a deep reorg that orphans it puts the transaction back in flight).
    public var minedBlockHash: Bytes32? = nil
    /// The id of the transaction that replaced it at the same nonce, if any.
    public var replacedBy: Int64?
    /// HA: the instance that journaled it (nil without HA).
    public var journaledBy: String? = nil
    /// HA: the lease epoch it was journaled under (nil without HA).
    public var journaledEpoch: UInt64? = nil
    /// When it was journaled (ms since 1970, the journaling keeper's clock; nil for rows older than schema v4).
    public var journaledAtMs: Int64? = nil

    /// A row from its parts.
    public init(id: Int64, nonce: UInt64, hash: Bytes32, raw: [UInt8], gasLimit: UInt64, maxFeePerGas: UInt256,
                maxPriorityFeePerGas: UInt256, state: JournalState, createdAt: Int64, minedBlock: UInt64?, replacedBy: Int64?) {
        self.id = id; self.nonce = nonce; self.hash = hash; self.raw = raw; self.gasLimit = gasLimit
        self.maxFeePerGas = maxFeePerGas; self.maxPriorityFeePerGas = maxPriorityFeePerGas; self.state = state
        self.createdAt = createdAt; self.minedBlock = minedBlock; self.replacedBy = replacedBy
    }
}

extension JournaledTransaction {
    func with(minedBlockHash: Bytes32?, journaledBy: String? = nil, journaledEpoch: UInt64? = nil, journaledAtMs: Int64? = nil) -> JournaledTransaction {
        var t = self
        t.minedBlockHash = minedBlockHash
        t.journaledBy = journaledBy; t.journaledEpoch = journaledEpoch; t.journaledAtMs = journaledAtMs
        return t
    }
}

/// What to journal: a signed transaction's fields.
public struct NewJournalEntry: Sendable {
    /// The nonce.
    public var nonce: UInt64
    /// The hash.
    public var hash: Bytes32
    /// The raw signed bytes.
    public var raw: [UInt8]
    /// Gas limit.
    public var gasLimit: UInt64
    /// Fee cap.
    public var maxFeePerGas: UInt256
    /// Priority fee.
    public var maxPriorityFeePerGas: UInt256
    /// Unix seconds.
    public var createdAt: Int64

    /// An entry from its parts.
    public init(nonce: UInt64, hash: Bytes32, raw: [UInt8], gasLimit: UInt64, maxFeePerGas: UInt256, maxPriorityFeePerGas: UInt256,
                createdAt: Int64) {
        self.nonce = nonce; self.hash = hash; self.raw = raw; self.gasLimit = gasLimit
        self.maxFeePerGas = maxFeePerGas; self.maxPriorityFeePerGas = maxPriorityFeePerGas; self.createdAt = createdAt
    }
}

extension StoreReader {
    static func journaled(_ row: SQLRow) throws -> JournaledTransaction {
        let c = Col(row: row, table: "transactions")
        guard let state = JournalState(rawValue: try c.text("state")) else {
            throw StoreError.corrupt(table: "transactions", column: "state", reason: "unknown state")
        }
        guard case let .blob(raw) = c.value("raw") else {
            throw StoreError.corrupt(table: "transactions", column: "raw", reason: "expected a blob")
        }
        let id = try c.int64("id"), created = try c.int64("created_at")
        var replacedBy: Int64?
        if case let .integer(r) = c.value("replaced_by") { replacedBy = r }
        return JournaledTransaction(id: id, nonce: try c.u64("nonce"), hash: try c.bytes32("hash"), raw: Array(raw),
                                    gasLimit: try c.u64("gas_limit"), maxFeePerGas: try c.uint256("max_fee_per_gas"),
                                    maxPriorityFeePerGas: try c.uint256("max_priority_fee_per_gas"), state: state,
                                    createdAt: created, minedBlock: try c.optionalU64("mined_block"), replacedBy: replacedBy)
            .with(minedBlockHash: try c.optionalBytes32("mined_block_hash"), journaledBy: try c.optionalText("journaled_by"),
                  journaledEpoch: try c.optionalU64("journaled_epoch"), journaledAtMs: try c.optionalU64("journaled_at_ms").map { Int64(clamping: $0) })
    }

    /// Journaled transactions, optionally only those in `states`, by nonce then id.
    public func journal(states: [JournalState]? = nil) throws -> [JournaledTransaction] {
        var sql = "SELECT * FROM transactions"
        if let states {
            if states.isEmpty { return [] }
            sql += " WHERE state IN (" + states.map { "'\($0.rawValue)'" }.joined(separator: ",") + ")"
        }
        return try rows(sql + " ORDER BY nonce, id").map(Self.journaled)
    }

    /// Every journaled transaction at `nonce`, oldest first.
    public func journal(nonce: UInt64) throws -> [JournaledTransaction] {
        try rows("SELECT * FROM transactions WHERE nonce = ? ORDER BY id", [try Int64(checked: nonce, "transactions")]).map(Self.journaled)
    }

    /// The journaled transaction with `hash`.
    public func journaled(hash: Bytes32) throws -> JournaledTransaction? {
        try rows("SELECT * FROM transactions WHERE hash = ?", [hash.blob]).first.map(Self.journaled)
    }

    /// Nonces that still have a transaction `sent` or `mined` (in flight), ascending.
    public func openNonces() throws -> [UInt64] {
        try rows("SELECT DISTINCT nonce FROM transactions WHERE state IN ('sent', 'mined') ORDER BY nonce").map { row in
            try Col(row: row, table: "transactions").u64("nonce")
        }
    }

    /// The claims journaled with the transactions of `nonce` (intents whose `tx_id` is one of them), in claim order.
    public func claims(ofNonce nonce: UInt64) throws -> [RouteIntent] {
        try rows("""
            SELECT * FROM intents WHERE tx_id IN (SELECT id FROM transactions WHERE nonce = ?)
            ORDER BY claim_block, claim_log_index
            """, [try Int64(checked: nonce, "transactions")]).map(Self.intent)
    }

    /// Sum of `expected` over intents journaled at or after `since` (unix seconds): the rolling-window spend.
    public func journaledContribution(since: Int64) throws -> UInt256 {
        var total = UInt256.zero
        for row in try rows("""
            SELECT i.expected FROM intents i JOIN transactions t ON t.id = i.tx_id
            WHERE t.created_at >= ? AND i.state IN ('sent', 'routed')
            """, [since]) {
            total = total.addingReportingOverflow(try Col(row: row, table: "intents").uint256("expected")).partialValue
        }
        return total
    }
}

extension StoreWriter {
    /// Journals a signed transaction and marks `claims` as `sent` with it, in the caller's (one) store
    /// transaction. Throws when a claim is not `pending` any more (the whole write then rolls back).
    /// Returns the row id. Signing the same batch at the same nonce with the same fees gives the same hash
    /// (e.g. after a deep reorg gave the nonce back): the existing row is reused and put back in flight.
    @discardableResult
    public func journal(_ e: NewJournalEntry, claims: [ClaimID]) throws -> Int64 {
        let id = try insertJournalRow(e)
        for c in claims {
            let changed = try exec("UPDATE intents SET state = 'sent', tx_id = ?, reason = NULL WHERE block_hash = ? AND claim_log_index = ? AND state = 'pending'",
                                   [id, c.blockHash.blob, Int64(c.logIndex)])
            if changed != 1 {
                throw StoreError.corrupt(table: "intents", column: "state", reason: "claim \(c) is not pending; batch not journaled")
            }
        }
        return id
    }

    /// Inserts a signed transaction as `sent` (or puts the row with the same hash back in flight); its id.
    func insertJournalRow(_ e: NewJournalEntry) throws -> Int64 {
        try exec("""
            INSERT INTO transactions (nonce, hash, raw, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, state, created_at,
                                      journaled_by, journaled_epoch, journaled_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?)
            ON CONFLICT (hash) DO UPDATE SET state = 'sent', mined_block = NULL, mined_block_hash = NULL, replaced_by = NULL,
              journaled_by = excluded.journaled_by, journaled_epoch = excluded.journaled_epoch, journaled_at_ms = excluded.journaled_at_ms
            """, [try Int64(checked: e.nonce, "transactions"), e.hash.blob, Data(e.raw), try Int64(checked: e.gasLimit, "transactions"),
                  e.maxFeePerGas.blob, e.maxPriorityFeePerGas.blob, e.createdAt,
                  db.writer?.instance, try db.writer.map { try Int64(checked: $0.epoch, "transactions") },
                  Int64(Date().timeIntervalSince1970 * 1000)])
        guard case let .integer(id)? = try reader.rows("SELECT id FROM transactions WHERE hash = ?", [e.hash.blob]).first?.values.first else {
            throw StoreError.corrupt(table: "transactions", column: "hash", reason: "the row just journaled is missing")
        }
        return id
    }

    /// Journals a replacement (or a rescue) at the nonce of `previous`: a new row, and `previous.replaced_by` set.
    @discardableResult
    public func journalReplacement(_ e: NewJournalEntry, replacing previous: Int64?) throws -> Int64 {
        let id = try insertJournalRow(e)
        if let previous { try exec("UPDATE transactions SET replaced_by = ? WHERE id = ?", [id, previous]) }
        return id
    }

    /// Sets a journaled transaction's state (and its receipt block and that block's hash, nil to clear them).
    public func setJournalState(id: Int64, _ state: JournalState, minedBlock: UInt64?, minedBlockHash: Bytes32? = nil) throws {
        try exec("UPDATE transactions SET state = ?, mined_block = ?, mined_block_hash = ? WHERE id = ?",
                 [state.rawValue, minedBlock.map { Int64(clamping: $0) }, minedBlockHash?.blob, id])
    }

    /// Returns the still-`sent` claims of `nonce` to the planner (`pending`, no `tx_id`); settled ones stay.
    /// Returns how many were returned.
    @discardableResult
    public func returnClaims(ofNonce nonce: UInt64, reason: String?) throws -> Int {
        return try exec("""
            UPDATE intents SET state = 'pending', tx_id = NULL, reason = ?
            WHERE state = 'sent' AND tx_id IN (SELECT id FROM transactions WHERE nonce = ?)
            """, [reason, try Int64(checked: nonce, "transactions")])
    }

    /// Parks a claim (it is never sent again unless an operator intervenes): `policy_skipped` with `reason`.
    public func parkClaim(_ claim: ClaimID, reason: String) throws {
        try exec("UPDATE intents SET state = 'policy_skipped', tx_id = NULL, reason = ? WHERE block_hash = ? AND claim_log_index = ? AND state IN ('pending', 'sent')",
                 [reason, claim.blockHash.blob, Int64(claim.logIndex)])
    }

    /// Returns claims the simulation judged skippable (`policy_skipped`, reason starting `simulation:`) to
    /// `pending`, so they are simulated again (a staker may have raised the allowance; a node may have
    /// answered from a stale view). Returns how many.
    @discardableResult
    public func reopenSimulationSkips() throws -> Int {
        return try exec("UPDATE intents SET state = 'pending', reason = NULL WHERE state = 'policy_skipped' AND reason LIKE 'simulation:%'")
    }

    /// Records that the simulation says the treasury would skip `claim`: `policy_skipped` with `reason`.
    public func markWouldSkip(_ claim: ClaimID, reason: String) throws {
        try exec("UPDATE intents SET state = 'policy_skipped', reason = ? WHERE block_hash = ? AND claim_log_index = ? AND state = 'pending'",
                 [reason, claim.blockHash.blob, Int64(claim.logIndex)])
    }
}
