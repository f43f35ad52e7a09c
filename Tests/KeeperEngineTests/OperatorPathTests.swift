import EthereumCore
import Foundation
import KeeperStore
import XCTest

/// The operator's path on a real local chain with the real binary (issue 17): plan's default sender and exit
/// status, the pause file's one default, status/plan refusing another chain id, status's lag and in-flight
/// list, the password sources of the rescue commands, and config check / run errors that name their key.
final class OperatorPathTests: XCTestCase {
    /// Runs the binary with the current environment plus `env` (and without the rig-irrelevant password overrides).
    func keeper(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        var e = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("EXPANSION_KEEPER_") || $0.key == "EXPANSION_KEEPER_PYTHON" }
        e.removeValue(forKey: "CREDENTIALS_DIRECTORY")
        for (k, v) in env { e[k] = v }
        return try Env.run(Env.binary, args, environment: e)
    }

    func json(_ r: (status: Int32, out: String, err: String)) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]) ?? [:]
    }

    /// Claims ingested and planned (pending intents) with the daemon's one-shot catch-up.
    func ingest(_ rig: SubmissionRig) throws {
        try rig.scenario(["claim", "--advance", "30"])
        let r = try keeper(["run", "--config", rig.configPath, "--exit-when-caught-up"])
        XCTAssertEqual(r.status, 0, r.err)
    }

    func testPlanSimulatesFromTheKeystoreAddressAndExitsNonZeroOnRevert() async throws {
        let rig = try SubmissionRig()
        try ingest(rig)
        let ok = try keeper(["plan", "--config", rig.configPath, "--json"])
        XCTAssertEqual(ok.status, 0, ok.err + ok.out)
        let doc = json(ok)
        XCTAssertEqual((doc["simulate_from"] as? String)?.lowercased(), rig.keeper.lowercased(), "plan did not default to the keeper's address")
        let batches = doc["batches"] as? [[String: Any]] ?? []
        XCTAssertFalse(batches.isEmpty, "nothing planned: \(ok.out)")
        XCTAssertTrue(batches.allSatisfy { $0["reverted"] is NSNull }, "an enabled keeper's batch reverted: \(ok.out)")
        // Simulated from an address that is not a keeper: the batch reverts, the report is printed, exit 1.
        let bad = try keeper(["plan", "--config", rig.configPath],
                             env: ["EXPANSION_KEEPER_KEEPER_SIMULATE_FROM": "0x0000000000000000000000000000000000000001"])
        XCTAssertEqual(bad.status, 1, bad.out + bad.err)
        XCTAssertTrue(bad.out.contains("eth_call REVERTS"), bad.out)
        XCTAssertTrue(bad.err.contains("reverts in simulation"), bad.err)
    }

    func testPauseFileDefaultIsDataDirPauseEverywhere() async throws {
        let rig = try SubmissionRig()
        let check = try keeper(["config", "check", "--config", rig.configPath])
        XCTAssertEqual(check.status, 0, check.err)
        XCTAssertTrue(check.out.contains("pause_file = \"\(rig.dataDir)/PAUSE\""), check.out)
        try ingest(rig)
        _ = FileManager.default.createFile(atPath: rig.dataDir + "/PAUSE", contents: nil)
        let status = try keeper(["status", "--config", rig.configPath])
        XCTAssertEqual(status.status, 0, status.err)
        XCTAssertTrue(status.out.contains("paused (pause file present)"), status.out)
    }

    func testStatusAndPlanRefuseAnotherChainAndLagHasOneDefinition() async throws {
        let rig = try SubmissionRig()
        try ingest(rig)
        try await rig.chain.mine(3)
        let text = try keeper(["status", "--config", rig.configPath])
        let doc = json(try keeper(["status", "--config", rig.configPath, "--json"]))
        let target = doc["confirmed_target"] as? Int ?? -1, last = doc["last_ingested_block"] as? Int ?? -1, lag = doc["lag_blocks"] as? Int ?? -1
        XCTAssertEqual(lag, target - last, "lag is not confirmed target − last ingested block (the metric's definition): \(doc)")
        XCTAssertGreaterThan(lag, 0)
        XCTAssertTrue(text.out.contains("lag") && text.out.contains("\(lag) blocks"), "text and --json disagree:\n\(text.out)\n\(doc)")
        for command in ["status", "plan"] {
            let r = try keeper([command, "--config", rig.configPath], env: ["EXPANSION_KEEPER_CHAIN_CHAIN_ID": "8453"])
            XCTAssertEqual(r.status, 1, "\(command): \(r.out)")
            XCTAssertTrue(r.err.contains("chain.chain_id") && r.err.contains("8453") && r.err.contains("\(rig.chain.chainID)"), "\(command): \(r.err)")
            XCTAssertEqual(r.out, "", "\(command) reported on another chain")
        }
    }

    /// The systemd layout: password_file names the unit's credential, which does not exist outside the unit.
    func testRescueCommandsTakeEveryPasswordSourceAndStatusListsTheNonce() async throws {
        let rig = try SubmissionRig()
        let pw = rig.dir.appendingPathComponent("password").path
        var text = try String(contentsOfFile: rig.configPath, encoding: .utf8)
        text = text.replacingOccurrences(of: #"password_file = "[^"]*""#,
                                         with: "password_file = \"/run/credentials/expansion-keeper.service/keeper-password\"",
                                         options: .regularExpression)
        try text.write(toFile: rig.configPath, atomically: true, encoding: .utf8)
        let start = try await rig.nonces().pending
        // Nothing but the missing credential path: the error names the key and the alternatives.
        let none = try keeper(["tx", "cancel", "--config", rig.configPath, "--nonce", "\(start)"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.err.contains("keeper.password_file") && none.err.contains("--password-file")
                      && none.err.contains("EXPANSION_KEEPER_PASSWORD_FILE"), none.err)
        // --password-file, then EXPANSION_KEEPER_PASSWORD_FILE, then the systemd credential directory.
        let credentials = rig.dir.appendingPathComponent("credentials")
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: pw, toPath: credentials.appendingPathComponent("keeper-password").path)
        let sources: [([String], [String: String])] = [
            (["--password-file", pw], [:]),
            ([], ["EXPANSION_KEEPER_PASSWORD_FILE": pw]),
            ([], ["CREDENTIALS_DIRECTORY": credentials.path]),
        ]
        var hashes: [UInt64: String] = [:]
        for (i, (args, env)) in sources.enumerated() {
            let nonce = start + UInt64(i)
            let r = try keeper(["tx", "cancel", "--config", rig.configPath, "--nonce", "\(nonce)"] + args, env: env)
            XCTAssertEqual(r.status, 0, "source \(i): \(r.err)")
            hashes[nonce] = json(r)["hash"] as? String
        }
        // config check accepts the credential directory instead of password_file (and decrypts the key with it).
        let check = try keeper(["config", "check", "--config", rig.configPath], env: ["CREDENTIALS_DIRECTORY": credentials.path])
        XCTAssertEqual(check.status, 0, check.err)
        // status lists each journaled nonce not yet final: nonce, hash, age, fees.
        let doc = json(try keeper(["status", "--config", rig.configPath, "--json"]))
        let listed = doc["in_flight"] as? [[String: Any]] ?? []
        XCTAssertEqual(listed.count, 3, "\(doc)")
        for f in listed {
            let nonce = UInt64(f["nonce"] as? Int ?? -1)
            XCTAssertEqual(f["hash"] as? String, hashes[nonce], "\(f)")
            XCTAssertNotNil(f["age_seconds"] as? Int)
            XCTAssertNotNil(f["max_fee_per_gas"] as? String)
        }
        let table = try keeper(["status", "--config", rig.configPath])
        XCTAssertTrue(table.out.contains("nonce \(start)") && table.out.contains(hashes[start] ?? "-"), table.out)
    }

    func testErrorsNameTheirConfigKey() async throws {
        let rig = try SubmissionRig()
        let pw = rig.dir.appendingPathComponent("password").path
        let staking = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: rig.statePath))) as? [String: Any]
        let stakingAddress = staking?["staking"] as? String ?? ""
        let nobody = try Address("0x00000000000000000000000000000000000b0b0b").checksummed
        func fails(_ args: [String], _ env: [String: String], _ needles: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try keeper(args, env: env)
            XCTAssertEqual(r.status, 1, "\(args) \(env): \(r.out)", file: file, line: line)
            for n in needles { XCTAssertTrue(r.err.contains(n), "\(args) \(env): missing \(n) in\n\(r.err)", file: file, line: line) }
        }
        let check = ["config", "check", "--config", rig.configPath]
        try fails(check, ["EXPANSION_KEEPER_CONTRACTS_TREASURY": nobody], ["contracts.treasury", "no contract code"])
        try fails(["run", "--config", rig.configPath], ["EXPANSION_KEEPER_CONTRACTS_TREASURY": nobody],
                  ["contracts.treasury", "no contract code"])
        try fails(check, ["EXPANSION_KEEPER_CONTRACTS_TREASURY": stakingAddress], ["contracts.treasury", "not an ExpansionTreasury"])
        // A data_dir below a regular file cannot be created, whoever runs the check.
        try fails(check, ["EXPANSION_KEEPER_KEEPER_DATA_DIR": pw + "/data"], ["keeper.data_dir", "not writable"])
        try fails(["run", "--config", rig.configPath], ["EXPANSION_KEEPER_KEEPER_DATA_DIR": pw + "/data"], ["keeper.data_dir"])
        let wrong = rig.dir.appendingPathComponent("wrong-password").path
        try "not the password\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        chmod(wrong, 0o600)
        try fails(check, ["EXPANSION_KEEPER_PASSWORD_FILE": wrong], ["keeper.keystore", "does not decrypt"])
        try fails(check, ["EXPANSION_KEEPER_KEPER_DATA_DIR": "/tmp/x"], ["EXPANSION_KEEPER_KEPER_DATA_DIR", "did you mean KEEPER"])
        // run prints every config error, not only the first.
        try fails(["run", "--config", rig.configPath], ["EXPANSION_KEEPER_KEEPER_MAX_BATCH": "0", "EXPANSION_KEEPER_CHAIN_REORG_WINDOW": "0"],
                  ["keeper.max_batch", "chain.reorg_window"])
        // A mock staking ABI is fine on the local chain, a warning elsewhere (the check itself still fails on the chain id).
        let local = try keeper(check)
        XCTAssertEqual(local.status, 0, local.err)
        XCTAssertFalse(local.err.contains("test double"), local.err)
        let base = try keeper(check + ["--offline"], env: ["EXPANSION_KEEPER_CHAIN_CHAIN_ID": "8453"])
        XCTAssertEqual(base.status, 0, base.err)
        XCTAssertTrue(base.err.contains("contracts.staking_abi") && base.err.contains("test double"), base.err)
    }
}
