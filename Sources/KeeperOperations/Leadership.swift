// Leadership — `[ha]`: several keepers on one PostgreSQL database, exactly one leading. A follower stays warm
// (config checked, store open, metrics, health and the stakers' API served) and tries to take the lease every
// lease/10; the leader renews it every lease/3 and runs ingestion and submission. Every write of the leader is fenced
// by its epoch in the database (KeeperStore+Lease.swift), so losing the lease can never lead to a new journal entry.
// A leader that lost its lease — a renewal found another holder, or none succeeded for a whole lease — exits at
// once with status 75, and the supervisor (systemd's Restart=on-failure) starts it again as a follower: in-memory
// state such as nonces and back-offs is never carried from one term into another.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KeeperStore
import Logging
import ServiceLifecycle

/// Runs `leaderServices` only while this instance holds the lease (see the file comment).
public final class LeadershipService: Service, @unchecked Sendable {
    /// Exit status of a leader that lost its lease (EX_TEMPFAIL: restart me).
    public static let lostLeaseExitStatus: Int32 = 75

    let lease: LeaseClient
    let store: KeeperStore
    let monitor: OperationsMonitor
    let leaderServices: [any Service]
    let logger: Logger
    let leaseDuration: Duration
    let lostLease: @Sendable (String) -> Never

    /// A leadership loop for `lease`'s instance; `lostLease` ends the process (tests may observe it instead).
    public init(lease: LeaseClient, store: KeeperStore, monitor: OperationsMonitor, leaderServices: [any Service], logger: Logger,
                lostLease: (@Sendable (String) -> Never)? = nil) {
        self.lease = lease; self.store = store; self.monitor = monitor; self.leaderServices = leaderServices; self.logger = logger
        leaseDuration = .milliseconds(lease.leaseMs)
        self.lostLease = lostLease ?? { reason in
            logger.critical("lost the leader lease; exiting so the supervisor restarts this instance as a follower",
                            metadata: ["reason": "\(reason)", "exit_status": "\(LeadershipService.lostLeaseExitStatus)"])
            fflush(nil)
            _exit(LeadershipService.lostLeaseExitStatus)
        }
        monitor.health.leaseFreshness = leaseDuration * 3
    }

    /// How often a follower tries to take the lease: a tenth of it, between 100 ms and 1 s.
    var followInterval: Duration { min(max(leaseDuration / 10, .milliseconds(100)), .seconds(1)) }
    /// How often the leader renews: a third of the lease.
    var renewInterval: Duration { leaseDuration / 3 }

    /// Follows until it takes the lease, then leads until graceful shutdown (releasing the lease) or until it loses it.
    public func run() async throws {
        store.setWriteFence(.follower)
        monitor.metrics.leader.set(0.0)
        var lastFollowed: String?
        var epoch: UInt64 = 0
        var tookOverFrom: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                switch try await offPool({ try self.lease.attempt() }) {
                case let .leader(e, _, from, _):
                    epoch = e; tookOverFrom = from
                case let .follower(holder, e, _):
                    monitor.health.leaseChecked(leader: false, holder: holder, epoch: e)
                    monitor.metrics.leaderEpoch.set(Double(e))
                    if lastFollowed != holder {
                        logger.info("following", metadata: ["instance": "\(lease.instance)", "leader": "\(holder)", "epoch": "\(e)"])
                        lastFollowed = holder
                    }
                }
            } catch {
                monitor.health.leaseCheckFailed()
                logger.warning("lease check failed; retrying", metadata: ["instance": "\(lease.instance)", "error": "\(error)"])
            }
            if epoch > 0 { break }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.followInterval) } } catch { return }
        }
        guard epoch > 0 else { return }
        let holder = LeaseHolder(instance: lease.instance, epoch: epoch)
        store.setWriteFence(.leader(holder))
        monitor.health.leaseChecked(leader: true, holder: lease.instance, epoch: epoch)
        monitor.metrics.leader.set(1.0)
        monitor.metrics.leaderEpoch.set(Double(epoch))
        if tookOverFrom != nil { monitor.metrics.failovers.increment() }
        logger.notice("became leader", metadata: ["instance": "\(lease.instance)", "epoch": "\(epoch)",
                                                  "previous": "\(tookOverFrom ?? "none")"])
        try await lead(holder)
    }

    /// Runs the leader's services beside the renewal loop; returns on graceful shutdown after releasing the lease. A
    /// watchdog thread, started before any of them and outside Swift's cooperative pool (store calls blocked on a
    /// stalled database may fill that pool before the renewal task ever runs), ends the process when no renewal was
    /// confirmed for a whole lease.
    func lead(_ holder: LeaseHolder) async throws {
        let clock = ContinuousClock()
        let confirmed = LockedInstant(clock.now)
        let leading = LockedInstant.Flag()
        let duration = leaseDuration
        let lost = lostLease
        let fence = store
        let watchdog = Thread {
            while leading.value {
                Thread.sleep(forTimeInterval: 0.05)
                if leading.value && clock.now - confirmed.value >= duration + .milliseconds(50) {
                    fence.setWriteFence(.follower)
                    lost("no renewal was confirmed for a whole lease (\(duration))")
                }
            }
        }
        watchdog.start()
        defer { leading.value = false }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.renew(holder, confirmed: confirmed) }
            for s in leaderServices { group.addTask { try await s.run() } }
            // The first to end decides: a leader service that stops (graceful shutdown, or an error) ends the term.
            defer { group.cancelAll() }
            try await group.next()
        }
        store.setWriteFence(.follower)
        lease.release()
        monitor.metrics.leader.set(0.0)
        logger.notice("released the leader lease", metadata: ["instance": "\(holder.instance)", "epoch": "\(holder.epoch)"])
    }

    /// Renews every lease/3 until graceful shutdown, recording each confirmed renewal in `confirmed` (the watchdog's
    /// clock); ends the process when the lease is lost.
    func renew(_ holder: LeaseHolder, confirmed: LockedInstant) async throws {
        let clock = ContinuousClock()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.renewInterval) } } catch { return }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            let started = clock.now
            do {
                switch try await offPool({ try self.lease.attempt() }) {
                case let .leader(e, _, _, newTerm) where e == holder.epoch && !newTerm:
                    confirmed.value = started
                    monitor.health.leaseChecked(leader: true, holder: holder.instance, epoch: e)
                case let .leader(e, _, _, _):
                    store.setWriteFence(.follower)
                    lostLease("the lease expired and was taken again at epoch \(e); this term (epoch \(holder.epoch)) is over")
                case let .follower(other, e, _):
                    store.setWriteFence(.follower)
                    lostLease("\(other) holds the lease at epoch \(e) (this instance held epoch \(holder.epoch))")
                }
            } catch {
                if clock.now - confirmed.value >= leaseDuration {
                    store.setWriteFence(.follower)
                    lostLease("no renewal succeeded for a whole lease (\(leaseDuration)): \(error)")
                }
                logger.warning("lease renewal failed; retrying", metadata: ["instance": "\(holder.instance)", "error": "\(error)"])
            }
        }
    }
}

/// Runs blocking store work on a thread outside Swift's cooperative pool (a database that stalls must not take the
/// pool's few threads with it).
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}

/// A clock instant (and a flag) shared between the renewal task and its watchdog thread.
final class LockedInstant: @unchecked Sendable {
    let lock = NSLock()
    var stored: ContinuousClock.Instant
    init(_ value: ContinuousClock.Instant) { stored = value }
    var value: ContinuousClock.Instant {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }

    final class Flag: @unchecked Sendable {
        let lock = NSLock()
        var stored = true
        var value: Bool {
            get { lock.lock(); defer { lock.unlock() }; return stored }
            set { lock.lock(); stored = newValue; lock.unlock() }
        }
    }
}
