// KeeperStore — the keeper's memory: one SQLite file (WAL) in `data_dir`, its schema as append-only
// named migrations, and repositories for meta/cursor/blocks, reward events, registrations and the
// registry, route intents, treasury events, reorgs and (for the submitter) transactions.
// Owns: SQL and the mapping of rows to values. Must not import: EthereumABI, JSONRPC, the Keeper* modules above it
// (it stores decoded values; it knows nothing of logs, ABI or transport). Imports EthereumCore and GRDB.
import EthereumCore
import Foundation
import GRDB

/// The store: a GRDB `DatabasePool` in WAL mode, so read-only commands read while the daemon writes.
/// Every write is one closure-scoped transaction (`write { … }` commits when the closure returns and rolls
/// back when it throws).
public final class KeeperStore: Sendable {
    /// The SQLite file.
    public let path: String
    let pool: DatabasePool

    /// The file name inside `data_dir`.
    public static let fileName = "keeper.sqlite"

    /// Opens (creating and migrating when `readOnly` is false) the store at `path`.
    public convenience init(path: String, readOnly: Bool = false) throws(StoreError) {
        try self.init(path: path, readOnly: readOnly, migrations: Schema.all.count)
    }

    /// Opens the store migrating only up to the first `migrations` migrations (tests write a store as an
    /// older version did, then open it with this one).
    init(path: String, readOnly: Bool, migrations: Int) throws(StoreError) {
        self.path = path
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(10)
        config.label = "keeper-store"
        // Reads (the stakers' API above all) touch pages all over the file: map it rather than copy each page in
        // through a read() call, and give each connection a larger page cache.
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            try db.execute(sql: "PRAGMA cache_size = -16384")
        }
        if readOnly && !FileManager.default.fileExists(atPath: path) { throw .missing(path: path) }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw Self.wrap(error, "open \(path)")
        }
        let migrator = Schema.migrator(upTo: migrations)
        do {
            if readOnly {
                let unknown = try pool.read { db in try migrator.appliedIdentifiers(db).subtracting(Schema.all.map(\.name)) }
                if !unknown.isEmpty { throw StoreError.newerSchema(unknown: unknown.sorted()) }
                let complete = try pool.read { db in try migrator.hasCompletedMigrations(db) }
                if !complete { throw StoreError.corrupt(table: "grdb_migrations", column: "identifier", reason: "the store is not fully migrated; start `run` once to upgrade it") }
            } else {
                let unknown = try pool.read { db in try migrator.appliedIdentifiers(db).subtracting(Schema.all.map(\.name)) }
                if !unknown.isEmpty { throw StoreError.newerSchema(unknown: unknown.sorted()) }
                try migrator.migrate(pool)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.wrap(error, "migrate \(path)")
        }
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
        do {
            return try pool.read { db in try body(StoreReader(db: db)) }
        } catch let error as StoreError { throw error } catch let error as DatabaseError {
            throw Self.wrap(error, "read")
        }
    }

    /// Runs `body` in one write transaction: everything it wrote commits together or not at all.
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        do {
            return try pool.write { db in try body(StoreWriter(db: db)) }
        } catch let error as StoreError { throw error } catch let error as DatabaseError {
            throw Self.wrap(error, "write")
        }
    }

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

    /// Checkpoints the WAL into the main file (used before copying a store).
    public func checkpoint() throws {
        do { try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) } } catch {
            throw Self.wrap(error, "checkpoint")
        }
    }

    static func wrap(_ error: any Error, _ operation: String) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? DatabaseError {
            // `message` is SQLite's own text; bound arguments are never part of it.
            return .sqlite(operation: operation, code: e.extendedResultCode.rawValue, message: e.message ?? "\(e.resultCode)")
        }
        return .sqlite(operation: operation, code: 0, message: String(describing: type(of: error)))
    }
}
