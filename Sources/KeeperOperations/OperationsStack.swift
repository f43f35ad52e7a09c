import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperSubmission
import Logging
import ServiceLifecycle

/// Everything operations adds to `run`, built from the config in one place so the daemon's wiring is a
/// few lines: the metrics registry, health state, systemd notifier and monitor; instrumented RPC
/// transports; and the services (metrics server first so it stops last, the halt guard around ingestion,
/// the sampler, SIGHUP reload, and the STOPPING=1 notice that runs first on shutdown).
public final class OperationsStack: Sendable {
    /// The metrics handles.
    public let metrics: KeeperMetrics
    /// Health behind /healthz and /readyz.
    public let health: KeeperHealth
    /// systemd's notify socket.
    public let notifier: SystemdNotifier
    /// What the poll loop reports to.
    public let monitor: OperationsMonitor
    /// The /metrics server (nil when not serving, e.g. `--exit-when-caught-up`).
    public let server: MetricsServer?
    let config: KeeperConfig
    let logger: Logger

    /// Builds the stack for `config`; `serve` starts the HTTP server (the listen address is checked here,
    /// so a bad or refused one fails before anything runs).
    public init(config: KeeperConfig, version: String, logger: Logger, serve: Bool,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(EngineError) {
        self.config = config; self.logger = logger
        metrics = KeeperMetrics(version: version)
        notifier = SystemdNotifier(environment: environment)
        let poll = Duration.milliseconds(Int64(config.chain.pollIntervalMs))
        // Alive = an iteration within the watchdog interval when systemd set one, else 3 polls (at least 60 s).
        let liveness = notifier.watchdogInterval ?? max(poll * 3, .seconds(60))
        health = KeeperHealth(readyMaxLagBlocks: config.metrics.readyMaxLagBlocks, livenessTimeout: liveness)
        monitor = OperationsMonitor(metrics: metrics, health: health, notifier: notifier, logger: logger)
        monitor.configured(dryRun: config.keeper.dryRun, minBalanceEth: OperationsMonitor.tokens(config.keeper.minBalanceWei))
        if case let .blocks(n) = config.chain.confirmations { monitor.setConfirmations(n) }
        if serve {
            let listen = try MetricsListen.parse(config.metrics.listen, allowRemote: config.metrics.allowRemote)
            server = try MetricsServer(listen: listen, metrics: metrics, health: health, logger: logger)
        } else {
            server = nil
        }
    }

    /// The daemon's bound on one RPC call (all attempts, retries and failovers), in seconds, unless `--rpc-timeout`
    /// sets one: a dead or lying RPC fails a poll within it, so the poll is logged and the watchdog fed.
    public static let defaultCallDeadline = 30.0

    /// A JSON-RPC client over `urls` whose every request is counted (`rpc_requests_total`, durations,
    /// endpoint health, the `eth_getLogs` range, the chain head). Each call is bounded by `callDeadline`
    /// seconds; a call that runs out does not make later calls give up (the poll loop retries).
    public func client(urls: [String], settings: RPCSettings = RPCSettings(),
                       callDeadline: Double = OperationsStack.defaultCallDeadline) throws -> RPCClient {
        var settings = settings
        settings.callDeadline = callDeadline
        settings.giveUpAfterDeadline = false
        let transports: [any HTTPTransport] = try urls.map { url in
            InstrumentedTransport(try CurlTransport(url: url, settings: settings.transport), metrics: metrics, health: health,
                                  onHead: { [monitor] head in monitor.chainHead(head) })
        }
        return try RPCClient(transports: transports, settings: settings)
    }

    /// The services to run, in start order, around `ingest` (wrapped in the halt guard when serving) and `others`
    /// (submission, …), plus the sampler when `sampler` is given.
    public func services(ingest: any Service, guardIngest: Bool = true, others: [any Service], sampler: OperationsSampler?)
        -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var out: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let server { out.append(.init(service: server)) }
        let guarded: any Service = guardIngest ? self.guarded(ingest) : ingest
        out.append(.init(service: guarded,
                         successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        for s in others { out.append(.init(service: s, failureTerminationBehavior: .gracefullyShutdownGroup)) }
        if let sampler { out.append(.init(service: sampler)) }
        let health = self.health
        out.append(.init(service: ReloadOnHangup(path: config.path, running: config, logger: logger) { cfg in
            health.readyMaxLagBlocks = cfg.metrics.readyMaxLagBlocks
        }))
        out.append(.init(service: StoppingNotice(monitor: monitor)))
        return out
    }

    /// `ingest` as a daemon runs it: held on a halt (see HaltGuard); a one-shot run (no server: --exit-when-caught-up)
    /// exits 1 instead.
    public func guarded(_ ingest: any Service) -> any Service {
        let poll = Duration.milliseconds(Int64(config.chain.pollIntervalMs))
        return server == nil ? ingest : HaltGuard(ingest, monitor: monitor, interval: min(poll, .seconds(5)), logger: logger)
    }

    /// The sampler's interval: every poll, but at most every 5 s (each sample makes four RPC calls).
    public var sampleInterval: Duration { max(Duration.milliseconds(Int64(config.chain.pollIntervalMs)), .seconds(5)) }
}

/// Sends `STOPPING=1` as soon as graceful shutdown begins (the last service, so it is told first).
struct StoppingNotice: Service {
    let monitor: OperationsMonitor
    func run() async throws {
        try? await gracefulShutdown()
        monitor.stopping()
    }
}
