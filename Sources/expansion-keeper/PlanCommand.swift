import ArgumentParser
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission

/// `expansion-keeper plan --config FILE [--json]`: the batches the submitter would send now, simulated.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "The routing batches the keeper would send now, each simulated with eth_call (reverts, skips, gas).")

    @OptionGroup var options: KeeperOptions

    func run() async throws {
        let config = try options.load()
        let store = try openStoreReadOnly(config)
        let chain = try reporting { try RPCChainReader(urls: config.chain.rpcURLs, maxLogsRange: config.chain.maxLogsRange) }
        let report = try await reportingAsync { try await PlanReport.make(config: config, store: store, chain: chain) }
        options.emit(text: report.text, json: report.json)
    }
}
