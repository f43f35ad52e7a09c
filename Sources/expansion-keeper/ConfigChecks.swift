import EthereumABI
import EthereumCore
import EthereumSigning
import Foundation
import JSONRPC
import KeeperCore
import KeeperStore
import KeeperSubmission
#if canImport(Glibc)
import Glibc
#endif

/// What `config check` verifies beyond the file itself, each problem naming its config key and the fix:
/// a writable `data_dir`, the keystore decrypting with the password source `run` would use, a test-double
/// staking ABI on a chain that is not local (a warning), and — when the RPC answers — the chain id, code at
/// the treasury address, the treasury's interface and the keeper's role.
enum ConfigChecks {
    /// Chain ids of local test chains (the py-evm chain, Hardhat, Anvil), where a mock staking ABI is expected.
    static let localChainIDs: Set<UInt64> = [1337, 31337]

    /// One finding: an error (the check fails) or a warning (printed, the check passes).
    struct Finding {
        let key: String
        let message: String
        let isError: Bool

        var line: String { "\(isError ? "config" : "warning"): \(key): \(message)" }
    }

    /// Every finding for `cfg` (offline ones first; the chain ones unless `offline`).
    static func findings(_ cfg: KeeperConfig, offline: Bool) async -> [Finding] {
        var out: [Finding] = []
        if let problem = dataDirProblem(cfg.keeper.dataDir) {
            out.append(Finding(key: "keeper.data_dir", message: problem, isError: true))
        }
        let abiName = URL(fileURLWithPath: cfg.contracts.stakingABI).lastPathComponent
        if abiName.hasPrefix("Mock"), !localChainIDs.contains(cfg.chain.chainID) {
            out.append(Finding(key: "contracts.staking_abi", message:
                "\(abiName) is a test double on chain \(cfg.chain.chainID): the live staking contract's reward event is not verified "
                + "(deploy/docs/venice-staking.md, \"Before mainnet\"); confirm the event from a real claim transaction before routing",
                isError: false))
        }
        var keeper: Address? = cfg.keeper.simulateFrom
        if !cfg.keeper.dryRun {
            do {
                keeper = try KeeperKey.load(cfg).address
            } catch {
                out.append(Finding(key: "keeper.keystore", message: "\(error)".replacingOccurrences(of: "keeper.keystore ", with: ""), isError: true))
            }
        }
        if offline { return out }
        if cfg.store.backend == .postgres { out += postgresFindings(cfg) }
        out += await chainFindings(cfg, keeper: keeper)
        return out
    }

    /// `[store] backend = "postgres"`: the database answers with the password `run` would use, and holds this keeper's
    /// schema or none yet (`run` creates it); anything else names `store.postgres_url` and what failed.
    static func postgresFindings(_ cfg: KeeperConfig) -> [Finding] {
        do {
            let store = try KeeperStore(postgres: try StoreOpening.postgresSettings(cfg), readOnly: true)
            store.close()
            return []
        } catch StoreError.missing {
            return []
        } catch {
            let hint = (try? StoreOpening.pgPassword()) == nil
                ? " (no password given: set \(KeeperConfig.pgPasswordVariable) or the systemd credential \(KeeperConfig.pgCredentialName))" : ""
            return [Finding(key: "store.postgres_url", message: firstLine("\(error)") + hint, isError: true)]
        }
    }

    /// Why `path` cannot hold the store, or nil: it must be a writable folder, or creatable (its nearest existing
    /// parent writable).
    static func dataDirProblem(_ path: String) -> String? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { return "\(path) is a file, not a folder; point keeper.data_dir at a folder" }
            guard access(path, W_OK | X_OK) == 0 else {
                return "\(path) is not writable by this user (uid \(getuid())); chown it to the user that runs the keeper "
                    + "(systemd: chown -R expansion-keeper: \(path)) or point keeper.data_dir elsewhere"
            }
            return nil
        }
        var parent = (path as NSString).deletingLastPathComponent
        while !parent.isEmpty && parent != "/" && !FileManager.default.fileExists(atPath: parent) {
            parent = (parent as NSString).deletingLastPathComponent
        }
        if parent.isEmpty { parent = "/" }
        guard access(parent, W_OK | X_OK) == 0 else {
            return "\(path) does not exist and \(parent) is not writable by this user (uid \(getuid())); create it for the keeper's user "
                + "or point keeper.data_dir elsewhere"
        }
        return nil
    }

    /// The chain checks; an unreachable RPC is a warning (the node may be down now), the rest are errors.
    static func chainFindings(_ cfg: KeeperConfig, keeper: Address?) async -> [Finding] {
        var settings = RPCSettings()
        settings.maxRetries = 1
        settings.transport.connectTimeout = 5
        settings.transport.requestTimeout = 15
        guard let client = try? RPCClient(urls: cfg.chain.rpcURLs, settings: settings) else { return [] }
        defer { client.shutdown() }
        let id: UInt64
        do { id = try await client.verifyChainID() } catch {
            return [Finding(key: "chain.rpc_urls", message: "not reachable (\(firstLine("\(error)"))); the chain checks (chain id, "
                            + "treasury code and interface, keeper role) were skipped", isError: false)]
        }
        guard id == cfg.chain.chainID else {
            return [Finding(key: "chain.chain_id", message: "the RPC endpoints report chain id \(id) but chain.chain_id is "
                            + "\(cfg.chain.chainID); fix chain.rpc_urls or chain.chain_id", isError: true)]
        }
        let treasury = cfg.contracts.treasury
        let fix = "set contracts.treasury to the address `contracts deploy` printed"
        do {
            if try await client.code(cfg.contracts.staking).isEmpty {
                return [Finding(key: "contracts.staking", message: "\(cfg.contracts.staking.checksummed) has no contract code on chain \(id); "
                                + "set contracts.staking to the staking contract (deploy/docs/venice-staking.md)", isError: true)]
            }
            if try await client.code(treasury).isEmpty {
                return [Finding(key: "contracts.treasury", message: "\(treasury.checksummed) has no contract code on chain \(id) "
                                + "(wrong address, or not deployed yet); \(fix)", isError: true)]
            }
            if cfg.treasury.kind == .proven {
                let reader = try RPCChainReader(urls: cfg.chain.rpcURLs, maxLogsRange: cfg.chain.maxLogsRange)
                return try await SafetyGate.provenTreasuryIssues(config: cfg, chain: reader)
                    .map { Finding(key: $0.key, message: $0.message, isError: true) }
            }
            let probe = keeper ?? Address.zero
            let out: [UInt8]
            do {
                out = try await client.call(CallRequest(to: treasury, data: try SafetyGate.isKeeper.encodeCall([.address(probe)])))
            } catch {
                return [Finding(key: "contracts.treasury", message: "\(treasury.checksummed) does not answer is_keeper(address) "
                                + "(\(firstLine("\(error)"))): not an ExpansionTreasury (the staking contract?); \(fix)", isError: true)]
            }
            guard let v = try? ABIDecoder.decode([.bool], from: out), case let .bool(enabled)? = v.first else {
                return [Finding(key: "contracts.treasury", message: "\(treasury.checksummed) answers is_keeper(address) with no boolean: "
                                + "not an ExpansionTreasury; \(fix)", isError: true)]
            }
            if let keeper, !enabled, !cfg.keeper.dryRun {
                return [Finding(key: "keeper.keystore", message: "the key \(keeper.checksummed) is not an enabled keeper on treasury "
                                + "\(treasury.checksummed): the owner must call set_keeper(\(keeper.checksummed), true)", isError: true)]
            }
        } catch {
            return [Finding(key: "chain.rpc_urls", message: "a chain check failed (\(firstLine("\(error)"))); the remaining chain checks "
                            + "were skipped", isError: false)]
        }
        return []
    }
}
