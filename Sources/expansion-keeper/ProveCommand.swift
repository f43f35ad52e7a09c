import ArgumentParser
import EthereumCore
import Foundation
import JSONRPC
import KeeperCore

/// `expansion-keeper prove` — a block's receipt proofs, as the ProvenExpansionTreasury verifies them: the header's
/// RLP (checked to hash to the block hash), the receipts root (checked against the receipts rebuilt from the node),
/// and for each asked transaction index the Merkle-Patricia proof (checked against the root) and the receipt.
struct ProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print a block's header RLP and receipt proofs (checked against the block hash and receiptsRoot) as JSON.",
        discussion: """
            The node's answers are checked before anything is printed: the header fields must RLP-encode to the \
            block hash (the fork's field set: London, Shanghai, Cancun, Prague are decided by which fields the node \
            reports), and the receipts from eth_getBlockReceipts must rebuild the header's receiptsRoot. Exit 1 with \
            the reason when they do not. Output: {block, block_hash, header_rlp, receipts_root, receipts, proofs: \
            [{transaction_index, key, receipt, nodes: [...]}]} with every byte string 0x-hex; with --route, also \
            route_proven_calldata: the ProvenExpansionTreasury's route_proven call for those reward logs (send it to the \
            treasury from any account: routing with that contract is permissionless).
            """)

    @Option(name: .customLong("rpc"), help: "A JSON-RPC endpoint URL (repeat for failover; the first is the primary).")
    var rpc: [String] = []

    @Option(name: .customLong("block"), help: "The block number (decimal or 0x hex).")
    var block: String

    @Option(name: .customLong("tx-index"), help: "A transaction index to prove (repeat; default: every transaction of the block).")
    var indices: [UInt64] = []

    @Option(name: .customLong("route"), help: ArgumentHelp(
        "A reward log to route, as TX_INDEX:LOG_POSITION (its position among the receipt's logs; repeat): adds "
            + "route_proven_calldata, the ProvenExpansionTreasury call that routes them — anyone may send it.",
        valueName: "tx:pos"))
    var routes: [String] = []

    func run() async throws {
        guard !rpc.isEmpty else { throw CLIError("--rpc URL is required (the node to read the block from)") }
        let number: UInt64
        if block.hasPrefix("0x"), let n = UInt64(block.dropFirst(2), radix: 16) { number = n } else if let n = UInt64(block) { number = n } else {
            throw CLIError("--block \(block): expected a block number (decimal or 0x hex)")
        }
        let client = try reporting { try RPCClient(urls: rpc) }
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
