import ArgumentParser
import EthereumCore
import EthereumSigning
import Foundation
import JSONRPC
import KeeperAPI
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission
import Logging
import ServiceLifecycle

/// `expansion-keeper run --config FILE`: ingestion, submission and operations (metrics server, systemd
/// notify, sampler, SIGHUP reload) as services in one service group; graceful shutdown on SIGTERM/SIGINT
/// (the store transaction in flight completes or rolls back; nothing half-written).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the keeper daemon (ingestion, submission, /metrics, systemd notify).")

    @Option(name: .long, help: "The keeper's TOML config file.")
    var config: String

    @Flag(name: .long, help: "Delete everything derived from the chain in the store and rebuild it from start_block.")
    var resync = false

    @Flag(name: .long, help: "Exit 0 once ingestion has caught up with the confirmed head (for scripts and tests).")
    var exitWhenCaughtUp = false

    @Flag(name: .long, help: "Plan, simulate and log every batch it would send; never sign (like keeper.dry_run = true).")
    var dryRun = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "expansion-keeper")
        do {
            try await serve(logger: logger)
        } catch let code as ExitCode {
            throw code
        } catch let EngineError.config(issues) where issues.count > 1 {
            // Every config issue, each a log line, then the final one: all in the log format.
            for i in issues { logger.error("config issue", metadata: ["error": "\(i.description)"]) }
            logger.critical("exiting on error", metadata: ["error": "\(issues.count) config issues (each logged above)"])
            throw ExitCode.failure
        } catch {
            // The final error is a log line like every other (JSON under --log-format json), then exit 1.
            let text = if case let EngineError.config(issues) = error, let only = issues.first { only.description } else { firstLine("\(error)") }
            logger.critical("exiting on error", metadata: ["error": "\(text)"])
            throw ExitCode.failure
        }
    }

    func serve(logger: Logger) async throws {
        let cfg = try KeeperConfig.load(path: config, checkKeys: true, sections: ConfigSections.all)
        let ops = try reporting { try OperationsStack(config: cfg, version: ExpansionKeeper.version, logger: logger, serve: !exitWhenCaughtUp) }
        if dryRun { ops.monitor.configured(dryRun: true) }
        let bindings = try reporting { try Bindings(config: cfg) }
        if let problem = ConfigChecks.dataDirProblem(cfg.keeper.dataDir) { throw CLIError("keeper.data_dir: \(problem)") }
        if resync && cfg.ha.enabled {
            throw CLIError("run --resync with [ha] enabled: stop every instance, run once with EXPANSION_KEEPER_HA_ENABLED=false and --resync, then start them again")
        }
        let store = try StoreOpening.open(cfg, readOnly: false)
        if resync { try reporting { try store.resetForResync() } }
        // Each RPC call gives up within this bound, so a dead or lying RPC fails a poll (logged, watchdog fed).
        let deadline = ExpansionKeeper.rpcTimeoutGiven ?? OperationsStack.defaultCallDeadline
        let chain = try reporting { RPCChainReader(client: try ops.client(urls: cfg.chain.rpcURLs, callDeadline: deadline), maxLogsRange: cfg.chain.maxLogsRange) }
        let verifier = cfg.chain.verifyRPCURLs.isEmpty ? nil
            : try reporting { RPCChainReader(client: try ops.client(urls: cfg.chain.verifyRPCURLs, callDeadline: deadline), maxLogsRange: cfg.chain.maxLogsRange) }
        let ingestor = Ingestor(config: cfg, bindings: bindings, store: store, chain: chain, verifier: verifier)
        let service = IngestService(ingestor: ingestor, logger: logger, exitWhenCaughtUp: exitWhenCaughtUp, monitor: ops.monitor)
        var others: [any Service] = []
        var leaderOnly: [any Service] = []
        var sampler: OperationsSampler?
        if !exitWhenCaughtUp {
            let submission = try SubmissionWiring.service(config: cfg, store: store, reader: chain, dryRun: dryRun || cfg.keeper.dryRun, logger: logger)
            ops.monitor.keyLoaded()
            if cfg.ha.enabled { leaderOnly.append(submission) } else { others.append(submission) }
            // The keeper's address without decrypting again: the keystore's address field, else simulate_from.
            let keeper = cfg.keeper.keystore.flatMap { try? KeystoreFile.read(path: $0).address } ?? cfg.keeper.simulateFrom
            sampler = OperationsSampler(monitor: ops.monitor, store: store, chain: RPCSubmissionChain(client: chain.client), reader: chain,
                                        settings: SubmissionSettings(config: cfg), treasury: cfg.contracts.treasury,
                                        keeper: keeper, treasuryKind: cfg.treasury.kind, interval: ops.sampleInterval, logger: logger)
        }
        if let api = cfg.api, !exitWhenCaughtUp {
            others.append(try await Self.apiServer(api, config: cfg, reward: bindings.reward, store: store, chain: chain, ops: ops, logger: logger))
        }
        // [ha]: ingestion and submission run only while this instance holds the lease (KeeperOperations/Leadership.swift).
        let main: any Service
        if cfg.ha.enabled {
            let lease = try reporting { try LeaseClient(store: store, instance: cfg.ha.instance, leaseMs: Int64(cfg.ha.leaseSeconds) * 1000) }
            let ingest = exitWhenCaughtUp ? service as any Service : ops.guarded(service)
            main = LeadershipService(lease: lease, store: store, monitor: ops.monitor, leaderServices: [ingest] + leaderOnly, logger: logger)
            logger.info("high availability: following until this instance holds the lease",
                        metadata: ["instance": "\(cfg.ha.instance)", "lease_seconds": "\(cfg.ha.leaseSeconds)", "store": "\(store.path)"])
        } else {
            main = service
            ops.monitor.metrics.leader.set(1.0)
        }
        var configuration = ServiceGroupConfiguration(
            services: ops.services(ingest: main, guardIngest: !cfg.ha.enabled, others: others, sampler: sampler),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // SIGTERM is honoured within 10 s whatever the RPC does: what has not stopped gracefully by then is cancelled
        // (an RPC request in flight is abandoned; a store transaction commits or rolls back).
        configuration.maximumGracefulShutdownDuration = Self.gracefulShutdownLimit
        let group = ServiceGroup(configuration: configuration)
        try await reportingAsync { try await group.run() }
    }

    /// The stakers' API and app (`[api]`): the treasury's reward token is read from the treasury itself, once.
    static func apiServer(_ api: APISettings, config cfg: KeeperConfig, reward: RewardEventBinding, store: KeeperStore, chain: RPCChainReader,
                          ops: OperationsStack, logger: Logger) async throws -> APIServer {
        let answer = try await reportingAsync { try await Bindings.rewardToken(treasury: cfg.contracts.treasury, chain: chain) }
        guard let token = answer else {
            throw CLIError("api: the treasury \(cfg.contracts.treasury.checksummed) did not answer reward_token() with an address "
                           + "(contracts.treasury must be the ExpansionTreasury or, with [treasury] kind = \"proven\", the ProvenExpansionTreasury)")
        }
        let confirmations: UInt64 = if case let .blocks(n) = cfg.chain.confirmations { n } else { 0 }
        let facts = APIFacts(chainID: cfg.chain.chainID, treasury: cfg.contracts.treasury, rewardToken: token,
                             staking: cfg.contracts.staking, confirmations: confirmations, treasuryKind: cfg.treasury.kind.rawValue)
        let proven = cfg.treasury.kind == .proven
            ? ProvenRouting(chain: chain, reward: reward, staking: cfg.contracts.staking) : nil
        let webRoot = api.webRoot ?? APISettings.defaultWebRoot()
        if webRoot == nil { logger.warning("api: no web root found (set [api] web_root); serving the API without the stakers' app") }
        let health = ops.health
        return APIServer(settings: api, facts: facts, store: store, webRoot: webRoot, proven: proven, logger: logger) {
            let v = health.liveness()
            return (v.ok, v.body)
        }
    }

    /// How long graceful shutdown may take before the remaining services are cancelled.
    static let gracefulShutdownLimit = Duration.seconds(6)
}
