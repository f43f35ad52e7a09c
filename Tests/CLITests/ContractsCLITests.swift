import Foundation
import XCTest

/// `contracts deploy` error paths through the real binary (the deployment itself runs on the local chain in
/// KeeperEngineTests' SubmissionRig, used by every submission test and by the demo).
final class ContractsCLITests: XCTestCase {
    func testMissingConfigIsOneLineOnStderr() throws {
        let r = try KeeperProcess.run(["contracts", "deploy", "--config", "/nonexistent/keeper.toml"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("/nonexistent/keeper.toml"), r.stderr)
    }

    func testBadOwnerAndArtifactAreNamed() throws {
        let s = try KeysScratch("contracts")
        let abi = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ABI/MockVeniceStaking.json").path
        let cfg = try s.file("k.toml", """
            [chain]
            rpc_urls = ["http://127.0.0.1:9"]
            chain_id = 1337
            [contracts]
            staking = "0x0000000000000000000000000000000000000001"
            staking_abi = "\(abi)"
            treasury = "0x0000000000000000000000000000000000000000"
            [keeper]
            data_dir = "\(s.root)/data"
            dry_run = true
            """)
        let owner = try KeeperProcess.run(["contracts", "deploy", "--config", cfg, "--owner", "0x12"])
        XCTAssertEqual(owner.status, 1)
        XCTAssertTrue(owner.stderr.contains("--owner"), owner.stderr)
        XCTAssertEqual(owner.stdout, "")
        let art = try KeeperProcess.run(["contracts", "deploy", "--config", cfg, "--owner-is-keeper", "--artifact", s.root + "/missing.json"])
        XCTAssertEqual(art.status, 1)
        XCTAssertTrue(art.stderr.contains("missing.json"), art.stderr)
        XCTAssertEqual(art.stderr.split(separator: "\n").count, 1, art.stderr)
    }

    /// Without --owner the hot keeper key would own the treasury: refused before anything is read or sent.
    func testDeployRefusesTheKeeperKeyAsOwnerUnlessExplicit() throws {
        let s = try KeysScratch("contracts-owner")
        let abi = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ABI/MockVeniceStaking.json").path
        let cfg = try s.file("k.toml", """
            [chain]
            rpc_urls = ["http://127.0.0.1:9"]
            chain_id = 1337
            [contracts]
            staking = "0x0000000000000000000000000000000000000001"
            staking_abi = "\(abi)"
            treasury = "0x0000000000000000000000000000000000000000"
            [keeper]
            data_dir = "\(s.root)/data"
            dry_run = true
            """)
        let r = try KeeperProcess.run(["contracts", "deploy", "--config", cfg])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("--owner") && r.stderr.contains("--owner-is-keeper"), r.stderr)
        let both = try KeeperProcess.run(["contracts", "deploy", "--config", cfg, "--owner-is-keeper",
                                          "--owner", "0x0000000000000000000000000000000000000002"])
        XCTAssertEqual(both.status, 1)
        XCTAssertTrue(both.stderr.contains("not both"), both.stderr)
    }
}
