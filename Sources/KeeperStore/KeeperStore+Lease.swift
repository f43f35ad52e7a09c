// The HA leader lease, in PostgreSQL: one row `keeper_lease('leader')` with its holder, a monotonically increasing
// epoch (the fencing token) and an expiry on the DATABASE's clock (no keeper's clock decides). Taking an expired
// lease increments the epoch and appends the term to `keeper_leaders`. The fencing rule: every write transaction of
// a leader first locks the lease row (FOR KEY SHARE) and checks that it still holds it at its epoch, unexpired — so a
// paused, partitioned or slow keeper that lost the lease can never journal (and the keeper broadcasts only what it
// journaled), and a takeover waits until a leader's write in progress has committed or rolled back. The lock is FOR KEY
// SHARE and `epoch` is a unique key: a renewal (expires_at only) never waits for the leader's own writes, a takeover
// (a new epoch) always does.
import Foundation
import NIOConcurrencyHelpers
import PostgresNIO

/// The lease as the database sees it now.
public struct LeaseRecord: Sendable, Equatable {
    /// The instance holding (or last holding) the lease.
    public var holder: String
    /// Its epoch.
    public var epoch: UInt64
    /// When it expires, ms since 1970 on the database's clock.
    public var expiresAtMs: Int64
    /// When the current term began (ms, database clock).
    public var acquiredAtMs: Int64
    /// The database's clock when read (ms).
    public var nowMs: Int64

    /// Whether it is still held (not expired) by the database's clock.
    public var live: Bool { expiresAtMs > nowMs }
}

/// One term of leadership (`keeper_leaders`): who took the lease at which epoch, when (ms, database clock).
public struct LeaderTerm: Sendable, Equatable {
    /// The epoch.
    public var epoch: UInt64
    /// The instance.
    public var holder: String
    /// When it took the lease.
    public var acquiredAtMs: Int64
}

/// What one attempt to take or renew the lease found.
public enum LeaseOutcome: Sendable, Equatable {
    /// This instance holds the lease at `epoch`; `previous` names the holder it took it over from (nil: it renewed, or
    /// the lease was new).
    case leader(epoch: UInt64, expiresInMs: Int64, tookOverFrom: String?, newTerm: Bool)
    /// Another instance holds it.
    case follower(holder: String, epoch: UInt64, expiresInMs: Int64)
}

enum Lease {
    static let name = "leader"

    /// Locks the lease row for the rest of the transaction and checks `holder` still holds it, unexpired.
    static func checkFence(_ s: any SQLSession, holder: LeaseHolder) throws {
        let rows = try s.query("""
            SELECT holder, epoch, expires_at > clock_timestamp() AS live FROM keeper_lease WHERE name = ? FOR KEY SHARE
            """, [.text(name)])
        guard let row = rows.first else { throw StoreError.fenced("there is no leader lease; \(holder.instance) never took it") }
        let live: Bool = if case .integer(1) = row["live"] { true } else { false }
        let current = (row["holder"], row["epoch"])
        guard case let (.text(h), .integer(e)) = current, h == holder.instance, UInt64(e) == holder.epoch, live else {
            let who = if case let .text(h) = row["holder"] { h } else { "?" }
            let epoch = if case let .integer(e) = row["epoch"] { "\(e)" } else { "?" }
            throw StoreError.fenced("\(holder.instance) no longer holds the leader lease at epoch \(holder.epoch) "
                                    + (live ? "(\(who) holds epoch \(epoch))" : "(it expired; last holder \(who), epoch \(epoch))"))
        }
    }

    static func record(_ row: SQLRow) throws -> LeaseRecord {
        let c = Col(row: row, table: "keeper_lease")
        return LeaseRecord(holder: try c.text("holder"), epoch: try c.u64("epoch"), expiresAtMs: try c.int64("expires_ms"),
                           acquiredAtMs: try c.int64("acquired_ms"), nowMs: try c.int64("now_ms"))
    }

    static let selectLease = """
        SELECT holder, epoch, (extract(epoch FROM expires_at) * 1000)::bigint AS expires_ms,
               (extract(epoch FROM acquired_at) * 1000)::bigint AS acquired_ms,
               (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms
        FROM keeper_lease WHERE name = ?
        """
}

extension KeeperStore {
    /// The leader lease now (nil on SQLite, or before any keeper took it).
    public func currentLease() throws -> LeaseRecord? {
        guard backend == .postgres else { return nil }
        return try read { r in try r.rows(Lease.selectLease, [Lease.name]).first.map(Lease.record) }
    }

    /// Every term of leadership, oldest first (empty on SQLite).
    public func leaderHistory() throws -> [LeaderTerm] {
        guard backend == .postgres else { return [] }
        return try read { r in
            try r.rows("SELECT epoch, holder, (extract(epoch FROM acquired_at) * 1000)::bigint AS acquired_ms FROM keeper_leaders ORDER BY epoch").map { row in
                let c = Col(row: row, table: "keeper_leaders")
                return LeaderTerm(epoch: try c.u64("epoch"), holder: try c.text("holder"), acquiredAtMs: try c.int64("acquired_ms"))
            }
        }
    }

    /// Who may write (PostgreSQL only; SQLite always lets its one keeper write): see `WriteFence`.
    public func setWriteFence(_ fence: WriteFence) {
        (engine as? PostgresEngine)?.fence.withLockedValue { $0 = fence }
    }
}

/// One instance's side of the lease: takes, renews and releases it on a connection of its own (renewing never waits
/// behind the keeper's own writes in the pool). Calls are serialized.
public final class LeaseClient: @unchecked Sendable {
    /// This instance (`[ha] instance`).
    public let instance: String
    /// The lease's length.
    public let leaseMs: Int64
    let engine: PostgresEngine
    var connection: PostgresConnection?
    let lock = NSLock()
    /// The epoch this instance holds, 0 when none.
    var held: UInt64 = 0

    /// A client for `instance` on a PostgreSQL store.
    public init(store: KeeperStore, instance: String, leaseMs: Int64) throws(StoreError) {
        guard let pg = store.engine as? PostgresEngine else {
            throw .settings("ha: the leader lease lives in PostgreSQL; set [store] backend = \"postgres\"")
        }
        engine = pg; self.instance = instance; self.leaseMs = leaseMs
    }

    /// One attempt: renews the lease this instance holds, takes it when it is free or expired, else reports the holder.
    /// A new process never inherits an epoch: it takes the lease only once the previous term expired.
    public func attempt() throws -> LeaseOutcome {
        lock.lock()
        defer { lock.unlock() }
        let mine = held
        let outcome: LeaseOutcome = try engine.withDedicated(&connection) { s in
            // FOR NO KEY UPDATE does not wait for the leader's writes (they hold FOR KEY SHARE): renewing never waits
            // behind them. Changing the epoch (a takeover) updates a unique key, which does wait for them.
            let current = try s.query(Lease.selectLease + " FOR NO KEY UPDATE", [.text(Lease.name)]).first.map(Lease.record)
            let expires = "clock_timestamp() + (? * interval '1 millisecond')"
            if let current, current.holder == instance, current.epoch == mine, mine > 0 {
                try s.execute("UPDATE keeper_lease SET expires_at = \(expires) WHERE name = ?", [.integer(leaseMs), .text(Lease.name)])
                return .leader(epoch: mine, expiresInMs: leaseMs, tookOverFrom: nil, newTerm: false)
            }
            if let current, current.live {
                return .follower(holder: current.holder, epoch: current.epoch, expiresInMs: current.expiresAtMs - current.nowMs)
            }
            let next = (current?.epoch ?? 0) + 1
            guard let nextEpoch = Int64(exactly: next) else { throw StoreError.corrupt(table: "keeper_lease", column: "epoch", reason: "out of range") }
            if current == nil {
                try s.execute("INSERT INTO keeper_lease (name, holder, epoch, expires_at, acquired_at) VALUES (?, ?, ?, \(expires), clock_timestamp())",
                              [.text(Lease.name), .text(instance), .integer(nextEpoch), .integer(leaseMs)])
            } else {
                try s.execute("UPDATE keeper_lease SET holder = ?, epoch = ?, expires_at = \(expires), acquired_at = clock_timestamp() WHERE name = ?",
                              [.text(instance), .integer(nextEpoch), .integer(leaseMs), .text(Lease.name)])
            }
            try s.execute("INSERT INTO keeper_leaders (epoch, holder, acquired_at) VALUES (?, ?, clock_timestamp())",
                          [.integer(nextEpoch), .text(instance)])
            let previous = current.flatMap { $0.holder == instance ? nil : $0.holder }
            return .leader(epoch: next, expiresInMs: leaseMs, tookOverFrom: previous, newTerm: true)
        }
        if case let .leader(e, _, _, _) = outcome { held = e } else { held = 0 }
        return outcome
    }

    /// Gives the lease up now (graceful shutdown), so a follower takes over at once instead of after the expiry.
    public func release() {
        lock.lock()
        defer { lock.unlock() }
        guard held > 0, let e = Int64(exactly: held) else { return }
        _ = try? engine.withDedicated(&connection) { s in
            try s.execute("UPDATE keeper_lease SET expires_at = clock_timestamp() WHERE name = ? AND holder = ? AND epoch = ?",
                          [.text(Lease.name), .text(instance), .integer(e)])
        }
        held = 0
    }

    deinit { if let c = connection { _ = try? c.close().wait() } }

    /// Closes the lease connection.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if let c = connection { _ = try? c.close().wait() }
        connection = nil
    }
}
