import GRDB

/// The store's schema as append-only named migrations. A migration that has shipped is never edited:
/// changes are new migrations appended to `all`.
enum Schema {
    /// Every migration, in order (name, SQL).
    static let all: [(name: String, sql: String)] = [
        ("2026-11-29 v1 keeper schema", v1),
    ]

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in all {
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
}
