import ArgumentParser
import EthereumSigning
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission

/// `expansion-keeper plan --config FILE [--json]`: the batches the submitter would send now, simulated.
/// Simulations are sent from `simulate_from`, else the keeper's own address (the keystore's `address` field:
/// no password needed), so an enabled keeper's batches are simulated as the keeper would send them.
/// Exits 1 (after printing the report) when a batch reverts, and refuses a node on another chain.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "The routing batches the keeper would send now, each simulated with eth_call (reverts, skips, gas); exit 1 when a batch reverts.")

    @OptionGroup var options: KeeperOptions

    func run() async throws {
        var config = try options.load()
        if config.keeper.simulateFrom == nil, let path = config.keeper.keystore {
            config.keeper.simulateFrom = try reporting("keeper.keystore \(path)") {
                guard let address = try KeystoreFile.read(path: path).address else {
                    throw CLIError("keeper.keystore \(path): the keystore has no address field; set keeper.simulate_from")
                }
                return address
            }
        }
        let store = try openStoreReadOnly(config)
        let chain = try reporting { try RPCChainReader(urls: config.chain.rpcURLs, maxLogsRange: config.chain.maxLogsRange) }
        try await requireChainID(config, chain)
        let report = try await reportingAsync { try await PlanReport.make(config: config, store: store, chain: chain) }
        options.emit(text: report.text, json: report.json)
        if report.batches.contains(where: { $0.revert != nil }) {
            throw CLIError("a batch reverts in simulation (from \(report.simulateFrom?.checksummed ?? "no sender")): the keeper would not route it; see the report above")
        }
    }
}

/// Refuses endpoints whose chain id is not `chain.chain_id` (the same check `run` and `audit` make).
func requireChainID(_ config: KeeperConfig, _ chain: any ChainReader) async throws {
    let id = try await reportingAsync("chain.rpc_urls") { try await chain.chainID() }
    guard id == config.chain.chainID else {
        throw CLIError("chain.chain_id: the RPC endpoints report chain id \(id) but chain.chain_id is \(config.chain.chainID); "
            + "fix chain.rpc_urls or chain.chain_id (refusing to report on another chain)")
    }
}
