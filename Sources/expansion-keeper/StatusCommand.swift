import ArgumentParser
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission

/// `expansion-keeper status --config FILE [--json]`: cursor, lag, reorgs, events, intents, stakers, submission, each in-flight
/// transaction (nonce, hash, age, fees), errors. Refuses endpoints that report another chain id than `chain.chain_id`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Where ingestion and submission stand: chain id, head, cursor, lag, reorgs, events, intents by state, stakers, submission paused/deferred, in-flight transactions, last error.")

    @OptionGroup var options: KeeperOptions

    func run() async throws {
        let config = try options.load()
        let store = try openStoreReadOnly(config)
        let chain = try? RPCChainReader(urls: config.chain.rpcURLs, maxLogsRange: config.chain.maxLogsRange)
        // An unreachable node still gets a report (head "unavailable"); a node on another chain does not.
        if let chain, let id = try? await chain.chainID(), id != config.chain.chainID {
            throw CLIError("chain.chain_id: the RPC endpoints report chain id \(id) but chain.chain_id is \(config.chain.chainID); "
                + "fix chain.rpc_urls or chain.chain_id (refusing to report on another chain)")
        }
        let report = try await reportingAsync { try await StatusReport.make(config: config, store: store, chain: chain) }
        options.emit(text: report.text, json: report.json)
    }
}
