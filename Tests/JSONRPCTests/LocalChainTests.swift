import EthereumCore
import Foundation
@testable import JSONRPC
import XCTest

/// The client and the scanner against the real local chain (py-evm behind JSON-RPC over loopback,
/// Tests/LocalChain): ~2,000 events over ~2,000 blocks emitted by Tests/Support/rpc_populate_chain.py,
/// whose ground truth comes from the transactions' receipts, not from eth_getLogs.
final class LocalChainTests: XCTestCase {
    struct World: @unchecked Sendable {
        let chain: PythonServer
        let emitter: Address
        let from: UInt64, singleEnd: UInt64, to: UInt64
        let truth: [RawLog]
    }
    nonisolated(unsafe) static var world: World?
    nonisolated(unsafe) static var setupError: String?

    override class func setUp() {
        super.setUp()
        do {
            let chain = try PythonServer(script: "Tests/LocalChain/localchain.py", arguments: ["serve", "--port", "0"])
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try pythonPath())
            p.arguments = [repoRoot.appendingPathComponent("Tests/Support/rpc_populate_chain.py").path, chain.url]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0, let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let emitter = obj["emitter"] as? String, let from = obj["from"] as? Int, let singleEnd = obj["single_end"] as? Int,
                  let to = obj["to"] as? Int, let logs = obj["logs"] as? [[String: Any]] else {
                setupError = "rpc_populate_chain.py failed (status \(p.terminationStatus))"
                return
            }
            print("local chain populated: seed \(obj["seed"] ?? "?"), \(logs.count) logs in blocks \(from)-\(to)")
            func q(_ v: Any?) throws -> UInt64 {
                guard let s = v as? String, s.hasPrefix("0x"), let n = UInt64(s.dropFirst(2), radix: 16) else { throw CocoaError(.coderReadCorrupt) }
                return n
            }
            let truth = try logs.map { l in
                RawLog(address: try Address((l["address"] as? String ?? "").lowercased()),
                       topics: try (l["topics"] as? [String] ?? []).map { try Bytes32(hex: $0) },
                       data: try Hex.decode(l["data"] as? String ?? ""),
                       blockNumber: try q(l["blockNumber"]), blockHash: try Bytes32(hex: l["blockHash"] as? String ?? ""),
                       transactionHash: try Bytes32(hex: l["transactionHash"] as? String ?? ""),
                       transactionIndex: try q(l["transactionIndex"]), logIndex: try q(l["logIndex"]))
            }
            world = World(chain: chain, emitter: try Address(emitter.lowercased()), from: UInt64(from), singleEnd: UInt64(singleEnd),
                          to: UInt64(to), truth: truth)
        } catch {
            setupError = "local chain setup failed: \(error)"
        }
    }

    override class func tearDown() {
        world?.chain.stop()
        world = nil
        super.tearDown()
    }

    func requireWorld() throws -> World {
        guard let w = Self.world else {
            XCTFail(Self.setupError ?? "local chain not set up")
            throw CocoaError(.featureUnsupported)
        }
        return w
    }

    func settings() -> RPCSettings {
        var s = RPCSettings()
        s.retryBaseDelay = 0.02
        s.retryMaxDelay = 0.2
        s.endpointBackoffBase = 0.05
        s.endpointBackoffMax = 0.3
        s.maxRetries = 12
        return s
    }

    func setFaults(_ w: World, _ knobs: [(String, JSONValue)]) async throws {
        let control = try RPCClient(urls: [w.chain.url], settings: settings())
        let reset: [(String, JSONValue)] = [("logs_max_range", .null), ("logs_max_results", .null), ("logs_error_style", .string("infura")),
                                            ("http_429", .int(0)), ("http_503", .int(0)), ("retry_after", .null), ("latency_ms", .int(0)),
                                            ("drop_connections", .int(0)), ("truncate_responses", .int(0))]
        _ = try await control.call("test_setFaults", [.object(reset + knobs)])
    }

    func scan(_ client: RPCClient, _ w: World, from: UInt64, to: UInt64, settings: LogScanSettings = LogScanSettings(),
              onChunk: (ClosedRange<UInt64>) -> Void = { _ in }) async throws -> ([RawLog], LogScanStats) {
        var logs: [RawLog] = []
        var next = from
        let stats = try await LogScanner(client: client, filter: LogFilter(addresses: [w.emitter]), settings: settings)
            .scan(from: from, to: to) { range, chunk in
                XCTAssertEqual(range.lowerBound, next)
                next = range.upperBound + 1
                logs += chunk
                onChunk(range)
            }
        XCTAssertEqual(next, to + 1)
        return (logs, stats)
    }

    func truth(_ w: World, _ from: UInt64, _ to: UInt64) -> [RawLog] {
        w.truth.filter { (from...to).contains($0.blockNumber) }
    }

    func testRangeAndResultCapsMatchTheReceipts() async throws {
        let w = try requireWorld()
        XCTAssertGreaterThan(w.truth.count, 1500)
        XCTAssertGreaterThan(w.to - w.from, 1500)
        let cases: [(String, [(String, JSONValue)], UInt64)] = [
            ("range cap 1", [("logs_max_range", .int(1))], w.to),
            ("range cap 10 (alchemy)", [("logs_max_range", .int(10)), ("logs_error_style", .string("alchemy"))], w.to),
            ("range cap 1000", [("logs_max_range", .int(1000))], w.to),
            ("result cap 1 (one log per block)", [("logs_max_results", .int(1))], w.singleEnd),
            ("result cap 50 (infura data)", [("logs_max_results", .int(50))], w.to),
            ("result cap 50 (alchemy)", [("logs_max_results", .int(50)), ("logs_error_style", .string("alchemy"))], w.to),
            ("result cap 10000", [("logs_max_results", .int(10000))], w.to),
        ]
        for (name, knobs, end) in cases {
            try await setFaults(w, knobs)
            let client = try RPCClient(urls: [w.chain.url], settings: settings())
            let (logs, stats) = try await scan(client, w, from: w.from, to: end)
            XCTAssertEqual(logs, truth(w, w.from, end), name)
            if name.contains("result cap 50") { XCTAssertGreaterThan(stats.suggestedRangesUsed, 0, name) }
            print("\(name): \(logs.count) logs, \(stats.requests) requests, \(stats.refusals) refused, \(stats.suggestedRangesUsed) suggestions used")
        }
        try await setFaults(w, [])
    }

    func testResultCapOneCannotFetchABlockWithSeveralLogs() async throws {
        let w = try requireWorld()
        try await setFaults(w, [("logs_max_results", .int(1))])
        let client = try RPCClient(urls: [w.chain.url], settings: settings())
        do {
            _ = try await scan(client, w, from: w.singleEnd + 1, to: w.to)
            XCTFail("expected rangeFailed")
        } catch let error as RPCError {
            guard case let .rangeFailed(from, to, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(from, to)
            XCTAssertGreaterThan(truth(w, from, to).count, 1, "block \(from) holds several logs")
        }
        try await setFaults(w, [])
    }

    func testInjectedFaultsGiveTheSameResult() async throws {
        let w = try requireWorld()
        try await setFaults(w, [("logs_max_range", .int(200)), ("http_429", .int(3)), ("http_503", .int(3)), ("retry_after", .int(1)),
                                ("drop_connections", .int(2)), ("truncate_responses", .int(2)), ("latency_ms", .int(3))])
        let client = try RPCClient(urls: [w.chain.url], settings: settings())
        let start = ContinuousClock.now
        let (logs, _) = try await scan(client, w, from: w.from, to: w.to)
        try await setFaults(w, [])
        XCTAssertEqual(logs, truth(w, w.from, w.to))
        let stats = client.stats
        print("faults on the local chain: \(stats) in \(start.duration(to: .now))")
        XCTAssertEqual(stats.http429, 3)
        XCTAssertEqual(stats.http5xx, 3)
        XCTAssertGreaterThanOrEqual(stats.transportErrors, 2)
        XCTAssertGreaterThanOrEqual(stats.retries, 8)
        XCTAssertGreaterThanOrEqual(start.duration(to: .now), .seconds(1), "Retry-After: 1 was honoured")
    }

    func testFailoverWhenThePrimaryDiesMidScanAndBack() async throws {
        let w = try requireWorld()
        try await setFaults(w, [("logs_max_range", .int(40))])
        let proxy = try PythonServer(script: "Tests/Support/rpc_fault_proxy.py", arguments: [w.chain.url])
        defer { proxy.stop() }
        let pid = Int32(proxy.ready["pid"] as? Int ?? 0)
        XCTAssertGreaterThan(pid, 0)
        let events = EventLog()
        let client = try RPCClient(urls: [proxy.url, w.chain.url], settings: settings(), observer: { events.add($0) })
        var chunks = 0
        var atRevival: [Int] = []
        let (logs, _) = try await scan(client, w, from: w.from, to: w.to) { _ in
            chunks += 1
            if chunks == 5 {
                kill(pid, SIGUSR1)  // the primary dies
                usleep(300_000)     // (the proxy acts on the signal asynchronously)
            }
            if chunks == 20 {
                atRevival = client.stats.requestsPerEndpoint
                kill(pid, SIGUSR2)  // and comes back
                usleep(300_000)
            }
        }
        try await setFaults(w, [])
        XCTAssertEqual(logs, truth(w, w.from, w.to))
        let stats = client.stats
        print("failover scan: \(stats); events: \(events.failovers)")
        XCTAssertGreaterThanOrEqual(stats.failovers, 2, "to the secondary, and back to the primary")
        XCTAssertGreaterThan(atRevival[1], 0, "the secondary served while the primary was down")
        XCTAssertGreaterThan(stats.requestsPerEndpoint[0], atRevival[0] + 5, "the primary serves again after it recovered")
    }

    func testTypedCallsAgainstTheChain() async throws {
        let w = try requireWorld()
        let client = try RPCClient(urls: [w.chain.url], settings: settings())
        let chain = try await client.verifyChainID(expected: 1337)
        XCTAssertEqual(chain, 1337)
        let head = try await client.blockNumber()
        XCTAssertGreaterThanOrEqual(head, w.to)
        let latest = try await client.block(.latest)
        XCTAssertEqual(latest.number, head)
        let byHash = try await client.block(hash: latest.hash)
        XCTAssertEqual(byHash, latest)
        let missing = try await client.block(hash: Bytes32(w0: 1, w1: 2, w2: 3, w3: 4))
        XCTAssertNil(missing)
        let sample = w.truth[w.truth.count / 2]
        let receipt = try await client.transactionReceipt(sample.transactionHash)
        XCTAssertEqual(receipt?.status, 1)
        XCTAssertEqual(receipt?.blockHash, sample.blockHash)
        XCTAssertTrue(receipt?.logs.contains(sample) ?? false)
        let tx = try await client.transaction(sample.transactionHash)
        XCTAssertEqual(tx?.to, w.emitter)
        XCTAssertEqual(tx?.blockNumber, sample.blockNumber)
        let code = try await client.code(w.emitter)
        XCTAssertFalse(code.isEmpty)
        let sender = try XCTUnwrap(tx?.from)
        let nonce = try await client.transactionCount(sender, at: .latest)
        let pending = try await client.transactionCount(sender, at: .pending)
        XCTAssertGreaterThan(nonce, 100)
        XCTAssertEqual(pending, nonce)
        let balance = try await client.balance(sender)
        XCTAssertGreaterThan(balance, UInt256(10).multipliedReportingOverflow(by: 1_000_000_000_000_000_000).partialValue)
        let gasPrice = try await client.gasPrice()
        let tip = try await client.maxPriorityFeePerGas()
        XCTAssertGreaterThan(gasPrice, tip)
        let history = try await client.feeHistory(blockCount: 4, percentiles: [25, 75])
        XCTAssertEqual(history.baseFeePerGas.count, 5)
        XCTAssertEqual(history.reward.count, 4)
        let emitCall = CallRequest(from: sender, to: w.emitter, data: Array(Keccak256.hash(text: "emit_many(uint256,uint256)").bytes.prefix(4)) + [UInt8](repeating: 0, count: 63) + [3])
        let gas = try await client.estimateGas(emitCall)
        XCTAssertGreaterThan(gas, 21_000)
        do {
            _ = try await client.call(CallRequest(from: sender, to: w.emitter, data: [0xde, 0xad, 0xbe, 0xef]))
            XCTFail("an unknown selector reverts")
        } catch {
            guard case .server(3, _, _) = error else { return XCTFail("\(error)") }
        }
        do {
            _ = try await client.sendRawTransaction([0x02, 0xc0])
            XCTFail("a malformed transaction is refused")
        } catch {
            guard case .server = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(client.stats.retries, 0, "deterministic errors are not retried")
    }
}
