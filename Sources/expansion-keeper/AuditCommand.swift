import ArgumentParser
import Foundation
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperSubmission

/// `expansion-keeper audit --config FILE [--from-block N] [--to-block M] [--grace-blocks G] [--json]`.
/// Exit status: 0 when every routed wei is justified and no eligible reward is missing, 1 when anything is
/// wrong (each finding printed), 2 when the audit could not be done (config, RPC failure, a bad range, a
/// provider that cannot serve a block's state).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the treasury's history against the chain alone; exit 1 on any finding, 2 when it cannot audit.",
        discussion: """
            Checks every Routed against its claim, every RouteSkipped against a real reward (orphaned/future-block \
            skips are justified), and that every eligible reward older than the grace window was routed or skipped \
            unless the chain shows it could not be (allowance or balance below the contribution, a registration \
            change within the window, the keeper's policy). Exit status: 0 OK, 1 findings, 2 could not audit.
            """)

    @OptionGroup var options: KeeperOptions

    @Option(name: .long, help: "First block of treasury events to audit (default: treasury_deploy_block).")
    var fromBlock: UInt64?

    @Option(name: .long, help: "Last block to audit (default: the latest block).")
    var toBlock: UInt64?

    @Option(name: .long, help: "Blocks an eligible reward may wait before it must be routed (default: confirmations + the blocks of two poll intervals).")
    var graceBlocks: UInt64?

    /// Exit status when the audit could not be done.
    static let couldNotAudit: Int32 = 2

    func run() async throws {
        let report: AuditReport
        do {
            let config = try options.load()
            let bindings = try reporting { try Bindings(config: config) }
            let chain = try reporting { try RPCChainReader(urls: config.chain.rpcURLs, maxLogsRange: config.chain.maxLogsRange) }
            report = try await reportingAsync {
                try await AuditReport.run(config: config, bindings: bindings, chain: chain, from: fromBlock, to: toBlock, graceBlocks: graceBlocks)
            }
        } catch {
            FileHandle.standardError.write(Data("Error: could not audit: \(error)\n".utf8))
            throw ExitCode(Self.couldNotAudit)
        }
        options.emit(text: report.text, json: report.json)
        if !report.ok { throw ExitCode.failure }
    }
}
