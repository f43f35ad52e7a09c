import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperStore
import Logging

/// What the submitter and the transaction manager both work with: the config, the submission settings, the
/// store (journal), the chain to send to and read from, the signer (nil in dry-run or without a key), the
/// logger and the fee policy. One place, so the two halves of submission cannot be wired differently.
public class SubmissionComponent: @unchecked Sendable {
    let config: KeeperConfig
    let settings: SubmissionSettings
    let store: KeeperStore
    let chain: any SubmissionChain
    let reader: any ChainReader
    let signer: (any TransactionSigning)?
    let logger: Logger
    let fees: FeePolicy

    init(config: KeeperConfig, settings: SubmissionSettings, store: KeeperStore, chain: any SubmissionChain,
         reader: any ChainReader, signer: (any TransactionSigning)?, logger: Logger) {
        self.config = config; self.settings = settings; self.store = store; self.chain = chain; self.reader = reader
        self.signer = signer; self.logger = logger; fees = FeePolicy(cap: settings.maxFeePerGas)
    }
}
