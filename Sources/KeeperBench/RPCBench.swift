import EthereumCore
import Foundation
import JSONRPC
import KeeperTesting

/// Suite "rpc" (issue 5).
/// 1. Parse a 10,000-log `eth_getLogs` response (~6 MB, generated deterministically here) into typed logs
///    (`RawLog.decodeResponse`: hex decoded into Address/Bytes32/integers) next to Foundation's
///    `JSONDecoder` (Codable, strings only — it is not even asked to decode hex) and Python's `json`
///    module on the same bytes (`json.loads` alone, and with the hex fields converted), all in this run.
///    Targets: ≥ 5× JSONDecoder, ≥ 3× Python json.
/// 2. Scan 100,000 blocks of the local chain (Tests/LocalChain, `--logs-max-range 2000`) with `LogScanner`
///    from its default ranges: requests made and wall time, next to the minimum (⌈blocks / 2000⌉
///    requests) and the wall time of exactly that many requests sent by an oracle that knows the cap.
///    `RPC_BENCH_BLOCKS` changes the block count; mining 100,000 py-evm blocks takes 5+ minutes, so
///    `RPC_BENCH_URL` may point at a local chain already serving (`--logs-max-range 2000`) and mined.
func rpcBench() throws {
    try parseBench()
    try scanBench()
}

// MARK: parsing

/// Codable mirror of a log with every field as a string (what JSONDecoder is measured on).
private struct CodableLog: Decodable {
    let address: String, topics: [String], data: String, blockNumber: String, transactionHash: String
    let transactionIndex: String, blockHash: String, logIndex: String, removed: Bool
}
private struct CodableResponse: Decodable {
    let jsonrpc: String
    let id: Int
    let result: [CodableLog]
}

/// A geth-shaped response of `count` ERC-20 Transfer logs (3 topics, one data word), deterministic.
func syntheticLogsResponse(count: Int) -> [UInt8] {
    var rng: UInt64 = 0x0123_4567_89ab_cdef
    func next() -> UInt64 {
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    func word() -> String { Bytes32(w0: next(), w1: next(), w2: next(), w3: next()).hexString }
    func addressWord() -> String { "0x000000000000000000000000" + String(word().dropFirst(26)) }
    let transfer = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    var out = #"{"jsonrpc":"2.0","id":1,"result":["#
    var block: UInt64 = 19_000_000, logIndex = 0, blockHash = word(), txHash = word(), txIndex = 0
    for i in 0..<count {
        if i % 12 == 0 { block += 1 + next() % 3; blockHash = word(); logIndex = 0; txIndex = 0 }
        if i % 2 == 0 { txHash = word(); txIndex += 1 }
        if i > 0 { out += "," }
        out += #"{"address":"0x"# + String(word().suffix(40)) + #"","topics":[""# + transfer + #"",""# + addressWord()
        out += #"",""# + addressWord() + #""],"data":""# + word() + #"","blockNumber":""# + Quantity.hex(block)
        out += #"","transactionHash":""# + txHash + #"","transactionIndex":""# + Quantity.hex(UInt64(txIndex))
        out += #"","blockHash":""# + blockHash + #"","logIndex":""# + Quantity.hex(UInt64(logIndex)) + #"","removed":false}"#
        logIndex += 1
    }
    out += "]}"
    return Array(out.utf8)
}

private func parseBench() throws {
    let count = 10_000
    let body = syntheticLogsResponse(count: count)
    let data = Data(body)
    // Correctness first: both parsers see the same logs.
    let ours = try RawLog.decodeResponse(body)
    let theirs = try JSONDecoder().decode(CodableResponse.self, from: data)
    guard ours.count == count, theirs.result.count == count,
          ours[count - 1].transactionHash.hexString == theirs.result[count - 1].transactionHash,
          ours[17].address.lowercased == theirs.result[17].address.lowercased(),
          Quantity.hex(ours[9_999].blockNumber) == theirs.result[9_999].blockNumber else {
        throw BenchError("the parsers disagree on the synthetic response")
    }
    let m = compare(iterations: count, rounds: 9, {
        blackHole(UInt64((try? RawLog.decodeResponse(body))?.count ?? 0))
    }, {
        blackHole(UInt64((try? JSONDecoder().decode(CodableResponse.self, from: data))?.result.count ?? 0))
    })
    let oursRate = 1e9 / m[0].nsPerOp, decoderRate = 1e9 / m[1].nsPerOp
    let python = try pythonJSONRates(body)
    print("parse a \(count)-log eth_getLogs response (\(body.count / 1000) kB), logs/s (best of 9 rounds):")
    print("\(col("parser", 52))\(col("logs/s", 12))\(col("MB/s", 8))ours ×")
    func row(_ name: String, _ rate: Double) {
        let mbs = rate * Double(body.count) / Double(count) / 1e6
        print("\(col(name, 52))\(col(fmt(rate, 0), 12))\(col(fmt(mbs, 0), 8))\(fmt(oursRate / rate, 2))")
    }
    row("JSONRPC RawLog.decodeResponse (typed, hex decoded)", oursRate)
    row("Foundation JSONDecoder (Codable, strings only)", decoderRate)
    row("Python json.loads (dicts of strings)", python.loads)
    row("Python json.loads + hex fields converted", python.typed)
    let allocs = m[0].allocsPerOp.map { fmt($0, 2) } ?? "n/a"
    print("ours: \(allocs) heap allocations per log")
    let okDecoder = oursRate / decoderRate >= 5, okPython = oursRate / python.loads >= 3
    print("target ≥5× JSONDecoder: \(fmt(oursRate / decoderRate, 2))× \(okDecoder ? "ok" : "MISSED"); "
          + "target ≥3× Python json: \(fmt(oursRate / python.loads, 2))× \(okPython ? "ok" : "MISSED")")
}

/// Python's json on the same bytes (written to a temp file), best of 7 rounds, in logs/s.
private func pythonJSONRates(_ body: [UInt8]) throws -> (loads: Double, typed: Double) {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-bench-\(getpid()).json")
    try Data(body).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let script = """
    import json, sys, time
    raw = open(sys.argv[1], "rb").read()
    def typed(doc):
        out = []
        for l in doc["result"]:
            out.append((bytes.fromhex(l["address"][2:]), [bytes.fromhex(t[2:]) for t in l["topics"]], bytes.fromhex(l["data"][2:]),
                        int(l["blockNumber"], 16), bytes.fromhex(l["blockHash"][2:]), bytes.fromhex(l["transactionHash"][2:]),
                        int(l["transactionIndex"], 16), int(l["logIndex"], 16), l["removed"]))
        return out
    n = len(json.loads(raw)["result"])
    def best(f):
        b = 1e9
        for _ in range(7):
            t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)
        return n / b
    print(best(lambda: json.loads(raw)), best(lambda: typed(json.loads(raw))))
    """
    let output = try runPython(["-c", script, file.path])
    let parts = output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard parts.count == 2 else { throw BenchError("python json reference failed: \(output.prefix(200))") }
    return (parts[0], parts[1])
}

private func runPython(_ arguments: [String]) throws -> String {
    try benchPython(arguments).stdoutText
}

// MARK: scanning the local chain

/// Runs an async body from the synchronous benchmark driver (the main thread is not in the cooperative pool).
private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

private func scanBench() throws {
    let blocks = UInt64(ProcessInfo.processInfo.environment["RPC_BENCH_BLOCKS"] ?? "") ?? 100_000
    let cap: UInt64 = 2000
    let server = Process()
    defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
    let url: String
    if let given = ProcessInfo.processInfo.environment["RPC_BENCH_URL"] {
        url = given  // a local chain already serving with --logs-max-range 2000 (mining is the slow part)
    } else {
        guard FileManager.default.fileExists(atPath: "Tests/LocalChain/localchain.py") else {
            throw BenchError("run from the repository root (Tests/LocalChain/localchain.py not found)")
        }
        server.executableURL = URL(fileURLWithPath: try TestEnvironment.python())
        var serverEnvironment = ProcessInfo.processInfo.environment
        serverEnvironment["LD_PRELOAD"] = nil  // the chain server is not what we measure
        server.environment = serverEnvironment
        server.arguments = ["Tests/LocalChain/localchain.py", "serve", "--port", "0", "--logs-max-range", String(cap)]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let ready = try? JSONSerialization.jsonObject(with: line.split(separator: UInt8(ascii: "\n")).first ?? Data()) as? [String: Any],
              let u = ready["url"] as? String else {
            throw BenchError("the local chain (Tests/LocalChain/localchain.py) did not start",
                             fix: "run `\(server.executableURL?.path ?? "python") Tests/LocalChain/localchain.py serve --port 0` to see why; "
                                + BenchError.pythonFix)
        }
        url = u
    }
    let client = try RPCClient(urls: [url])
    // Mining is set-up, not measured: py-evm mining 10,000 blocks can outlast the default 30 s request timeout on a
    // busy machine, and a retried hardhat_mine would mine twice, so the miner waits long and never retries.
    var minerSettings = RPCSettings()
    minerSettings.transport.requestTimeout = 900
    minerSettings.maxRetries = 0
    let miner = try RPCClient(urls: [url], settings: minerSettings)
    let mineStart = ContinuousClock.now
    try blocking {
        var mined = try await miner.blockNumber()
        while mined < blocks {
            let n = min(10_000, blocks - mined)
            _ = try await miner.call("hardhat_mine", [.string(Quantity.hex(n))])
            mined += n
        }
    }
    let head = try blocking { try await miner.blockNumber() }
    print("scan \(blocks) blocks of the local chain (py-evm, mined in \(fmt(seconds(mineStart.duration(to: .now)), 0)) s; head \(head)) with a \(cap)-block provider cap:")
    let minimum = (blocks + cap - 1) / cap
    // Reference: an oracle that knows the cap sends exactly the minimum number of requests.
    let oracleStart = ContinuousClock.now
    try blocking {
        var from: UInt64 = 1
        while from <= blocks {
            _ = try await client.logs(LogFilter(), from: from, to: min(blocks, from + cap - 1))
            from += cap
        }
    }
    let oracleTime = seconds(oracleStart.duration(to: .now))
    let scanClient = try RPCClient(urls: [url])
    let scanStart = ContinuousClock.now
    let stats = try blocking {
        try await LogScanner(client: scanClient, filter: LogFilter()).scan(from: 1, to: blocks) { _, _ in }
    }
    let scanTime = seconds(scanStart.duration(to: .now))
    print("\(col("", 34))\(col("requests", 10))\(col("wall s", 9))ratio to minimum")
    print("\(col("oracle (knows the cap)", 34))\(col(String(minimum), 10))\(col(fmt(oracleTime, 2), 9))1.00 (requests), 1.00 (time)")
    print("\(col("LogScanner (defaults, adaptive)", 34))\(col(String(stats.requests), 10))\(col(fmt(scanTime, 2), 9))"
          + "\(fmt(Double(stats.requests) / Double(minimum), 2)) (requests), \(fmt(scanTime / oracleTime, 2)) (time)")
    print("LogScanner: \(stats.refusals) refused, final range \(stats.finalRange) blocks, \(scanClient.stats.requests) HTTP requests")
}

private func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
