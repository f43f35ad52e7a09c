import Foundation
import JSONRPC
@testable import KeeperCore
@testable import KeeperIngest
@testable import KeeperOperations
@testable import KeeperPlanning
@testable import KeeperSubmission
import XCTest

/// The metric catalog: names, types and units follow Prometheus conventions, the golden file and the operator guide
/// table list exactly the catalog, and the exposition (swift-prometheus) renders what the handles record.
final class OperationsMetricsTests: XCTestCase {
    /// `name type` pairs of an exposition's `# TYPE` lines.
    static func families(_ exposition: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in exposition.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { out[String(parts[2])] = String(parts[3]) }
        }
        return out
    }

    static func golden() throws -> [String: String] {
        let text = try String(contentsOf: OpsEnv.repoRoot.appendingPathComponent("Tests/Operations/golden_metrics.txt"), encoding: .utf8)
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            let parts = line.split(separator: " ")
            out[String(parts[0])] = String(parts[1])
        }
        return out
    }

    func testCatalogFollowsPrometheusNaming() {
        var seen = Set<String>()
        for spec in KeeperMetrics.catalog {
            XCTAssertTrue(spec.name.hasPrefix(KeeperMetrics.prefix), spec.name)
            XCTAssertTrue(seen.insert(spec.name).inserted, "duplicate \(spec.name)")
            XCTAssertEqual(spec.kind == .counter, spec.name.hasSuffix("_total"), "\(spec.name): counters and only counters end in _total")
            XCTAssertFalse(spec.help.isEmpty, spec.name)
            if spec.kind == .histogram { XCTAssertTrue(spec.name.hasSuffix("_seconds"), "\(spec.name): histograms here are durations") }
        }
        // The issue's list, names exactly.
        let required = ["build_info", "chain_head_block", "cursor_block", "lag_blocks", "reorgs_total", "reorg_depth_max",
                        "rpc_requests_total", "rpc_request_duration_seconds", "rpc_getlogs_range_blocks", "endpoint_healthy",
                        "reward_events_total", "registered_stakers", "intents", "routed_claims_total", "routed_tokens_total",
                        "tx_sent_total", "tx_replaced_total", "tx_inflight", "tx_confirm_seconds", "nonce_gap", "keeper_balance_eth",
                        "paused", "dry_run", "last_successful_poll_timestamp_seconds", "provider_disagreements_total"]
        for r in required { XCTAssertTrue(seen.contains(KeeperMetrics.prefix + r), "missing \(r)") }
        let labels = Dictionary(uniqueKeysWithValues: KeeperMetrics.catalog.map { ($0.name, $0.labels) })
        XCTAssertEqual(labels["expansion_keeper_rpc_requests_total"], ["endpoint", "method", "outcome"])
        XCTAssertEqual(labels["expansion_keeper_intents"], ["state"])
        XCTAssertEqual(labels["expansion_keeper_build_info"], ["version"])
    }

    func testGoldenFileIsTheCatalog() throws {
        let catalog = Dictionary(uniqueKeysWithValues: KeeperMetrics.catalog.map { ($0.name, $0.kind.rawValue) })
        XCTAssertEqual(try Self.golden(), catalog)
    }

    func testOperatorGuideDocumentsEveryMetric() throws {
        let guide = try String(contentsOf: OpsEnv.repoRoot.appendingPathComponent("deploy/docs/operator-guide.md"), encoding: .utf8)
        guard let start = guide.range(of: "<!-- BEGIN metrics -->"), let end = guide.range(of: "<!-- END metrics -->") else {
            return XCTFail("deploy/docs/operator-guide.md has no metrics table")
        }
        let section = guide[start.upperBound..<end.lowerBound]
        for spec in KeeperMetrics.catalog {
            XCTAssertTrue(section.contains("`\(spec.name)`"), "the operator guide's metrics table does not document \(spec.name)")
            XCTAssertTrue(section.contains("| \(spec.kind.rawValue) |"), "the operator guide's metrics table lacks type \(spec.kind.rawValue)")
        }
    }

    func testFreshExpositionHasEveryFixedFamilyWithHelp() {
        let m = KeeperMetrics(version: "1.2.3")
        let text = m.exposition()
        let families = Self.families(text)
        let runtimeLabelled: Set<String> = ["expansion_keeper_rpc_requests_total", "expansion_keeper_rpc_request_duration_seconds",
                                            "expansion_keeper_endpoint_healthy"]
        for spec in KeeperMetrics.catalog where !runtimeLabelled.contains(spec.name) {
            XCTAssertEqual(families[spec.name], spec.kind.rawValue, spec.name)
            XCTAssertTrue(text.contains("# HELP \(spec.name) "), "no HELP for \(spec.name)")
        }
        XCTAssertTrue(text.contains("expansion_keeper_build_info{version=\"1.2.3\"} 1"), text)
        for state in KeeperMetrics.intentStates { XCTAssertTrue(text.contains("expansion_keeper_intents{state=\"\(state)\"} 0"), state) }
        XCTAssertTrue(text.contains("expansion_keeper_routed_claims_total{outcome=\"routed\"} 0"))
    }

    func testValuesMoveInTheExposition() {
        let m = KeeperMetrics(version: "t")
        m.reorgs.increment()
        m.reorgs.increment()
        m.chainHead.set(Double(12_345))
        m.routedTokens.increment(by: 1.5)
        m.routedClaims(outcome: "routed").increment(by: 3)
        m.intents(state: "pending").set(Double(7))
        m.txConfirm.recordSeconds(4)
        m.rpcRequest(endpoint: "http://127.0.0.1:8545", method: "eth_blockNumber", outcome: "ok", seconds: 0.02)
        let text = m.exposition()
        XCTAssertTrue(text.contains("expansion_keeper_reorgs_total 2\n"), text)
        XCTAssertTrue(text.contains("expansion_keeper_chain_head_block 12345"), text)
        XCTAssertTrue(text.contains("expansion_keeper_routed_tokens_total 1.5"), text)
        XCTAssertTrue(text.contains("expansion_keeper_routed_claims_total{outcome=\"routed\"} 3"), text)
        XCTAssertTrue(text.contains("expansion_keeper_intents{state=\"pending\"} 7"), text)
        XCTAssertTrue(text.contains("expansion_keeper_tx_confirm_seconds_bucket{le=\"5.0\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_tx_confirm_seconds_bucket{le=\"2.0\"} 0"), text)
        XCTAssertTrue(text.contains("expansion_keeper_rpc_requests_total{endpoint=\"http://127.0.0.1:8545\",method=\"eth_blockNumber\",outcome=\"ok\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_rpc_request_duration_seconds_count{method=\"eth_blockNumber\"} 1"), text)
        XCTAssertEqual(Self.families(text)["expansion_keeper_rpc_request_duration_seconds"], "histogram")
    }
}

/// A transport answering from a script, for `InstrumentedTransport`.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    let displayName = "http://node.example:8545"
    let lock = NSLock()
    var answers: [Result<JSONRPC.HTTPResponse, RPCError>]
    init(_ answers: [Result<JSONRPC.HTTPResponse, RPCError>]) { self.answers = answers }
    func post(_ body: [UInt8]) async throws -> JSONRPC.HTTPResponse {
        let next: Result<JSONRPC.HTTPResponse, RPCError> = { lock.lock(); defer { lock.unlock() }; return answers.removeFirst() }()
        return try next.get()
    }
    func shutdown() {}
}

final class OperationsTransportTests: XCTestCase {
    func body(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testRequestsAreCountedByMethodAndOutcomeAndHealthFollows() async throws {
        let ok = JSONRPC.HTTPResponse(status: 200, body: Array(#"{"jsonrpc":"2.0","id":1,"result":"0x10"}"#.utf8))
        let rpcErr = JSONRPC.HTTPResponse(status: 200, body: Array(#"{"jsonrpc":"2.0","id":2,"error":{"code":-32005,"message":"limit"}}"#.utf8))
        let http503 = JSONRPC.HTTPResponse(status: 503, body: [])
        let inner = ScriptedTransport([.success(ok), .success(ok), .success(rpcErr), .success(http503),
                                       .failure(.transport(endpoint: "x", reason: "connection refused", retryable: true))])
        let m = KeeperMetrics(version: "t")
        let health = KeeperHealth(readyMaxLagBlocks: 10, livenessTimeout: .seconds(60))
        let t = InstrumentedTransport(inner, metrics: m, health: health)
        XCTAssertTrue(m.exposition().contains("expansion_keeper_endpoint_healthy{endpoint=\"http://node.example:8545\"} 0"))
        _ = try await t.post(body(#"{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}"#))
        _ = try await t.post(body(#"{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"address":["0x01"],"fromBlock":"0x10","toBlock":"0x1f"}]}"#))
        XCTAssertTrue(m.exposition().contains("expansion_keeper_endpoint_healthy{endpoint=\"http://node.example:8545\"} 1"))
        _ = try await t.post(body(#"[{"jsonrpc":"2.0","id":2,"method":"eth_getBlockByNumber","params":["0x1",false]}]"#))
        _ = try await t.post(body(#"{"jsonrpc":"2.0","id":3,"method":"eth_chainId","params":[]}"#))
        do {
            _ = try await t.post(body(#"{"jsonrpc":"2.0","id":4,"method":"eth_chainId","params":[]}"#))
            XCTFail("the transport error must propagate")
        } catch {}
        let text = m.exposition()
        let e = "endpoint=\"http://node.example:8545\""
        XCTAssertTrue(text.contains("expansion_keeper_rpc_requests_total{\(e),method=\"eth_blockNumber\",outcome=\"ok\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_rpc_requests_total{\(e),method=\"eth_getLogs\",outcome=\"ok\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_rpc_requests_total{\(e),method=\"batch\",outcome=\"rpc_error\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_rpc_requests_total{\(e),method=\"eth_chainId\",outcome=\"http_error\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_rpc_requests_total{\(e),method=\"eth_chainId\",outcome=\"transport_error\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_rpc_getlogs_range_blocks 16"), text)
        XCTAssertTrue(text.contains("expansion_keeper_endpoint_healthy{\(e)} 0"), text)
        XCTAssertTrue(health.readiness().reasons.contains("no healthy RPC endpoint (http://node.example:8545: transport error from x: connection refused)"),
                      "\(health.readiness().reasons)")
    }

    func testAnHTMLAnswerIsAnInvalidResponseAndUnhealthy() async throws {
        let page = JSONRPC.HTTPResponse(status: 200, body: Array("<!DOCTYPE html><html>Sign in</html>".utf8))
        let inner = ScriptedTransport([.success(page)])
        let m = KeeperMetrics(version: "t")
        let health = KeeperHealth(readyMaxLagBlocks: 10, livenessTimeout: .seconds(60))
        let t = InstrumentedTransport(inner, metrics: m, health: health)
        _ = try await t.post(body(#"{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}"#))
        let text = m.exposition()
        XCTAssertTrue(text.contains("method=\"eth_blockNumber\",outcome=\"invalid_response\"} 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_endpoint_healthy{endpoint=\"http://node.example:8545\"} 0"), text)
        XCTAssertTrue(health.liveness().body.contains("answered HTML, not JSON-RPC"), health.liveness().body)
    }

    func testMethodExtractionIsBoundedAndHostileSafe() {
        XCTAssertEqual(InstrumentedTransport.method(of: Array(#"{"method":"eth_call"}"#.utf8)), "eth_call")
        XCTAssertEqual(InstrumentedTransport.method(of: Array(#"  [{"method":"eth_call"}]"#.utf8)), "batch")
        XCTAssertEqual(InstrumentedTransport.method(of: Array(#"{"method":"a\"b c"}"#.utf8)), "unknown")
        XCTAssertEqual(InstrumentedTransport.method(of: Array(#"{"method":"#.utf8)), "unknown")
        XCTAssertEqual(InstrumentedTransport.method(of: Array("".utf8)), "unknown")
        XCTAssertEqual(InstrumentedTransport.method(of: Array(#"{"method": ""#.utf8)), "unknown")
    }
}
