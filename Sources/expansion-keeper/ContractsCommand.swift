import ArgumentParser
import EthereumABI
import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperSubmission

/// `expansion-keeper contracts deploy --config FILE --owner ADDR`: deploys ExpansionTreasury with the keeper's
/// key, enables the keeper, hands ownership to `--owner` (two-step: the new owner must `accept_ownership()`),
/// and prints `{"address", "deploy_block", "start_block", …}` as JSON. Without `--owner` it refuses (the hot
/// keeper key would own the treasury) unless `--owner-is-keeper` says so explicitly (test chains).
struct ContractsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts",
        abstract: "Deploy the treasury contract.",
        subcommands: [Deploy.self])

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deploy ExpansionTreasury (or --kind proven: ProvenExpansionTreasury) with the keeper's key; prints the address and deploy block as JSON.",
            discussion: "The reward token is --token, or else the staking contract's vvv() (its reward token). "
                + "--owner (the operators' multisig) is required: ownership is transferred after the keeper is enabled, and the "
                + "new owner must call accept_ownership(). --owner-is-keeper leaves the keeper's hot key as the owner (test chains "
                + "only). contracts.treasury in the config is not used (it may be the zero address until the deployment is known). "
                + "The output's start_block and deploy_block are the values for chain.start_block and contracts.treasury_deploy_block. "
                + "--kind proven deploys ProvenExpansionTreasury(reward_token, owner, reward_source = contracts.staking, reward_topic = "
                + "the configured reward event's topic 0): it has no keeper role (anyone may route a proven claim), and --owner owns it "
                + "from the constructor (nothing to accept); set [treasury] kind = \"proven\" in the config.")

        @Option(help: "Which treasury: keeper (ExpansionTreasury, default) or proven (ProvenExpansionTreasury).")
        var kind: String = "keeper"

        @Option(help: "The keeper's TOML config file (rpc_urls, chain_id, keystore, password_file).")
        var config: String

        @Option(help: "The treasury's owner: the operators' multisig (required unless --owner-is-keeper).")
        var owner: String?

        @Flag(help: "Leave the keeper's hot key as the treasury's owner (test chains only; without --owner it is refused).")
        var ownerIsKeeper = false

        @Option(help: "The keystore password file (default: EXPANSION_KEEPER_PASSWORD_FILE, the unit's credential, then keeper.password_file).")
        var passwordFile: String?

        @Option(help: "The reward token (default: the staking contract's vvv()).")
        var token: String?

        @Option(help: "The compiled artifact (default: deploy/contracts/out/ExpansionTreasury.json, or ProvenExpansionTreasury.json with --kind proven, found from the working directory or next to the config).")
        var artifact: String?

        static let vvv = try! ABIFunction(signature: "vvv()")
        static let setKeeper = try! ABIFunction(signature: "set_keeper(address keeper,bool enabled)")
        static let transferOwnership = try! ABIFunction(signature: "transfer_ownership(address new_owner)")

        func locateArtifact(_ cfg: KeeperConfig, kind: KeeperConfig.TreasuryKind) throws -> String {
            if let artifact { return artifact }
            let rel = "deploy/contracts/out/\(kind == .proven ? "ProvenExpansionTreasury" : "ExpansionTreasury").json"
            var dir = URL(fileURLWithPath: cfg.path).deletingLastPathComponent()
            var candidates = [FileManager.default.currentDirectoryPath + "/" + rel]
            for _ in 0..<4 { candidates.append(dir.appendingPathComponent(rel).path); dir = dir.deletingLastPathComponent() }
            // A binary built in a checkout (<repo>/.build/<config>/expansion-keeper) finds the checkout's artifact.
            var bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 { candidates.append(bin.appendingPathComponent(rel).path); bin = bin.deletingLastPathComponent() }
            if let hit = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return hit }
            throw CLIError("--artifact: \(rel) not found from the working directory or the config's folder; pass --artifact PATH")
        }

        func run() async throws {
            let cfg = try KeeperKey.config(config)
            guard let treasuryKind = KeeperConfig.TreasuryKind(rawValue: kind) else {
                throw CLIError("--kind \(kind): expected keeper (ExpansionTreasury) or proven (ProvenExpansionTreasury)")
            }
            let ownerAddress = try owner.map { o in try reporting("--owner") { try Address(o) } }
            guard ownerAddress != nil || ownerIsKeeper else {
                throw CLIError("--owner: missing; name the treasury's owner (the operators' multisig), or pass --owner-is-keeper to leave "
                    + "the keeper's hot key as the owner (test chains only: whoever holds that key could withdraw everything)")
            }
            if ownerAddress != nil && ownerIsKeeper { throw CLIError("--owner and --owner-is-keeper: give one, not both") }
            let path = try locateArtifact(cfg, kind: treasuryKind)
            let bytecode: [UInt8] = try reporting("artifact \(path)") {
                guard let data = FileManager.default.contents(atPath: path),
                      let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any], let hex = obj["bytecode"] as? String else {
                    throw CLIError("artifact \(path): missing, unreadable or not a compiled artifact with a \"bytecode\" field")
                }
                return try Hex.decode(hex)
            }
            let key = try KeeperKey.load(cfg, passwordFile: passwordFile)
            let client = try reporting { try RPCClient(urls: cfg.chain.rpcURLs) }
            defer { client.shutdown() }
            let me = key.address
            try await reportingAsync {
                let id = try await client.verifyChainID()
                guard id == cfg.chain.chainID else { throw CLIError("the node's chain id is \(id) but chain.chain_id is \(cfg.chain.chainID)") }
            }
            let rewardToken: Address = try await reportingAsync {
                if let token { return try Address(token) }
                let out = try await client.call(CallRequest(to: cfg.contracts.staking, data: try Self.vvv.encodeCall([])))
                guard let v = try? ABIDecoder.decode([.address], from: out), case let .address(a)? = v.first else {
                    throw CLIError("contracts.staking \(cfg.contracts.staking.checksummed): vvv() did not return an address; pass --token")
                }
                return a
            }
            let fees = FeePolicy(cap: SubmissionSettings.wei(gwei: cfg.keeper.maxFeePerGasGwei))
            let chain = RPCSubmissionChain(client: client)
            var nonce = try await reportingAsync { try await chain.nonce(me, pending: true) }

            func transact(to: Address?, data: [UInt8], what: String) async throws -> Receipt {
                try await reportingAsync(what) {
                    let gas = try await client.estimateGas(CallRequest(from: me, to: to, data: data))
                    let market = try await chain.fees()
                    guard let f = fees.initial(nextBaseFee: market.nextBaseFee, suggestedTip: market.tip) else {
                        throw CLIError("the next base fee (\(market.nextBaseFee) wei) is above max_fee_per_gas_gwei")
                    }
                    let tx = EthereumCore.Transaction(kind: .dynamicFee(maxPriorityFeePerGas: f.tip, maxFeePerGas: f.maxFee, accessList: []),
                                                      chainId: cfg.chain.chainID, nonce: nonce, gasLimit: gas + gas / 5 + 10_000, to: to, data: data)
                    let hash = try await SendSupport.send(client, key: key, tx, what: what)
                    nonce += 1
                    let r = try await SendSupport.waitForReceipt(client, hash)
                    guard r.status == 1 else { throw CLIError("transaction \(hash.hexString) reverted") }
                    return r
                }
            }

            if treasuryKind == .proven {
                let topic = try reporting("contracts.reward_event") { try Bindings(config: cfg).reward.event.topic0 }
                let owner = ownerAddress ?? me
                let args = try reporting {
                    try ABIEncoder.encode([.address(rewardToken), .address(owner), .address(cfg.contracts.staking), .fixedBytes(topic, count: 32)],
                                          as: [.address, .address, .address, .bytes32])
                }
                let deployed = try await transact(to: nil, data: bytecode + args, what: "deploy ProvenExpansionTreasury")
                guard let treasury = deployed.contractAddress else { throw CLIError("the deployment receipt names no contract address") }
                print(JSONOut.render([
                    "address": treasury.checksummed, "kind": "proven", "deploy_block": deployed.blockNumber, "start_block": deployed.blockNumber,
                    "deploy_tx": deployed.transactionHash.hexString, "reward_token": rewardToken.checksummed, "owner": owner.checksummed,
                    "reward_source": cfg.contracts.staking.checksummed, "reward_topic": topic.hexString, "deployer": me.checksummed,
                    "chain_id": cfg.chain.chainID,
                ] as [String: Any]))
                FileHandle.standardError.write(Data(("next: in the config set [treasury] kind = \"proven\", contracts.treasury = \"\(treasury.checksummed)\", "
                    + "contracts.treasury_deploy_block = \(deployed.blockNumber) and chain.start_block = \(deployed.blockNumber)\n").utf8))
                return
            }
            let initArgs = try reporting { try ABIEncoder.encode([.address(rewardToken), .address(me)], as: [.address, .address]) }
            let deployed = try await transact(to: nil, data: bytecode + initArgs, what: "deploy ExpansionTreasury")
            guard let treasury = deployed.contractAddress else { throw CLIError("the deployment receipt names no contract address") }
            let enabled = try await transact(to: treasury, data: try Self.setKeeper.encodeCall([.address(me), .bool(true)]), what: "set_keeper")
            var transferTx: String?
            if let o = ownerAddress, o != me {
                let r = try await transact(to: treasury, data: try Self.transferOwnership.encodeCall([.address(o)]), what: "transfer_ownership")
                transferTx = r.transactionHash.hexString
            }
            print(JSONOut.render([
                "address": treasury.checksummed, "deploy_block": deployed.blockNumber, "start_block": deployed.blockNumber, "deploy_tx": deployed.transactionHash.hexString,
                "reward_token": rewardToken.checksummed, "keeper": me.checksummed, "keeper_enabled_tx": enabled.transactionHash.hexString,
                "owner": me.checksummed, "pending_owner": JSONOut.orNull(transferTx == nil ? nil : ownerAddress?.checksummed),
                "transfer_ownership_tx": JSONOut.orNull(transferTx), "chain_id": cfg.chain.chainID, "kind": "keeper",
            ] as [String: Any]))
            FileHandle.standardError.write(Data(("next: in the config set contracts.treasury = \"\(treasury.checksummed)\", "
                + "contracts.treasury_deploy_block = \(deployed.blockNumber) and chain.start_block = \(deployed.blockNumber)"
                + (transferTx == nil ? "" : "; the owner \(ownerAddress?.checksummed ?? "") must call accept_ownership()") + "\n").utf8))
        }
    }
}
