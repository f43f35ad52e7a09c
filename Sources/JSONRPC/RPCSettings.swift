import Foundation

/// Every RPC setting an operator can tune (README "rpc" lists them with their defaults).
public struct RPCSettings: Sendable, Equatable {
    /// Timeouts, response size cap, connections per endpoint.
    public var transport = TransportSettings()
    /// Retries of one request after its first attempt (transport errors, 429, 5xx, garbled bodies).
    public var maxRetries = 6
    /// First retry delay in seconds; doubles per attempt (with jitter) up to `retryMaxDelay`.
    public var retryBaseDelay = 0.2
    /// Longest delay between retries, in seconds (a server's `Retry-After` may ask for more, up to `retryAfterCap`).
    public var retryMaxDelay = 10.0
    /// The longest `Retry-After` honoured, in seconds.
    public var retryAfterCap = 60.0
    /// Consecutive failures after which an endpoint is backed off (and requests fail over to the next).
    public var failuresBeforeBackoff = 1
    /// First back-off of a failing endpoint in seconds; doubles per further failure up to `endpointBackoffMax`.
    public var endpointBackoffBase = 1.0
    /// Longest back-off of a failing endpoint, in seconds; after it the endpoint (the primary first) is tried again.
    public var endpointBackoffMax = 60.0
    /// Client-side request rate limit over all endpoints, requests per second (0 = unlimited).
    public var requestsPerSecond = 0.0
    /// Requests allowed at once above the rate before the limiter makes callers wait.
    public var rateBurst = 10
    /// Most calls in one JSON-RPC batch (larger batches are split).
    public var maxBatchSize = 100
    /// Longest time one call may take over all its attempts, retries and failovers, in seconds (nil = no bound);
    /// then it fails naming the last error. Defaults to `RPCSettings.processCallDeadline` (the CLI sets 15 s).
    public var callDeadline: Double? = RPCSettings.processCallDeadline
    /// After a call ran out of `callDeadline`, later calls fail at once with that error (an operator command
    /// answers in one deadline, not one per call). Defaults to whether `processCallDeadline` is set.
    public var giveUpAfterDeadline = RPCSettings.processCallDeadline != nil

    /// The defaults listed in the README.
    public init() {}

    /// The `callDeadline` of settings made without one (the CLI's commands: `--rpc-timeout`); nil in libraries.
    public static var processCallDeadline: Double? {
        get { processDefaults.withLock { $0 } }
        set { processDefaults.withLock { $0 = newValue } }
    }
    private static let processDefaults = LockedValue<Double?>(nil)

    /// Checks ranges; throws `.invalidArgument` naming the setting.
    public func validate() throws(RPCError) {
        if maxRetries < 0 { throw .invalidArgument(what: "maxRetries must be >= 0") }
        try retryDelays.validate("retry delays")
        if !(retryAfterCap >= 0) { throw .invalidArgument(what: "retryAfterCap must be >= 0") }
        if failuresBeforeBackoff < 1 { throw .invalidArgument(what: "failuresBeforeBackoff must be >= 1") }
        try endpointBackoff.validate("endpoint back-off")
        if !(requestsPerSecond >= 0) || !requestsPerSecond.isFinite { throw .invalidArgument(what: "requestsPerSecond must be >= 0") }
        if rateBurst < 1 { throw .invalidArgument(what: "rateBurst must be >= 1") }
        if maxBatchSize < 1 { throw .invalidArgument(what: "maxBatchSize must be >= 1") }
        if let d = callDeadline, !(d > 0) || !d.isFinite { throw .invalidArgument(what: "callDeadline must be > 0 seconds") }
    }

    /// The delay before a retry: `retryBaseDelay` doubling per attempt up to `retryMaxDelay`.
    var retryDelays: DoublingDelay { DoublingDelay(base: retryBaseDelay, max: retryMaxDelay) }
    /// How long a failing endpoint rests: `endpointBackoffBase` doubling per further failure up to `endpointBackoffMax`.
    var endpointBackoff: DoublingDelay { DoublingDelay(base: endpointBackoffBase, max: endpointBackoffMax) }
}

/// The one schedule behind retry delays and endpoint back-off: `base` seconds doubling per step up to `max`,
/// drawn with equal jitter (half fixed, half random) so clients that failed together do not retry together.
struct DoublingDelay {
    let base: Double
    let max: Double

    /// The delay at `step` (0 = the first) without jitter; the doubling stops at 2^30 (a negative step gives 0).
    func nominal(step: Int) -> Double { min(max, base * Double(1 << min(30, step))) }

    /// The delay at `step` with equal jitter: uniformly in [nominal / 2, nominal].
    func jittered(step: Int) -> Double {
        let nominal = nominal(step: step)
        return nominal / 2 + Double.random(in: 0...(nominal / 2))
    }

    /// Requires 0 <= base <= max; `what` names the pair in the error.
    func validate(_ what: String) throws(RPCError) {
        if !(base >= 0) || !(max >= base) { throw .invalidArgument(what: "\(what) must satisfy 0 <= base <= max") }
    }
}

/// Counters an operator (and the tests) can read: what the client had to do to get answers.
/// (Shaped like `RPCSettings` — documented vars with defaults — but not the same concept: settings are inputs an
/// operator chooses, these are outputs the client counts; they change for different reasons and stay apart.)
public struct RPCStats: Sendable, Equatable {
    /// HTTP requests sent (every attempt counts).
    public var requests = 0
    /// Attempts repeated after a retryable error.
    public var retries = 0
    /// HTTP 429 answers.
    public var http429 = 0
    /// HTTP 5xx answers.
    public var http5xx = 0
    /// Transport failures (connect, timeout, dropped connection).
    public var transportErrors = 0
    /// Bodies that were not valid JSON-RPC (truncated, garbled).
    public var decodingErrors = 0
    /// JSON-RPC error objects received (any code).
    public var serverErrors = 0
    /// Switches from one endpoint to another (including the return to the primary).
    public var failovers = 0
    /// Requests sent to each endpoint, in configuration order.
    public var requestsPerEndpoint: [Int] = []

    /// Zeroed counters.
    public init() {}
}

/// Something the client did that an operator may want to see (the `logs` command prints these).
public enum RPCEvent: Sendable {
    /// A request will be retried after `delay` seconds because of `error`.
    case retry(method: String, attempt: Int, endpoint: String, error: RPCError, delay: Double)
    /// Requests moved from one endpoint to another.
    case failover(from: String, to: String)
    /// An endpoint was taken out of use (it reported another chain id).
    case endpointDisabled(endpoint: String, reason: String)
}

/// A value behind a lock (the process-wide defaults).
final class LockedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}
