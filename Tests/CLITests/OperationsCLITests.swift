import Foundation
import XCTest

/// The operations surface of the CLI: `[metrics]` keys validated by `config check` (the loopback rule,
/// `ready_max_lag_blocks`), and `run`'s `--log-format`/`--log-level` refusing unknown values with one line.
final class OperationsCLITests: XCTestCase {
    func config(_ scratch: KeysScratch, metrics: String) throws -> String {
        let abi = KeeperProcess.repoRoot.appendingPathComponent("ABI/MockVeniceStaking.json").path
        return try scratch.file("keeper.toml", """
        [chain]
        rpc_urls = ["http://127.0.0.1:1"]
        chain_id = 1337
        [contracts]
        staking = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
        staking_abi = "\(abi)"
        treasury = "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"
        [keeper]
        data_dir = "data"
        dry_run = true
        simulate_from = "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"
        [metrics]
        \(metrics)
        """)
    }

    func testConfigCheckAppliesTheLoopbackRule() throws {
        let s = try KeysScratch("ops")
        var r = try KeeperProcess.run(["config", "check", "--config", try config(s, metrics: "listen = \"0.0.0.0:9464\"")])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("metrics.listen") && r.stderr.contains("allow_remote = true"), r.stderr)
        r = try KeeperProcess.run(["config", "check", "--config", try config(s, metrics: "listen = \"0.0.0.0:9464\"\nallow_remote = true")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("allow_remote = true"), r.stdout)
        r = try KeeperProcess.run(["config", "check", "--config", try config(s, metrics: "listen = \"[::1]:9464\"\nready_max_lag_blocks = 25")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("ready_max_lag_blocks = 25"), r.stdout)
        r = try KeeperProcess.run(["config", "check", "--config", try config(s, metrics: "listen = \"127.0.0.1:9464\"\nready_max_lag_blocks = -1")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("metrics.ready_max_lag_blocks"), r.stderr)
    }

    func testRunRefusesUnknownLogFormatAndLevel() throws {
        let s = try KeysScratch("ops")
        let cfg = try config(s, metrics: "listen = \"127.0.0.1:0\"")
        assertCLIFailure(try KeeperProcess.run(["run", "--config", cfg, "--log-format", "xml"]), contains: "--log-format xml")
        assertCLIFailure(try KeeperProcess.run(["run", "--config", cfg, "--log-level", "loud"]), contains: "--log-level loud")
        let remote = try config(s, metrics: "listen = \"10.0.0.1:9464\"")
        assertCLIFailure(try KeeperProcess.run(["run", "--config", remote]), contains: "metrics.listen")
    }
}
