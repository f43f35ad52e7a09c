import ArgumentParser
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission

/// `expansion-keeper status --config FILE [--json]`: cursor, lag, reorgs, events, intents, stakers, submission, in-flight txs, errors.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Where ingestion and submission stand: chain id, head, cursor, lag, reorgs, events, intents by state, stakers, submission paused/deferred, in-flight transactions, last error.")

    @OptionGroup var options: KeeperOptions

    func run() async throws {
        let config = try options.load()
        let store = try openStoreReadOnly(config)
        let chain = try? RPCChainReader(urls: config.chain.rpcURLs, maxLogsRange: config.chain.maxLogsRange)
        let report = try await reportingAsync { try await StatusReport.make(config: config, store: store, chain: chain) }
        options.emit(text: report.text, json: report.json)
    }
}
