import Foundation
import KeeperCore
import KeeperIngest
import KeeperSubmission

/// What `/healthz` and `/readyz` answer, decided from facts the poll loop and the RPC instrumentation
/// report. Thread-safe; cheap to query on every request.
///
/// - alive (`/healthz` 200): the poll loop completed an iteration (successful or not) within
///   `livenessTimeout` — a hung loop turns it 503, as it stops the systemd watchdog.
///   While alive, its body names failing dependencies (`degraded: RPC endpoint … failing: …`, the last failed poll).
/// - ready (`/readyz` 200): a poll succeeded and none failed since, the lag is at most `readyMaxLagBlocks`, the key
///   is loaded (or dry-run), at least one RPC endpoint is healthy, and ingestion is not halted.
public final class KeeperHealth: @unchecked Sendable {
    /// One answer of a health endpoint.
    public struct Verdict: Sendable, Equatable {
        /// 200 or 503.
        public var ok: Bool
        /// Why not, one reason per failed condition (empty when ok).
        public var reasons: [String]
        /// Failing dependencies while still ok (`/healthz` names them: the RPC endpoints, the last failed poll).
        public var degraded: [String] = []
        /// With HA, which this instance is (`role: leader, epoch 7` or `role: follower, leader keeper-b, epoch 7`).
        public var role: String? = nil
        /// The body: `ok` (plus `degraded: …` lines naming failing dependencies) or `not ready: reason; reason`, then the
        /// HA role line when there is one.
        public var body: String {
            (ok ? "ok\n" + degraded.map { "degraded: \($0)\n" }.joined() : "not ready: " + reasons.joined(separator: "; ") + "\n")
                + (role.map { "role: \($0)\n" } ?? "")
        }
    }

    /// Largest lag (blocks) at which the keeper is still ready (SIGHUP may change it).
    public var readyMaxLagBlocks: UInt64 {
        get { locked { maxLag } }
        set { locked { maxLag = newValue } }
    }
    var maxLag: UInt64
    /// How long after the last loop iteration the process still counts as alive.
    public let livenessTimeout: Duration
    let clock = ContinuousClock()
    let lock = NSLock()
    var lastBeat: ContinuousClock.Instant?
    var lastSuccess: ContinuousClock.Instant?
    var lagBlocks: UInt64?
    var keyLoaded = false
    var endpoints: [String: Bool] = [:]
    var endpointErrors: [String: String] = [:]
    var lastFailure: (at: ContinuousClock.Instant, reason: String)?
    var haltReason: String?
    /// HA: this instance's role, the leader it follows and the epoch (nil without HA).
    var haRole: (leader: Bool, holder: String, epoch: UInt64)?
    var lastLeaseCheck: ContinuousClock.Instant?
    /// HA: how recent the last successful lease check must be for a follower to be ready (3 leases).
    public var leaseFreshness: Duration = .seconds(15)

    /// A health state: nothing has happened yet (alive until `livenessTimeout` after creation, not ready).
    public init(readyMaxLagBlocks: UInt64, livenessTimeout: Duration) {
        maxLag = readyMaxLagBlocks
        self.livenessTimeout = livenessTimeout
        lastBeat = clock.now
    }

    func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }

    /// The loop finished an iteration (success or a transient failure).
    public func beat() { locked { lastBeat = clock.now } }

    /// A poll completed without error, leaving `lag` blocks to ingest.
    public func pollSucceeded(lag: UInt64) {
        locked { lastBeat = clock.now; lastSuccess = clock.now; lagBlocks = lag; lastFailure = nil }
    }

    /// A poll failed with `reason` (the loop is alive and retries): not ready until a poll succeeds again.
    public func pollFailed(_ reason: String) { locked { lastBeat = clock.now; lastFailure = (clock.now, reason) } }

    /// The signing key is loaded (or not needed: dry-run).
    public func setKeyLoaded(_ loaded: Bool) { locked { keyLoaded = loaded } }

    /// The latest request to `endpoint` succeeded or failed (`reason`: what failed, named in the health bodies).
    public func setEndpoint(_ endpoint: String, healthy: Bool, reason: String? = nil) {
        locked {
            endpoints[endpoint] = healthy
            endpointErrors[endpoint] = healthy ? nil : (reason ?? "failing")
        }
    }

    /// Declares the endpoints (unknown ones count as unhealthy until they answer).
    public func declareEndpoints(_ names: [String]) { locked { for n in names where endpoints[n] == nil { endpoints[n] = false } } }

    /// Ingestion halted (deep reorg, provider disagreement); nil clears it.
    public func setHalted(_ reason: String?) { locked { haltReason = reason } }

    /// Whether ingestion is halted, and why.
    public var halted: String? { locked { haltReason } }

    /// `/healthz`.
    public func liveness() -> Verdict {
        locked {
            guard let lastBeat else { return Verdict(ok: false, reasons: ["the poll loop never ran"]) }
            let since = clock.now - lastBeat
            if since > livenessTimeout {
                return Verdict(ok: false, reasons: ["the poll loop has not completed an iteration for \(Self.seconds(since)) s (limit \(Self.seconds(livenessTimeout)) s)"])
            }
            return Verdict(ok: true, reasons: [], degraded: failingDependencies())
        }
    }

    /// The failing RPC endpoints and the last failed poll, one line each (call with the lock held).
    func failingDependencies() -> [String] {
        var out = endpointErrors.sorted { $0.key < $1.key }.map { "RPC endpoint \($0.key) failing: \(Self.clip($0.value))" }
        if let lastFailure {
            out.append("last poll failed \(Self.seconds(clock.now - lastFailure.at)) s ago: \(Self.clip(lastFailure.reason))")
        }
        return out
    }

    static func clip(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return line.count <= 300 ? line : String(line.prefix(297)) + "..."
    }

    /// HA: a lease check succeeded; this instance leads (`leader`) or follows `holder` at `epoch`. A follower's loop is
    /// the lease loop: each check is its heartbeat.
    public func leaseChecked(leader: Bool, holder: String, epoch: UInt64) {
        locked {
            haRole = (leader, holder, epoch)
            lastLeaseCheck = clock.now
            if !leader { lastBeat = clock.now }
        }
    }

    /// HA: a follower's lease check failed (the database is unreachable): the loop is alive, readiness lapses.
    public func leaseCheckFailed() { locked { if haRole?.leader != true { lastBeat = clock.now } } }

    /// The HA role line (nil without HA).
    var roleLine: String? {
        guard let r = haRole else { return nil }
        return r.leader ? "leader, epoch \(r.epoch)" : "follower, leader \(r.holder), epoch \(r.epoch)"
    }

    /// `/readyz`. A healthy HA follower is ready (it can take over): it needs the database (a recent lease check), the
    /// key and an RPC endpoint, not a poll of its own.
    public func readiness() -> Verdict {
        let alive = liveness()
        return locked {
            var reasons = alive.reasons
            if let haltReason { reasons.append("halted: \(haltReason)") }
            if let r = haRole, !r.leader {
                if let at = lastLeaseCheck, clock.now - at <= leaseFreshness {} else {
                    reasons.append("the database has not answered a lease check for \(lastLeaseCheck.map { Self.seconds(clock.now - $0) } ?? "-") s")
                }
            } else if lastSuccess == nil {
                reasons.append("no successful poll yet")
            } else if let lagBlocks, lagBlocks > maxLag {
                reasons.append("lagging \(lagBlocks) blocks behind the confirmed head (ready_max_lag_blocks = \(maxLag))")
            }
            if let lastFailure, haRole?.leader != false { reasons.append("last poll failed: \(Self.clip(lastFailure.reason))") }
            if !keyLoaded { reasons.append("keeper key not loaded") }
            if !endpoints.values.contains(true) {
                let why = endpointErrors.sorted { $0.key < $1.key }.map { "\($0.key): \(Self.clip($0.value))" }
                reasons.append("no healthy RPC endpoint" + (why.isEmpty ? "" : " (" + why.joined(separator: "; ") + ")"))
            }
            var v = Verdict(ok: reasons.isEmpty, reasons: reasons)
            v.role = roleLine
            return v
        }
    }

    static func seconds(_ d: Duration) -> String {
        let c = d.components
        return String(format: "%.1f", Double(c.seconds) + Double(c.attoseconds) / 1e18)
    }
}
