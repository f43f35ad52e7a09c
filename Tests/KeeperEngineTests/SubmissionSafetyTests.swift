import EthereumCore
import Foundation
import KeeperStore
import XCTest

/// Safety controls on a real chain with the real daemon: dry-run sends nothing; the pause file stops new
/// batches but not the settlement of a batch already sent; a key that is not an enabled keeper refuses to start.
final class SubmissionSafetyTests: XCTestCase {
    func testDryRunSendsNothing() async throws {
        let rig = try SubmissionRig()
        let before = try await rig.nonces()
        try rig.startDaemon(extraEnvironment: ["EXPANSION_KEEPER_KEEPER_DRY_RUN": "true"])
        try rig.scenario(["claim", "--advance", "30", "--rounds", "2"])
        let planned = try await rig.settle(timeout: 30) { rig.log().contains("dry-run: would send a routing batch") }
        for _ in 0..<5 { try await rig.chain.mine(1); try await Task.sleep(for: .milliseconds(200)) }
        rig.stopDaemon()
        XCTAssertTrue(planned, "no dry-run plan logged:\n\(rig.log().suffix(2000))")
        let after = try await rig.nonces()
        XCTAssertEqual(after.latest, before.latest, "dry-run changed the keeper's nonce")
        XCTAssertEqual(after.pending, before.pending, "dry-run put a transaction in the pool")
        XCTAssertEqual(try rig.store().read { r in try r.journal().count }, 0, "dry-run journaled a transaction")
        XCTAssertGreaterThan(try rig.store().read { r in try r.intents(states: [.pending]).count }, 0, "nothing was planned")
    }

    func testPauseFileStopsNewBatchesButNotSettlement() async throws {
        let rig = try SubmissionRig(confirmations: 3)
        try rig.startDaemon()
        try rig.scenario(["claim", "--advance", "30"])
        // Wait until a batch is journaled (sent) but before it is settled, then pause.
        let sent = try await rig.settle(timeout: 30, interval: 0.1) {
            try rig.store().read { r in try r.journal(states: [.sent, .mined]).count } > 0
        }
        XCTAssertTrue(sent, "no batch sent:\n\(rig.log().suffix(2000))")
        _ = FileManager.default.createFile(atPath: rig.dataDir + "/PAUSE", contents: nil)
        try await Task.sleep(for: .milliseconds(400))  // > one poll: the pause is in force
        let atPause = try await rig.nonces()
        try rig.scenario(["claim", "--advance", "30"])
        for _ in 0..<8 { try await rig.chain.mine(1); try await Task.sleep(for: .milliseconds(200)) }
        let inPause = try await rig.nonces()
        XCTAssertEqual(inPause.pending, atPause.pending, "a new batch was sent while paused")
        let (open, pending, confirmed) = try rig.store().read { r in
            (try r.openNonces().count, try r.intents(states: [.pending]).count, try r.journal(states: [.confirmed]).count)
        }
        XCTAssertEqual(open, 0, "the batch in flight was not settled while paused")
        XCTAssertGreaterThan(confirmed, 0)
        XCTAssertGreaterThan(pending, 0, "new claims should wait while paused")
        XCTAssertTrue(rig.log().contains("new batches deferred"), "the pause is not logged")
        try FileManager.default.removeItem(atPath: rig.dataDir + "/PAUSE")
        let resumed = try await rig.settle(timeout: 30) { try rig.store().read { r in try r.intents(states: [.pending, .sent]).count } == 0 }
        rig.stopDaemon()
        XCTAssertTrue(resumed, "submission did not resume after the pause file was removed:\n\(rig.log().suffix(2000))")
    }

    func testNonKeeperKeyRefusesToStart() async throws {
        let rig = try SubmissionRig()
        // Another key in the same config: not enabled on the treasury.
        let pw = rig.dir.appendingPathComponent("password").path
        let other = try Env.run(Env.binary, ["keys", "new", "--keystore-dir", rig.dir.appendingPathComponent("ks2").path, "--password-file", pw, "--light"])
        let path = String(other.out.split(separator: "\n")[1])
        var text = try String(contentsOfFile: rig.configPath, encoding: .utf8)
        text = text.replacingOccurrences(of: #"keystore = "[^"]*""#, with: "keystore = \"\(path)\"", options: .regularExpression)
        try text.write(toFile: rig.configPath, atomically: true, encoding: .utf8)
        let r = try Env.run(Env.binary, ["run", "--config", rig.configPath])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("is not an enabled keeper on treasury"), r.err)
    }
}
