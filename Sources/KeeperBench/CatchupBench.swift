import EthereumCore
import Foundation
import KeeperTesting
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperSubmission
import KeeperStore

#if canImport(Glibc)
import Glibc
#endif

/// Suite "catchup" (issue 6): the keeper catches up 100,000 blocks holding 20,000 reward payments (plus
/// registrations) from a fast synthetic JSON-RPC chain (Tests/Support/keeper_synthchain.py; building that
/// chain on py-evm would take far longer than ingesting it). Reports wall time, keeper CPU seconds (this
/// process: ingestion, decoding, planning, SQLite), CPU per 10,000 events (target ≤ 0.5 s), store size and
/// peak RSS (target ≤ 60 MB). The same-run reference is a bare scan of the same logs with `LogScanner`
/// (transport + JSON parsing only, nothing decoded or stored): the keeper's figure over it is the cost of
/// the store, the planner and the reorg window. `CATCHUP_BLOCKS` / `CATCHUP_REWARDS` scale the chain.
func catchupBench() throws {
    let blocks = ProcessInfo.processInfo.environment["CATCHUP_BLOCKS"].flatMap(Int.init) ?? 100_000
    let rewards = ProcessInfo.processInfo.environment["CATCHUP_REWARDS"].flatMap(Int.init) ?? 20_000
    let repo = TestEnvironment.repoRoot
    let python = try TestEnvironment.python()
    let server = Process()
    server.executableURL = URL(fileURLWithPath: python)
    server.arguments = [repo.appendingPathComponent("Tests/Support/keeper_synthchain.py").path, "--blocks", "\(blocks)",
                        "--rewards", "\(rewards)"]
    var serverEnvironment = ProcessInfo.processInfo.environment
    serverEnvironment["LD_PRELOAD"] = nil  // the chain server is not what we measure
    server.environment = serverEnvironment
    let out = Pipe()
    server.standardOutput = out
    // Its stderr goes to a file, so a failure is reported as one line (the file's last) and not as a traceback.
    let errors = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-synthchain-\(getpid()).err")
    _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errors) }
    server.standardError = try FileHandle(forWritingTo: errors)
    try server.run()
    defer { server.terminate(); server.waitUntilExit() }
    var line = Data()
    while true {
        let b = out.fileHandleForReading.readData(ofLength: 1)
        if b.isEmpty {
            let last = (try? String(contentsOf: errors, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? "no message"
            throw BenchError("keeper_synthchain.py exited early: \(last)", fix: BenchError.pythonFix)
        }
        if b.first == 0x0a { break }
        line.append(b)
    }
    guard let info = try JSONSerialization.jsonObject(with: line) as? [String: Any], let url = info["url"] as? String,
          let stakingText = info["staking"] as? String, let treasuryText = info["treasury"] as? String,
          let registrations = info["registrations"] as? Int else { throw BenchError("keeper_synthchain.py: bad ready line") }
    let staking = try Address(stakingText), treasury = try Address(treasuryText)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-catchup-\(getpid())")
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let configPath = dir.appendingPathComponent("bench.toml").path
    try """
    [chain]
    rpc_urls = ["\(url)"]
    chain_id = 8453
    confirmations = 0
    start_block = 0
    reorg_window = 256

    [contracts]
    staking = "\(staking.checksummed)"
    staking_abi = "\(repo.appendingPathComponent("ABI/MockVeniceStaking.json").path)"
    treasury = "\(treasury.checksummed)"

    [keeper]
    data_dir = "\(dir.appendingPathComponent("data").path)"
    dry_run = true
    """.write(toFile: configPath, atomically: true, encoding: .utf8)
    let config = try KeeperConfig.load(path: configPath, environment: [:], sections: [MetricsSettings.self])
    let bindings = try Bindings(config: config)
    let rssBefore = peakRSSMegabytes()

    // Reference: the bare scan of the same logs.
    let reader = try RPCChainReader(urls: [url], maxLogsRange: config.chain.maxLogsRange)
    let topics = [bindings.reward.event.topic0, Bindings.optedIn.topic0, Bindings.optedOut.topic0, Bindings.routed.topic0, Bindings.routeSkipped.topic0]
    var scanned = 0
    let (refWall, refCPU) = try timed {
        try blockOn {
            var n = 0
            try await reader.logs(addresses: [staking, treasury], topics: [topics], from: 0, to: UInt64(blocks)) { _, logs in n += logs.count }
            return n
        }
    } result: { scanned = $0 }

    // The keeper: a full catch-up into a new store.
    let store = try KeeperStore(directory: config.keeper.dataDir)
    let ingestor = Ingestor(config: config, bindings: bindings, store: store, chain: reader)
    var reorgs = 0
    let (wall, cpu) = try timed {
        try blockOn {
            try await ingestor.prepare()
            return try await ingestor.catchUp().count
        }
    } result: { reorgs = $0 }
    let rssPeak = peakRSSMegabytes()
    let (events, cursor, counts) = try store.read { r in (try r.rewardCount(), try r.cursor(), try r.intentCounts()) }
    try store.checkpoint()
    let size = (try? FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int).flatMap { $0 } ?? 0
    guard events == rewards, cursor == UInt64(blocks) + 1, reorgs == 0 else {
        throw BenchError("catch-up incomplete: \(events) of \(rewards) rewards, cursor \(cursor ?? 0)")
    }
    let totalEvents = rewards + registrations
    print("  chain: \(blocks) blocks, \(rewards) reward events + \(registrations) registrations (synthetic, keeper_synthchain.py); \(scanned) logs")
    print("  reference  bare LogScanner scan      wall \(fmt(refWall)) s   cpu \(fmt(refCPU)) s")
    print("  keeper     catch-up into the store   wall \(fmt(wall)) s   cpu \(fmt(cpu)) s   (\(fmt(cpu / refCPU)) x the bare scan's cpu)")
    print("  keeper cpu per 10,000 events: \(fmt(cpu / Double(totalEvents) * 10_000)) s   (target <= 0.5 s)")
    print("  peak RSS: \(fmt(rssPeak)) MB (before the runs: \(fmt(rssBefore)) MB)   (target <= 60 MB)")
    print("  store: \(fmt(Double(size) / 1_048_576)) MB; intents pending \(counts[.pending] ?? 0), lapsed \(counts[.lapsed] ?? 0)")
}

/// Wall and CPU seconds (this process, user + system) of `body`.
private func timed<T>(_ body: () throws -> T, result: (T) -> Void) throws -> (Double, Double) {
    let c0 = cpuSeconds(), t0 = ContinuousClock.now
    let r = try body()
    let wall = ContinuousClock.now - t0
    result(r)
    return (Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18, cpuSeconds() - c0)
}

private func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

private func peakRSSMegabytes() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

private func fmt(_ v: Double) -> String { String(format: "%.3f", v) }

/// Runs async `body` to completion from synchronous code (the benchmark's suites are synchronous).
private func blockOn<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    done.wait()
    return try box.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private var value: Result<T, any Error>?
    private let lock = NSLock()
    func set(_ v: Result<T, any Error>) { lock.lock(); value = v; lock.unlock() }
    func get() throws -> T {
        lock.lock(); defer { lock.unlock() }
        guard let value else { throw BenchError("no result") }
        return try value.get()
    }
}
