import Foundation
@testable import KeeperCore
@testable import KeeperIngest
@testable import KeeperOperations
@testable import KeeperPlanning
@testable import KeeperSubmission
import Logging
import ServiceLifecycle
import XCTest

/// The listen rule, the health verdicts, and the HTTP server in a service group (graceful shutdown is a clean exit).
final class OperationsServerTests: XCTestCase {
    func testListenParsingAndTheLoopbackRule() throws {
        XCTAssertEqual(try MetricsListen.parse("127.0.0.1:9464", allowRemote: false), MetricsListen(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(try MetricsListen.parse("localhost:1", allowRemote: false), MetricsListen(host: "127.0.0.1", port: 1))
        XCTAssertEqual(try MetricsListen.parse("[::1]:9464", allowRemote: false).description, "[::1]:9464")
        XCTAssertEqual(try MetricsListen.parse("127.0.0.2:0", allowRemote: false).port, 0)
        for remote in ["0.0.0.0:9464", "10.1.2.3:9464", "[::]:9464", "[2001:db8::1]:80"] {
            XCTAssertThrowsError(try MetricsListen.parse(remote, allowRemote: false), remote) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("metrics.listen"), text)
                XCTAssertTrue(text.contains("allow_remote = true"), text)
            }
            XCTAssertNoThrow(try MetricsListen.parse(remote, allowRemote: true), remote)
        }
        for bad in ["9464", "host:9464", "127.0.0.1:70000", "127.0.0.1:", "[::1]9464", ":::", "127.0.0.1:-1", "1.2.3:4"] {
            XCTAssertThrowsError(try MetricsListen.parse(bad, allowRemote: true), bad) { error in
                XCTAssertTrue("\(error)".contains("metrics.listen"), "\(error)")
            }
        }
    }

    func testReadinessFlipsOnEachCondition() {
        let h = KeeperHealth(readyMaxLagBlocks: 5, livenessTimeout: .seconds(60))
        XCTAssertTrue(h.liveness().ok)
        XCTAssertEqual(h.readiness().reasons, ["no successful poll yet", "keeper key not loaded", "no healthy RPC endpoint"])
        h.declareEndpoints(["a", "b"])
        h.setEndpoint("a", healthy: true)
        h.setKeyLoaded(true)
        h.pollSucceeded(lag: 5)
        XCTAssertTrue(h.readiness().ok, h.readiness().body)
        XCTAssertEqual(h.readiness().body, "ok\n")
        h.pollSucceeded(lag: 6)  // lagging
        XCTAssertEqual(h.readiness().reasons, ["lagging 6 blocks behind the confirmed head (ready_max_lag_blocks = 5)"])
        h.pollSucceeded(lag: 0)
        h.setEndpoint("a", healthy: false)  // RPC down: the reason is named, and /healthz (still ok) says so
        XCTAssertEqual(h.readiness().reasons, ["no healthy RPC endpoint (a: failing)"])
        h.setEndpoint("a", healthy: false, reason: "answered HTML, not JSON-RPC")
        XCTAssertEqual(h.readiness().reasons, ["no healthy RPC endpoint (a: answered HTML, not JSON-RPC)"])
        XCTAssertTrue(h.liveness().ok)
        XCTAssertEqual(h.liveness().body, "ok\ndegraded: RPC endpoint a failing: answered HTML, not JSON-RPC\n")
        h.setEndpoint("b", healthy: true)  // failover endpoint answers
        XCTAssertTrue(h.readiness().ok)
        h.pollFailed("no usable answer within 15 s")  // a failed poll: not ready until one succeeds again
        XCTAssertEqual(h.readiness().reasons, ["last poll failed: no usable answer within 15 s"])
        XCTAssertTrue(h.liveness().body.contains("degraded: last poll failed"), h.liveness().body)
        h.pollSucceeded(lag: 0)
        XCTAssertTrue(h.readiness().ok)
        h.setHalted("reorg deeper than reorg_window")
        XCTAssertEqual(h.readiness().reasons, ["halted: reorg deeper than reorg_window"])
        XCTAssertTrue(h.liveness().ok, "halted is not dead: the process still answers")
    }

    func testLivenessExpiresWhenTheLoopStopsBeating() async throws {
        let h = KeeperHealth(readyMaxLagBlocks: 5, livenessTimeout: .milliseconds(200))
        h.beat()
        XCTAssertTrue(h.liveness().ok)
        try await Task.sleep(for: .milliseconds(350))
        XCTAssertFalse(h.liveness().ok)
        XCTAssertTrue(h.liveness().body.contains("has not completed an iteration"), h.liveness().body)
        h.beat()
        XCTAssertTrue(h.liveness().ok)
    }

    func testServerAnswersAndStopsCleanlyInAServiceGroup() async throws {
        let metrics = KeeperMetrics(version: "9.9.9")
        let health = KeeperHealth(readyMaxLagBlocks: 3, livenessTimeout: .seconds(60))
        let logger = Logger(label: "test")
        let server = try MetricsServer(listen: MetricsListen.parse("127.0.0.1:0", allowRemote: false), metrics: metrics,
                                       health: health, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        let run = Task { try await group.run() }
        try await server.waitUntilListening()
        let port = try XCTUnwrap(server.boundPort)
        let base = "http://127.0.0.1:\(port)"

        let m = try await httpGet(base + "/metrics")
        XCTAssertEqual(m.status, 200)
        XCTAssertEqual(m.contentType, "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(m.body.contains("expansion_keeper_build_info{version=\"9.9.9\"} 1"), m.body)
        XCTAssertTrue(m.body.contains("expansion_keeper_ready 0"), m.body)

        let live = try await httpGet(base + "/healthz")
        XCTAssertEqual(live.status, 200)
        var ready = try await httpGet(base + "/readyz")
        XCTAssertEqual(ready.status, 503)
        XCTAssertTrue(ready.body.hasPrefix("not ready: no successful poll yet"), ready.body)

        health.setKeyLoaded(true)
        health.setEndpoint("e", healthy: true)
        health.pollSucceeded(lag: 0)
        ready = try await httpGet(base + "/readyz")
        XCTAssertEqual(ready.status, 200)
        XCTAssertEqual(ready.body, "ok\n")
        let scrape = try await httpGet(base + "/metrics")
        XCTAssertTrue(scrape.body.contains("expansion_keeper_ready 1"))

        let missing = try await httpGet(base + "/nope")
        XCTAssertEqual(missing.status, 404)
        let post = try await httpGet(base + "/metrics", method: "POST")
        XCTAssertEqual(post.status, 405)

        await group.triggerGracefulShutdown()
        try await run.value  // must not throw: a graceful shutdown is a clean exit
    }

    func testASecondServerOnTheSamePortFailsWithTheKeyNamed() async throws {
        let metrics = KeeperMetrics(version: "t")
        let health = KeeperHealth(readyMaxLagBlocks: 3, livenessTimeout: .seconds(60))
        let logger = Logger(label: "test")
        let first = try MetricsServer(listen: MetricsListen.parse("127.0.0.1:0", allowRemote: false), metrics: metrics, health: health, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: first)], logger: logger))
        let run = Task { try await group.run() }
        try await first.waitUntilListening()
        let port = try XCTUnwrap(first.boundPort)
        let second = try MetricsServer(listen: MetricsListen(host: "127.0.0.1", port: port), metrics: metrics, health: health, logger: logger)
        do {
            try await second.run()
            XCTFail("binding a used port must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("metrics.listen"), "\(error)")
        }
        await group.triggerGracefulShutdown()
        try await run.value
    }
}
