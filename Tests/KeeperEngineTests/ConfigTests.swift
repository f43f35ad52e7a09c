import EthereumABI
import EthereumCore
import Foundation
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperSubmission
import XCTest

/// Every class of config error gives the documented message naming the key (and line); `config check`
/// prints every error and exits 1, or the effective configuration and exits 0.
final class ConfigTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try Env.tempDir("config") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var abi: String { Env.repoRoot.appendingPathComponent("ABI/MockVeniceStaking.json").path }

    func good(_ replace: [String: String] = [:], append: String = "") -> String {
        var text = """
        [chain]
        rpc_urls = ["https://user:secret@rpc.example.com/v2/APIKEY123"]
        chain_id = 8453
        confirmations = 3

        [contracts]
        staking = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
        staking_abi = "\(abi)"
        reward_event = "Claimed"
        reward_staker_field = "user"
        reward_amount_field = "amount"
        treasury = "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"

        [keeper]
        data_dir = "data"
        dry_run = true

        """
        for (k, v) in replace { text = text.replacingOccurrences(of: k, with: v) }
        return text + append
    }

    func issues(_ text: String, env: [String: String] = [:]) throws -> [ConfigIssue] {
        let path = dir.appendingPathComponent("k.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try KeeperConfig.load(path: path, environment: env, sections: [MetricsSettings.self])
            return []
        } catch {
            guard case let .config(list) = error else { throw error }
            return list
        }
    }

    func testGoodConfigLoadsWithDefaultsAndRedactsSecrets() throws {
        XCTAssertEqual(try issues(good()), [])
        let path = dir.appendingPathComponent("k.toml").path
        let cfg = try KeeperConfig.load(path: path, environment: ["EXPANSION_KEEPER_KEEPER_MAX_BATCH": "7"], sections: [MetricsSettings.self])
        XCTAssertEqual(cfg.keeper.maxBatch, 7, "environment override")
        XCTAssertEqual(cfg.chain.reorgWindow, 256)
        XCTAssertEqual(cfg.keeper.dataDir, dir.appendingPathComponent("data").standardizedFileURL.path, "relative to the config file")
        let text = cfg.renderTOML()
        XCTAssertFalse(text.contains("user:secret") || text.contains("APIKEY123"), text)
        XCTAssertTrue(text.contains("rpc.example.com"), text)
    }

    func testUnknownKeyNamesKeyAndLine() throws {
        let list = try issues(good(["confirmations = 3": "confirmations = 3\nrpc_url = \"x\""]))
        XCTAssertEqual(list.count, 1)
        XCTAssertEqual(list.first?.key, "chain.rpc_url")
        XCTAssertEqual(list.first?.line, 5)
        XCTAssertTrue(list.first?.description.hasPrefix("config: chain.rpc_url (line 5): unknown key") == true, "\(list)")
        let section = try issues(good(append: "[chian]\nx = 1\n"))
        XCTAssertTrue(section.contains { $0.key == "chian" && $0.message.contains("unknown section") }, "\(section)")
    }

    func testSubmissionKeysParseExactlyAndBadValuesNameTheirKey() throws {
        let keys = """
        replace_after_blocks = 5
        max_routed_per_day = "1000.5"
        max_routed_per_tx = "0.000000000000000001"
        min_balance_eth = "0.25"
        max_revert_attempts = 7
        max_in_flight = 2

        """
        let path = dir.appendingPathComponent("k.toml").path
        XCTAssertEqual(try issues(good(append: keys)), [])
        let cfg = try KeeperConfig.load(path: path, environment: [:], sections: [MetricsSettings.self])
        XCTAssertEqual(cfg.keeper.replaceAfterBlocks, 5)
        XCTAssertEqual(cfg.keeper.maxRoutedPerDayWei, try UInt256(decimal: "1000500000000000000000"))
        XCTAssertEqual(cfg.keeper.maxRoutedPerTxWei, UInt256(UInt64(1)))
        XCTAssertEqual(cfg.keeper.minBalanceWei, try UInt256(decimal: "250000000000000000"))
        XCTAssertEqual(cfg.keeper.maxRevertAttempts, 7)
        XCTAssertEqual(cfg.keeper.maxInFlight, 2)
        let settings = SubmissionSettings(config: cfg)
        XCTAssertEqual(settings.replaceAfterBlocks, 5)
        XCTAssertEqual(settings.maxRoutedPerTx, UInt256(UInt64(1)))
        XCTAssertEqual(settings.maxInFlight, 2)
        let text = cfg.renderTOML()
        XCTAssertTrue(text.contains("max_routed_per_day_wei = \"1000500000000000000000\"") && text.contains("min_balance_eth = \"0.25\""), text)

        let defaults = try KeeperConfig.load(path: { try! good().write(toFile: path, atomically: true, encoding: .utf8); return path }(),
                                             environment: ["EXPANSION_KEEPER_KEEPER_MAX_ROUTED_PER_TX": "2.5",
                                                           "EXPANSION_KEEPER_KEEPER_REPLACE_AFTER_BLOCKS": "9"])
        XCTAssertEqual(defaults.keeper.maxRoutedPerTxWei, try UInt256(decimal: "2500000000000000000"), "generic environment override")
        XCTAssertEqual(defaults.keeper.replaceAfterBlocks, 9)
        XCTAssertNil(defaults.keeper.maxRoutedPerDayWei)
        XCTAssertEqual(defaults.keeper.minBalanceWei, try UInt256(decimal: "10000000000000000"), "0.01 ETH by default")
        XCTAssertEqual(defaults.keeper.maxRevertAttempts, 3)
        XCTAssertEqual(defaults.keeper.maxInFlight, 4)

        let tooPrecise = good(append: "max_routed_per_tx = \"0.0000000000000000001\"\n")
        let bad = try issues(tooPrecise)
        XCTAssertEqual(bad.map(\.key), ["keeper.max_routed_per_tx"], "\(bad)")
        let line = tooPrecise.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("max_routed_per_tx") }.map { $0 + 1 }
        XCTAssertEqual(bad.first?.line, line)
        XCTAssertTrue(bad.first?.message.contains("at most 18 decimals") == true, "\(bad)")
        for (value, key) in [("min_balance_eth = 0.5", "keeper.min_balance_eth"), ("max_routed_per_day = \"-1\"", "keeper.max_routed_per_day"),
                             ("max_routed_per_day = \"1e18\"", "keeper.max_routed_per_day"), ("max_routed_per_tx = \"1.\"", "keeper.max_routed_per_tx"),
                             ("replace_after_blocks = 0", "keeper.replace_after_blocks"), ("max_in_flight = \"two\"", "keeper.max_in_flight"),
                             ("max_revert_attempts = -1", "keeper.max_revert_attempts"),
                             ("max_routed_per_day = \"1\"\nmax_routed_per_day_wei = \"5\"", "keeper.max_routed_per_day")] {
            let list = try issues(good(append: value + "\n"))
            XCTAssertEqual(list.map(\.key), [key], "\(value): \(list)")
        }
        let both = try issues(good(append: "max_routed_per_tx = \"1\"\nmax_routed_per_tx_wei = \"5\"\n"))
        XCTAssertTrue(both.first?.message.contains("not both") == true, "\(both)")
        let env = try issues(good(), env: ["EXPANSION_KEEPER_KEEPER_MIN_BALANCE_ETH": "lots"])
        XCTAssertEqual(env.map(\.key), ["keeper.min_balance_eth (from EXPANSION_KEEPER_KEEPER_MIN_BALANCE_ETH)"], "\(env)")
    }

    func testBadChecksumNamesKey() throws {
        let list = try issues(good(["0x321b7ff75154472B18EDb199033fF4D116F340Ff": "0x321B7ff75154472B18EDb199033fF4D116F340Ff"]))
        XCTAssertEqual(list.first?.key, "contracts.staking")
        XCTAssertTrue(list.first?.message.contains("checksum") == true, "\(list)")
        let lower = try issues(good(["0x321b7ff75154472B18EDb199033fF4D116F340Ff": "0x321b7ff75154472b18edb199033ff4d116f340ff"]))
        XCTAssertTrue(lower.first?.message.contains("not in EIP-55 checksummed form (expected 0x321b7ff75154472B18EDb199033fF4D116F340Ff)") == true, "\(lower)")
    }

    func testMissingABIEventAndWrongFieldType() throws {
        let missing = try issues(good(["reward_event = \"Claimed\"": "reward_event = \"Paid\""]))
        XCTAssertEqual(missing.first?.key, "contracts.reward_event")
        XCTAssertTrue(missing.first?.message.contains("has no event \"Paid\"") == true, "\(missing)")
        let wrongType = try issues(good(["reward_amount_field = \"amount\"": "reward_amount_field = \"user\""]))
        XCTAssertEqual(wrongType.first?.key, "contracts.reward_amount_field")
        XCTAssertTrue(wrongType.first?.message.contains("is address, expected uint256") == true, "\(wrongType)")
        let noField = try issues(good(["reward_staker_field = \"user\"": "reward_staker_field = \"staker\""]))
        XCTAssertEqual(noField.first?.key, "contracts.reward_staker_field")
        XCTAssertTrue(noField.first?.message.contains("has no field \"staker\"") == true, "\(noField)")
    }

    func testUnreadableFiles() throws {
        let abiMissing = try issues(good([abi: "/nonexistent/abi.json"]))
        XCTAssertEqual(abiMissing.first?.key, "contracts.staking_abi")
        XCTAssertTrue(abiMissing.first?.message.contains("no such file") == true, "\(abiMissing)")
        let keys = try issues(good(["dry_run = true": "dry_run = false\nkeystore = \"nope.json\"\npassword_file = \"/\""]))
        XCTAssertTrue(keys.contains { $0.key == "keeper.keystore" && $0.message.contains("no such file") }, "\(keys)")
        XCTAssertTrue(keys.contains { $0.key == "keeper.password_file" && $0.message.contains("is a directory") }, "\(keys)")
        let required = try issues(good(["dry_run = true": "dry_run = false"]))
        XCTAssertTrue(required.contains { $0.key == "keeper.keystore" && $0.message.contains("required unless dry_run") }, "\(required)")
        do {
            _ = try KeeperConfig.load(path: dir.appendingPathComponent("absent.toml").path)
            XCTFail("an absent file must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
    }

    func testEveryErrorIsReportedAtOnceAndEnvironmentOverridesAreChecked() throws {
        let list = try issues(good(["chain_id = 8453": "chain_id = \"x\"", "confirmations = 3": "confirmations = \"soon\""]),
                              env: ["EXPANSION_KEEPER_CHAIN_POLL_INTERVAL_MS": "fast", "EXPANSION_KEEPER_KEEPER_BOGUS": "1",
                                    "EXPANSION_KEEPER_SOAK": "1", "EXPANSION_KEEPER_KEPER_DATA_DIR": "x", "EXPANSION_KEEPER_DATA_DIR": "y",
                                    "EXPANSION_KEEPER_PASSWORD_FILE": "/p", "EXPANSION_KEEPER_BIN": "/b", "EXPANSION_KEEPER_PYTHON": "/py"])
        let keys = Set(list.map(\.key))
        XCTAssertTrue(keys.contains("chain.chain_id"), "\(list)")
        XCTAssertTrue(keys.contains("chain.confirmations"), "\(list)")
        XCTAssertTrue(keys.contains("chain.poll_interval_ms (from EXPANSION_KEEPER_CHAIN_POLL_INTERVAL_MS)"), "\(list)")
        XCTAssertTrue(list.contains { $0.key == "EXPANSION_KEEPER_KEEPER_BOGUS" && $0.message.contains("unknown override") }, "\(list)")
        // A misspelt or missing section is named, not silently ignored; the tool's other variables are not overrides.
        XCTAssertTrue(list.contains { $0.key == "EXPANSION_KEEPER_KEPER_DATA_DIR" && $0.message.contains("did you mean KEEPER") }, "\(list)")
        XCTAssertTrue(list.contains { $0.key == "EXPANSION_KEEPER_DATA_DIR" && $0.message.contains("EXPANSION_KEEPER_KEEPER_DATA_DIR") }, "\(list)")
        XCTAssertFalse(list.contains { ["EXPANSION_KEEPER_PASSWORD_FILE", "EXPANSION_KEEPER_BIN", "EXPANSION_KEEPER_PYTHON"].contains($0.key) }, "\(list)")
        XCTAssertFalse(list.contains { $0.key.contains("SOAK") }, "variables of other sections are not overrides")
        let tomlError = try issues("[chain\nrpc_urls = 1")
        XCTAssertEqual(tomlError.first?.line, 1)
    }

    func testConfigCheckCommand() throws {
        let path = dir.appendingPathComponent("cli.toml").path
        try good().write(toFile: path, atomically: true, encoding: .utf8)
        let ok = try Env.run(Env.binary, ["config", "check", "--offline", "--config", path])
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertTrue(ok.out.contains("chain_id = 8453") && ok.out.contains("reorg_window = 256"), ok.out)
        XCTAssertFalse(ok.out.contains("APIKEY123"))
        // The mock's ABI on Base's chain id: one warning, naming the key (the reward event is not verified).
        XCTAssertEqual(ok.err.split(separator: "\n").count, 1, ok.err)
        XCTAssertTrue(ok.err.hasPrefix("warning: contracts.staking_abi: MockVeniceStaking.json is a test double on chain 8453"), ok.err)
        try good(["chain_id = 8453": "chain_id = 0", "reward_event = \"Claimed\"": "reward_event = \"Paid\""])
            .write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try Env.run(Env.binary, ["config", "check", "--config", path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.out, "")
        let lines = bad.err.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, bad.err)
        XCTAssertTrue(lines.contains { $0.hasPrefix("config: chain.chain_id (line 3): expected an integer") }, bad.err)
        XCTAssertTrue(lines.contains { $0.hasPrefix("config: contracts.reward_event (line 9):") }, bad.err)
    }

    /// The treasury bindings declared by signature match ABI/ExpansionTreasury.json (as abigen bindings
    /// are checked against their ABI).
    func testTreasuryBindingsMatchCommittedABI() throws {
        let text = try String(contentsOf: Env.repoRoot.appendingPathComponent("ABI/ExpansionTreasury.json"), encoding: .utf8)
        let abi = try ABIContract(json: text)
        for e in [Bindings.optedIn, Bindings.optedOut, Bindings.routed, Bindings.routeSkipped] {
            let committed = try XCTUnwrap(abi.event(named: e.name))
            XCTAssertEqual(committed.topic0, e.topic0, e.name)
            XCTAssertEqual(committed.parameters.map(\.name), e.parameters.map(\.name), e.name)
            XCTAssertEqual(committed.parameters.map(\.indexed), e.parameters.map(\.indexed), e.name)
        }
        for f in [Bindings.route, Bindings.paused, Bindings.registration] {
            XCTAssertEqual(try XCTUnwrap(abi.function(named: f.name)).selector, f.selector, f.name)
        }
        XCTAssertEqual(Planner.contribution(amount: UInt256.max, shareBps: 10_000), UInt256.max)
        XCTAssertEqual(Planner.contribution(amount: 19_999, shareBps: 5_000), 9_999)
    }
}
