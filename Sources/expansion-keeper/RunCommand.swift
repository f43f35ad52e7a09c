import ArgumentParser
import Foundation
import KeeperEngine
import KeeperStore
import Logging
import ServiceLifecycle

/// `expansion-keeper run --config FILE`: ingestion as a service in one service group, graceful shutdown
/// on SIGTERM/SIGINT (the store transaction in flight completes or rolls back; nothing half-written).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the keeper daemon (ingestion; submission lands with the signing issue).")

    @Option(name: .long, help: "The keeper's TOML config file.")
    var config: String

    @Flag(name: .long, help: "Delete everything derived from the chain in the store and rebuild it from start_block.")
    var resync = false

    @Flag(name: .long, help: "Exit 0 once ingestion has caught up with the confirmed head (for scripts and tests).")
    var exitWhenCaughtUp = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let cfg: KeeperConfig
        do { cfg = try KeeperConfig.load(path: config, checkKeys: true) } catch {
            throw CLIError(firstLine("\(error)"))
        }
        guard let level = Logger.Level(rawValue: logLevel) else { throw CLIError("--log-level \(logLevel): unknown level") }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "expansion-keeper")
        let bindings = try reporting { try Bindings(config: cfg) }
        let store = try reporting { try KeeperStore(directory: cfg.keeper.dataDir) }
        if resync { try reporting { try store.resetForResync() } }
        let chain = try reporting { try RPCChainReader(urls: cfg.chain.rpcURLs, maxLogsRange: cfg.chain.maxLogsRange) }
        let verifier = cfg.chain.verifyRPCURLs.isEmpty ? nil
            : try reporting { try RPCChainReader(urls: cfg.chain.verifyRPCURLs, maxLogsRange: cfg.chain.maxLogsRange) }
        let ingestor = Ingestor(config: cfg, bindings: bindings, store: store, chain: chain, verifier: verifier)
        let service = IngestService(ingestor: ingestor, logger: logger, exitWhenCaughtUp: exitWhenCaughtUp)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                             failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await reportingAsync { try await group.run() }
    }
}
