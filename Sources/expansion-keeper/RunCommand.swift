import ArgumentParser
import EthereumSigning
import Foundation
import JSONRPC
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
        let cfg = try loadConfigPrintingEveryIssue(config, checkKeys: true)
        try logging.bootstrap()
        let logger = Logger(label: "expansion-keeper")
        let ops = try reporting { try OperationsStack(config: cfg, version: ExpansionKeeper.version, logger: logger, serve: !exitWhenCaughtUp) }
        let bindings = try reporting { try Bindings(config: cfg) }
        if let problem = ConfigChecks.dataDirProblem(cfg.keeper.dataDir) { throw CLIError("keeper.data_dir: \(problem)") }
        let store = try reporting("keeper.data_dir \(cfg.keeper.dataDir)") { try KeeperStore(directory: cfg.keeper.dataDir) }
        if resync { try reporting { try store.resetForResync() } }
        let chain = try reporting { RPCChainReader(client: try ops.client(urls: cfg.chain.rpcURLs), maxLogsRange: cfg.chain.maxLogsRange) }
        let verifier = cfg.chain.verifyRPCURLs.isEmpty ? nil
            : try reporting { RPCChainReader(client: try ops.client(urls: cfg.chain.verifyRPCURLs), maxLogsRange: cfg.chain.maxLogsRange) }
        let ingestor = Ingestor(config: cfg, bindings: bindings, store: store, chain: chain, verifier: verifier)
        let service = IngestService(ingestor: ingestor, logger: logger, exitWhenCaughtUp: exitWhenCaughtUp, monitor: ops.monitor)
        var others: [any Service] = []
        var sampler: OperationsSampler?
        if !exitWhenCaughtUp {
            let submission = try SubmissionWiring.service(config: cfg, store: store, reader: chain, dryRun: dryRun || cfg.keeper.dryRun, logger: logger)
            ops.monitor.keyLoaded()
            others.append(submission)
            // The keeper's address without decrypting again: the keystore's address field, else simulate_from.
            let keeper = cfg.keeper.keystore.flatMap { try? KeystoreFile.read(path: $0).address } ?? cfg.keeper.simulateFrom
            sampler = OperationsSampler(monitor: ops.monitor, store: store, chain: RPCSubmissionChain(client: chain.client), reader: chain,
                                        settings: SubmissionSettings(config: cfg), treasury: cfg.contracts.treasury,
                                        keeper: keeper, interval: ops.sampleInterval, logger: logger)
        }
        let group = ServiceGroup(configuration: .init(
            services: ops.services(ingest: service, others: others, sampler: sampler),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await reportingAsync { try await group.run() }
    }
}
