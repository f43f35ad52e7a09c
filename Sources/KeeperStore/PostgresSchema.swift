// PostgresSchema — the store's schema in PostgreSQL: the same tables, columns and meaning as SQLite's (Schema.swift,
// migrations v1–v4), typed for PostgreSQL (BIGINT for integers, BYTEA for blobs), plus the HA lease. Like SQLite's,
// migrations are append-only and named; `keeper_migrations` records which ran. Keepers starting together migrate
// one at a time (a transaction-scoped advisory lock).
import Foundation

enum PostgresSchema {
    /// Every migration, in order (name, statements).
    static let all: [(name: String, statements: [String])] = [
        ("2026-12-07 pg v1 keeper schema (SQLite v1-v4) and the HA lease", split(v1)),
    ]

    /// The advisory lock key migrations hold ("EKstore" in ASCII).
    static let migrationLock: Int64 = 0x454B_7374_6F72_65

    static func split(_ sql: String) -> [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Creates or upgrades the schema (or, read-only, checks it is complete and not newer than this build).
    static func migrate(_ engine: PostgresEngine, readOnly: Bool) throws {
        try engine.withConnection { conn in
            try engine.transaction(conn, begin: "BEGIN", operation: "migrate") { s in
                if readOnly {
                    let exists = try s.query("SELECT to_regclass('keeper_migrations') IS NOT NULL AS present", [])
                    guard case .integer(1)? = exists.first?.values.first else { throw StoreError.missing(path: engine.location) }
                } else {
                    try s.execute("SELECT pg_advisory_xact_lock(\(migrationLock))", [])
                    try s.execute("CREATE TABLE IF NOT EXISTS keeper_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())", [])
                }
                let applied = Set(try s.query("SELECT name FROM keeper_migrations", []).compactMap { row -> String? in
                    if case let .text(t) = row["name"] { return t } else { return nil }
                })
                let unknown = applied.subtracting(all.map(\.name))
                if !unknown.isEmpty { throw StoreError.newerSchema(unknown: unknown.sorted()) }
                for m in all where !applied.contains(m.name) {
                    if readOnly {
                        throw StoreError.corrupt(table: "keeper_migrations", column: "name", reason: "the store is not fully migrated; start `run` once to upgrade it")
                    }
                    for statement in m.statements { try s.execute(statement, []) }
                    try s.execute("INSERT INTO keeper_migrations (name) VALUES (?)", [.text(m.name)])
                }
            }
        }
    }

    static let v1 = """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE blocks (number BIGINT PRIMARY KEY, hash BYTEA NOT NULL);
    CREATE TABLE reward_events (
        block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_hash BYTEA NOT NULL, tx_hash BYTEA NOT NULL,
        staker BYTEA NOT NULL, amount BYTEA NOT NULL,
        PRIMARY KEY (block_number, log_index));
    CREATE INDEX reward_events_by_staker ON reward_events (staker, block_number, log_index);
    CREATE TABLE registrations (
        block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_hash BYTEA NOT NULL, tx_hash BYTEA NOT NULL,
        staker BYTEA NOT NULL, opted_in BIGINT NOT NULL CHECK (opted_in IN (0, 1)),
        share_bps BIGINT NOT NULL, since_block BIGINT NOT NULL,
        PRIMARY KEY (block_number, log_index));
    CREATE INDEX registrations_by_staker ON registrations (staker, block_number, log_index);
    CREATE TABLE stakers (
        staker BYTEA PRIMARY KEY, registered BIGINT NOT NULL CHECK (registered IN (0, 1)),
        share_bps BIGINT NOT NULL, since_block BIGINT NOT NULL);
    CREATE TABLE treasury_events (
        block_number BIGINT NOT NULL, log_index BIGINT NOT NULL,
        block_hash BYTEA NOT NULL, tx_hash BYTEA NOT NULL,
        routed BIGINT NOT NULL CHECK (routed IN (0, 1)), staker BYTEA NOT NULL,
        claim_block BIGINT NOT NULL, claim_log_index BIGINT NOT NULL,
        reward BYTEA, contributed BYTEA, share_bps BIGINT, reason BIGINT, claim_block_hash BYTEA,
        PRIMARY KEY (block_number, log_index));
    CREATE INDEX treasury_events_by_claim ON treasury_events (claim_block, claim_log_index);
    CREATE INDEX treasury_events_by_staker ON treasury_events (staker, block_number, log_index, routed, contributed);
    CREATE TABLE intents (
        block_hash BYTEA NOT NULL, claim_log_index BIGINT NOT NULL, claim_block BIGINT NOT NULL,
        staker BYTEA NOT NULL, amount BYTEA NOT NULL, share_bps BIGINT NOT NULL, expected BYTEA NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'policy_skipped', 'lapsed', 'sent', 'routed', 'skipped', 'orphaned')),
        reason TEXT, tx_id BIGINT, settled_block BIGINT, settled_block_hash BYTEA,
        PRIMARY KEY (block_hash, claim_log_index));
    CREATE INDEX intents_by_state ON intents (state, claim_block, claim_log_index);
    CREATE INDEX intents_by_staker ON intents (staker, state);
    CREATE INDEX intents_by_position ON intents (claim_block, claim_log_index);
    CREATE INDEX intents_by_settled_block ON intents (settled_block) WHERE settled_block IS NOT NULL;
    CREATE INDEX intents_by_tx ON intents (tx_id) WHERE tx_id IS NOT NULL;
    CREATE TABLE transactions (
        id BIGSERIAL PRIMARY KEY, nonce BIGINT NOT NULL, hash BYTEA NOT NULL UNIQUE,
        raw BYTEA NOT NULL, gas_limit BIGINT NOT NULL,
        max_fee_per_gas BYTEA NOT NULL, max_priority_fee_per_gas BYTEA NOT NULL,
        state TEXT NOT NULL, created_at BIGINT NOT NULL, mined_block BIGINT, replaced_by BIGINT,
        mined_block_hash BYTEA, journaled_by TEXT, journaled_epoch BIGINT, journaled_at_ms BIGINT);
    CREATE INDEX transactions_by_mined_block ON transactions (mined_block) WHERE mined_block IS NOT NULL;
    CREATE TABLE reorgs (
        id BIGSERIAL PRIMARY KEY, detected_at BIGINT NOT NULL,
        old_tip BIGINT NOT NULL, ancestor BIGINT NOT NULL, depth BIGINT NOT NULL);
    CREATE TABLE keeper_lease (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL UNIQUE CHECK (epoch > 0),
        expires_at TIMESTAMPTZ NOT NULL, acquired_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE keeper_leaders (epoch BIGINT PRIMARY KEY, holder TEXT NOT NULL, acquired_at TIMESTAMPTZ NOT NULL)
    """
}
