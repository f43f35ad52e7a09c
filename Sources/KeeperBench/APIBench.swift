import EthereumCore
import Foundation
import KeeperAPI
import KeeperCore
import KeeperStore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Suite "api" (issue 18): the stakers' API over a store of 10,000 stakers and 100,000 contributions
/// (`API_STAKERS` / `API_CONTRIBUTIONS` scale it). Reports, for the staker and contributions endpoints and for the same
/// server's `/healthz` (the reference: the HTTP stack with no store read) in the same run:
/// - p50/p99 latency at a fixed offered load (`API_RATE` requests/s, default 250 — well below capacity, so it measures service time, not queueing — on one keep-alive connection;
///   target: p99 ≤ 2× `/healthz` p99);
/// - requests/s closed-loop on two keep-alive connections (target ≥ 5,000 staker lookups/s);
/// - the resident memory the API adds (RSS after its load minus before the server started).
func apiBench() throws {
    let env = ProcessInfo.processInfo.environment
    let stakers = env["API_STAKERS"].flatMap(Int.init) ?? 10_000
    let contributions = env["API_CONTRIBUTIONS"].flatMap(Int.init) ?? 100_000
    let rate = env["API_RATE"].flatMap(Double.init) ?? 250
    let seconds = quickRun ? 0.5 : 3.0
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-api-bench-\(getpid())")
    try? FileManager.default.removeItem(at: dir)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try KeeperStore(directory: dir.path)
    let addresses = (0..<stakers).map { i -> Address in
        var b = [UInt8](repeating: 0xab, count: 12)
        withUnsafeBytes(of: UInt64(i).bigEndian) { b += $0 }
        return try! Address(b)
    }
    let seedStart = ContinuousClock.now
    try store.write { w in
        for (i, a) in addresses.enumerated() {
            try w.putStaker(StakerRegistration(staker: a, registered: i % 10 != 0, shareBps: UInt16(100 + i % 9_900), sinceBlock: 1))
        }
        for n in 0..<contributions {
            let staker = addresses[n % stakers]
            let claim = LogPosition(block: UInt64(10 + n), logIndex: 0)
            var h = [UInt8](repeating: 7, count: 24)
            withUnsafeBytes(of: UInt64(n).bigEndian) { h += $0 }
            let hash = try Bytes32(h)
            let reward = UInt256(UInt64(1_000_000_000 + n))
            try w.insert(RewardEvent(position: claim, blockHash: hash, txHash: hash, staker: staker, amount: reward))
            let outcome: TreasuryEvent.Outcome = n % 20 == 0 ? .skipped(reason: 7) : .routed(reward: reward, contributed: UInt256(UInt64(250_000_000 + n)), shareBps: 2500)
            try w.insert(TreasuryEvent(position: LogPosition(block: UInt64(11 + n), logIndex: 1), blockHash: hash, txHash: hash,
                                       staker: staker, claim: claim, claimBlockHash: hash, outcome: outcome))
        }
        try w.putBlock(UInt64(11 + contributions), hash: try Bytes32([UInt8](repeating: 9, count: 32)))
        try w.setCursor(UInt64(12 + contributions))
    }
    print("  store: \(stakers) stakers, \(contributions) contributions, seeded in \(fmtSeconds(ContinuousClock.now - seedStart)) s")

    // The store alone (no HTTP): what one staker lookup and one contributions page cost in SQLite + decoding.
    for (name, body) in [("staker lookup", { (i: Int) in _ = try store.read { try $0.stakerSummary(addresses[(i &* 7919) % stakers]) } }),
                         ("contributions page (50)", { (i: Int) in _ = try store.read { try $0.contributions(of: addresses[(i &* 7919) % stakers], limit: 51) } })]
        as [(String, (Int) throws -> Void)] {
        let start = ContinuousClock.now
        var n = 0
        while ContinuousClock.now - start < .milliseconds(Int(seconds * 500)) { try body(n); n += 1 }
        print(String(format: "  store only (one thread, no HTTP): %@ %.0f/s", name as NSString, Double(n) / (seconds / 2)))
    }

    let rssBefore = currentRSSMegabytes()
    var settings = APISettings()
    settings.listen = "127.0.0.1:0"
    settings.rateLimitPerSecond = 1_000_000
    let zero = try Address([UInt8](repeating: 0, count: 20))
    let server = APIServer(settings: settings, facts: APIFacts(chainID: 1, treasury: zero, rewardToken: zero, staking: zero, confirmations: 2),
                           store: store, webRoot: nil, logger: Logger(label: "api-bench")) { (true, "alive\n") }
    let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "api-bench")))
    let done = DispatchSemaphore(value: 0)
    Task { try? await group.run(); done.signal() }
    defer { Task { await group.triggerGracefulShutdown() }; done.wait() }
    var port: Int?
    for _ in 0..<1000 where port == nil { port = server.port; if port == nil { usleep(5_000) } }
    guard let port else { throw BenchError("the API server did not start listening") }

    let paths: [(String, @Sendable (Int) -> String)] = [
        ("/healthz (reference)", { _ in "/healthz" }),
        ("stakers/{address}", { i in "/api/v1/stakers/\(addresses[(i &* 7919) % stakers].checksummed)" }),
        ("stakers/{address}/contributions", { i in "/api/v1/stakers/\(addresses[(i &* 7919) % stakers].checksummed)/contributions?limit=50" }),
    ]
    // Warm-up: every path a few hundred times.
    let warm = try HTTPBenchClient(port: port)
    for (_, path) in paths { for i in 0..<300 { _ = try warm.get(path(i)) } }

    print("  latency at a fixed offered load of \(Int(rate)) requests/s (one keep-alive connection, \(fmtSeconds(.milliseconds(Int(seconds * 1000)))) s each):")
    var p99s: [Double] = []
    for (name, path) in paths {
        let client = try HTTPBenchClient(port: port)
        var latencies: [Double] = []
        let interval = 1.0 / rate
        let start = ContinuousClock.now
        var i = 0
        while true {
            let due = start + .nanoseconds(Int64(Double(i) * interval * 1e9))
            let now = ContinuousClock.now
            if now - start > .milliseconds(Int(seconds * 1000)) { break }
            if due > now { usleep(UInt32(max(0, micro(due - now)))) }
            // Latency counts from the scheduled instant: a late request's wait is part of it (no coordinated omission).
            let sent = due
            let status = try client.get(path(i))
            guard status == 200 else { throw BenchError("\(name) answered \(status)") }
            latencies.append(micro(ContinuousClock.now - sent))
            i += 1
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2], p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        p99s.append(p99)
        let ratio = p99s.count > 1 ? String(format: "   p99 = %.2f× /healthz p99 (target <= 2×)", p99 / p99s[0]) : ""
        print(String(format: "    %@ p50 %7.0f µs   p99 %7.0f µs   (%d requests)", name as NSString, p50, p99, latencies.count) + ratio)
    }

    print("  throughput, closed loop on two keep-alive connections (\(fmtSeconds(.milliseconds(Int(seconds * 1000)))) s each):")
    var reference = 0.0
    for (index, (name, path)) in paths.enumerated() {
        let counts = LockedCounter()
        let threads = 2
        let group = DispatchGroup()
        let failures = LockedFailure()
        for t in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let client = try HTTPBenchClient(port: port)
                    let start = ContinuousClock.now
                    var i = t * 1_000_003
                    var n = 0
                    while ContinuousClock.now - start < .milliseconds(Int(seconds * 1000)) {
                        let status = try client.get(path(i))
                        guard status == 200 else { throw BenchError("\(name) answered \(status)") }
                        i += 1; n += 1
                    }
                    counts.add(n)
                } catch {
                    failures.set(error)
                }
            }
        }
        group.wait()
        if let failure = failures.value { throw failure }
        let perSecond = Double(counts.value) / seconds
        if index == 0 { reference = perSecond }
        let target = index == 1 ? "   (target >= 5,000/s)" : ""
        print(String(format: "    %@ %8.0f requests/s   (%.2f× /healthz)", name as NSString, perSecond, perSecond / reference) + target)
    }
    let rssAfter = currentRSSMegabytes()
    print(String(format: "  memory: RSS %.1f MiB before the server, %.1f MiB after its load: the API adds %.1f MiB", rssBefore, rssAfter, rssAfter - rssBefore))
}

private func micro(_ d: Duration) -> Double { Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12 }

private func fmtSeconds(_ d: Duration) -> String { String(format: "%.1f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }

/// VmRSS of this process, in MiB.
private func currentRSSMegabytes() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}

private final class LockedFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.lock(); error = e; lock.unlock() }
    var value: (any Error)? { lock.lock(); defer { lock.unlock() }; return error }
}

private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// A minimal HTTP/1.1 keep-alive client over one TCP connection (GET, Content-Length bodies).
final class HTTPBenchClient: @unchecked Sendable {
    let fd: Int32
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw BenchError("cannot connect to the API on port \(port)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends one GET and reads its whole response; returns the status.
    func get(_ path: String) throws -> Int {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, request.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { throw BenchError("send failed") }
        while true {
            if let end = headEnd() {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let total = end + 4 + length
                while pending.count < total { try fill() }
                pending.removeFirst(total)
                return status
            }
            try fill()
        }
    }

    private func headEnd() -> Int? {
        guard pending.count >= 4 else { return nil }
        for i in 0...(pending.count - 4) where pending[i] == 13 && pending[i + 1] == 10 && pending[i + 2] == 13 && pending[i + 3] == 10 { return i }
        return nil
    }

    private func fill() throws {
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { throw BenchError("the API closed the connection") }
        pending += buffer[0..<n]
    }
}
