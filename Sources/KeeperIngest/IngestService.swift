import Foundation
import JSONRPC
import KeeperStore
import KeeperCore
import Logging
import ServiceLifecycle

/// What ingestion tells whoever watches it (metrics, health, systemd): implemented by the operations module,
/// so ingestion does not depend on it.
public protocol IngestObserver: AnyObject, Sendable {
    /// Blocks up to `block` were ingested.
    func pollIngested(upTo block: UInt64, store: KeeperStore?)
    /// A poll found nothing to do: the cursor is at the confirmed target.
    func pollSucceeded(cursor: UInt64, target: UInt64, store: KeeperStore?)
    /// A poll failed with a transient error (it is retried).
    func pollFailed(_ error: any Error)
    /// A reorg of `depth` stored blocks was handled.
    func reorg(depth: UInt64)
}

/// Ingestion as a `Service`: one step per poll interval (back-to-back while catching up). On graceful
/// shutdown (SIGTERM/SIGINT through the `ServiceGroup`) the step in flight is cancelled between store
/// transactions: a chunk's transaction either committed before or never began, nothing is half-written.
/// Transient RPC failures are logged, recorded as `last_error` and retried; a reorg deeper than the window
/// or a provider disagreement stops the service with its error.
public final class IngestService: Service, Sendable {
    /// The ingestor stepped once per iteration.
    public let ingestor: Ingestor
    let logger: Logger
    let exitWhenCaughtUp: Bool
    /// Metrics, health and systemd notifications of each iteration (the operations module implements it).
    let monitor: (any IngestObserver)?

    /// A service over `ingestor`; with `exitWhenCaughtUp` it returns once the cursor reaches the target.
    public init(ingestor: Ingestor, logger: Logger, exitWhenCaughtUp: Bool = false, monitor: (any IngestObserver)? = nil) {
        self.ingestor = ingestor; self.logger = logger; self.exitWhenCaughtUp = exitWhenCaughtUp; self.monitor = monitor
    }

    /// Prepares, then steps until shutdown, cancellation, catching up (with `exitWhenCaughtUp`) or a fatal error.
    public func run() async throws {
        let poll = Duration.milliseconds(Int64(ingestor.config.chain.pollIntervalMs))
        var failures = FailureLog()
        // An RPC that is down at start is waited for (logged like a failing poll); another chain id is fatal.
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await self.ingestor.prepare() }
                break
            } catch let e as RPCError where !Self.isFatalAtStart(e) {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                failures.failed(e, logger: logger, endpoints: endpoints, what: "cannot check the chain id; retrying")
                monitor?.pollFailed(e)
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: max(poll, .seconds(1))) } } catch { return }
            } catch let e as StoreError where e.isTransient {
                // A database that is restarting or unreachable (PostgreSQL), or a lease lost meanwhile (HA: the leadership
                // loop ends the process): waited for like an RPC that is down.
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                failures.failed(e, logger: logger, endpoints: endpoints, what: "cannot bind the store; retrying")
                monitor?.pollFailed(e)
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: max(poll, .seconds(1))) } } catch { return }
            }
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var idle = true
            do {
                let step = try await cancelWhenGracefulShutdown { try await self.ingestor.step() }
                switch step {
                case let .ingested(range, events):
                    idle = false
                    failures.succeeded(logger: logger)
                    logger.info("ingested", metadata: ["from": "\(range.lowerBound)", "to": "\(range.upperBound)", "events": "\(events)"])
                    monitor?.pollIngested(upTo: range.upperBound, store: ingestor.store)
                case let .reorg(r):
                    idle = false
                    logger.warning("reorg", metadata: ["old_tip": "\(r.oldTip)", "ancestor": "\(r.ancestor)", "depth": "\(r.depth)"])
                    monitor?.reorg(depth: r.depth)
                case let .caughtUp(cursor, target):
                    failures.succeeded(logger: logger)
                    logger.debug("caught up", metadata: ["cursor": "\(cursor)", "target": "\(target)"])
                    monitor?.pollSucceeded(cursor: cursor, target: target, store: ingestor.store)
                    if exitWhenCaughtUp { return }
                }
            } catch is CancellationError {
                break
            } catch let e as EngineError {
                switch e {
                case .reorgTooDeep, .providerDisagreement, .config, .binding:
                    logger.critical("ingestion halted", metadata: ["error": "\(e)"])
                    throw e
                case .chain, .store:
                    if Task.isShuttingDownGracefully || Task.isCancelled { break }
                    failures.failed(e, logger: logger, endpoints: endpoints, what: "ingest step failed; retrying")
                    monitor?.pollFailed(e)
                    try? ingestor.store.write { w in try w.setMeta("last_error", "\(e)") }
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                failures.failed(error, logger: logger, endpoints: endpoints, what: "ingest step failed; retrying")
                monitor?.pollFailed(error)
                try? ingestor.store.write { w in try w.setMeta("last_error", "\(error)") }
            }
            if idle {
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: poll) } } catch { break }
            }
        }
        logger.info("ingestion stopped", metadata: ["reason": "shutdown"])
    }

    /// The RPC endpoints polled (printable), for the failure lines.
    var endpoints: String {
        (ingestor.chain as? RPCChainReader)?.client.endpointNames.joined(separator: ",") ?? "unknown"
    }

    /// Errors of the start-up chain-id check that waiting will not cure.
    static func isFatalAtStart(_ e: RPCError) -> Bool {
        switch e {
        case .chainIdMismatch, .invalidArgument: return true
        default: return false
        }
    }
}

/// Rate-limited logging of failing polls: the first failure, a changed error and then one line per
/// `interval` while the same error repeats (with how many were not logged), and one line on recovery.
struct FailureLog {
    /// At most one line per this long for a repeating error.
    var interval: Duration = .seconds(30)
    var lastText: String?
    var lastLogged: ContinuousClock.Instant?
    var suppressed = 0
    var failing = 0

    mutating func failed(_ error: any Error, logger: Logger, endpoints: String, what: String) {
        failing += 1
        let text = "\(error)"
        let now = ContinuousClock.now
        if text == lastText, let lastLogged, now - lastLogged < interval {
            suppressed += 1
            return
        }
        var metadata: Logger.Metadata = ["error": "\(text)", "rpc": "\(endpoints)", "failed_polls": "\(failing)"]
        if suppressed > 0 { metadata["repeats_not_logged"] = "\(suppressed)" }
        logger.error("\(what)", metadata: metadata)
        lastText = text; lastLogged = now; suppressed = 0
    }

    mutating func succeeded(logger: Logger) {
        guard failing > 0 else { return }
        logger.notice("RPC answering again; polls succeed", metadata: ["failed_polls": "\(failing)"])
        self = FailureLog(interval: interval)
    }
}
