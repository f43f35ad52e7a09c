// PostgresEngine — the store in PostgreSQL through postgres-nio, for keepers that outgrow one machine. The store's
// API is synchronous (as GRDB's is), so each statement waits on postgres-nio's EventLoopFuture from the calling
// thread (never an event-loop thread). Connections are pooled; writes are serialized in-process (one writer, as with
// SQLite); with HA every write transaction first locks and checks this instance's lease (KeeperStore+Lease.swift).
// Owns: the connection URL, TLS, the connection pool, transactions, the PostgreSQL schema's migrations.
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// How to reach PostgreSQL: `[store] postgres_url` (libpq's URL form) and the password from the environment or a
/// systemd credential (never from the config file).
public struct PostgresSettings: Sendable, Equatable {
    /// TLS as libpq's `sslmode` names it.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP (loopback or a trusted private network only).
        case disable
        /// TLS, certificate not checked.
        case require
        /// TLS, certificate chain checked against `sslrootcert` (or the system's roots), host name not checked.
        case verifyCA = "verify-ca"
        /// TLS, chain and host name checked (the default).
        case verifyFull = "verify-full"
    }

    /// Host name or address.
    public var host: String
    /// TCP port (5432 unless the URL says otherwise).
    public var port: Int
    /// Login role.
    public var user: String
    /// Database name.
    public var database: String
    /// TLS mode.
    public var sslMode: SSLMode
    /// PEM file of the certificate authorities to trust (nil: the system's).
    public var sslRootCert: String?
    /// The role's password (nil: none, e.g. trust or peer authentication on a test server).
    public var password: String?
    /// `application_name`, shown in `pg_stat_activity`.
    public var applicationName = "expansion-keeper"
    /// Server-side bounds for every session (ms; nil leaves the server's): how long a statement waits for a lock, and
    /// how long a session may sit idle inside a transaction before the server ends it (a paused leader's open
    /// transaction must not hold the lease row).
    public var lockTimeoutMs: Int?
    /// See `lockTimeoutMs`.
    public var idleInTransactionTimeoutMs: Int?
    /// How long connecting may take.
    public var connectTimeoutSeconds: Int64 = 5
    /// How long the keeper waits for the answer to one statement before it gives the connection up (a connection
    /// that died without a reset, a partition): the statement fails and the transaction rolls back.
    public var statementTimeoutSeconds: Double = 30

    /// Parses `postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=…]` (or `postgres://`). A password in
    /// the URL is refused: it belongs in EXPANSION_KEEPER_PG_PASSWORD or the systemd credential `pg-password`.
    public init(url: String, password: String?) throws(StoreError) {
        func bad(_ why: String) -> StoreError { .settings("store.postgres_url: \(why) (expected postgresql://USER@HOST:PORT/DATABASE?sslmode=verify-full)") }
        guard let comps = URLComponents(string: url), let scheme = comps.scheme, scheme == "postgresql" || scheme == "postgres" else {
            throw bad("not a postgresql:// URL")
        }
        if comps.password != nil {
            throw bad("holds a password; put it in EXPANSION_KEEPER_PG_PASSWORD or the systemd credential pg-password, never in the file")
        }
        guard let user = comps.user, !user.isEmpty else { throw bad("names no user") }
        guard let host = comps.host, !host.isEmpty else { throw bad("names no host") }
        let db = comps.path.hasPrefix("/") ? String(comps.path.dropFirst()) : comps.path
        guard !db.isEmpty, !db.contains("/") else { throw bad("names no database") }
        self.host = host
        self.port = comps.port ?? 5432
        guard (1...65535).contains(port) else { throw bad("port \(port) is out of range") }
        self.user = user.removingPercentEncoding ?? user
        self.database = db.removingPercentEncoding ?? db
        self.sslMode = .verifyFull
        for item in comps.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let v = item.value, let m = SSLMode(rawValue: v) else {
                    throw bad("sslmode \(item.value ?? "") is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = m
            case "sslrootcert":
                guard let v = item.value, !v.isEmpty else { throw bad("sslrootcert is empty") }
                sslRootCert = v
            case "application_name":
                if let v = item.value, !v.isEmpty { applicationName = v }
            case "connect_timeout":
                guard let v = item.value.flatMap(Int64.init), v > 0 else { throw bad("connect_timeout must be a positive number of seconds") }
                connectTimeoutSeconds = v
            default:
                throw bad("unknown parameter \(item.name) (known: sslmode, sslrootcert, application_name, connect_timeout)")
            }
        }
        self.password = password
    }

    /// The URL without any secret, for messages and `status`.
    public var redactedURL: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(h):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    func connectionConfiguration() throws(StoreError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if sslMode == .disable {
            tls = .disable
        } else {
            var t = TLSConfiguration.makeClientConfiguration()
            switch sslMode {
            case .require: t.certificateVerification = .none
            case .verifyCA: t.certificateVerification = .noHostnameVerification
            default: t.certificateVerification = .fullVerification
            }
            if let sslRootCert {
                guard FileManager.default.isReadableFile(atPath: sslRootCert) else {
                    throw .settings("store.postgres_url: sslrootcert \(sslRootCert) is not a readable file")
                }
                t.trustRoots = .file(sslRootCert)
            }
            do { tls = .require(try NIOSSLContext(configuration: t)) } catch {
                throw .settings("store.postgres_url: TLS setup failed: \(error)")
            }
        }
        var c = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        c.options.connectTimeout = .seconds(connectTimeoutSeconds)
        var startup: [(String, String)] = [("application_name", applicationName)]
        if let lockTimeoutMs { startup.append(("lock_timeout", "\(lockTimeoutMs)")) }
        if let idleInTransactionTimeoutMs { startup.append(("idle_in_transaction_session_timeout", "\(idleInTransactionTimeoutMs)")) }
        c.options.additionalStartupParameters = startup
        return c
    }
}

/// Who may write through a PostgreSQL store: anyone (no HA), nobody (an HA follower), or the lease holder.
public enum WriteFence: Sendable, Equatable {
    /// No HA: every write is allowed.
    case open
    /// An HA follower: writes are refused (it must not ingest, plan or journal).
    case follower
    /// The HA leader: each write transaction locks the lease row and checks it still holds `LeaseHolder`.
    case leader(LeaseHolder)
}

/// The PostgreSQL engine.
final class PostgresEngine: StoreEngine, @unchecked Sendable {
    let dialect = SQLDialect.postgres
    let settings: PostgresSettings
    let configuration: PostgresConnection.Configuration
    /// The lease's own sessions give up sooner than the pool's (a follower must not hang on a dead connection).
    let leaseStatementTimeout: Double
    var location: String { settings.redactedURL }
    let logger = Logger(label: "expansion-keeper.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    let group = MultiThreadedEventLoopGroup.singleton
    let idle = NIOLockedValueBox<[PostgresConnection]>([])
    let nextID = ManagedAtomicCounter()
    let writeLock = NSLock()
    let fence = NIOLockedValueBox<WriteFence>(.open)
    static let maxIdle = 6

    init(settings: PostgresSettings, readOnly: Bool) throws(StoreError) {
        self.settings = settings
        configuration = try settings.connectionConfiguration()
        leaseStatementTimeout = settings.lockTimeoutMs.map { max(1, Double($0) / 1000) } ?? settings.statementTimeoutSeconds
        do {
            try PostgresSchema.migrate(self, readOnly: readOnly)
        } catch let e as StoreError {
            close()
            throw e
        } catch {
            close()
            throw Self.wrap(error, "migrate", location: settings.redactedURL)
        }
    }

    deinit { close() }

    // MARK: connections

    func connect() throws(StoreError) -> PostgresConnection {
        do {
            return try PostgresConnection.connect(on: group.next(), configuration: configuration, id: nextID.next(), logger: logger).wait()
        } catch {
            throw Self.wrap(error, "connect", location: settings.redactedURL)
        }
    }

    /// Runs `body` on a pooled connection; a connection that failed is closed rather than pooled again.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let conn: PostgresConnection
        if let pooled = idle.withLockedValue({ $0.popLast() }) {
            conn = pooled
        } else {
            conn = try connect()
        }
        do {
            let out = try body(conn)
            if conn.isClosed { return out }
            let pooled = idle.withLockedValue { list -> Bool in
                guard list.count < Self.maxIdle else { return false }
                list.append(conn)
                return true
            }
            if !pooled { _ = try? conn.close().wait() }
            return out
        } catch {
            _ = try? conn.close().wait()
            throw error
        }
    }

    func close() {
        let all = idle.withLockedValue { list -> [PostgresConnection] in
            defer { list.removeAll() }
            return list
        }
        for c in all { _ = try? c.close().wait() }
    }

    // MARK: transactions

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try withConnection { conn in
            try transaction(conn, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", operation: "read") { s in try body(s) }
        }
    }

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        writeLock.lock()
        defer { writeLock.unlock() }
        let fence = self.fence.withLockedValue { $0 }
        if case .follower = fence {
            throw StoreError.fenced("this keeper is an HA follower: it writes nothing until it holds the leader lease")
        }
        return try withConnection { conn in
            try transaction(conn, begin: "BEGIN", operation: "write") { s in
                if case let .leader(holder) = fence {
                    try Lease.checkFence(s, holder: holder)
                    s.writer = holder
                }
                return try body(s)
            }
        }
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws. A connection error propagates (and the pool drops the
    /// connection): whether a failed COMMIT committed is unknown, and the journal's rule (broadcast only after a
    /// commit returned) keeps that safe.
    func transaction<T>(_ conn: PostgresConnection, begin: String, operation: String, timeout: Double? = nil,
                        _ body: (PGSession) throws -> T) throws -> T {
        let session = PGSession(conn: conn, engine: self, timeout: timeout ?? settings.statementTimeoutSeconds)
        try session.execute(begin, [])
        do {
            let out = try body(session)
            try session.execute("COMMIT", [])
            return out
        } catch {
            if !conn.isClosed { _ = try? session.execute("ROLLBACK", []) }
            throw Self.wrap(error, operation, location: settings.redactedURL)
        }
    }

    /// Runs `body` on a connection of its own, outside the pool and the write lock (the lease: renewing it must not
    /// wait behind the keeper's own writes).
    func withDedicated<T>(_ connection: inout PostgresConnection?, _ body: (PGSession) throws -> T) throws -> T {
        if connection == nil || connection?.isClosed == true { connection = try connect() }
        guard let conn = connection else { throw StoreError.connection(location: location, message: "no connection") }
        do {
            return try transaction(conn, begin: "BEGIN", operation: "lease", timeout: leaseStatementTimeout) { s in try body(s) }
        } catch {
            // Whatever failed, the next attempt starts on a new connection.
            _ = try? conn.close().wait()
            connection = nil
            throw error
        }
    }

    static func wrap(_ error: any Error, _ operation: String, location: String) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? PSQLError {
            if let info = e.serverInfo, let state = info[.sqlState] {
                // The server's own message; bound arguments are never part of it.
                return .postgres(operation: operation, sqlState: state, message: info[.message] ?? "")
            }
            var why = "\(e.code)"
            if let u = e.underlying { why += ": \(u)" }
            return .connection(location: location, message: "\(operation): \(why)")
        }
        return .connection(location: location, message: "\(operation): \(error)")
    }
}

/// Connection ids for postgres-nio's logging.
final class ManagedAtomicCounter: Sendable {
    let value = NIOLockedValueBox(0)
    func next() -> Int { value.withLockedValue { $0 += 1; return $0 } }
}

/// One PostgreSQL connection inside one transaction.
final class PGSession: SQLSession {
    let conn: PostgresConnection
    unowned let engine: PostgresEngine
    var writer: LeaseHolder?
    var dialect: SQLDialect { .postgres }
    let timeout: Double

    init(conn: PostgresConnection, engine: PostgresEngine, timeout: Double) { self.conn = conn; self.engine = engine; self.timeout = timeout }

    /// `?` placeholders to PostgreSQL's `$1, $2, …` (outside quoted text).
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 8)
        var n = 0
        var quoted = false
        for ch in sql {
            if ch == "'" { quoted.toggle() }
            if ch == "?" && !quoted {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    func run(_ sql: String, _ args: [SQLValue]) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: args.count)
        for a in args {
            switch a {
            case .null: binds.appendNull()
            case let .integer(i): binds.append(i)
            case let .text(s): binds.append(s)
            case let .blob(d): binds.append(ByteBuffer(bytes: d))
            }
        }
        let query = PostgresQuery(unsafeSQL: args.isEmpty ? sql : Self.numbered(sql), binds: binds)
        // Wait with a deadline: a connection that died without a reset must fail the statement, not hang the keeper.
        let done = DispatchSemaphore(value: 0)
        let box = NIOLockedValueBox<Result<PostgresQueryResult, any Error>?>(nil)
        conn.query(query, logger: engine.logger).whenComplete { result in
            box.withLockedValue { $0 = result }
            done.signal()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            let closing: EventLoopFuture<Void> = conn.close()
            _ = closing
            throw StoreError.connection(location: engine.location, message: "no answer to a statement within \(timeout) s; connection closed")
        }
        switch box.withLockedValue({ $0 }) {
        case let .success(r)?: return r
        case let .failure(error)?: throw PostgresEngine.wrap(error, "statement", location: engine.location)
        case nil: throw StoreError.connection(location: engine.location, message: "statement finished without a result")
        }
    }

    @discardableResult
    func execute(_ sql: String, _ args: [SQLValue]) throws -> Int {
        try run(sql, args).metadata.rows ?? 0
    }

    func query(_ sql: String, _ args: [SQLValue]) throws -> [SQLRow] {
        let result = try run(sql, args)
        var columns: [String]?
        return try result.rows.map { row in
            var values: [SQLValue] = []
            var names: [String] = []
            for cell in row {
                if columns == nil { names.append(cell.columnName.lowercased()) }
                values.append(try Self.value(cell))
            }
            if columns == nil { columns = names }
            return SQLRow(lowercased: columns ?? names, values: values)
        }
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        func corrupt(_ why: String) -> StoreError { .corrupt(table: "(query)", column: cell.columnName, reason: why) }
        switch cell.dataType {
        case .int8, .int4, .int2:
            guard let v = try? cell.decode(Int64.self) else { throw corrupt("unreadable integer") }
            return .integer(v)
        case .bool:
            guard let v = try? cell.decode(Bool.self) else { throw corrupt("unreadable boolean") }
            return .integer(v ? 1 : 0)
        case .bytea:
            guard let v = try? cell.decode(Data.self) else { throw corrupt("unreadable bytes") }
            return .blob(v)
        default:
            guard let v = try? cell.decode(String.self) else { throw corrupt("unexpected type \(cell.dataType)") }
            return .text(v)
        }
    }
}
