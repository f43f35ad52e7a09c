import EthereumCore
import Foundation
import JSONRPC
import KeeperStore
import XCTest

/// Three keepers in high availability on one throwaway PostgreSQL, for the failover test (issue 20): the
/// SubmissionRig's chain, deployment, key and stakers; `pgserver.py serve` as a child process; one
/// `tcp_fault_proxy.py` per instance in front of its database connection; three `expansion-keeper run` processes
/// (keeper-a, -b, -c), each with the rig's config plus `[store]` (PostgreSQL through its proxy) and `[ha]`, its own
/// data_dir and log. The rig acts as systemd: an instance that exits (the leader that lost its lease exits 75 by
/// design) or is killed is restarted after `restartDelay`. Nothing runs in the background: `tick()` supervises the
/// instances and drives the chain (a block every 300 ms, the stakers claiming every few seconds), and every wait
/// of the test is made of ticks.
final class HARig {
    /// One keeper instance and its supervision record.
    final class Instance {
        struct Exit {
            let status: Int32
            let signaled: Bool
            let at: Date
            var text: String { signaled ? "signal \(status)" : "exit \(status)" }
        }

        let name: String
        let configPath: String
        let dataDir: String
        let logPath: String
        let proxy: ReadyLineChild
        var process: Process?
        /// Extra environment for its next starts (the kill-after-journal hook).
        var environment: [String: String] = [:]
        var exits: [Exit] = []
        var starts = 0
        /// When it was seen gone (nil while running, or before its first start).
        var downSince: Date?
        /// When its current process was started (a lease taken before that belongs to a process that is gone).
        var startedAt = Date.distantPast
        /// SIGSTOPped by the test: left alone by the supervisor (Foundation may report a stopped child as no longer
        /// running), its exit judged by the test from /proc and its log.
        var paused = false

        init(name: String, configPath: String, dataDir: String, logPath: String, proxy: ReadyLineChild) {
            self.name = name; self.configPath = configPath; self.dataDir = dataDir; self.logPath = logPath; self.proxy = proxy
        }

        var running: Bool { process?.isRunning ?? false }
        var pid: Int32 { process?.processIdentifier ?? 0 }
        var pauseFile: String { (dataDir as NSString).appendingPathComponent("PAUSE") }

        func log(last: Int = 3000) -> String {
            String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(last))
        }
    }

    static let leaseSeconds = 2
    let restartDelay = 1.0
    let sub: SubmissionRig
    let pg: ReadyLineChild
    let pgURL: String
    let pgPassword: String
    var instances: [Instance] = []
    /// Whether exited instances are restarted (off while tearing down).
    var supervising = true
    /// Whether the stakers claim (off for the quiet chain at the end).
    var claiming = true
    var claimEvery = 3.0
    var claimRounds = 0
    private var lastMine = Date.distantPast
    private var lastClaim = Date()
    /// The chain's head once the rig was set up: the keeper's own setup transactions (the treasury's deployment) lie
    /// at or below it.
    var setupHead: UInt64 = 0
    var dir: URL { sub.dir }

    init() async throws {
        sub = try SubmissionRig(confirmations: 2)
        setupHead = try await sub.chain.head()
        pg = try ReadyLineChild([SubmissionRig.script("Tests/Support/pgserver.py"), "serve"], log: sub.dir.appendingPathComponent("pgserver.log").path)
        guard let url = pg.ready["url"] as? String, let password = pg.ready["password"] as? String, let port = pg.ready["port"] as? Int else {
            throw KeeperTestError("pgserver.py printed no url/password/port: \(pg.ready)")
        }
        pgURL = url
        pgPassword = password
        let base = try String(contentsOfFile: sub.configPath, encoding: .utf8)
        for letter in ["a", "b", "c"] {
            let name = "keeper-\(letter)"
            let proxy = try ReadyLineChild([SubmissionRig.script("Tests/Support/tcp_fault_proxy.py"), "--target", "127.0.0.1:\(port)"],
                                           log: sub.dir.appendingPathComponent("proxy-\(letter).log").path)
            guard let proxyPort = proxy.ready["port"] as? Int else { throw KeeperTestError("tcp_fault_proxy.py printed no port: \(proxy.ready)") }
            let dataDir = sub.dir.appendingPathComponent("data-\(letter)").path
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // The rig's config with this instance's data_dir; [store] and [ha] appended after the last table ([metrics]).
            let dataLine = "data_dir = \"\(sub.dataDir)\""
            guard base.contains(dataLine) else { throw KeeperTestError("the rig's config has no line \(dataLine)") }
            let config = base.replacingOccurrences(of: dataLine, with: "data_dir = \"\(dataDir)\"") + """

                [store]
                backend = "postgres"
                postgres_url = "postgresql://keeper@127.0.0.1:\(proxyPort)/keeper?sslmode=disable"
                [ha]
                enabled = true
                instance = "\(name)"
                lease_seconds = \(Self.leaseSeconds)

                """
            let configPath = sub.dir.appendingPathComponent("\(name).toml").path
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            instances.append(Instance(name: name, configPath: configPath, dataDir: dataDir,
                                      logPath: sub.dir.appendingPathComponent("\(name).log").path, proxy: proxy))
        }
    }

    deinit { shutdown(signal: SIGKILL) }

    // MARK: instances (the rig as systemd)

    func start(_ i: Instance) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Env.binary)
        p.arguments = ["run", "--config", i.configPath]
        var env = ProcessInfo.processInfo.environment
        env["EXPANSION_KEEPER_KEEPER_REPLACE_AFTER_BLOCKS"] = "2"
        env["EXPANSION_KEEPER_PG_PASSWORD"] = pgPassword
        for (k, v) in i.environment { env[k] = v }
        p.environment = env
        if !FileManager.default.fileExists(atPath: i.logPath) { _ = FileManager.default.createFile(atPath: i.logPath, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: i.logPath))
        h.seekToEndOfFile()
        h.write(Data("---- \(Date()) start \(i.starts + 1) of \(i.name)\(i.environment.isEmpty ? "" : " with \(i.environment)")\n".utf8))
        p.standardOutput = h
        p.standardError = h
        try p.run()
        i.process = p
        i.startedAt = Date()
        i.downSince = nil
        i.starts += 1
    }

    /// Records the exit of an instance seen gone (once per process).
    func reap(_ i: Instance) {
        guard !i.paused, let p = i.process, !p.isRunning, i.downSince == nil else { return }
        i.exits.append(.init(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal, at: Date()))
        i.downSince = Date()
    }

    /// Sends `sig` and waits (10 s, then SIGKILL) until the instance is gone; the supervisor restarts it later
    /// unless the caller starts it first.
    func stop(_ i: Instance, signal sig: Int32 = SIGTERM) {
        guard let p = i.process, p.isRunning else { reap(i); return }
        kill(p.processIdentifier, sig)
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); while p.isRunning { usleep(20_000) } }
        reap(i)
    }

    /// systemd's part: an instance gone for `restartDelay` is started again.
    func supervise() throws {
        for i in instances {
            reap(i)
            if supervising, let since = i.downSince, Date().timeIntervalSince(since) >= restartDelay { try start(i) }
        }
    }

    /// One step of the world: supervision, a block every 300 ms, a claim round every `claimEvery` seconds.
    func tick() async throws {
        try supervise()
        if Date().timeIntervalSince(lastMine) >= 0.3 {
            try await sub.chain.mine(1)
            lastMine = Date()
        }
        if claiming && Date().timeIntervalSince(lastClaim) >= claimEvery { try claimRound() }
    }

    func claimRound() throws {
        try sub.scenario(["claim", "--advance", "30"])
        claimRounds += 1
        lastClaim = Date()
    }

    /// Ticks for `seconds`.
    func run(for seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            try await tick()
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Ticks until `done()` or `timeout`; whether it happened.
    func wait(timeout: Double, _ done: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try done() { return true }
            try await tick()
            try await Task.sleep(for: .milliseconds(100))
        }
        return try done()
    }

    func shutdown(signal sig: Int32 = SIGTERM) {
        supervising = false
        observer?.close()
        observer = nil
        for i in instances { stop(i, signal: sig) }
        for i in instances { i.proxy.stop() }
        pg.stop(timeout: 60)  // stops PostgreSQL and removes its directory
    }

    // MARK: the database's view

    /// The test's own read-only store, straight on PostgreSQL (never through a proxy); reopened after any error (the
    /// database may have restarted under it). One, kept open: the test polls the lease every tick, and a new session
    /// each time would load the 2-core machine the failover is timed on.
    private var observer: KeeperStore?

    func withStore<T>(_ body: (KeeperStore) throws -> T) throws -> T {
        do {
            if observer == nil {
                observer = try KeeperStore(postgres: try PostgresSettings(url: pgURL, password: pgPassword), readOnly: true)
            }
            return try body(observer!)
        } catch {
            observer?.close()
            observer = nil
            throw error
        }
    }

    /// `withStore`, retried for `timeout` seconds (the database may be restarting); throws the last error.
    func observe<T>(timeout: Double = 30, _ body: (KeeperStore) throws -> T) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do { return try withStore(body) } catch {
                if Date() > deadline { throw error }
            }
            try await tick()
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The lease now (nil when there is none or the database cannot be read).
    func lease() -> LeaseRecord? {
        guard let l = try? withStore({ try $0.currentLease() }) else { return nil }
        return l
    }

    /// The running instance holding a live lease, and the lease: taken by its current process (a lease its previous,
    /// killed process held is not yet expired, but nobody leads under it).
    func leader() -> (instance: Instance, lease: LeaseRecord)? {
        guard let l = lease(), l.expiresAtMs > l.nowMs, let i = instances.first(where: { $0.name == l.holder }), i.running,
              Double(l.acquiredAtMs) >= i.startedAt.timeIntervalSince1970 * 1000 else { return nil }
        return (i, l)
    }

    /// Ticks until a running instance holds a live lease with an epoch above `epoch`.
    func waitForLeader(above epoch: UInt64 = 0, timeout: Double = 30) async throws -> (instance: Instance, lease: LeaseRecord)? {
        var found: (instance: Instance, lease: LeaseRecord)?
        _ = try await wait(timeout: timeout) {
            guard let l = leader(), l.lease.epoch > epoch else { return false }
            found = l
            return true
        }
        return found
    }

    func journal() async throws -> [JournaledTransaction] { try await observe { s in try s.read { r in try r.journal() } } }

    func pendingIntents() async throws -> Int { try await observe { s in try s.read { r in try r.intents(states: [.pending]).count } } }

    // MARK: the chain's view

    /// Hashes (lowercase hex) of every transaction the keeper's address sent after the setup, from the blocks.
    func keeperTransactionsOnChain() async throws -> Set<String> {
        let head = try await sub.chain.head()
        let keeper = sub.keeper.lowercased()
        var hashes: Set<String> = []
        var n = setupHead + 1
        while n <= head {
            let block = try await sub.chain.rpc("eth_getBlockByNumber", [.string("0x" + String(n, radix: 16)), .bool(true)])
            if case let .array(txs)? = block["transactions"] {
                for tx in txs where tx["from"]?.stringValue?.lowercased() == keeper {
                    if let h = tx["hash"]?.stringValue { hashes.insert(h.lowercased()) }
                }
            }
            n += 1
        }
        return hashes
    }

    /// Mines until the chain-only verdict holds and the store has nothing in flight, or `timeout`.
    func settleVerdict(timeout: Double = 120) async throws -> (settled: Bool, verdict: [String: Any]) {
        var verdict: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let open = try? withStore { s in try s.read { r in (try r.intents(states: [.pending, .sent]).count, try r.openNonces().count) } }
            if let open, open.0 == 0, open.1 == 0 {
                verdict = try sub.verify()
                if verdict["ok"] as? Bool == true { return (true, verdict) }
            }
            try await run(for: 0.5)
        }
        verdict = try sub.verify()
        return (false, verdict)
    }

    // MARK: evidence

    /// Copies the run's directory (keepers' logs and configs, proxies' and pgserver's logs) and PostgreSQL's server
    /// log to a kept directory; its path.
    func keepLogs(seed: UInt64) -> String {
        let kept = FileManager.default.temporaryDirectory.appendingPathComponent("ha-failover-failure-\(seed)")
        try? FileManager.default.removeItem(at: kept)
        try? FileManager.default.copyItem(at: dir, to: kept)
        if let dataDir = pg.ready["data_dir"] as? String {
            let serverLog = ((dataDir as NSString).deletingLastPathComponent as NSString).appendingPathComponent("server.log")
            try? FileManager.default.copyItem(atPath: serverLog, toPath: kept.appendingPathComponent("postgresql-server.log").path)
        }
        return kept.path
    }
}

/// A helper process that prints one JSON line when ready (pgserver.py serve, tcp_fault_proxy.py), logs to a file, and
/// stops when its stdin pipe closes — so a test process that dies leaves no server behind.
final class ReadyLineChild {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let ready: [String: Any]
    let logPath: String

    init(_ arguments: [String], log: String) throws {
        logPath = log
        process.executableURL = URL(fileURLWithPath: Env.python)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty {
                throw KeeperTestError("\(arguments[0]) exited before its ready line: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            if byte.first == 0x0a { break }
            line.append(byte)
        }
        guard let obj = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw KeeperTestError("\(arguments[0]) printed no JSON object: \(String(decoding: line, as: UTF8.self))")
        }
        ready = obj
    }

    deinit { stop() }

    func send(_ sig: Int32) { if process.isRunning { kill(process.processIdentifier, sig) } }

    /// What it wrote to its log (stderr).
    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, then SIGKILL after `timeout`; waits by polling.
    func stop(timeout: Double = 10) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

extension HARig {
    /// Whether process `pid` still runs (not gone, not a zombie waiting to be reaped), read from /proc.
    static func alive(_ pid: Int32) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }
}
