import ArgumentParser
import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission

/// The options of `tx cancel` and `tx replace`.
struct RescueOptions: ParsableArguments {
    @Option(help: "The keeper's TOML config file.")
    var config: String

    @Option(help: "The stuck nonce.")
    var nonce: UInt64

    @Option(help: "Fee cap for this rescue in gwei (default: max_fee_per_gas_gwei).")
    var maxFeePerGasGwei: Double?

    @Option(help: "The keystore password file (default: EXPANSION_KEEPER_PASSWORD_FILE, the unit's credential, then keeper.password_file).")
    var passwordFile: String?

    /// Opens the rescue at `--nonce` (config, key, store, the journaled transactions there), lets `build` check it
    /// and make the transaction, then signs, journals and broadcasts that as `kind`.
    func rescue(kind: String, _ build: (RescueContext) async throws -> EthereumCore.Transaction) async throws {
        let ctx = try RescueContext(self)
        defer { ctx.client.shutdown() }
        try await ctx.sendAndRecord(try await build(ctx), kind: kind)
    }
}

/// Shared by `tx cancel` and `tx replace`: the keeper's key, its store and the transaction at `--nonce`.
struct RescueContext {
    let cfg: KeeperConfig
    let key: KeeperKey
    let store: KeeperStore
    let client: RPCClient
    let chain: RPCSubmissionChain
    let journaled: [JournaledTransaction]
    /// `--nonce`.
    let nonce: UInt64
    /// `--max-fee-per-gas-gwei`.
    let capGwei: Double?

    init(_ options: RescueOptions) throws {
        let nonce = options.nonce
        self.nonce = nonce
        capGwei = options.maxFeePerGasGwei
        cfg = try KeeperKey.config(options.config)
        key = try KeeperKey.load(cfg, passwordFile: options.passwordFile)
        let c = cfg
        store = try StoreOpening.open(c, readOnly: false)
        client = try reporting { try RPCClient(urls: c.chain.rpcURLs) }
        chain = RPCSubmissionChain(client: client)
        journaled = try reporting("store") { [store] in try store.read { r in try r.journal(nonce: nonce) } }
    }

    /// Refuses a nonce the chain has already consumed (nothing is left to rescue there).
    func requireUnused() async throws {
        let latest = try await reportingAsync { try await chain.nonce(key.address, pending: false) }
        guard nonce >= latest else { throw CLIError("--nonce \(nonce): already used on chain (the account's next nonce is \(latest))") }
    }

    /// Fees for a transaction that must replace whatever is pooled at the nonce (the newest journaled one).
    func fees() async throws -> (maxFee: UInt256, tip: UInt256) {
        let cap = capGwei.map(SubmissionSettings.wei(gwei:)) ?? SubmissionSettings.wei(gwei: cfg.keeper.maxFeePerGasGwei)
        let policy = FeePolicy(cap: cap)
        let market = try await reportingAsync("fees") { try await chain.fees() }
        if let last = journaled.last {
            guard let f = policy.replacement(maxFee: last.maxFeePerGas, tip: last.maxPriorityFeePerGas, nextBaseFee: market.nextBaseFee,
                                             suggestedTip: market.tip) else {
                throw CLIError("a +12.5% bump of \(last.hash.hexString) (max fee \(last.maxFeePerGas) wei) exceeds the fee cap; pass --max-fee-per-gas-gwei")
            }
            return f
        }
        guard let f = policy.initial(nextBaseFee: market.nextBaseFee, suggestedTip: market.tip) else {
            throw CLIError("the next base fee (\(market.nextBaseFee) wei) is above the fee cap; pass --max-fee-per-gas-gwei")
        }
        return f
    }

    /// Signs `tx`, journals it at its nonce (so the daemon tracks it like its own), broadcasts it, prints JSON.
    func sendAndRecord(_ tx: EthereumCore.Transaction, kind: String) async throws {
        let (raw, hash) = try reporting("sign") { try key.sign(tx) }
        guard case let .dynamicFee(tip, fee, _) = tx.kind else { throw CLIError("internal: not an EIP-1559 transaction") }
        let entry = NewJournalEntry(nonce: tx.nonce, hash: hash, raw: raw, gasLimit: tx.gasLimit, maxFeePerGas: fee,
                                    maxPriorityFeePerGas: tip, createdAt: Int64(Date().timeIntervalSince1970))
        let previous = journaled.last?.id
        try reporting("store") {
            try store.write { w in
                try w.journalReplacement(entry, replacing: previous)
                try w.increment("submit_operator_rescues_total")
            }
        }
        let outcome = await chain.broadcast(raw)
        print(JSONOut.render([
            "kind": kind, "nonce": tx.nonce, "hash": hash.hexString, "max_fee_per_gas": fee.decimalString,
            "max_priority_fee_per_gas": tip.decimalString, "replaces": JSONOut.orNull(journaled.last?.hash.hexString),
            "broadcast": "\(outcome)",
        ] as [String: Any]))
        switch outcome {
        case .accepted, .alreadyKnown: break
        default: throw CLIError("the node refused the \(kind) transaction at nonce \(tx.nonce): \(outcome) (it is journaled; the daemon keeps rebroadcasting it)")
        }
    }
}

extension TxCommand {
    /// `tx cancel --config FILE --nonce N`: a 0-value self-transfer at nonce N with fees that replace what is pooled there.
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a stuck nonce with a 0-value self-transfer (recorded in the journal; the daemon returns the nonce's claims to the planner).")

        @OptionGroup var options: RescueOptions

        func run() async throws {
            try await options.rescue(kind: "cancel") { ctx in
                try await ctx.requireUnused()
                let f = try await ctx.fees()
                return EthereumCore.Transaction(kind: .dynamicFee(maxPriorityFeePerGas: f.tip, maxFeePerGas: f.maxFee, accessList: []),
                                                chainId: ctx.cfg.chain.chainID, nonce: ctx.nonce, gasLimit: 21_000, to: ctx.key.address)
            }
        }
    }

    /// `tx replace --config FILE --nonce N`: the newest journaled transaction at N, re-signed with both fees +12.5%.
    struct Replace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebroadcast the journaled transaction at a nonce with both fees raised at least 12.5% (recorded in the journal).")

        @OptionGroup var options: RescueOptions

        func run() async throws {
            try await options.rescue(kind: "replace") { ctx in
                guard let last = ctx.journaled.last else { throw CLIError("--nonce \(ctx.nonce): no journaled transaction at this nonce (use tx cancel)") }
                try await ctx.requireUnused()
                var tx = try reporting("journaled transaction \(last.hash.hexString)") { try SignedTransaction.decode(last.raw).transaction }
                let f = try await ctx.fees()
                tx.kind = .dynamicFee(maxPriorityFeePerGas: f.tip, maxFeePerGas: f.maxFee, accessList: tx.accessList)
                return tx
            }
        }
    }
}
