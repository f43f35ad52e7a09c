import EthereumCore
import Foundation
import JSONRPC
import KeeperStore
import XCTest

/// A real keeper on a real local chain, for the submission tests: the chain (Tests/LocalChain), the mocks
/// deployed by scenario.py, a keeper key made by `keys new`, the treasury deployed by `contracts deploy`,
/// four stakers (full, partial, leaves later, no allowance), and the daemon (`run`) as a child process
/// that tests kill -9, restart, pause and race. The verdict comes from Tests/Support/submit_oracle.py,
/// which reads only the chain.
final class SubmissionRig {
    let chain: LocalChain
    let dir: URL
    var keeper = ""
    var treasury = ""
    var daemon: Process?
    var restarts = 0
    let statePath: String
    let configPath: String
    var dataDir: String { dir.appendingPathComponent("data").path }
    var daemonEnvironment: [String: String] = [:]

    static let python = Env.python
    static func script(_ rel: String) -> String { Env.repoRoot.appendingPathComponent(rel).path }

    /// `kind`: "keeper" (ExpansionTreasury, the keeper role) or "proven" (ProvenExpansionTreasury, receipt proofs).
    let kind: String

    init(confirmations: Int = 2, extraKeeper: String = "", kind: String = "keeper") throws {
        self.kind = kind
        chain = try LocalChain(accounts: 12)
        dir = chain.dir.appendingPathComponent("rig")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        statePath = dir.appendingPathComponent("state.json").path
        configPath = dir.appendingPathComponent("keeper.toml").path
        let deployed = try Self.json(Env.run(Self.python, [Self.script("Tests/LocalChain/scenario.py"), "deploy", "--rpc", chain.url, "--no-treasury"]),
                                     "scenario deploy")
        try JSONSerialization.data(withJSONObject: deployed).write(to: URL(fileURLWithPath: statePath))
        let pw = dir.appendingPathComponent("password").path
        try "rig-password\n".write(toFile: pw, atomically: true, encoding: .utf8)
        chmod(pw, 0o600)
        let key = try Env.run(Env.binary, ["keys", "new", "--keystore-dir", dir.appendingPathComponent("ks").path, "--password-file", pw, "--light"])
        guard key.status == 0 else { throw KeeperTestError("keys new: \(key.err)") }
        let lines = key.out.split(separator: "\n").map(String.init)
        keeper = lines[0]
        _ = try Self.json(Env.run(Self.python, [Self.script("Tests/Support/submit_oracle.py"), "fund", "--url", chain.url, "--to", keeper]), "fund")
        let staking = deployed["staking"] as? String ?? ""
        let deployBlock = deployed["deploy_block"] as? Int ?? 0
        func write(_ treasury: String, _ block: Int) throws {
            try """
            [chain]
            rpc_urls = ["\(chain.url)"]
            chain_id = \(chain.chainID)
            confirmations = \(confirmations)
            poll_interval_ms = 100
            start_block = \(deployBlock)
            reorg_window = 64
            [contracts]
            staking = "\(staking)"
            staking_abi = "\(Self.script("ABI/MockVeniceStaking.json"))"
            treasury = "\(treasury)"
            treasury_deploy_block = \(block)
            [keeper]
            data_dir = "\(dataDir)"
            keystore = "\(lines[1].hasPrefix("/") ? lines[1] : FileManager.default.currentDirectoryPath + "/" + lines[1])"
            password_file = "\(pw)"
            max_batch = 100
            max_fee_per_gas_gwei = 50.0
            \(extraKeeper)
            [treasury]
            kind = "\(kind)"
            [metrics]
            listen = "127.0.0.1:0"
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        }
        try write("0x0000000000000000000000000000000000000000", 0)
        let d = try Self.json(Env.run(Env.binary, ["contracts", "deploy", "--config", configPath, "--owner-is-keeper", "--kind", kind]), "contracts deploy")
        treasury = d["address"] as? String ?? ""
        try write(treasury, d["deploy_block"] as? Int ?? 0)
        try scenario(["stakers", "--treasury", treasury, "--shares", "10000,5000,2500"])
        try scenario(["stakers", "--shares", "7500", "--allowance", "0"])
    }

    deinit { stopDaemon(signal: SIGKILL) }

    static func json(_ r: (status: Int32, out: String, err: String), _ what: String) throws -> [String: Any] {
        guard r.status == 0, let o = try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] else {
            throw KeeperTestError("\(what) failed (\(r.status)): \(r.err.suffix(1500)) \(r.out.prefix(500))")
        }
        return o
    }

    @discardableResult
    func scenario(_ args: [String]) throws -> [String: Any] {
        try Self.json(Env.run(Self.python, [Self.script("Tests/LocalChain/scenario.py")] + [args[0], "--rpc", chain.url, "--state", statePath]
                                + args.dropFirst()), "scenario \(args[0])")
    }

    func stakerAddress(_ i: Int) throws -> String {
        let st = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any]
        return ((st?["stakers"] as? [[String: Any]])?[i]["address"] as? String) ?? ""
    }

    /// The oracle's verdict (chain only).
    func verify() throws -> [String: Any] {
        try Self.json(Env.run(Self.python, [Self.script("Tests/Support/submit_oracle.py"), "verify", "--url", chain.url, "--state", statePath]), "verify")
    }

    func nonces() async throws -> (latest: UInt64, pending: UInt64) {
        let a = try Address(keeper)
        return (try await chain.client.transactionCount(a, at: .latest), try await chain.client.transactionCount(a, at: .pending))
    }

    var logPath: String { dir.appendingPathComponent("keeper.log").path }

    func startDaemon(extraEnvironment: [String: String] = [:], arguments: [String] = []) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Env.binary)
        p.arguments = ["run", "--config", configPath] + arguments
        var env = ProcessInfo.processInfo.environment
        env["EXPANSION_KEEPER_KEEPER_REPLACE_AFTER_BLOCKS"] = "2"
        for (k, v) in daemonEnvironment { env[k] = v }
        for (k, v) in extraEnvironment { env[k] = v }
        p.environment = env
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        h.seekToEndOfFile()
        p.standardOutput = h
        p.standardError = h
        try p.run()
        daemon = p
    }

    var daemonAlive: Bool { daemon?.isRunning ?? false }

    func stopDaemon(signal: Int32 = SIGTERM) {
        guard let p = daemon, p.isRunning else { return }
        kill(p.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func store() throws -> KeeperStore { try KeeperStore(directory: dataDir, readOnly: true) }

    /// Mines until the chain-only verdict holds and nothing is in flight (no pending or sent intent, no open
    /// nonce), or `timeout`; returns whether it settled and the last verdict.
    func settleVerdict(timeout: Double = 120) async throws -> (settled: Bool, verdict: [String: Any]) {
        var verdict: [String: Any] = [:]
        let settled = try await settle(timeout: timeout) {
            verdict = try verify()
            guard verdict["ok"] as? Bool == true else { return false }
            let open = try store().read { r in (try r.intents(states: [.pending, .sent]).count, try r.openNonces().count) }
            return open.0 == 0 && open.1 == 0
        }
        return (settled, verdict)
    }

    /// Mines a block every `interval` until `done()` or the deadline.
    func settle(timeout: Double = 60, interval: Double = 0.3, _ done: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try done() { return true }
            try await chain.mine(1)
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
        return try done()
    }
}
