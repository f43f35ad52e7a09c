import ArgumentParser
import KeeperEngine

/// `expansion-keeper audit --config FILE [--from-block N] [--to-block M] [--json]`: exit 0 when every
/// routed wei is justified by chain data, 1 otherwise (each discrepancy printed).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify every Routed of the treasury against its claim from chain data alone; exit 1 on any discrepancy.")

    @OptionGroup var options: KeeperOptions

    @Option(name: .long, help: "First block of treasury events to audit (default: treasury_deploy_block).")
    var fromBlock: UInt64?

    @Option(name: .long, help: "Last block to audit (default: the latest block).")
    var toBlock: UInt64?

    func run() async throws {
        let config = try options.load()
        let bindings = try reporting { try Bindings(config: config) }
        let chain = try reporting { try RPCChainReader(urls: config.chain.rpcURLs, maxLogsRange: config.chain.maxLogsRange) }
        let report = try await reportingAsync {
            try await AuditReport.run(config: config, bindings: bindings, chain: chain, from: fromBlock, to: toBlock)
        }
        options.emit(text: report.text, json: report.json)
        if !report.ok { throw ExitCode.failure }
    }
}
