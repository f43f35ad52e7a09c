import Foundation
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
        try await cancelWhenGracefulShutdown { try await self.ingestor.prepare() }
        let poll = Duration.milliseconds(Int64(ingestor.config.chain.pollIntervalMs))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var idle = true
            do {
                let step = try await cancelWhenGracefulShutdown { try await self.ingestor.step() }
                switch step {
                case let .ingested(range, events):
                    idle = false
                    logger.info("ingested", metadata: ["from": "\(range.lowerBound)", "to": "\(range.upperBound)", "events": "\(events)"])
                    monitor?.pollIngested(upTo: range.upperBound, store: ingestor.store)
                case let .reorg(r):
                    idle = false
                    logger.warning("reorg", metadata: ["old_tip": "\(r.oldTip)", "ancestor": "\(r.ancestor)", "depth": "\(r.depth)"])
                    monitor?.reorg(depth: r.depth)
                case let .caughtUp(cursor, target):
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
                    logger.error("ingest step failed; retrying", metadata: ["error": "\(e)"])
                    monitor?.pollFailed(e)
                    try? ingestor.store.write { w in try w.setMeta("last_error", "\(e)") }
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.error("ingest step failed; retrying", metadata: ["error": "\(error)"])
                monitor?.pollFailed(error)
                try? ingestor.store.write { w in try w.setMeta("last_error", "\(error)") }
            }
            if idle {
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: poll) } } catch { break }
            }
        }
        logger.info("ingestion stopped", metadata: ["reason": "shutdown"])
    }
}
