import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission
import KeeperTesting
import XCTest

struct KeeperTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Repo paths, Python, seeds.
enum Env {
    static var repoRoot: URL { TestEnvironment.repoRoot }
    static var python: String { (try? TestEnvironment.python()) ?? repoRoot.appendingPathComponent(".venv/bin/python").path }
    static let soak = TestEnvironment.soak
    static let seed = TestEnvironment.seed

    /// The built `expansion-keeper` (next to the test bundle in the products directory).
    static var binary: String {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("expansion-keeper").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL.appendingPathComponent("expansion-keeper").path
    }

    static func tempDir(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a process to completion; returns (status, stdout, stderr).
    @discardableResult
    static func run(_ exe: String, _ args: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe()
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-stderr-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? errHandle.close()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

/// A local chain (Tests/LocalChain/localchain.py) as a subprocess, with the keeper_chain.py driver.
final class LocalChain {
    let process: Process
    let url: String
    let chainID: UInt64
    let client: RPCClient
    var state: [String: Any] = [:]
    let dir: URL

    init(accounts: Int = 12, extra: [String] = []) throws {
        _ = try TestEnvironment.python()  // fails the test, never skips, without Python
        dir = try Env.tempDir("chain")
        process = Process()
        process.executableURL = URL(fileURLWithPath: Env.python)
        process.arguments = [Env.repoRoot.appendingPathComponent("Tests/LocalChain/localchain.py").path, "serve", "--port", "0",
                             "--accounts", "\(accounts)"] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { throw KeeperTestError("the local chain exited before printing its JSON line") }
            if byte.first == 0x0a { break }
            line.append(byte)
        }
        guard let obj = try JSONSerialization.jsonObject(with: line) as? [String: Any], let u = obj["url"] as? String,
              let id = obj["chain_id"] as? Int else { throw KeeperTestError("bad ready line") }
        url = u
        chainID = UInt64(id)
        client = try RPCClient(urls: [u])
    }

    deinit {
        client.shutdown()
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: dir)
    }

    var statePath: String { dir.appendingPathComponent("state.json").path }

    /// Runs `keeper_chain.py CMD --url URL [--state FILE] ARGS` and parses its JSON output.
    @discardableResult
    func driver(_ cmd: String, _ args: [String] = [], state: Bool = true) throws -> [String: Any] {
        var a = [Env.repoRoot.appendingPathComponent("Tests/Support/keeper_chain.py").path, cmd, "--url", url]
        if state { a += ["--state", statePath] }
        let r = try Env.run(Env.python, a + args)
        guard r.status == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] else {
            throw KeeperTestError("keeper_chain.py \(cmd) failed (\(r.status)): \(r.err.suffix(2000))")
        }
        return obj
    }

    /// Deploys the contracts and stakers.
    func deploy(stakers: Int = 6) throws {
        state = try driver("deploy", ["--stakers", "\(stakers)"])
    }

    func rpc(_ method: String, _ params: [JSONValue] = []) async throws -> JSONValue {
        try await client.call(method, params)
    }

    func head() async throws -> UInt64 { try await client.blockNumber() }

    func mine(_ blocks: Int) async throws { _ = try await rpc("evm_mine", [.object([("blocks", .int(blocks))])]) }

    func snapshot() async throws -> String { try await rpc("evm_snapshot").stringValue ?? "" }

    func revert(_ id: String) async throws { _ = try await rpc("evm_revert", [.string(id)]) }

    func string(_ key: String) -> String { state[key] as? String ?? "" }
    func int(_ key: String) -> Int { state[key] as? Int ?? 0 }

    /// A keeper config for this chain (written to `dir`).
    func config(name: String = "keeper", confirmations: String = "2", window: Int = 64, minRoute: String = "0",
                treasury: String? = nil, deployBlock: Int? = nil, dataDir: URL? = nil, ingestRange: Int = 10_000) throws -> (path: String, dataDir: URL) {
        let template = try String(contentsOf: Env.repoRoot.appendingPathComponent("deploy/config/localchain.toml.in"), encoding: .utf8)
        let data = dataDir ?? dir.appendingPathComponent("data-\(name)")
        var text = template
        let values: [String: String] = [
            "URL": url, "CHAIN_ID": "\(chainID)", "CONFIRMATIONS": confirmations, "WINDOW": "\(window)",
            "DEPLOY_BLOCK": "\(deployBlock ?? int("deploy_block"))", "STAKING": string("staking"),
            "ABI": Env.repoRoot.appendingPathComponent("ABI/MockVeniceStaking.json").path,
            "TREASURY": treasury ?? string("treasury"), "DATA_DIR": data.path, "KEEPER": string("keeper"), "MIN_ROUTE": minRoute,
            "INGEST_RANGE": "\(ingestRange)",
        ]
        for (k, v) in values { text = text.replacingOccurrences(of: "@\(k)@", with: v) }
        let path = dir.appendingPathComponent("\(name).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, data)
    }
}

/// An in-process keeper over a config.
struct Keeper {
    let config: KeeperConfig
    let store: KeeperStore
    let ingestor: Ingestor

    init(configPath: String) throws {
        config = try KeeperConfig.load(path: configPath, environment: [:], sections: [MetricsSettings.self])
        let bindings = try Bindings(config: config)
        store = try KeeperStore(directory: config.keeper.dataDir)
        let chain = try RPCChainReader(urls: config.chain.rpcURLs, maxLogsRange: config.chain.maxLogsRange)
        ingestor = Ingestor(config: config, bindings: bindings, store: store, chain: chain)
    }

    func catchUp() async throws -> [ReorgRecord] {
        try await ingestor.prepare()
        return try await ingestor.catchUp()
    }

    func dump(_ below: UInt64 = .max) throws -> String { try store.read { r in try r.canonicalDump(blocksAtOrBelow: below) } }
}
