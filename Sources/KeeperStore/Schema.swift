import GRDB

/// The store's schema as append-only named migrations. A migration that has shipped is never edited:
/// changes are new migrations appended to `all`.
enum Schema {
    /// Every migration, in order (name, SQL).
    static let all: [(name: String, sql: String)] = [
        ("2026-11-29 v1 keeper schema", v1),
        ("2026-12-06 v2 claims identified by block hash", v2),
        ("2026-12-06 v3 stakers' contributions by staker", v3),
        ("2026-12-07 v4 who journaled each transaction", v4),
    ]

    static func migrator(upTo count: Int = all.count) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in all.prefix(count) {
            migrator.registerMigration(name) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    // Amounts (uint256) are 32-byte big-endian BLOBs; addresses 20-byte BLOBs; hashes 32-byte BLOBs.
    // (block_number, log_index) is a log's position in the chain and the key of every event table.
    static let v1 = """
    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
    -- Hashes of ingested blocks: every block of the reorg window below the cursor, plus each block that
    -- carried an ingested log. The highest row is the tip the next step checks is still canonical.
    CREATE TABLE blocks (number INTEGER PRIMARY KEY NOT NULL, hash BLOB NOT NULL);
    CREATE TABLE reward_events (
        block_number INTEGER NOT NULL, log_index INTEGER NOT NULL,
        block_hash BLOB NOT NULL, tx_hash BLOB NOT NULL,
        staker BLOB NOT NULL, amount BLOB NOT NULL,
        PRIMARY KEY (block_number, log_index)) WITHOUT ROWID;
    CREATE INDEX reward_events_by_staker ON reward_events (staker, block_number, log_index);
    CREATE TABLE registrations (
        block_number INTEGER NOT NULL, log_index INTEGER NOT NULL,
        block_hash BLOB NOT NULL, tx_hash BLOB NOT NULL,
        staker BLOB NOT NULL, opted_in INTEGER NOT NULL CHECK (opted_in IN (0, 1)),
        share_bps INTEGER NOT NULL, since_block INTEGER NOT NULL,
        PRIMARY KEY (block_number, log_index)) WITHOUT ROWID;
    CREATE INDEX registrations_by_staker ON registrations (staker, block_number, log_index);
    -- The registry: each staker's current registration, replayed from `registrations`.
    CREATE TABLE stakers (
        staker BLOB PRIMARY KEY NOT NULL, registered INTEGER NOT NULL CHECK (registered IN (0, 1)),
        share_bps INTEGER NOT NULL, since_block INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE treasury_events (
        block_number INTEGER NOT NULL, log_index INTEGER NOT NULL,
        block_hash BLOB NOT NULL, tx_hash BLOB NOT NULL,
        routed INTEGER NOT NULL CHECK (routed IN (0, 1)), staker BLOB NOT NULL,
        claim_block INTEGER NOT NULL, claim_log_index INTEGER NOT NULL,
        reward BLOB, contributed BLOB, share_bps INTEGER, reason INTEGER,
        PRIMARY KEY (block_number, log_index)) WITHOUT ROWID;
    CREATE INDEX treasury_events_by_claim ON treasury_events (claim_block, claim_log_index);
    CREATE TABLE intents (
        claim_block INTEGER NOT NULL, claim_log_index INTEGER NOT NULL,
        staker BLOB NOT NULL, block_hash BLOB NOT NULL, amount BLOB NOT NULL,
        share_bps INTEGER NOT NULL, expected BLOB NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'policy_skipped', 'lapsed', 'sent', 'routed', 'skipped')),
        reason TEXT, tx_id INTEGER,
        PRIMARY KEY (claim_block, claim_log_index)) WITHOUT ROWID;
    CREATE INDEX intents_by_state ON intents (state, claim_block, claim_log_index);
    CREATE INDEX intents_by_staker ON intents (staker, state);
    -- For the submitter (next issue): every signed transaction is written here before it is broadcast.
    CREATE TABLE transactions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, nonce INTEGER NOT NULL, hash BLOB NOT NULL UNIQUE,
        raw BLOB NOT NULL, gas_limit INTEGER NOT NULL,
        max_fee_per_gas BLOB NOT NULL, max_priority_fee_per_gas BLOB NOT NULL,
        state TEXT NOT NULL, created_at INTEGER NOT NULL, mined_block INTEGER, replaced_by INTEGER);
    CREATE TABLE reorgs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, detected_at INTEGER NOT NULL,
        old_tip INTEGER NOT NULL, ancestor INTEGER NOT NULL, depth INTEGER NOT NULL);
    """

    // v2 (issue 14): a claim is (block hash, log index) — two forks may carry different rewards at the same
    // (number, log index). Intents are re-keyed; `orphaned` is a new terminal state; a settled intent records
    // the block (and hash) of the event that settled it, a journaled transaction the hash of its receipt's
    // block, and a treasury event the block hash of the claim it cites, so a deep reorg can undo exactly what
    // it orphaned. Existing rows are carried over: an intent's hash is the one it was planned with; a
    // settlement is taken from the stored event citing it; a treasury event's claim hash from the stored
    // reward at that position (except ORPHANED/FUTURE skips, which cite no canonical block).
    static let v2 = """
    CREATE TABLE intents_v2 (
        block_hash BLOB NOT NULL, claim_log_index INTEGER NOT NULL, claim_block INTEGER NOT NULL,
        staker BLOB NOT NULL, amount BLOB NOT NULL, share_bps INTEGER NOT NULL, expected BLOB NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'policy_skipped', 'lapsed', 'sent', 'routed', 'skipped', 'orphaned')),
        reason TEXT, tx_id INTEGER, settled_block INTEGER, settled_block_hash BLOB,
        PRIMARY KEY (block_hash, claim_log_index)) WITHOUT ROWID;
    INSERT INTO intents_v2 (block_hash, claim_log_index, claim_block, staker, amount, share_bps, expected, state, reason, tx_id,
                            settled_block, settled_block_hash)
    SELECT i.block_hash, i.claim_log_index, i.claim_block, i.staker, i.amount, i.share_bps, i.expected, i.state, i.reason, i.tx_id,
           CASE WHEN i.state IN ('routed', 'skipped') THEN (SELECT t.block_number FROM treasury_events t
                WHERE t.claim_block = i.claim_block AND t.claim_log_index = i.claim_log_index
                ORDER BY t.routed DESC, t.block_number DESC, t.log_index DESC LIMIT 1) END,
           CASE WHEN i.state IN ('routed', 'skipped') THEN (SELECT t.block_hash FROM treasury_events t
                WHERE t.claim_block = i.claim_block AND t.claim_log_index = i.claim_log_index
                ORDER BY t.routed DESC, t.block_number DESC, t.log_index DESC LIMIT 1) END
    FROM intents i;
    DROP TABLE intents;
    ALTER TABLE intents_v2 RENAME TO intents;
    CREATE INDEX intents_by_state ON intents (state, claim_block, claim_log_index);
    CREATE INDEX intents_by_staker ON intents (staker, state);
    CREATE INDEX intents_by_position ON intents (claim_block, claim_log_index);
    CREATE INDEX intents_by_settled_block ON intents (settled_block) WHERE settled_block IS NOT NULL;
    CREATE INDEX intents_by_tx ON intents (tx_id) WHERE tx_id IS NOT NULL;
    ALTER TABLE treasury_events ADD COLUMN claim_block_hash BLOB;
    UPDATE treasury_events SET claim_block_hash = (SELECT r.block_hash FROM reward_events r
        WHERE r.block_number = treasury_events.claim_block AND r.log_index = treasury_events.claim_log_index)
    WHERE routed = 1 OR reason NOT IN (4, 5);
    ALTER TABLE transactions ADD COLUMN mined_block_hash BLOB;
    CREATE INDEX transactions_by_mined_block ON transactions (mined_block) WHERE mined_block IS NOT NULL;
    """

    // v3 (issue 18): the public API lists one staker's treasury events newest first, a page at a time, and sums a
    // staker's contributions from the index alone (it covers routed and contributed).
    static let v3 = """
    CREATE INDEX treasury_events_by_staker ON treasury_events (staker, block_number, log_index, routed, contributed);
    """

    // v4 (issue 20): which keeper journaled each transaction, under which lease epoch, and when (ms): with several
    // keepers on one PostgreSQL database the fencing rule is visible in the journal. NULL for rows written without HA.
    static let v4 = """
    ALTER TABLE transactions ADD COLUMN journaled_by TEXT;
    ALTER TABLE transactions ADD COLUMN journaled_epoch INTEGER;
    ALTER TABLE transactions ADD COLUMN journaled_at_ms INTEGER;
    """
}
