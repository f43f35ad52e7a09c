import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperPlanning
import KeeperStore
import Logging
import ServiceLifecycle

/// Submission as a `Service` in `run`'s group: at start, the chain id and the keeper role are checked
/// (refusing to start otherwise) and the balance compared with `min_balance_eth`; then, every poll,
/// the `TransactionManager` reconciles the journal with the chain FIRST (rebroadcast, replace, settle,
/// supersede) and only then the `Submitter` may send one new batch. Graceful shutdown cancels between
/// store transactions.
public final class SubmissionService: Service, @unchecked Sendable {
    /// The tracker.
    public let manager: TransactionManager
    /// The batch sender.
    public let submitter: Submitter
    let settings: SubmissionSettings
    let config: KeeperConfig
    let chain: any SubmissionChain
    let reader: any ChainReader
    let keeper: Address
    let logger: Logger
    let checkRole: Bool

    /// A service; `keeper` is the signer's address (or `simulate_from` in dry-run).
    public init(config: KeeperConfig, settings: SubmissionSettings, store: KeeperStore, chain: any SubmissionChain,
                reader: any ChainReader, signer: (any TransactionSigning)?, keeper: Address, logger: Logger, checkRole: Bool = true) {
        self.config = config; self.settings = settings; self.chain = chain; self.reader = reader; self.keeper = keeper
        self.logger = logger; self.checkRole = checkRole
        manager = TransactionManager(config: config, settings: settings, store: store, chain: chain, reader: reader,
                                     signer: settings.dryRun ? nil : signer, logger: logger)
        submitter = Submitter(config: config, settings: settings, store: store, chain: chain, reader: reader,
                              signer: settings.dryRun ? nil : signer, keeper: keeper, logger: logger)
    }

    /// The start-up checks (also used by tests): chain id, keeper role, balance.
    public func preflight() async throws {
        let id = try await reader.chainID()
        guard id == config.chain.chainID else {
            throw EngineError.chain("the node's chain id is \(id) but chain.chain_id is \(config.chain.chainID); refusing to sign")
        }
        if config.treasury.kind == .proven {
            // No keeper role: anyone may route. The contract must be the one the config describes, and blocks provable.
            let issues = try await SafetyGate.provenTreasuryIssues(config: config, chain: reader)
            if !issues.isEmpty { throw EngineError.config(issues) }
        } else if checkRole && !settings.dryRun {
            try await SafetyGate(settings: settings, treasury: config.contracts.treasury).checkKeeperRole(keeper, chain: reader)
        }
        let balance = try await chain.balance(keeper)
        if balance < settings.minBalance && !settings.dryRun {
            logger.warning("keeper balance below min_balance_eth", metadata: ["address": "\(keeper.checksummed)", "balance_wei": "\(balance)"])
        }
        logger.info("submission ready", metadata: ["keeper": "\(keeper.checksummed)", "dry_run": "\(settings.dryRun)",
                                                   "balance_wei": "\(balance)"])
    }

    /// One poll: reconcile, then maybe send.
    public func poll() async throws -> Submitter.Outcome {
        try await manager.track(keeper: keeper)
        if manager.backoffPolls > 0 {
            manager.backoffPolls -= 1
            return .deferred("back-off after a reverted batch")
        }
        return try await submitter.submitOnce()
    }

    /// Checks the keeper role, then submits and tracks once per poll until graceful shutdown.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.preflight() }
        let poll = Duration.milliseconds(Int64(max(10, settings.pollIntervalMs)))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var busy = false
            do {
                let outcome = try await cancelWhenGracefulShutdown { try await self.poll() }
                if case .sent = outcome { busy = true }
            } catch is CancellationError {
                break
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.error("submission step failed; retrying next poll", metadata: ["error": "\(error)"])
            }
            if !busy {
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: poll) } } catch { break }
            }
        }
        logger.info("submission stopped", metadata: ["reason": "shutdown"])
    }
}
