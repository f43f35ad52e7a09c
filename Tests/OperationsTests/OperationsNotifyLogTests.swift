import Foundation
@testable import KeeperCore
@testable import KeeperIngest
@testable import KeeperOperations
@testable import KeeperPlanning
@testable import KeeperSubmission
import Logging
import XCTest

/// The systemd notify protocol against a test-provided $NOTIFY_SOCKET, a hung loop losing its watchdog,
/// and the log formats (JSON parses; nothing that looks like key material is written).
final class OperationsNotifyTests: XCTestCase {
    func monitor(_ socket: NotifySocket?, watchdog: Bool = true, liveness: Duration = .seconds(60)) -> OperationsMonitor {
        var env: [String: String] = [:]
        if let socket { env["NOTIFY_SOCKET"] = socket.path }
        if watchdog { env["WATCHDOG_USEC"] = "2000000" }
        return OperationsMonitor(metrics: KeeperMetrics(version: "t"),
                                 health: KeeperHealth(readyMaxLagBlocks: 2, livenessTimeout: liveness),
                                 notifier: SystemdNotifier(environment: env), logger: Logger(label: "test"))
    }

    func testReadyStatusWatchdogStopping() async throws {
        let socket = try NotifySocket()
        defer { socket.close() }
        let m = monitor(socket)
        XCTAssertEqual(m.notifier.watchdogInterval, .seconds(2))
        m.pollSucceeded(cursor: 101, target: 150, store: nil)  // 50 behind
        m.pollSucceeded(cursor: 151, target: 150, store: nil)  // caught up
        m.pollSucceeded(cursor: 151, target: 150, store: nil)  // same status: not re-sent
        m.pollFailed(EngineError.chain("connection refused"))
        m.stopping()
        try await Task.sleep(for: .milliseconds(300))
        let texts = socket.messages.map(\.text)
        XCTAssertEqual(texts, [
            "READY=1\nSTATUS=catching up: block 100 of 150 (50 behind)",
            "WATCHDOG=1",
            "STATUS=caught up at block 150",
            "WATCHDOG=1",
            "WATCHDOG=1",
            "STATUS=poll failed, retrying: connection refused",
            "WATCHDOG=1",
            "STOPPING=1\nSTATUS=stopping",
        ])
    }

    func testAbstractSocketNamesAndNoSocketAreHandled() {
        let none = SystemdNotifier(environment: [:])
        XCTAssertFalse(none.isActive)
        XCTAssertFalse(none.send("READY=1"))
        XCTAssertNil(none.watchdogInterval)
        // WATCHDOG_PID naming another process disables the watchdog for us (sd_watchdog_enabled semantics).
        let other = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@nobody-listens", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"])
        XCTAssertNil(other.watchdogInterval)
        XCTAssertFalse(other.send("READY=1"), "nobody listens on that abstract name")
        let tooLong = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)])
        XCTAssertFalse(tooLong.send("READY=1"))
    }

    /// A loop that beats every 50 ms, then hangs: WATCHDOG stops with it and /healthz turns 503.
    func testAHungLoopStopsTheWatchdog() async throws {
        let socket = try NotifySocket()
        defer { socket.close() }
        let m = monitor(socket, liveness: .milliseconds(400))
        let hang = AsyncStream<Void>.makeStream()
        let loop = Task {
            for i in 0..<8 {
                m.pollSucceeded(cursor: UInt64(10 + i), target: UInt64(10 + i), store: nil)
                try await Task.sleep(for: .milliseconds(50))
            }
            for await _ in hang.stream {}  // hung: never resumes until the test ends it
        }
        try await Task.sleep(for: .milliseconds(500))
        let hungAt = ContinuousClock.now
        let beforeHang = socket.messages.filter { $0.text == "WATCHDOG=1" }.count
        XCTAssertEqual(beforeHang, 8)
        try await Task.sleep(for: .milliseconds(700))
        let after = socket.messages.filter { $0.text == "WATCHDOG=1" && $0.at > hungAt }
        XCTAssertEqual(after.count, 0, "a hung loop must not ping the watchdog")
        XCTAssertFalse(m.health.liveness().ok, "and /healthz says so")
        hang.continuation.finish()
        _ = try await loop.value
    }

    func testHaltMakesNotReadyAndCountsDisagreements() {
        let m = monitor(nil)
        m.halted(EngineError.providerDisagreement(from: 1, to: 2, details: "x"))
        let text = m.metrics.exposition()
        XCTAssertTrue(text.contains("expansion_keeper_halted 1"), text)
        XCTAssertTrue(text.contains("expansion_keeper_provider_disagreements_total 1"), text)
        XCTAssertTrue(m.health.readiness().reasons.contains { $0.hasPrefix("halted: providers disagree") })
    }
}

final class OperationsLogTests: XCTestCase {
    static let testKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

    func render(_ format: LogFormat, _ message: String, _ metadata: Logger.Metadata) -> String {
        KeeperLogHandler.render(format: format, date: Date(timeIntervalSince1970: 1_700_000_000.25), level: .info,
                                label: "expansion-keeper", message: message, metadata: metadata, source: "t")
    }

    func testJSONLinesParseAndCarryTheIdentifiers() throws {
        let line = render(.json, "routed claim \"quoted\"\nsecond line", [
            "staker": "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4", "block": "123", "log_index": "4",
            "tx_hash": .string("0x" + String(repeating: "ab", count: 32)), "nonce": "7", "tab": "a\tb\u{1}",
        ])
        XCTAssertTrue(line.hasSuffix("}\n"))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one line per event")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        XCTAssertEqual(object["msg"], "routed claim \"quoted\"\nsecond line")
        XCTAssertEqual(object["level"], "info")
        XCTAssertEqual(object["ts"], "2023-11-14T22:13:20.250Z")
        XCTAssertEqual(object["staker"], "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4")
        XCTAssertEqual(object["tx_hash"], "0x" + String(repeating: "ab", count: 32), "hashes are identifiers, kept")
        XCTAssertEqual(object["tab"], "a\tb\u{1}")
    }

    func testNothingShapedLikeKeyMaterialIsWritten() {
        for format in LogFormat.allCases {
            let line = render(format, "loaded", [
                "password": "hunter2", "private_key": .string("0x" + Self.testKey), "detail": "key=\(Self.testKey)",
                "keystore_json": "{}", "block_hash": .string("0x" + Self.testKey),
            ])
            XCTAssertFalse(line.contains("hunter2"), line)
            XCTAssertEqual(line.components(separatedBy: Self.testKey).count - 1, 1, "only the field labelled as a hash keeps 64 hex digits: \(line)")
            XCTAssertTrue(line.contains("<redacted>"), line)
        }
    }

    func testTextFormatIsOneGreppableLine() {
        let line = render(.text, "batch sent", ["tx_hash": "0xab", "nonce": "3", "claims": "block 5 log 2"])
        XCTAssertEqual(line, "2023-11-14T22:13:20.250Z info expansion-keeper: batch sent claims=\"block 5 log 2\" nonce=3 tx_hash=0xab\n")
    }

    func testHandlerLevelFollowsTheProcessLevelAndCollects() {
        let sink = LogSink.collecting()
        var logger = Logger(label: "x") { label in KeeperLogHandler(label: label, format: .json, sink: sink) }
        let saved = LogSetup.level
        defer { LogSetup.level = saved }
        LogSetup.level = .warning
        logger.info("hidden")
        logger.warning("shown", metadata: ["k": "v"])
        LogSetup.level = .debug  // what SIGHUP re-applies takes effect at once
        logger.debug("now shown")
        XCTAssertEqual(sink.lines.count, 2, "\(sink.lines)")
        logger.logLevel = .error
        logger.warning("overridden away")
        XCTAssertEqual(sink.lines.count, 2)
        XCTAssertEqual(LogSetup.level("WARNING"), .warning)
        XCTAssertNil(LogSetup.level("loud"))
        XCTAssertEqual(LogSetup.format("json"), .json)
        XCTAssertNil(LogSetup.format("xml"))
    }
}
