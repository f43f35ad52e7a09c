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
        /// The body: `ok` (plus `degraded: …` lines naming failing dependencies) or `not ready: reason; reason`.
        public var body: String {
            ok ? "ok\n" + degraded.map { "degraded: \($0)\n" }.joined() : "not ready: " + reasons.joined(separator: "; ") + "\n"
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

    /// `/readyz`.
    public func readiness() -> Verdict {
        let alive = liveness()
        return locked {
            var reasons = alive.reasons
            if let haltReason { reasons.append("halted: \(haltReason)") }
            if lastSuccess == nil {
                reasons.append("no successful poll yet")
            } else if let lagBlocks, lagBlocks > maxLag {
                reasons.append("lagging \(lagBlocks) blocks behind the confirmed head (ready_max_lag_blocks = \(maxLag))")
            }
            if let lastFailure { reasons.append("last poll failed: \(Self.clip(lastFailure.reason))") }
            if !keyLoaded { reasons.append("keeper key not loaded") }
            if !endpoints.values.contains(true) {
                let why = endpointErrors.sorted { $0.key < $1.key }.map { "\($0.key): \(Self.clip($0.value))" }
                reasons.append("no healthy RPC endpoint" + (why.isEmpty ? "" : " (" + why.joined(separator: "; ") + ")"))
            }
            return Verdict(ok: reasons.isEmpty, reasons: reasons)
        }
    }

    static func seconds(_ d: Duration) -> String {
        let c = d.components
        return String(format: "%.1f", Double(c.seconds) + Double(c.attoseconds) / 1e18)
    }
}
