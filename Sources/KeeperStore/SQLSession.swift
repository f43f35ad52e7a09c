// SQLSession — the one seam between the store's SQL and a database engine. The repositories (StoreReader,
// StoreWriter, the journal) speak portable SQL with `?` placeholders through a session; an engine runs each
// `read` / `write` as one database transaction on SQLite (GRDB) or PostgreSQL (postgres-nio).
// Owns: the value and row types the repositories map, and the engine contract. Imports Foundation only.
import Foundation

/// A value bound to or read from SQL: the four storage classes the schema uses (integers are 64-bit).
public enum SQLValue: Sendable, Equatable, Hashable {
    /// NULL.
    case null
    /// A 64-bit signed integer (INTEGER / BIGINT).
    case integer(Int64)
    /// Text (TEXT).
    case text(String)
    /// Bytes (BLOB / BYTEA).
    case blob(Data)

    /// True for NULL.
    public var isNull: Bool { if case .null = self { true } else { false } }
}

/// A Swift value that binds to one SQL parameter.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { var sqlValue: SQLValue { .integer(Int64(self)) } }
extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Data: SQLBindable { var sqlValue: SQLValue { .blob(self) } }
extension SQLValue: SQLBindable { var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// The arguments of one statement, in placeholder order.
typealias SQLArguments = [any SQLBindable]

/// One result row: column names (lower-cased) and values in select order.
public struct SQLRow: Sendable, Equatable {
    /// Column names, lower-cased.
    public let columns: [String]
    /// Values, in the order of `columns`.
    public let values: [SQLValue]

    /// A row from its columns and values.
    public init(columns: [String], values: [SQLValue]) {
        self.init(lowercased: columns.map { $0.lowercased() }, values: values)
    }

    /// A row whose column names are already lower-cased (engines convert each statement's names once).
    init(lowercased columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of the first column named `name` (case-insensitive), NULL when there is none.
    public subscript(_ name: String) -> SQLValue {
        let key = name.lowercased()
        for (i, c) in columns.enumerated() where c == key { return values[i] }
        return .null
    }
}

/// The SQL dialect a session speaks (for the few statements that differ, e.g. schema and locking).
public enum SQLDialect: String, Sendable {
    /// SQLite through GRDB.
    case sqlite
    /// PostgreSQL through postgres-nio.
    case postgres
}

/// One open database transaction, as the repositories see it. Statements use `?` placeholders.
protocol SQLSession {
    /// Which SQL the session speaks.
    var dialect: SQLDialect { get }
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ args: [SQLValue]) throws -> Int
    /// Runs a query; returns every row.
    func query(_ sql: String, _ args: [SQLValue]) throws -> [SQLRow]
    /// Who journals in this transaction (the HA leader's instance and epoch), nil without HA.
    var writer: LeaseHolder? { get }
}

/// An engine: a database and how it runs one read or write transaction.
protocol StoreEngine: Sendable {
    var dialect: SQLDialect { get }
    /// Where the data lives, for messages (a path, or a URL without password).
    var location: String { get }
    /// Runs `body` in one read-only transaction (a consistent snapshot).
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Runs `body` in one write transaction: everything it wrote commits together or not at all.
    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Releases connections (a closed engine may not be used again).
    func close()
}

/// The HA leader that writes: its instance name and lease epoch (the fencing token).
public struct LeaseHolder: Sendable, Equatable, CustomStringConvertible {
    /// The instance name (`[ha] instance`).
    public let instance: String
    /// The lease epoch it holds.
    public let epoch: UInt64

    /// A holder.
    public init(instance: String, epoch: UInt64) { self.instance = instance; self.epoch = epoch }

    /// `instance@epoch`.
    public var description: String { "\(instance)@\(epoch)" }
}
