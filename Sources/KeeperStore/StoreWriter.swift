import EthereumCore
import Foundation

/// Write access inside one transaction (`KeeperStore.write`). Inserting an event twice at the same
/// position is an error (a double-counted boundary block would be a bug, never silently absorbed).
public struct StoreWriter {
    let db: any SQLSession

    /// Reads inside the same transaction (they see this transaction's writes).
    public var reader: StoreReader { StoreReader(db: db) }

    /// Runs one statement; returns how many rows it changed.
    @discardableResult
    func exec(_ sql: String, _ args: SQLArguments = []) throws -> Int {
        try db.execute(sql, args.map(\.sqlValue))
    }

    /// Sets a `meta` value.
    public func setMeta(_ key: String, _ value: String) throws {
        try exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
    }

    /// Removes a `meta` value.
    public func deleteMeta(_ key: String) throws { try exec("DELETE FROM meta WHERE key = ?", [key]) }

    /// Adds `by` to an integer `meta` counter.
    public func increment(_ key: String, by: UInt64 = 1) throws {
        try setMeta(key, "\(try reader.counter(key) &+ by)")
    }

    /// Sets the next block to ingest.
    public func setCursor(_ next: UInt64) throws { try setMeta("next_block", "\(next)") }

    /// Records (or overwrites) the hash of block `number`.
    public func putBlock(_ number: UInt64, hash: Bytes32) throws {
        try exec("INSERT INTO blocks (number, hash) VALUES (?, ?) ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
                 [try Int64(checked: number, "blocks"), hash.blob])
    }

    /// Forgets hashes of blocks below `number` that carry no stored event (the window moved on).
    public func pruneBlocks(below number: UInt64) throws {
        try exec("""
            DELETE FROM blocks WHERE number < ?
              AND NOT EXISTS (SELECT 1 FROM reward_events r WHERE r.block_number = blocks.number)
              AND NOT EXISTS (SELECT 1 FROM registrations g WHERE g.block_number = blocks.number)
              AND NOT EXISTS (SELECT 1 FROM treasury_events t WHERE t.block_number = blocks.number)
            """, [Int64(clamping: number)])
    }

    /// Stores a reward event.
    public func insert(_ e: RewardEvent) throws {
        try exec("INSERT INTO reward_events (block_number, log_index, block_hash, tx_hash, staker, amount) VALUES (?, ?, ?, ?, ?, ?)",
                 [try Int64(checked: e.position.block, "reward_events"), Int64(e.position.logIndex), e.blockHash.blob, e.txHash.blob,
                  e.staker.blob, e.amount.blob])
    }

    /// Stores a registration event (history only; the registry is `putStaker`).
    public func insert(_ e: RegistrationEvent) throws {
        try exec("""
            INSERT INTO registrations (block_number, log_index, block_hash, tx_hash, staker, opted_in, share_bps, since_block)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [try Int64(checked: e.position.block, "registrations"), Int64(e.position.logIndex), e.blockHash.blob, e.txHash.blob,
                  e.staker.blob, e.optedIn ? 1 : 0, Int64(e.shareBps), try Int64(checked: e.sinceBlock, "registrations")])
    }

    /// Stores a treasury event.
    public func insert(_ e: TreasuryEvent) throws {
        var reward: Data?, contributed: Data?, share: Int64?, reason: Int64?
        let routed: Bool
        switch e.outcome {
        case let .routed(r, c, s): routed = true; reward = r.blob; contributed = c.blob; share = Int64(s)
        case let .skipped(code): routed = false; reason = Int64(code)
        }
        try exec("""
            INSERT INTO treasury_events (block_number, log_index, block_hash, tx_hash, routed, staker, claim_block, claim_log_index,
                                         reward, contributed, share_bps, reason, claim_block_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [try Int64(checked: e.position.block, "treasury_events"), Int64(e.position.logIndex), e.blockHash.blob, e.txHash.blob,
                  routed ? 1 : 0, e.staker.blob, try Int64(checked: e.claim.block, "treasury_events"), Int64(e.claim.logIndex),
                  reward, contributed, share, reason, e.claimBlockHash?.blob])
    }

    /// Sets a staker's current registration.
    public func putStaker(_ s: StakerRegistration) throws {
        try exec("""
            INSERT INTO stakers (staker, registered, share_bps, since_block) VALUES (?, ?, ?, ?)
            ON CONFLICT (staker) DO UPDATE SET registered = excluded.registered, share_bps = excluded.share_bps,
                                               since_block = excluded.since_block
            """, [s.staker.blob, s.registered ? 1 : 0, Int64(s.shareBps), try Int64(checked: s.sinceBlock, "stakers")])
    }

    /// Inserts or replaces the intent for `i.id` (block hash, log index). Unless `overridingSettled`, an intent
    /// already `sent` (or settled: `routed` / `skipped`) is left as it is: its fate is decided on chain. An
    /// `orphaned` intent is never replaced: its claim no longer exists.
    public func put(_ i: RouteIntent, overridingSettled: Bool = false) throws {
        try exec("""
            INSERT INTO intents (block_hash, claim_log_index, claim_block, staker, amount, share_bps, expected, state, reason,
                                 settled_block, settled_block_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (block_hash, claim_log_index) DO UPDATE SET staker = excluded.staker, claim_block = excluded.claim_block,
              amount = excluded.amount, share_bps = excluded.share_bps, expected = excluded.expected, state = excluded.state,
              reason = excluded.reason, settled_block = excluded.settled_block, settled_block_hash = excluded.settled_block_hash
            WHERE intents.state <> 'orphaned' AND (? = 1 OR intents.state NOT IN ('sent', 'routed', 'skipped'))
            """, [i.blockHash.blob, Int64(i.claim.logIndex), try Int64(checked: i.claim.block, "intents"), i.staker.blob, i.amount.blob,
                  Int64(i.shareBps), i.expected.blob, i.state.rawValue, i.reason,
                  i.settledBlock.map { Int64(clamping: $0) }, i.settledBlockHash?.blob,
                  overridingSettled ? 1 : 0])
    }

    /// Marks `staker`'s open intents (pending / policy_skipped) for claims before `block` as lapsed with `reason`.
    public func lapseOpenIntents(of staker: Address, claimsBefore block: UInt64, reason: String) throws {
        try exec("""
            UPDATE intents SET state = 'lapsed', reason = ?
            WHERE staker = ? AND state IN ('pending', 'policy_skipped') AND claim_block < ?
            """, [reason, staker.blob, Int64(clamping: block)])
    }

    /// A deep reorg removed every block above `ancestor`: undoes exactly what those blocks decided, in the
    /// caller's store transaction (the ingestor's, together with deleting the orphaned events and replaying).
    ///
    /// 1. Every intent for a claim in an orphaned block ends `orphaned` with `reason`, whatever its state.
    /// 2. Every journaled transaction whose receipt was in an orphaned block is in flight again (`sent`): the
    ///    tracker rebroadcasts it or sees it re-mined, replaced or superseded on the new fork.
    /// 3. Every other intent settled by an event in an orphaned block returns to the submission path: `sent`
    ///    while a transaction at its nonce is in flight again (the re-mined or rebroadcast transaction may
    ///    route it first), `pending` otherwise.
    /// Returns (orphaned intents, transactions reopened, intents unsettled).
    @discardableResult
    public func undoOrphanedBlocks(above ancestor: UInt64, reason: String) throws -> (orphaned: Int, reopened: Int, unsettled: Int) {
        let a = Int64(clamping: ancestor)
        let orphaned = try exec("UPDATE intents SET state = 'orphaned', reason = ?, settled_block = NULL, settled_block_hash = NULL WHERE claim_block > ? AND state <> 'orphaned'",
                                [reason, a])
        let reopened = try reopenTransactions(where: "mined_block > ?", [a])
        let unsettled = try unsettleIntents(where: "settled_block > ?", [a])
        return (orphaned, reopened, unsettled)
    }

    /// The ingestor saw block `number` canonical with `hash`: settlements and receipts recorded for another
    /// hash at that height were on an orphaned fork (a reorg the ingestor's own tip never saw, e.g. while it was
    /// catching up). Undoes them as `undoOrphanedBlocks` does. Returns (transactions reopened, intents unsettled).
    @discardableResult
    public func undoSettlements(inBlock number: UInt64, unlessHash hash: Bytes32) throws -> (reopened: Int, unsettled: Int) {
        let n = Int64(clamping: number)
        let reopened = try reopenTransactions(where: "mined_block = ? AND mined_block_hash IS NOT NULL AND mined_block_hash <> ?", [n, hash.blob])
        let unsettled = try unsettleIntents(where: "settled_block = ? AND settled_block_hash IS NOT NULL AND settled_block_hash <> ?", [n, hash.blob])
        return (reopened, unsettled)
    }

    func reopenTransactions(where condition: String, _ args: SQLArguments) throws -> Int {
        try exec("UPDATE transactions SET state = 'sent', mined_block = NULL, mined_block_hash = NULL WHERE state IN ('mined', 'confirmed', 'reverted') AND "
                 + condition, args)
    }

    func unsettleIntents(where condition: String, _ args: SQLArguments) throws -> Int {
        try exec("""
            UPDATE intents SET
              state = CASE WHEN tx_id IS NOT NULL AND EXISTS (SELECT 1 FROM transactions t
                             WHERE t.nonce = (SELECT nonce FROM transactions WHERE id = intents.tx_id) AND t.state IN ('sent', 'mined'))
                           THEN 'sent' ELSE 'pending' END,
              tx_id = CASE WHEN tx_id IS NOT NULL AND EXISTS (SELECT 1 FROM transactions t
                             WHERE t.nonce = (SELECT nonce FROM transactions WHERE id = intents.tx_id) AND t.state IN ('sent', 'mined'))
                           THEN tx_id ELSE NULL END,
              reason = NULL, settled_block = NULL, settled_block_hash = NULL
            WHERE state IN ('routed', 'skipped') AND\u{20}
            """ + condition, args)
    }

    /// Deletes the events and block hashes of blocks above `block` (a reorg's orphaned blocks; call
    /// `undoOrphanedBlocks` first for the intents and the journal). Returns the number of rows deleted.
    @discardableResult
    public func deleteAbove(_ block: UInt64) throws -> Int {
        let b = Int64(clamping: block)
        var n = 0
        for sql in ["DELETE FROM reward_events WHERE block_number > ?", "DELETE FROM registrations WHERE block_number > ?",
                    "DELETE FROM treasury_events WHERE block_number > ?", "DELETE FROM blocks WHERE number > ?"] {
            n += try exec(sql, [b])
        }
        return n
    }

    /// Clears the derived registry and every intent the planner will derive again from the stored events
    /// (before a replay): intents `sent` (their fate is on chain) and `orphaned` (history) are kept.
    public func clearDerived() throws {
        try exec("DELETE FROM stakers")
        try exec("DELETE FROM intents WHERE state NOT IN ('sent', 'orphaned')")
    }

    /// Records a handled reorg; returns its id in the reorg log.
    @discardableResult
    public func record(_ r: ReorgRecord) throws -> Int64 {
        let row = try reader.rows("INSERT INTO reorgs (detected_at, old_tip, ancestor, depth) VALUES (?, ?, ?, ?) RETURNING id",
                                  [r.detectedAt, try Int64(checked: r.oldTip, "reorgs"), try Int64(checked: r.ancestor, "reorgs"), try Int64(checked: r.depth, "reorgs")])
        guard case let .integer(id)? = row.first?.values.first else {
            throw StoreError.corrupt(table: "reorgs", column: "id", reason: "the row just inserted has no id")
        }
        return id
    }

    /// Deletes every chain-derived row (for `--resync`).
    func resetDerived(keepIdentity: Bool) throws {
        for table in ["reward_events", "registrations", "treasury_events", "blocks", "stakers", "reorgs"] {
            try exec("DELETE FROM \(table)")
        }
        try exec("DELETE FROM intents WHERE state NOT IN ('sent', 'orphaned')")
        try exec("DELETE FROM meta WHERE key NOT IN ('chain_id', 'staking', 'reward_topic', 'treasury')")
        if !keepIdentity { try exec("DELETE FROM meta") }
    }
}
