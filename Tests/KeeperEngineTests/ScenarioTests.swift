import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission
import XCTest

/// The keeper against the real local chain: a seeded scenario of stakers staking, claiming, opting in/out
/// and changing shares, with some claims routed by hand; the store must equal an independent computation
/// from the chain's logs (Tests/Support/keeper_chain.py `expect`).
final class ScenarioTests: XCTestCase {
    func compare(_ chain: LocalChain, _ keeper: Keeper, minRoute: UInt64 = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let cursor = try XCTUnwrap(try keeper.store.read { r in try r.cursor() })
        let expect = try chain.driver("expect", ["--to-block", "\(cursor - 1)", "--min-route-wei", "\(minRoute)"])
        let expectedStakers = try XCTUnwrap(expect["stakers"] as? [String: [String: Any]])
        let report = try RegistrationsReport.make(store: keeper.store, includeOptedOut: true)
        XCTAssertEqual(report.rows.count, expectedStakers.count, "stakers", file: file, line: line)
        for row in report.rows {
            let e = try XCTUnwrap(expectedStakers[row.staker.checksummed], "unexpected staker \(row.staker)", file: file, line: line)
            XCTAssertEqual(row.registered, e["registered"] as? Bool, "\(row.staker) registered", file: file, line: line)
            XCTAssertEqual(Int(row.shareBps), e["share_bps"] as? Int, "\(row.staker) share", file: file, line: line)
            XCTAssertEqual(Int(row.sinceBlock), e["since_block"] as? Int, "\(row.staker) since", file: file, line: line)
            XCTAssertEqual(row.totalContributed.decimalString, e["total_contributed"] as? String, "\(row.staker) contributed", file: file, line: line)
            XCTAssertEqual(row.rewardsSeen, e["rewards_seen"] as? Int, "\(row.staker) seen", file: file, line: line)
            XCTAssertEqual(row.rewardsRouted, e["rewards_routed"] as? Int, "\(row.staker) routed", file: file, line: line)
        }
        let expectedIntents = try XCTUnwrap(expect["intents"] as? [String: [String: Any]])
        // Orphaned intents are another fork's history; the live ones must equal the independent computation.
        let intents = try keeper.store.read { r in try r.intents() }.filter { $0.state != .orphaned }
        XCTAssertEqual(Set(intents.map(\.claim.description)), Set(expectedIntents.keys), "intent set", file: file, line: line)
        for i in intents {
            guard let e = expectedIntents[i.claim.description] else { continue }
            XCTAssertEqual(i.state.rawValue, e["state"] as? String, "intent \(i.claim) state", file: file, line: line)
            XCTAssertEqual(i.staker.checksummed, e["staker"] as? String, "intent \(i.claim) staker", file: file, line: line)
            if let exp = e["expected"] as? String { XCTAssertEqual(i.expected.decimalString, exp, "intent \(i.claim) expected", file: file, line: line) }
            if let share = e["share_bps"] as? Int { XCTAssertEqual(Int(i.shareBps), share, "intent \(i.claim) share", file: file, line: line) }
            if let reason = e["reason"] as? String { XCTAssertEqual(i.reason, reason, "intent \(i.claim) reason", file: file, line: line) }
        }
    }

    func testScenarioRegistryAndIntentsEqualIndependentComputation() async throws {
        let chain = try LocalChain()
        try chain.deploy()
        let drive = try chain.driver("drive", ["--seed", "\(Env.seed)", "--steps", Env.soak ? "600" : "160", "--route-every", "3"])
        print("scenario seed \(Env.seed): \(drive)")
        let cfg = try chain.config(minRoute: "1000000000000000")
        let keeper = try Keeper(configPath: cfg.path)
        let reorgs = try await keeper.catchUp()
        XCTAssertEqual(reorgs.count, 0)
        let head = try await chain.head()
        XCTAssertEqual(try keeper.store.read { r in try r.cursor() }, head - 2 + 1, "caught up to head - confirmations")
        try compare(chain, keeper, minRoute: 1_000_000_000_000_000)
        let counts = try keeper.store.read { r in try r.intentCounts() }
        XCTAssertGreaterThan(counts[.pending] ?? 0, 0, "the scenario must leave routable rewards")
        XCTAssertGreaterThan((counts[.routed] ?? 0) + (counts[.skipped] ?? 0), 0, "the scenario must route some claims")

        // The CLI reads the same store (read-only, as a second process would).
        let out = try Env.run(Env.binary, ["registrations", "--config", cfg.path, "--all", "--json"])
        XCTAssertEqual(out.status, 0, out.err)
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.out.utf8)) as? [String: Any])
        XCTAssertEqual((doc["stakers"] as? [Any])?.count, try RegistrationsReport.make(store: keeper.store, includeOptedOut: true).rows.count)

        // Every pending intent simulates as routable on the live treasury (plan's eth_call).
        let plan = try await PlanReport.make(config: keeper.config, store: keeper.store, chain: keeper.ingestor.chain)
        XCTAssertFalse(plan.batches.isEmpty)
        for b in plan.batches {
            XCTAssertNil(b.revert)
            XCTAssertEqual(b.simulatedTotal, b.expectedTotal, "the treasury would pull exactly the planned contributions")
            XCTAssertNotNil(b.estimatedGas)
        }

        // The honest routes pass the audit; the rewards this scenario left unrouted (no keeper ran) are exactly
        // its findings — each a pending intent of the store, older than the grace window.
        let audit = try await AuditReport.run(config: keeper.config, bindings: keeper.ingestor.bindings, chain: keeper.ingestor.chain, from: nil, to: nil)
        XCTAssertTrue(audit.discrepancies.isEmpty, audit.text)
        XCTAssertGreaterThan(audit.routedChecked, 0)
        XCTAssertFalse(audit.ok, "unrouted eligible rewards must fail the audit")
        XCTAssertEqual(Set(audit.findings.map(\.kind)), ["unrouted"], audit.text)
        // (Lapsed ones too: eligible while the grace window ran, their staker changed the registration only later.)
        let unroutedNow = try keeper.store.read { r in Set(try r.intents(states: [.pending, .lapsed]).map(\.claim)) }
        for f in audit.findings { XCTAssertTrue(unroutedNow.contains(f.claim), "finding \(f.claim) is not an unrouted intent: \(f.why)") }
        let dust = try keeper.store.read { r in try r.intents(states: [.policySkipped]).filter { $0.reason?.hasPrefix("below min_route_wei") == true } }
        let justifiedClaims = Set(audit.justified.map(\.claim))
        for d in dust where d.claim.block + audit.graceBlocks <= head {
            XCTAssertTrue(justifiedClaims.contains(d.claim), "dust \(d.claim) below min_route_wei must be a justified omission")
        }
    }

    /// A reorg shallower than `confirmations` never reaches the store: nothing acted on is undone.
    func testReorgShallowerThanConfirmationsChangesNothing() async throws {
        let chain = try LocalChain()
        try chain.deploy()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 1)", "--steps", "60"])
        let cfg = try chain.config(confirmations: "3")
        let keeper = try Keeper(configPath: cfg.path)
        _ = try await keeper.catchUp()
        let snap = try await chain.snapshot()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 2)", "--steps", "2", "--mine-max", "1"])  // 1-2 blocks
        let h1 = try await chain.head()
        _ = try await keeper.catchUp()
        try await chain.revert(snap)
        try await chain.mine(Int(h1) - Int(try await chain.head()) + 1)
        let reorgs = try await keeper.catchUp()
        XCTAssertEqual(reorgs.count, 0)
        XCTAssertEqual(try keeper.store.read { r in try r.reorgs().count }, 0)
        let fresh = try Keeper(configPath: try chain.config(name: "fresh", confirmations: "3").path)
        _ = try await fresh.catchUp()
        XCTAssertEqual(try keeper.dump(), try fresh.dump())
    }

    /// Deeper than `confirmations`, inside the window: orphaned rewards and registrations disappear, the
    /// replacement fork's appear, and the store equals one built from scratch on the final chain.
    func testReorgInsideWindowRebuildsFromCommonAncestor() async throws {
        let chain = try LocalChain(extra: ["--no-reinject-on-revert"])
        try chain.deploy()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 3)", "--steps", "60", "--route-every", "3"])
        let cfg = try chain.config(confirmations: "2", window: 64)
        let keeper = try Keeper(configPath: cfg.path)
        _ = try await keeper.catchUp()
        let forkPoint = try await chain.head()
        let snap = try await chain.snapshot()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 4)", "--steps", "25", "--mine-max", "2", "--route-every", "2"])
        _ = try await keeper.catchUp()
        let orphaned = try keeper.store.read { r in try r.rewardEvents().filter { $0.position.block > forkPoint } }
        XCTAssertFalse(orphaned.isEmpty, "the abandoned fork must have ingested rewards")
        try await chain.revert(snap)
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 5)", "--steps", "30", "--mine-max", "2", "--route-every", "2"])
        let reorgs = try await keeper.catchUp()
        XCTAssertEqual(reorgs.count, 1)
        XCTAssertEqual(reorgs.first?.ancestor, forkPoint, "walked back to the common ancestor")
        // Every stored event is on the canonical chain now.
        let stored = try keeper.store.read { r in try r.rewardEvents() }
        let hashes = try await keeper.ingestor.chain.blocks(Array(Set(stored.map(\.position.block))).sorted())
        let canonical = Dictionary(uniqueKeysWithValues: hashes.map { ($0.number, $0.hash) })
        for r in stored { XCTAssertEqual(canonical[r.position.block], r.blockHash, "reward \(r.position) is from an orphaned block") }
        for o in orphaned { XCTAssertFalse(stored.contains(o), "orphaned reward \(o.position) survived") }
        // Every intent planned for an orphaned reward ended `orphaned`, naming the reorg, and is never sent again.
        for o in orphaned {
            guard let i = try keeper.store.read({ r in try r.intent(id: ClaimID(blockHash: o.blockHash, logIndex: o.position.logIndex)) }) else { continue }
            XCTAssertEqual(i.state, .orphaned, "intent of orphaned reward \(o.position)")
            XCTAssertTrue(i.reason?.hasPrefix("reorg #1: blocks \(forkPoint + 1)...") == true, i.reason ?? "no reason")
        }
        try compare(chain, keeper)
        let fresh = try Keeper(configPath: try chain.config(name: "fresh", confirmations: "2", window: 64).path)
        _ = try await fresh.catchUp()
        XCTAssertEqual(try keeper.dump(), try fresh.dump(), "the repaired store equals one built in one run on the final chain")
        XCTAssertEqual(try keeper.store.read { r in try r.reorgs().count }, 1)
    }

    /// Deeper than the window: ingestion halts with the documented error (library and daemon).
    func testReorgDeeperThanWindowHalts() async throws {
        let chain = try LocalChain(extra: ["--no-reinject-on-revert"])
        try chain.deploy()
        let snap = try await chain.snapshot()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 6)", "--steps", "20"])
        try await chain.mine(30)
        let cfg = try chain.config(confirmations: "2", window: 8)
        let keeper = try Keeper(configPath: cfg.path)
        _ = try await keeper.catchUp()
        let before = try keeper.dump()
        try await chain.revert(snap)
        try await chain.mine(80)
        do {
            _ = try await keeper.catchUp()
            XCTFail("a reorg deeper than the window must stop ingestion")
        } catch {
            guard case let EngineError.reorgTooDeep(tip, _, window) = error else { throw error }
            XCTAssertEqual(window, 8)
            XCTAssertGreaterThan(tip, 0)
        }
        XCTAssertEqual(try keeper.dump(), before, "nothing was changed by the halted step")
        XCTAssertEqual(try keeper.store.read { r in try r.counter("deep_reorgs") }, 1)
        let run = try Env.run(Env.binary, ["run", "--config", cfg.path, "--exit-when-caught-up", "--log-level", "error"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.err.contains("reorg deeper than reorg_window (8 blocks)"), run.err)
        let status = try Env.run(Env.binary, ["status", "--config", cfg.path, "--json"])
        XCTAssertEqual(status.status, 0, status.err)
        XCTAssertTrue(status.out.contains("\"deep_reorgs\" : 2"), status.out)
        XCTAssertTrue(status.out.contains("reorg deeper than reorg_window"), status.out)
    }

    /// `audit` catches a treasury routed by a dishonest keeper: wrong amount, nonexistent claim, claim
    /// before since_block — and passes the honest claim routed beside them.
    func testAuditCatchesPlantedDiscrepancies() async throws {
        let chain = try LocalChain()
        try chain.deploy()
        let lax = try chain.driver("dishonest")
        let laxAddress = try XCTUnwrap(lax["lax_treasury"] as? String)
        let lies = try XCTUnwrap(lax["lies"] as? [String: String])
        let cfg = try chain.config(name: "lax", treasury: laxAddress)
        let out = try Env.run(Env.binary, ["audit", "--config", cfg.path, "--json"])
        XCTAssertEqual(out.status, 1, "audit must fail: \(out.err)")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.out.utf8)) as? [String: Any])
        XCTAssertEqual(doc["ok"] as? Bool, false)
        XCTAssertEqual(doc["routed_checked"] as? Int, 4)
        let problems = try XCTUnwrap(doc["discrepancies"] as? [[String: Any]])
        func found(at claim: String) -> [String] {
            problems.filter { "\($0["claim_block"] ?? ""):\($0["claim_log_index"] ?? "")" == claim }.compactMap { $0["problem"] as? String }
        }
        XCTAssertTrue(found(at: lies["wrong_amount"] ?? "").contains { $0.contains("Routed reports reward") }, "\(problems)")
        XCTAssertTrue(found(at: lies["nonexistent_claim"] ?? "").contains { $0.contains("does not exist") }, "\(problems)")
        XCTAssertTrue(found(at: lies["before_since_block"] ?? "").contains { $0.contains("predates the registration") }, "\(problems)")
        XCTAssertTrue(found(at: lax["honest"] as? String ?? "").isEmpty, "the honest claim is justified")
        // A skip citing a reward that never existed is wrong; an ORPHANED skip (a re-mined transaction) is justified.
        func kinds(_ key: String, at claim: String) -> [String] {
            (doc[key] as? [[String: Any]] ?? []).filter { "\($0["claim_block"] ?? ""):\($0["claim_log_index"] ?? "")" == claim }
                .compactMap { $0["kind"] as? String }
        }
        XCTAssertEqual(kinds("findings", at: lies["skip_of_nonexistent"] ?? ""), ["skip_cites_no_reward"], "\(doc["findings"] ?? "")")
        let justifiedSkips = try XCTUnwrap(lax["justified"] as? [String: String])
        XCTAssertEqual(kinds("justified", at: justifiedSkips["orphaned_skip"] ?? ""), ["orphaned_skip"], "\(doc["justified"] ?? "")")
        XCTAssertTrue(kinds("findings", at: justifiedSkips["orphaned_skip"] ?? "").isEmpty)
        // The human report names each discrepancy.
        let text = try Env.run(Env.binary, ["audit", "--config", cfg.path])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.out.contains("DISCREPANCY"), text.out)
        // The real treasury of the same chain is clean.
        let honest = try Env.run(Env.binary, ["audit", "--config", try chain.config(name: "real").path])
        XCTAssertEqual(honest.status, 0, honest.out + honest.err)
    }
}

/// `verify_rpc_urls`: a second provider whose log sets disagree halts ingestion; one that agrees does not.
final class CrossProviderTests: XCTestCase {
    func testDisagreeingSecondProviderHaltsIngestion() async throws {
        let a = try LocalChain(), b = try LocalChain()
        try a.deploy()
        try b.deploy()  // same deployer nonces: the same contract addresses on both chains
        XCTAssertEqual(a.string("treasury"), b.string("treasury"))
        try a.driver("drive", ["--seed", "\(Env.seed &+ 21)", "--steps", "30"])
        try b.driver("drive", ["--seed", "\(Env.seed &+ 22)", "--steps", "30"])
        func config(_ name: String, verify: String) throws -> String {
            let path = try a.config(name: name).path
            let text = try String(contentsOfFile: path, encoding: .utf8)
                .replacingOccurrences(of: "rpc_urls = [\"\(a.url)\"]", with: "rpc_urls = [\"\(a.url)\"]\nverify_rpc_urls = [\"\(verify)\"]")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let agreeing = try config("agree", verify: a.url)
        let ok = try Env.run(Env.binary, ["run", "--config", agreeing, "--exit-when-caught-up", "--log-level", "error"])
        XCTAssertEqual(ok.status, 0, ok.err)
        let disagreeing = try config("disagree", verify: b.url)
        let bad = try Env.run(Env.binary, ["run", "--config", disagreeing, "--exit-when-caught-up", "--log-level", "error"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("providers disagree about the logs of blocks"), bad.err)
    }

    /// A primary that alters one reward's amount (same block hash, log index and transaction) is caught by an
    /// honest `verify_rpc_urls`: each log is compared whole, so the keeper never plans the altered amount. The
    /// halt names the blocks and the differing log (hashes kept in the log line, not redacted).
    func testAPrimaryThatAltersAnAmountIsCaught() async throws {
        let chain = try LocalChain()
        try chain.deploy()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 23)", "--steps", "30"])
        let path = try chain.config(name: "lying").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "rpc_urls = [\"\(chain.url)\"]", with: "rpc_urls = [\"\(chain.url)/lying\"]\nverify_rpc_urls = [\"\(chain.url)\"]")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try Env.run(Env.binary, ["run", "--config", path, "--exit-when-caught-up"])
        XCTAssertEqual(bad.status, 1, bad.err)
        XCTAssertTrue(bad.err.contains("providers disagree about the logs of blocks"), bad.err)
        XCTAssertFalse(bad.err.contains("<redacted: 32-byte hex>"), "the halt reason must keep its hashes: \(bad.err.suffix(2000))")
        // Nothing was planned from the altered log.
        let store = try KeeperStore(directory: chain.dir.appendingPathComponent("data-lying").path, readOnly: true)
        XCTAssertEqual(try store.read { r in try r.rewardCount() }, 0, "no event of the disputed range was stored")
    }
}

/// `confirmations = "safe"`: the keeper works up to the node's safe block, not head − N.
final class SafeTagTests: XCTestCase {
    func testSafeTagBoundsIngestion() async throws {
        let chain = try LocalChain(extra: ["--safe-lag", "7"])
        try chain.deploy()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 31)", "--steps", "20"])
        let keeper = try Keeper(configPath: try chain.config(confirmations: "\"safe\"", window: 64).path)
        XCTAssertEqual(keeper.config.chain.confirmations, .safe)
        _ = try await keeper.catchUp()
        let head = try await chain.head()
        XCTAssertEqual(try keeper.store.read { r in try r.cursor() }, head - 7 + 1)
    }
}

/// The store refuses another chain or contracts with a clear message; `run --resync` rebuilds it.
final class StoreIdentityTests: XCTestCase {
    func testOtherContractsAreRefusedUntilResync() async throws {
        let chain = try LocalChain()
        try chain.deploy()
        try chain.driver("drive", ["--seed", "\(Env.seed &+ 41)", "--steps", "20"])
        let first = try chain.config(name: "first")
        let ok = try Env.run(Env.binary, ["run", "--config", first.path, "--exit-when-caught-up", "--log-level", "error"])
        XCTAssertEqual(ok.status, 0, ok.err)
        let other = "0x000000000000000000000000000000000000dEaD"
        let second = try chain.config(name: "second", treasury: other, dataDir: first.dataDir)
        let refused = try Env.run(Env.binary, ["run", "--config", second.path, "--exit-when-caught-up", "--log-level", "error"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("the store was built for treasury \(chain.string("treasury")) but the config says \(other)"), refused.err)
        let resynced = try Env.run(Env.binary, ["run", "--config", second.path, "--exit-when-caught-up", "--resync", "--log-level", "error"])
        XCTAssertEqual(resynced.status, 0, resynced.err)
        let store = try KeeperStore(directory: first.dataDir.path, readOnly: true)
        XCTAssertEqual(try store.read { r in try r.identity()?.treasury.checksummed }, other)
        XCTAssertEqual(try store.read { r in try r.registrationEvents().count }, 0, "nothing of the old treasury survives")
    }
}
