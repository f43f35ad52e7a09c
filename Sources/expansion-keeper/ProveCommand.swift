import ArgumentParser
import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperStore

/// `expansion-keeper prove` — what the ProvenExpansionTreasury verifies, built from the node's answers and checked
/// before anything is printed. `--config FILE --claim BLOCK:LOG_INDEX` prints the transaction that routes those
/// claims (anyone may send it); `--rpc URL --block N` prints a block's header RLP and receipt proofs.
struct ProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print the route_proven transaction for reward claims, or a block's header RLP and receipt proofs, checked.",
        discussion: """
            With --config FILE --claim BLOCK:LOG_INDEX (repeat --claim; LOG_INDEX is the log's index in its block as \
            eth_getLogs reports it): prints one JSON line {"to", "data", "claims": [{block, log_index, block_hash, \
            tx_index, log_position, staker, amount}]} — the ProvenExpansionTreasury's route_proven call for those reward \
            logs. Send it from any account (a wallet, or cast send TO DATA): routing with that contract is permissionless, \
            and it routes only what it can verify. Each claim must be a reward log of contracts.staking; blocks are read \
            from chain.rpc_urls (or --rpc). \
            With --rpc URL --block N: {block, block_hash, header_rlp, receipts_root, receipts, proofs: [{transaction_index, \
            key, receipt, nodes}]} with every byte string 0x-hex, and with --route TX_INDEX:LOG_POSITION also \
            route_proven_calldata. \
            Either way the node's answers are checked first: the header fields must RLP-encode to the block hash (the \
            fork's field set: London, Shanghai, Cancun, Prague are decided by which fields the node reports), and the \
            receipts from eth_getBlockReceipts must rebuild the header's receiptsRoot. Exit 1 with the reason when not.
            """)

    @Option(help: "The keeper's TOML config file: the treasury, the staking contract, its reward event and chain.rpc_urls (with --claim).")
    var config: String?

    @Option(name: .customLong("claim"), help: ArgumentHelp(
        "A reward claim to route, as BLOCK:LOG_INDEX (the log's index in its block, as eth_getLogs reports it; repeat).",
        valueName: "block:log_index"))
    var claims: [String] = []

    @Option(name: .customLong("rpc"), help: "A JSON-RPC endpoint URL (repeat for failover; the first is the primary). Default with --config: chain.rpc_urls.")
    var rpc: [String] = []

    @Option(name: .customLong("block"), help: "The block number (decimal or 0x hex) whose proofs to print.")
    var block: String?

    @Option(name: .customLong("tx-index"), help: "With --block: a transaction index to prove (repeat; default: every transaction of the block).")
    var indices: [UInt64] = []

    @Option(name: .customLong("route"), help: ArgumentHelp(
        "With --block: a reward log to route, as TX_INDEX:LOG_POSITION (its position among the receipt's logs; repeat): adds "
            + "route_proven_calldata, the ProvenExpansionTreasury call that routes them — anyone may send it.",
        valueName: "tx:pos"))
    var routes: [String] = []

    static func blockNumber(_ text: String, option: String) throws -> UInt64 {
        if text.hasPrefix("0x"), let n = UInt64(text.dropFirst(2), radix: 16) { return n }
        if let n = UInt64(text) { return n }
        throw CLIError("\(option) \(text): expected a block number (decimal or 0x hex)")
    }

    func run() async throws {
        if !claims.isEmpty {
            guard block == nil, indices.isEmpty, routes.isEmpty else {
                throw CLIError("--claim: give claims, or --block with --tx-index/--route, not both")
            }
            try await routeClaims()
            return
        }
        guard let block else {
            throw CLIError("--claim BLOCK:LOG_INDEX (with --config) or --block N (with --rpc) is required: what to prove")
        }
        try await proveBlock(try Self.blockNumber(block, option: "--block"))
    }

    /// `--config --claim`: the route_proven transaction for the claims.
    func routeClaims() async throws {
        guard let config else { throw CLIError("--config FILE is required with --claim (the treasury, the staking contract and its reward event)") }
        let cfg = try KeeperKey.config(config)
        let reward = try reporting { try Bindings(config: cfg).reward }
        let reader = try reporting { try RPCChainReader(urls: rpc.isEmpty ? cfg.chain.rpcURLs : rpc, maxLogsRange: cfg.chain.maxLogsRange) }
        var wanted: [(block: UInt64, logIndex: UInt32)] = []
        for c in claims {
            let parts = c.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let n = try? Self.blockNumber(String(parts[0]), option: "--claim"), let li = UInt32(parts[1]) else {
                throw CLIError("--claim \(c): expected BLOCK:LOG_INDEX, e.g. 1234567:3 (the log's index in its block, as eth_getLogs reports it)")
            }
            wanted.append((n, li))
        }
        let (call, located) = try await reportingAsync("--claim") {
            try await ProvenRouteCall.forClaims(wanted, reward: reward, source: cfg.contracts.staking, chain: reader)
        }
        let data = try reporting { try call.calldata() }
        print(JSONOut.renderLine(["to": cfg.contracts.treasury.checksummed, "data": Hex.encode(data), "claims": located.map(\.json)]))
    }

    /// `--rpc --block`: the block's proofs.
    func proveBlock(_ number: UInt64) async throws {
        var urls = rpc
        if urls.isEmpty, let config { urls = try KeeperKey.config(config).chain.rpcURLs }
        guard !urls.isEmpty else { throw CLIError("--rpc URL (or --config FILE) is required: the node to read the block from") }
        let client = try reporting { try RPCClient(urls: urls) }
        defer { client.shutdown() }
        let proofs = try await reportingAsync { try await BlockReceiptProofs.fetch(client, block: number) }
        let wanted = indices.isEmpty ? proofs.receipts.keys.sorted() : indices
        var items: [[String: Any]] = []
        for index in wanted {
            let nodes = try reporting { try proofs.proof(transactionIndex: index) }
            items.append([
                "transaction_index": index,
                "key": Hex.encode(ReceiptFields.trieKey(index)),
                "receipt": Hex.encode(proofs.receipts[index]?.encoded() ?? []),
                "nodes": nodes.map { Hex.encode($0) },
            ])
        }
        var call = ProvenRouteCall()
        for r in routes {
            let parts = r.split(separator: ":")
            guard parts.count == 2, let tx = UInt64(parts[0]), let pos = UInt32(parts[1]) else {
                throw CLIError("--route \(r): expected TX_INDEX:LOG_POSITION, e.g. 3:0")
            }
            try reporting { try call.add(proofs, txIndex: tx, logPosition: pos) }
        }
        var out: [String: Any] = [
            "block": number, "block_hash": proofs.blockHash.hexString, "header_rlp": Hex.encode(proofs.headerRLP),
            "receipts_root": proofs.receiptsRoot.hexString, "receipts": proofs.receipts.count, "proofs": items,
        ]
        if !routes.isEmpty { out["route_proven_calldata"] = Hex.encode(try reporting { try call.calldata() }) }
        print(JSONOut.render(out))
    }
}
