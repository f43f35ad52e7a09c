// KeeperStore — the keeper's memory: one SQLite file (WAL) in `data_dir`, its schema as append-only
// named migrations, and repositories for meta/cursor/blocks, reward events, registrations and the
// registry, route intents, treasury events, reorgs and (for the submitter) transactions — in SQLite (default) or
// PostgreSQL (several keepers, one leader: KeeperStore+Lease.swift).
// Owns: SQL and the mapping of rows to values. Must not import: EthereumABI, JSONRPC, the Keeper* modules above it
// (it stores decoded values; it knows nothing of logs, ABI or transport). Imports EthereumCore, GRDB and PostgresNIO.
import EthereumCore
import Foundation

/// The store: SQLite (a GRDB `DatabasePool` in WAL mode, the default) or PostgreSQL (`[store] backend = "postgres"`,
/// several keepers on one database). Every write is one closure-scoped transaction (`write { … }` commits when the
/// closure returns and rolls back when it throws).
public final class KeeperStore: Sendable {
    /// Where the data lives: the SQLite file, or the PostgreSQL URL (without any password).
    public let path: String
    let engine: any StoreEngine

    /// The file name inside `data_dir`.
    public static let fileName = "keeper.sqlite"

    /// Which engine holds the data.
    public var backend: SQLDialect { engine.dialect }

    /// Opens (creating and migrating when `readOnly` is false) the store at `path`.
    public convenience init(path: String, readOnly: Bool = false) throws(StoreError) {
        try self.init(path: path, readOnly: readOnly, migrations: Schema.all.count)
    }

    /// Opens the store migrating only up to the first `migrations` migrations (tests write a store as an
    /// older version did, then open it with this one).
    init(path: String, readOnly: Bool, migrations: Int) throws(StoreError) {
        self.path = path
        engine = try SQLiteEngine(path: path, readOnly: readOnly, migrations: migrations)
    }

    /// Opens the store in PostgreSQL (creating and migrating the schema when `readOnly` is false).
    public init(postgres settings: PostgresSettings, readOnly: Bool = false) throws(StoreError) {
        path = settings.redactedURL
        engine = try PostgresEngine(settings: settings, readOnly: readOnly)
    }

    /// Opens the store of a data directory (`<data_dir>/keeper.sqlite`), creating the directory (0700) unless read-only.
    public convenience init(directory: String, readOnly: Bool = false) throws(StoreError) {
        if !readOnly {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw .sqlite(operation: "create data_dir \(directory)", code: 0, message: "\(error.localizedDescription)")
            }
        }
        try self.init(path: (directory as NSString).appendingPathComponent(Self.fileName), readOnly: readOnly)
    }

    /// Runs `body` in one read transaction (a consistent snapshot).
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try engine.read { db in try body(StoreReader(db: db)) }
    }

    /// Runs `body` in one write transaction: everything it wrote commits together or not at all. With HA, the
    /// transaction first checks (and holds) this instance's lease: a keeper that lost it writes nothing.
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        try engine.write { db in try body(StoreWriter(db: db)) }
    }

    /// Closes the store's connections (PostgreSQL); the store may not be used afterwards.
    public func close() { engine.close() }

    /// Checks that the store was built for `identity`; an empty store adopts it. Throws
    /// `.identityMismatch` naming the first field that differs.
    public func bind(to identity: StoreIdentity) throws {
        try write { w in
            let r = w.reader
            if let stored = try r.identity() {
                if stored.chainID != identity.chainID {
                    throw StoreError.identityMismatch(field: "chain id", stored: "\(stored.chainID)", configured: "\(identity.chainID)")
                }
                if stored.staking != identity.staking {
                    throw StoreError.identityMismatch(field: "staking contract", stored: stored.staking.checksummed, configured: identity.staking.checksummed)
                }
                if stored.rewardTopic != identity.rewardTopic {
                    throw StoreError.identityMismatch(field: "reward event topic", stored: stored.rewardTopic.hexString, configured: identity.rewardTopic.hexString)
                }
                if stored.treasury != identity.treasury {
                    throw StoreError.identityMismatch(field: "treasury", stored: stored.treasury.checksummed, configured: identity.treasury.checksummed)
                }
            } else {
                try w.setMeta("chain_id", "\(identity.chainID)")
                try w.setMeta("staking", identity.staking.checksummed)
                try w.setMeta("reward_topic", identity.rewardTopic.hexString)
                try w.setMeta("treasury", identity.treasury.checksummed)
            }
        }
    }

    /// Deletes everything derived from the chain (events, registry, intents not yet sent, blocks, cursor,
    /// identity) so the next run rebuilds the store from the chain (`--resync`). Transactions and intents
    /// already sent are kept: their fate is settled on chain.
    public func resetForResync() throws {
        try write { w in try w.resetDerived(keepIdentity: false) }
    }

    /// Checkpoints the WAL into the main file (used before copying a store; nothing to do on PostgreSQL).
    public func checkpoint() throws {
        if let sqlite = engine as? SQLiteEngine { try sqlite.checkpoint() }
    }
}
