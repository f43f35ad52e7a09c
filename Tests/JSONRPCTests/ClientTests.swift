import EthereumCore
@testable import JSONRPC
import XCTest

/// The transport and the JSON-RPC client against the scripted stub (Tests/Support/rpc_stub_server.py)
/// over real HTTP on loopback.
final class ClientTests: XCTestCase {
    func fast(_ retries: Int = 6) -> RPCSettings {
        var s = RPCSettings()
        s.maxRetries = retries
        s.retryBaseDelay = 0.01
        s.retryMaxDelay = 0.05
        s.endpointBackoffBase = 0.02
        s.endpointBackoffMax = 0.1
        s.transport.requestTimeout = 5
        return s
    }

    func testKeepAliveReusesConnectionsAndNegotiatesGzip() async throws {
        let url = try Stub.path()
        let transport = try CurlTransport(url: url)
        let client = try RPCClient(transports: [transport], settings: fast())
        for _ in 0..<30 { _ = try await client.blockNumber() }
        XCTAssertLessThanOrEqual(transport.connectionsOpened, 2, "30 requests over at most 2 kept-alive connections")
        let accepted = try await client.call("web3_clientVersion", [])
        XCTAssertTrue(accepted.stringValue?.contains("gzip") ?? false, "Accept-Encoding was \(accepted)")
        let chain = try await client.chainID()
        XCTAssertEqual(chain, 1337)  // gzip-compressed answers decode
    }

    func testRetriesThroughFaultsWithTheSameResult() async throws {
        let truthClient = try RPCClient(urls: [try Stub.path()], settings: fast())
        let truth = try await truthClient.logs(LogFilter(), from: 10, to: 60)
        XCTAssertGreaterThan(truth.count, 40)
        for fault in ["503x3", "dropx3", "truncx2", "cutx2", "429x2"] {
            let client = try RPCClient(urls: [try Stub.path(fault)], settings: fast())
            let logs = try await client.logs(LogFilter(), from: 10, to: 60)
            XCTAssertEqual(logs, truth, fault)
            let stats = client.stats
            XCTAssertGreaterThanOrEqual(stats.retries, 2, "\(fault): \(stats)")
            print("fault \(fault): \(stats.retries) retries, \(stats.requests) requests")
        }
    }

    func testRetryAfterIsHonoured() async throws {
        let client = try RPCClient(urls: [try Stub.path("429x1", "ra=1")], settings: fast())
        let start = ContinuousClock.now
        let value46 = try await client.blockNumber()
        XCTAssertEqual(value46, 5000)
        let elapsed = start.duration(to: .now)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(950), "Retry-After: 1 must be waited for")
        XCTAssertEqual(client.stats.http429, 1)
    }

    func testExhaustedRetriesSurfaceTheLastError() async throws {
        let client = try RPCClient(urls: [try Stub.path("503x50")], settings: fast(2))
        do {
            _ = try await client.blockNumber()
            XCTFail("expected an error")
        } catch {
            guard case let .http(_, status, _, body) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(status, 503)
            XCTAssertTrue(body.contains("slow down"))
        }
        XCTAssertEqual(client.stats.requests, 3)
    }

    func testDeterministicErrorsAreNeverRetried() async throws {
        let client = try RPCClient(urls: [try Stub.path()], settings: fast())
        do {
            _ = try await client.call(CallRequest(to: .zero, data: [1, 2]))
            XCTFail("expected a revert")
        } catch {
            guard case let .server(code, message, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(code, 3)
            XCTAssertTrue(message.contains("execution reverted"))
            XCTAssertEqual(error.revertData?.prefix(4), [0x08, 0xc3, 0x79, 0xa0])
        }
        do {
            _ = try await client.estimateGas(CallRequest(to: .zero, data: []))
            XCTFail("expected invalid params")
        } catch {
            guard case let .server(code, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(code, -32602)
        }
        do {
            _ = try await client.call("no_such_method", [])
            XCTFail("expected method not found")
        } catch {
            guard case .server(-32601, _, _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(client.stats.requests, 3, "one request each, no retry")
        XCTAssertEqual(client.stats.retries, 0)
    }

    func testMalformedResponsesGiveTypedErrors() async throws {
        let expectations: [(String, String)] = [
            ("empty", "empty body"), ("array", "expected a JSON-RPC response object"),
            ("noresult", "neither result nor error"), ("both", "both result and error"), ("wrongid", "does not match request id"),
            ("number", "expected a hex string"), ("badhex", "expected a hex quantity"), ("trailing", "trailing bytes"),
            ("deep", "nesting deeper"), ("logmissing", "missing \"blockNumber\""), ("logtype", "expected '['"),
            ("errornocode", "missing code"), ("truncated", "unterminated"),
        ]
        for (bad, text) in expectations {
            let client = try RPCClient(urls: [try Stub.path("bad=\(bad)")], settings: fast(1))
            do {
                if bad == "deep" {
                    _ = try await client.call("eth_anything", [])
                } else if bad.hasPrefix("log") || bad == "truncated" {
                    _ = try await client.logs(LogFilter(), from: 1, to: 2)
                } else {
                    _ = try await client.blockNumber()
                }
                XCTFail("\(bad): expected an error")
            } catch {
                guard case let .decoding(reason, _) = error else { XCTFail("\(bad): \(error)"); continue }
                XCTAssertTrue(reason.contains(text), "\(bad): \(reason)")
            }
            XCTAssertEqual(client.stats.decodingErrors, 2, "\(bad): a garbled body is retried (it may be a truncation), then reported")
        }
        // An HTML page with status 200 (a proxy's error page) is named as such, against its endpoint, and retried.
        let htmlClient = try RPCClient(urls: [try Stub.path("bad=notjson")], settings: fast(1))
        do {
            _ = try await htmlClient.blockNumber()
            XCTFail("notjson: expected an error")
        } catch {
            guard case let .transport(endpoint, reason, _) = error else { XCTFail("notjson: \(error)"); return }
            XCTAssertTrue(reason.contains("answered HTML, not JSON-RPC"), reason)
            XCTAssertTrue(endpoint.hasPrefix("http://127.0.0.1:"), endpoint)
            XCTAssertEqual(htmlClient.stats.transportErrors, 2, "retried once, then reported")
        }
        let nullClient = try RPCClient(urls: [try Stub.path("bad=null")], settings: fast(1))
        do {
            _ = try await nullClient.blockNumber()
            XCTFail("expected null result")
        } catch {
            XCTAssertEqual(error, .nullResult(method: "eth_blockNumber"))
        }
    }

    func testResponseSizeCapAndTimeout() async throws {
        var settings = fast(0)
        settings.transport.maxResponseBytes = 1 << 20
        let client = try RPCClient(urls: [try Stub.path("huge=3000000")], settings: settings)
        do {
            _ = try await client.call("eth_anything", [])
            XCTFail("expected the cap")
        } catch {
            guard case .responseTooLarge(_, 1 << 20) = error else { return XCTFail("\(error)") }
        }
        settings.transport.requestTimeout = 0.3
        let slow = try RPCClient(urls: [try Stub.path("slow=2000")], settings: settings)
        let start = ContinuousClock.now
        do {
            _ = try await slow.blockNumber()
            XCTFail("expected a timeout")
        } catch {
            guard case let .transport(_, reason, retryable) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(retryable)
            XCTAssertTrue(reason.contains("28") || reason.lowercased().contains("timeout"), reason)
        }
        XCTAssertLessThan(start.duration(to: .now), .seconds(1.5))
    }

    func testCancellationAbortsAnInFlightRequest() async throws {
        let client = try RPCClient(urls: [try Stub.path("slow=5000")], settings: fast(0))
        let start = ContinuousClock.now
        let task = Task { try await client.blockNumber() }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch {
            XCTAssertEqual(error as? RPCError, .cancelled)
        }
        XCTAssertLessThan(start.duration(to: .now), .seconds(2))
        client.shutdown()
        do { _ = try await client.blockNumber(); XCTFail("shut down") } catch { XCTAssertEqual(error, .cancelled) }
    }

    func testBatchesAreBoundedAndMatchedByID() async throws {
        var settings = fast()
        settings.maxBatchSize = 3
        let client = try RPCClient(urls: [try Stub.path("batchreverse")], settings: settings)
        let headers = try await client.blocks(Array(100..<110))
        XCTAssertEqual(try headers.map { try $0.get().number }, Array(100..<110))
        XCTAssertEqual(client.stats.requests, 4, "10 calls in batches of at most 3")
        let missing = try RPCClient(urls: [try Stub.path("batchmissing")], settings: settings)
        let results = try await missing.blocks([1, 2, 3])
        XCTAssertEqual(try results[0].get().number, 1)
        XCTAssertEqual(try results[1].get().number, 2)
        guard case let .failure(.decoding(reason, _)) = results[2] else { return XCTFail("\(results[2])") }
        XCTAssertTrue(reason.contains("no answer for id"), reason)
        let beyond = try await client.blocks([6000])
        guard case .failure(.nullResult(method: "eth_getBlockByNumber")) = beyond[0] else { return XCTFail("\(beyond[0])") }
    }

    func testFailoverAndReturnToThePrimary() async throws {
        // The primary drops requests 3..8 of its path (it "dies" and comes back); the secondary is healthy.
        let primary = try Stub.path("down=3-8")
        let secondary = try Stub.path()
        let events = EventLog()
        let client = try RPCClient(urls: [primary, secondary], settings: fast(), observer: { events.add($0) })
        for _ in 0..<40 {
            let value191 = try await client.blockNumber()
            XCTAssertEqual(value191, 5000)
            try await Task.sleep(for: .milliseconds(10))
        }
        let stats = client.stats
        XCTAssertGreaterThanOrEqual(stats.failovers, 2, "to the secondary and back: \(stats)")
        XCTAssertGreaterThan(stats.requestsPerEndpoint[1], 0)
        XCTAssertGreaterThan(stats.requestsPerEndpoint[0], 8, "the primary is used again once it recovers")
        XCTAssertEqual(events.failovers.count, stats.failovers, "every failover is reported to the observer")
        // A dead endpoint (connection refused) fails over at once.
        let dead = try RPCClient(urls: ["http://127.0.0.1:1", secondary], settings: fast())
        let value202 = try await dead.chainID()
        XCTAssertEqual(value202, 1337)
        XCTAssertEqual(dead.stats.failovers, 1)
    }

    func testChainIDMustAgree() async throws {
        let same = try RPCClient(urls: [try Stub.path("chain=8453"), try Stub.path("chain=8453")], settings: fast())
        let value209 = try await same.verifyChainID(expected: 8453)
        XCTAssertEqual(value209, 8453)
        let differ = try RPCClient(urls: [try Stub.path("chain=8453"), try Stub.path("chain=1")], settings: fast())
        do {
            _ = try await differ.verifyChainID()
            XCTFail("expected a mismatch")
        } catch {
            guard case let .chainIdMismatch(details) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(details.contains("8453") && details.contains("reports 1"), details)
        }
        do {
            _ = try await same.verifyChainID(expected: 1)
            XCTFail("expected a mismatch")
        } catch {
            guard case .chainIdMismatch = error else { return XCTFail("\(error)") }
        }
    }

    func testAnEndpointDownAtStartIsCheckedBeforeItsFirstUse() async throws {
        // The primary drops the start-up check (2 attempts) and then reports another chain: it is disabled.
        let events = EventLog()
        let wrong = try RPCClient(urls: [try Stub.path("chain=1", "down=1-2"), try Stub.path("chain=8453")], settings: fast(), observer: { events.add($0) })
        let id = try await wrong.verifyChainID()
        XCTAssertEqual(id, 8453)
        try await Task.sleep(for: .milliseconds(150))  // let the primary's back-off end
        for _ in 0..<3 { _ = try await wrong.blockNumber() }
        XCTAssertEqual(events.disabled.count, 1, "\(events.disabled)")
        XCTAssertEqual(wrong.stats.requestsPerEndpoint[0], 3, "two dropped checks and the one that revealed chain 1")
        // Down at start but on the right chain: verified lazily, then used as the primary.
        let right = try RPCClient(urls: [try Stub.path("chain=8453", "down=1-2"), try Stub.path("chain=8453")], settings: fast())
        _ = try await right.verifyChainID()
        try await Task.sleep(for: .milliseconds(150))  // let the primary's back-off end
        for _ in 0..<3 { _ = try await right.blockNumber() }
        XCTAssertEqual(right.stats.requestsPerEndpoint[0], 6, "2 dropped, 1 lazy check, 3 calls")
        // Nobody answers: the start-up check fails with the last error.
        let none = try RPCClient(urls: ["http://127.0.0.1:1"], settings: fast())
        do { _ = try await none.verifyChainID(); XCTFail("expected an error") } catch {
            guard case .transport = error else { return XCTFail("\(error)") }
        }
    }

    func testClientSideRateLimit() async throws {
        var settings = fast()
        settings.requestsPerSecond = 20
        settings.rateBurst = 1
        let client = try RPCClient(urls: [try Stub.path()], settings: settings)
        let start = ContinuousClock.now
        for _ in 0..<21 { _ = try await client.blockNumber() }
        let elapsed = start.duration(to: .now)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(900), "21 requests at 20/s with burst 1 take about 1 s")
        XCTAssertLessThan(elapsed, .seconds(3))
    }

    func testHTTPSWithAPrivateCA() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-tls-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0, "openssl req")
        let server = try PythonServer(script: "Tests/Support/rpc_stub_server.py", arguments: ["--tls", cert, key])
        defer { server.stop() }
        XCTAssertTrue(server.url.hasPrefix("https://"))
        var settings = fast(3)
        settings.transport.caBundlePath = cert
        let trusted = try RPCClient(urls: [server.url + "/tls"], settings: settings)
        let chain = try await trusted.chainID()
        XCTAssertEqual(chain, 1337)
        // Without the CA the certificate is refused — a permanent error, not retried.
        let untrusted = try RPCClient(urls: [server.url + "/tls"], settings: fast(3))
        do {
            _ = try await untrusted.chainID()
            XCTFail("expected a certificate error")
        } catch {
            guard case let .transport(_, reason, retryable) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(retryable, reason)
        }
        XCTAssertEqual(untrusted.stats.requests, 1)
    }

    func testEndpointNamesHideSecrets() {
        XCTAssertEqual(EndpointName.redact("https://user:pw@base-mainnet.g.alchemy.com/v2/SECRETKEY"), "https://base-mainnet.g.alchemy.com/…")
        XCTAssertEqual(EndpointName.redact("http://127.0.0.1:8545"), "http://127.0.0.1:8545")
        XCTAssertThrowsError(try CurlTransport(url: "ftp://x"))
    }
}

/// Collects client events from any thread.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [RPCEvent] = []
    func add(_ e: RPCEvent) { lock.withLock { items.append(e) } }
    var failovers: [String] {
        lock.withLock { items.compactMap { if case let .failover(from, to) = $0 { return "\(from) → \(to)" }; return nil } }
    }
    var disabled: [String] {
        lock.withLock { items.compactMap { if case let .endpointDisabled(e, r) = $0 { return "\(e): \(r)" }; return nil } }
    }
    var retries: Int { lock.withLock { items.filter { if case .retry = $0 { return true }; return false }.count } }
}
