import Foundation
@testable import KeeperCore
@testable import KeeperIngest
@testable import KeeperOperations
@testable import KeeperPlanning
@testable import KeeperSubmission
import Logging
import ServiceLifecycle
import XCTest

/// The halt guard (a halt keeps the process up, not ready, watchdog fed), the sampler's nonce-gap rule,
/// and the SIGHUP reload's change report.
final class OperationsServicesTests: XCTestCase {
    struct Halting: Service {
        func run() async throws {
            throw EngineError.reorgTooDeep(storedTip: 100, checkedDownTo: 44, window: 56)
        }
    }

    func testAHaltKeepsTheProcessUpNotReadyAndFedUntilSIGTERM() async throws {
        let socket = try NotifySocket()
        defer { socket.close() }
        let monitor = OperationsMonitor(metrics: KeeperMetrics(version: "t"),
                                        health: KeeperHealth(readyMaxLagBlocks: 2, livenessTimeout: .seconds(60)),
                                        notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"]),
                                        logger: Logger(label: "t"))
        let guarded = HaltGuard(Halting(), monitor: monitor, interval: .milliseconds(50), logger: Logger(label: "t"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: guarded)], logger: Logger(label: "t")))
        let run = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(400))
        XCTAssertTrue(monitor.metrics.exposition().contains("expansion_keeper_halted 1"))
        XCTAssertEqual(monitor.health.readiness().ok, false)
        XCTAssertTrue(monitor.health.readiness().reasons.contains { $0.hasPrefix("halted: reorg deeper than reorg_window") })
        XCTAssertTrue(monitor.health.liveness().ok)
        let texts = socket.messages.map(\.text)
        XCTAssertGreaterThanOrEqual(texts.filter { $0 == "WATCHDOG=1" }.count, 4, "\(texts)")
        XCTAssertTrue(texts.contains { $0.hasPrefix("STATUS=halted: reorg deeper than reorg_window") }, "\(texts)")
        await group.triggerGracefulShutdown()
        try await run.value  // a clean exit, not a crash loop
    }

    func testOtherErrorsPassThroughTheGuard() async {
        struct Failing: Service { func run() async throws { throw EngineError.chain("boom") } }
        let monitor = OperationsMonitor(metrics: KeeperMetrics(version: "t"),
                                        health: KeeperHealth(readyMaxLagBlocks: 2, livenessTimeout: .seconds(60)),
                                        notifier: SystemdNotifier(environment: [:]), logger: Logger(label: "t"))
        do {
            try await HaltGuard(Failing(), monitor: monitor, interval: .milliseconds(10), logger: Logger(label: "t")).run()
            XCTFail("must rethrow")
        } catch {
            XCTAssertEqual("\(error)", "boom")
        }
        XCTAssertNil(monitor.health.halted)
    }

    func testMissingNonces() {
        XCTAssertEqual(OperationsSampler.missingNonces(latest: 5, openNonces: []), 0)
        XCTAssertEqual(OperationsSampler.missingNonces(latest: 5, openNonces: [5, 6]), 0)
        XCTAssertEqual(OperationsSampler.missingNonces(latest: 5, openNonces: [3, 4]), 0, "mined, not a gap")
        XCTAssertEqual(OperationsSampler.missingNonces(latest: 5, openNonces: [5, 7]), 1)
        XCTAssertEqual(OperationsSampler.missingNonces(latest: 5, openNonces: [8]), 3)
    }

    func testReloadNamesChangedKeysExceptTheSafeSubset() {
        let a = "[chain]\nchain_id = 1\npoll_interval_ms = 2000\n\n[metrics]\nlisten = \"127.0.0.1:9464\"\nready_max_lag_blocks = 10\n"
        let b = "[chain]\nchain_id = 1\npoll_interval_ms = 500\n\n[metrics]\nlisten = \"127.0.0.1:9465\"\nready_max_lag_blocks = 50\n"
        XCTAssertEqual(ReloadOnHangup.changedKeys(a, b), ["chain.poll_interval_ms", "metrics.listen"])
        XCTAssertEqual(ReloadOnHangup.changedKeys(a, a), [])
    }
}
