// SQLiteEngine — the embedded default: one SQLite file in WAL mode through GRDB's DatabasePool, so read-only
// commands and the stakers' API read while the daemon writes. Owns: opening, migrating and the GRDB sessions.
import Foundation
import GRDB

/// The SQLite engine (`[store] backend = "sqlite"`, the default).
final class SQLiteEngine: StoreEngine {
    let dialect = SQLDialect.sqlite
    let location: String
    let pool: DatabasePool

    /// Opens (creating and migrating when `readOnly` is false) the file at `path`, up to `migrations` migrations.
    init(path: String, readOnly: Bool, migrations: Int) throws(StoreError) {
        location = path
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
            let unknown = try pool.read { db in try migrator.appliedIdentifiers(db).subtracting(Schema.all.map(\.name)) }
            if !unknown.isEmpty { throw StoreError.newerSchema(unknown: unknown.sorted()) }
            if readOnly {
                let complete = try pool.read { db in try migrator.hasCompletedMigrations(db) }
                if !complete { throw StoreError.corrupt(table: "grdb_migrations", column: "identifier", reason: "the store is not fully migrated; start `run` once to upgrade it") }
            } else {
                try migrator.migrate(pool)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.wrap(error, "migrate \(path)")
        }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        do {
            return try pool.read { db in try body(GRDBSession(db: db)) }
        } catch let error as DatabaseError {
            throw Self.wrap(error, "read")
        }
    }

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        do {
            return try pool.write { db in try body(GRDBSession(db: db)) }
        } catch let error as DatabaseError {
            throw Self.wrap(error, "write")
        }
    }

    func close() { try? pool.close() }

    /// Checkpoints the WAL into the main file (used before copying a store).
    func checkpoint() throws {
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

/// A GRDB connection inside one transaction.
struct GRDBSession: SQLSession {
    let db: Database
    var dialect: SQLDialect { .sqlite }
    var writer: LeaseHolder? { nil }

    static func arguments(_ args: [SQLValue]) -> StatementArguments {
        StatementArguments(args.map { v -> DatabaseValue in
            switch v {
            case .null: return .null
            case let .integer(i): return i.databaseValue
            case let .text(s): return s.databaseValue
            case let .blob(d): return d.databaseValue
            }
        })
    }

    @discardableResult
    func execute(_ sql: String, _ args: [SQLValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(args))
        return db.changesCount
    }

    func query(_ sql: String, _ args: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        // Column names from the rows, not the statement: SQLite re-prepares a statement whose tables a migration
        // changed when it first steps, and only the stepped rows carry the new layout.
        var columns: [String]?
        return try Row.fetchAll(statement, arguments: Self.arguments(args)).map { row in
            if columns == nil { columns = row.columnNames.map { $0.lowercased() } }
            return SQLRow(lowercased: columns ?? [], values: row.databaseValues.map { v in
                switch v.storage {
                case .null: return .null
                case let .int64(i): return .integer(i)
                case let .double(d): return Int64(exactly: d).map { .integer($0) } ?? .text("\(d)")
                case let .string(s): return .text(s)
                case let .blob(b): return .blob(b)
                }
            })
        }
    }
}
