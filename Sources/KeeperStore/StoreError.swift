/// The one error type of KeeperStore. Messages name the table, column or file involved and never
/// print bound SQL arguments (no amounts, addresses or secrets from the data end up in logs).
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SQLite failed (`code` is SQLite's primary/extended result code).
    case sqlite(operation: String, code: Int32, message: String)
    /// The store was built for another chain or other contracts.
    case identityMismatch(field: String, stored: String, configured: String)
    /// A stored value has the wrong shape (a corrupted or foreign database file).
    case corrupt(table: String, column: String, reason: String)
    /// A read-only open of a store that does not exist yet.
    case missing(path: String)
    /// The file carries migrations this build does not know (written by a newer keeper).
    case newerSchema(unknown: [String])
    /// PostgreSQL refused a statement (`sqlState` is its SQLSTATE code, e.g. 23505 for a unique violation).
    case postgres(operation: String, sqlState: String, message: String)
    /// PostgreSQL could not be reached, or the connection broke (`location`: the URL without password).
    case connection(location: String, message: String)
    /// The store's settings are wrong (a bad `postgres_url`, a missing password or CA file).
    case settings(String)
    /// HA: this keeper does not hold the leader lease, so it may not write (a follower, or a leader that lost it).
    case fenced(String)

    /// Whether waiting may cure it: the database unreachable or restarting, a server-side failure of one statement
    /// (PostgreSQL's connection, resource and operator-intervention classes, serialization failures, lock timeouts), or
    /// a write fenced by the HA lease. Never a wrong store, a corrupt value or bad settings.
    public var isTransient: Bool {
        switch self {
        case .connection, .fenced: return true
        case let .postgres(_, state, _):
            return ["08", "40", "53", "55", "57"].contains(String(state.prefix(2)))
        case let .sqlite(_, code, _):
            return code & 0xFF == 5 || code & 0xFF == 6  // SQLITE_BUSY, SQLITE_LOCKED
        case .identityMismatch, .corrupt, .missing, .newerSchema, .settings: return false
        }
    }

    /// A message naming the operation, table, column or file (with a remedy where one exists), never bound SQL values.
    public var description: String {
        switch self {
        case let .sqlite(operation, code, message):
            return "store \(operation) failed: SQLite error \(code): \(message)"
        case let .identityMismatch(field, stored, configured):
            return "the store was built for \(field) \(stored) but the config says \(configured); "
                + "point data_dir elsewhere or run with --resync to rebuild it from the chain"
        case let .corrupt(table, column, reason):
            return "store table \(table), column \(column): \(reason)"
        case let .missing(path):
            return "no keeper store at \(path) (run `expansion-keeper run` first to create it)"
        case let .newerSchema(unknown):
            return "the store has migrations this keeper does not know (\(unknown.joined(separator: ", "))): written by a newer version"
        case let .postgres(operation, sqlState, message):
            return "store \(operation) failed: PostgreSQL error \(sqlState): \(message)"
        case let .connection(location, message):
            return "store at \(location) unreachable: \(message)"
        case let .settings(message):
            return message
        case let .fenced(message):
            return "fenced: \(message)"
        }
    }
}
