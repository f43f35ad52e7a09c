import EthereumCore
import EthereumSigning
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperSubmission
import KeeperStore
import Logging

/// Builds `run`'s submission service: the keeper's key (unless dry-run), the chain, the settings.
enum SubmissionWiring {
    /// Test hook: `EXPANSION_KEEPER_TEST_KILL_AFTER_JOURNAL=P` makes the daemon SIGKILL itself with probability P
    /// right after a batch's journal commit and before its broadcast (the exactly-once fault test's kill point).
    static let killAfterJournal = "EXPANSION_KEEPER_TEST_KILL_AFTER_JOURNAL"

    static func service(config cfg: KeeperConfig, store: KeeperStore, reader: any ChainReader, dryRun: Bool,
                        logger: Logger) throws -> SubmissionService {
        let settings = SubmissionSettings(config: cfg, dryRun: dryRun ? true : nil)
        let key: KeeperKey? = settings.dryRun ? nil : try KeeperKey.load(cfg)
        // Dry-run never decrypts the key: the keystore's (unencrypted) address field names the sender to simulate as.
        let listed = settings.dryRun ? cfg.keeper.keystore.flatMap { try? KeystoreFile.read(path: $0).address } : nil
        guard let keeper = key?.address ?? cfg.keeper.simulateFrom ?? listed else {
            throw CLIError("keeper.simulate_from: required in dry-run without a keystore (the address batches are simulated from)")
        }
        // run's reader carries the instrumented client (rpc_requests_total counts submission's calls too).
        let client = try (reader as? RPCChainReader)?.client ?? reporting { try RPCClient(urls: cfg.chain.rpcURLs) }
        let service = SubmissionService(config: cfg, settings: settings, store: store, chain: RPCSubmissionChain(client: client),
                                        reader: reader, signer: key, keeper: keeper, logger: logger)
        if let p = ProcessInfo.processInfo.environment[killAfterJournal].flatMap(Double.init), p > 0 {
            service.submitter.afterJournal = {
                if Double.random(in: 0..<1) < p {
                    logger.critical("test hook: SIGKILL between journal and broadcast")
                    kill(getpid(), SIGKILL)
                }
            }
        }
        return service
    }
}
