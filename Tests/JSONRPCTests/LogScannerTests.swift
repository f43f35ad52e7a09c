import EthereumCore
@testable import JSONRPC
import KeeperTesting
import XCTest

/// `LogScanner` against the stub's synthetic chain (0–3 logs per block; ground truth = `stub_allLogs`).
final class LogScannerTests: XCTestCase {
    func settings() -> RPCSettings {
        var s = RPCSettings()
        s.retryBaseDelay = 0.01
        s.retryMaxDelay = 0.05
        s.endpointBackoffBase = 0.02
        s.endpointBackoffMax = 0.1
        return s
    }

    func truth(_ from: UInt64, _ to: UInt64) async throws -> [RawLog] {
        let client = try RPCClient(urls: [try Stub.path()], settings: settings())
        return try await client.call("stub_allLogs", [.int(Int(from)), .int(Int(to))]) { (s) throws(RPCError) in try RawLog.parseArray(&s) }
    }

    /// Scans and checks the invariants: contiguous chunks covering the range, chain order, no duplicate.
    func scan(_ url: String, _ from: UInt64, _ to: UInt64, _ scanSettings: LogScanSettings = LogScanSettings(),
              client: RPCClient? = nil) async throws -> ([RawLog], LogScanStats, RPCClient) {
        let client = try client ?? RPCClient(urls: [url], settings: settings())
        let scanner = LogScanner(client: client, filter: LogFilter(), settings: scanSettings)
        var logs: [RawLog] = []
        var next = from
        let stats = try await scanner.scan(from: from, to: to) { range, chunk in
            XCTAssertEqual(range.lowerBound, next, "chunks are contiguous")
            next = range.upperBound + 1
            for l in chunk { XCTAssertTrue(range.contains(l.blockNumber)) }
            logs += chunk
        }
        XCTAssertEqual(next, to + 1, "the whole range was delivered")
        for (a, b) in zip(logs, logs.dropFirst()) {
            XCTAssertTrue(RawLog.chainOrder(a, b), "order and uniqueness at block \(b.blockNumber) index \(b.logIndex)")
        }
        return (logs, stats, client)
    }

    func testRangeAndResultCapsGiveTheExactGroundTruth() async throws {
        let expected = try await truth(0, 3000)
        XCTAssertGreaterThan(expected.count, 4000)
        for directive in ["rangecap=1", "rangecap=10", "rangecap=1000", "resultcap=3", "resultcap=50", "resultcap=10000",
                          "rangecap=700/style=geth", "rangecap=40/style=quicknode", "resultcap=50/style=ankr",
                          "resultcap=50/style=alchemy", "rangecap=10/resultcap=5"] {
            var s = LogScanSettings()
            s.initialRange = 500
            s.additiveIncrease = 250
            let (logs, stats, _) = try await scan(try Stub.path(directive), 0, 3000, s)
            XCTAssertEqual(logs, expected, directive)
            print("\(directive): \(stats.requests) requests, \(stats.refusals) refusals, \(stats.suggestedRangesUsed) suggested ranges used, final range \(stats.finalRange)")
        }
    }

    func testAProvidersSuggestedRangeIsUsed() async throws {
        let url = try Stub.path("resultcap=50", "style=alchemy")
        var s = LogScanSettings()
        s.initialRange = 400
        let (_, stats, client) = try await scan(url, 100, 600, s)
        XCTAssertGreaterThan(stats.suggestedRangesUsed, 0)
        let asked = try await client.call("stub_requests", [])
        guard case let .array(ranges) = asked, ranges.count >= 2,
              case let .array(first) = ranges[0], case let .array(second) = ranges[1],
              case let .number(f0) = first[0], case let .number(f1) = first[1],
              case let .number(s0) = second[0], case let .number(s1) = second[1] else { return XCTFail("\(asked)") }
        XCTAssertEqual([f0, f1], ["100", "499"], "the first request is the initial range")
        // The stub suggested the largest range from 100 that holds at most 50 logs; compute it independently.
        var count = 0, end: UInt64 = 100
        for b in UInt64(100)...499 {
            count += Int((b * 7 + 3) % 4)
            if count > 50 { break }
            end = b
        }
        XCTAssertEqual([s0, s1], ["100", String(end)], "the second request is exactly the suggested range")
    }

    func testFaultsDuringAScanDoNotChangeTheResult() async throws {
        let expected = try await truth(0, 2000)
        var patient = settings()
        patient.maxRetries = 12  // ten faults in a row
        let faulty = try RPCClient(urls: [try Stub.path("rangecap=100", "429x2", "503x4", "dropx6", "truncx8", "cutx10")], settings: patient)
        let (logs, _, client) = try await scan("", 0, 2000, client: faulty)
        XCTAssertEqual(logs, expected)
        let stats = client.stats
        // Ten faults were injected; libcurl itself silently re-sends a request whose reused connection
        // died before answering (a drop), so one or two may not reach our counters.
        XCTAssertGreaterThanOrEqual(stats.retries, 8, "\(stats)")
        XCTAssertEqual(stats.http429, 2)
        XCTAssertEqual(stats.http5xx, 2)
        XCTAssertGreaterThanOrEqual(stats.transportErrors, 2, "drops and truncations with Content-Length")
        XCTAssertEqual(stats.decodingErrors, 2, "bodies cut without Content-Length")
        print("faulty scan: \(stats)")
    }

    func testAnUnfetchableRangeIsAnErrorNamingIt() async throws {
        // resultcap=1: blocks with 2 or 3 logs can never be fetched.
        let client = try RPCClient(urls: [try Stub.path("resultcap=1")], settings: settings())
        let scanner = LogScanner(client: client, filter: LogFilter())
        var delivered: [ClosedRange<UInt64>] = []
        do {
            try await scanner.scan(from: 0, to: 50) { range, _ in delivered.append(range) }
            XCTFail("expected rangeFailed")
        } catch let error as RPCError {
            guard case let .rangeFailed(from, to, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(from, to)
            XCTAssertGreaterThanOrEqual((from * 7 + 3) % 4, 2, "block \(from) holds more logs than the cap")
            XCTAssertTrue(reason.contains("one-block range"), reason)
            XCTAssertEqual(delivered.last?.upperBound.advanced(by: 1) ?? 0, from, "everything before the failed block was delivered, nothing after")
            XCTAssertTrue(error.description.contains("blocks \(from)-\(to)"))
        }
        // A non-limit error (invalid params: beyond the head) is not shrunk but reported with its range.
        let beyond = LogScanner(client: client, filter: LogFilter())
        do {
            try await beyond.scan(from: 4990, to: 5010) { _, _ in }
            XCTFail("expected rangeFailed")
        } catch let error as RPCError {
            guard case let .rangeFailed(from, to, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual([from, to], [4990, 5010])
            XCTAssertTrue(reason.contains("-32602"), reason)
        }
    }

    func testBlockHashVerificationRefetchesAForkedAnswer() async throws {
        var s = LogScanSettings()
        s.verifyBlockHashes = true
        let expected = try await truth(0, 300)
        let (logs, stats, _) = try await scan(try Stub.path("forkx1"), 0, 300, s)
        XCTAssertEqual(logs, expected)
        XCTAssertEqual(stats.refetches, 1)
        let client = try RPCClient(urls: [try Stub.path("forkx100")], settings: settings())
        do {
            try await LogScanner(client: client, filter: LogFilter(), settings: s).scan(from: 0, to: 300) { _, _ in }
            XCTFail("expected a fork error")
        } catch let error as RPCError {
            guard case let .rangeFailed(_, _, reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("fork"), reason)
        }
    }

    func testAdaptiveRangesGrowBackAfterShrinking() async throws {
        var s = LogScanSettings()
        s.initialRange = 5000
        s.maxRange = 5000
        s.additiveIncrease = 100
        // resultcap=200: ~130 blocks per request fit; ranges must shrink, then probe upwards again.
        let (_, stats, _) = try await scan(try Stub.path("resultcap=200", "style=geth"), 0, 4000, s)
        XCTAssertGreaterThan(stats.refusals, 1)
        let minimum = (4000 + 1 + 132) / 133
        XCTAssertLessThan(stats.requests, minimum * 3, "AIMD stays within 3x of the minimum: \(stats)")
    }

    /// Seeded random scans (range, caps, provider style, faults) all equal the ground truth.
    /// 6 cases by default; EXPANSION_KEEPER_SOAK=1 runs 60.
    func testRandomScansEqualTheGroundTruth() async throws {
        let seed: UInt64 = 0x5eed_0005
        var rng = SplitMix64(seed: seed)
        let cases = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SOAK"] == "1" ? 60 : 6
        print("random scans: seed 0x\(String(seed, radix: 16)), \(cases) cases")
        let styles = ["infura", "alchemy", "quicknode", "geth", "ankr"]
        for i in 0..<cases {
            let from = rng.next() % 4000
            let to = min(4999, from + rng.next() % 1500)
            var directives = ["style=\(styles[Int(rng.next() % 5)])"]
            if rng.next() % 2 == 0 { directives.append("rangecap=\(1 + rng.next() % 300)") }
            if rng.next() % 2 == 0 { directives.append("resultcap=\(3 + rng.next() % 100)") }
            for fault in ["429", "503", "drop", "trunc", "cut"] where rng.next() % 3 == 0 {
                directives.append("\(fault)x\(1 + rng.next() % 2)")
            }
            var scanSettings = LogScanSettings()
            scanSettings.initialRange = 1 + rng.next() % 2000
            scanSettings.additiveIncrease = 1 + rng.next() % 500
            var patient = settings()
            patient.maxRetries = 12
            let client = try RPCClient(urls: [try Stub.path(directives.joined(separator: "/"))], settings: patient)
            let expected = try await truth(from, to)
            let (logs, stats, _) = try await scan("", from, to, scanSettings, client: client)
            XCTAssertEqual(logs, expected, "case \(i): \(from)-\(to) \(directives)")
            print("case \(i): \(from)-\(to) \(directives.joined(separator: "/")): \(logs.count) logs, \(stats.requests) requests, \(client.stats.retries) retries")
        }
    }

    func testChecksRejectInconsistentAnswers() throws {
        let a = RawLog(address: .zero, topics: [], data: [], blockNumber: 5, blockHash: .zero, transactionHash: .zero,
                       transactionIndex: 0, logIndex: 1)
        var logs = [a, a]
        XCTAssertNotNil(LogScanner.check(&logs, from: 0, to: 10), "duplicate")
        logs = [a]
        XCTAssertNotNil(LogScanner.check(&logs, from: 6, to: 10), "outside the range")
        var b = a
        b.logIndex = 0
        b.blockHash = Bytes32(w0: 1, w1: 0, w2: 0, w3: 0)
        logs = [a, b]
        XCTAssertNotNil(LogScanner.check(&logs, from: 0, to: 10), "two hashes for one block")
        b.blockHash = .zero
        logs = [a, b]
        XCTAssertNil(LogScanner.check(&logs, from: 0, to: 10))
        XCTAssertEqual(logs.map(\.logIndex), [0, 1], "sorted into chain order")
    }
}
