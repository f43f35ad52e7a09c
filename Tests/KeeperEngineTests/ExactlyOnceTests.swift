import EthereumCore
import Foundation
import JSONRPC
import KeeperStore
import XCTest

/// The core test: every eligible claim routed exactly once on chain, whatever happens to the process, the
/// node or the chain. Real local chain, real `expansion-keeper run` processes, real signals. Each iteration
/// makes the stakers claim and injects one fault, chosen by a seeded RNG (EXPANSION_KEEPER_SEED; the seed is
/// printed): kill -9 at a random instant, kill -9 between the journal commit and the broadcast (the daemon's
/// test hook), a mempool that silently drops low-fee transactions (replacement must happen), HTTP 429/503
/// bursts and dropped connections, a reorg orphaning the latest blocks (routing transactions included), an
/// operator's `tx cancel` racing the daemon. Afterwards, from the chain alone (submit_oracle.py): no claim
/// routed twice, none routed that should not be, none eligible left unrouted, contributed() equal to the
/// Routed sums; the keeper's store agrees with the chain; `audit` passes.
/// CI runs a few iterations; EXPANSION_KEEPER_SOAK=1 runs 200.
final class ExactlyOnceTests: XCTestCase {
    enum Fault: String, CaseIterable {
        case killRandom = "kill -9 at a random instant"
        case killAfterJournal = "kill -9 between journal and broadcast"
        case mempoolDrop = "mempool drops low-fee transactions"
        case httpFaults = "HTTP 429/503 bursts and dropped connections"
        case reorg = "reorg orphaning recent blocks"
        case operatorCancel = "operator tx cancel racing the daemon"
        case deepReorg = "reorg deeper than confirmations, new fork reshuffling rewards"
    }

    func testExactlyOnceUnderFaults() async throws { try await exactlyOnceUnderFaults(kind: "keeper") }

    /// The same faults with the ProvenExpansionTreasury: routes carry receipt proofs, and the keeper maps the proven
    /// treasury's (block, tx index, log position) back to its claims; the oracle maps them independently.
    func testExactlyOnceUnderFaultsProvenTreasury() async throws { try await exactlyOnceUnderFaults(kind: "proven") }

    func exactlyOnceUnderFaults(kind: String) async throws {
        // Soak knobs: EXPANSION_KEEPER_SOAK_ITERATIONS (default 200) and EXPANSION_KEEPER_SOAK_FAULTS, a comma list of
        // fault names to draw from (a name listed twice is drawn twice as often), e.g. "deepReorg,deepReorg,killRandom,httpFaults".
        let environment = ProcessInfo.processInfo.environment
        let iterations = Env.soak ? Int(environment["EXPANSION_KEEPER_SOAK_ITERATIONS"] ?? "") ?? 200 : Fault.allCases.count + 2
        let pool: [Fault] = (environment["EXPANSION_KEEPER_SOAK_FAULTS"]?.split(separator: ",").map { name in
            Fault.allCases.first { "\($0)" == name.trimmingCharacters(in: .whitespaces) }
        }.compactMap { $0 }).flatMap { $0.isEmpty ? nil : $0 } ?? Fault.allCases
        var rng = SplitMix(seed: Env.seed)
        print("ExactlyOnceTests seed \(Env.seed), \(iterations) iterations (EXPANSION_KEEPER_SEED / EXPANSION_KEEPER_SOAK=1 to change)")
        let rig = try SubmissionRig(confirmations: 3, kind: kind)
        try rig.startDaemon()
        var survived: [Fault: Int] = [:]
        var cancelsLanded = 0
        let leaver = try rig.stakerAddress(2)
        let stakers = try (0..<4).map { try rig.stakerAddress($0) }
        let setupHead = try await rig.chain.head()
        var deepDepths: [Int] = []
        for i in 0..<iterations {
            // CI: each fault at least once, in order; soak: random.
            let fault = Env.soak ? pool[Int(rng.next() % UInt64(pool.count))] : Fault.allCases[i % Fault.allCases.count]
            if Env.soak { print("iteration \(i): \(fault.rawValue)") }
            try rig.scenario(["claim", "--advance", "30"])
            if i == iterations / 2 {
                // The leaver's earlier rewards were due while it was registered: they are routed before it leaves
                // (faults may have delayed them past audit's grace window, which would rightly fail the audit).
                let leaverAddress = try Address(leaver)
                let claimed = try await rig.chain.head()
                let settled = try await rig.settle(timeout: 60) {
                    try rig.store().read { r in
                        try (r.cursor() ?? 0) > claimed && (r.intents(states: [.pending, .sent, .policySkipped], staker: leaverAddress).isEmpty)
                    }
                }
                if !settled { print("the leaver's claims did not settle before it opted out: \(try rig.store().read { r in try r.intents(staker: leaverAddress).filter { $0.state != .routed } })") }
                try rig.scenario(["opt-out", "--staker", leaver])
            }
            switch fault {
            case .killRandom:
                try await Task.sleep(for: .milliseconds(Int(rng.next() % 1500)))
                rig.stopDaemon(signal: SIGKILL)
                try rig.startDaemon()
            case .killAfterJournal:
                rig.stopDaemon(signal: SIGKILL)
                try rig.startDaemon(extraEnvironment: ["EXPANSION_KEEPER_TEST_KILL_AFTER_JOURNAL": "1"])
                try rig.scenario(["claim", "--advance", "30"])
                let deadline = Date().addingTimeInterval(30)
                while rig.daemonAlive && Date() < deadline { try await rig.chain.mine(1); try await Task.sleep(for: .milliseconds(200)) }
                XCTAssertFalse(rig.daemonAlive, "the daemon should have sent (and died after journaling) within 30 s")
                try rig.startDaemon()
            case .mempoolDrop:
                // Above the keeper's first offer (2 × base fee + tip ≈ 3 gwei here): only replacements get in.
                _ = try await rig.chain.rpc("test_setFaults", [.object([("mempool_min_fee", .int(5_000_000_000))])])
                for _ in 0..<16 { try await rig.chain.mine(1); try await Task.sleep(for: .milliseconds(250)) }
                _ = try await rig.chain.rpc("test_setFaults", [.object([("mempool_min_fee", .int(0))])])
            case .httpFaults:
                _ = try await rig.chain.rpc("test_setFaults", [.object([("http_429", .int(4)), ("http_503", .int(4)), ("drop_connections", .int(3))])])
                try await Task.sleep(for: .milliseconds(1500))
                // Whatever the keeper did not absorb must not hit the scenario tool (it does not retry).
                _ = try await rig.chain.rpc("test_setFaults", [.object([("http_429", .int(0)), ("http_503", .int(0)), ("drop_connections", .int(0))])])
            case .reorg:
                try await Task.sleep(for: .milliseconds(400))
                _ = try await rig.chain.rpc("test_reorg", [.object([("depth", .int(2))])])
            case .deepReorg:
                // Depth 1–64 (never below the setup), the routing transactions of the orphaned blocks re-injected or
                // not; the new fork's blocks carry other stakers' rewards at the old fork's positions.
                try await Task.sleep(for: .milliseconds(Int(rng.next() % 800)))
                let head = try await rig.chain.head()
                let depth = Int(min(UInt64(64), head - setupHead - 1) > 0 ? 1 + rng.next() % min(UInt64(64), head - setupHead - 1) : 1)
                // Re-injected: the new fork grows as long as the old one (as a node's would), so re-injected
                // transactions priced for the old fork's lower base fees become includable; not re-injected: the new
                // fork starts empty and the claims below land at the old fork's positions.
                let reinject = rng.next() % 2 == 0
                _ = try await rig.chain.rpc("test_reorg", [.object([("depth", .int(depth)), ("blocks", .int(reinject ? depth + 1 : 0)),
                                                                    ("reinject", .bool(reinject))])])
                var who = stakers.filter { _ in rng.next() % 2 == 0 }
                if who.isEmpty { who = [stakers[Int(rng.next() % 4)]] }
                try rig.scenario(["claim", "--advance", "17", "--only", who.joined(separator: ",")])
                deepDepths.append(depth)
            case .operatorCancel:
                // Hold mining so the keeper's next routing transaction waits in the pool, then cancel its nonce.
                _ = try await rig.chain.rpc("evm_setAutomine", [.bool(false)])
                try await rig.chain.mine(4)
                let deadline = Date().addingTimeInterval(5)
                var n = try await rig.nonces()
                while n.pending == n.latest && Date() < deadline {
                    try await Task.sleep(for: .milliseconds(100)); n = try await rig.nonces()
                }
                let r = try Env.run(Env.binary, ["tx", "cancel", "--config", rig.configPath, "--nonce", "\(n.latest)"])
                if r.status == 0 { cancelsLanded += 1 } else { print("tx cancel at nonce \(n.latest) (pending \(n.pending)) refused: \(r.err)") }
                _ = try await rig.chain.rpc("evm_setAutomine", [.bool(true)])
            }
            survived[fault, default: 0] += 1
            for _ in 0..<Int(1 + rng.next() % 3) { try await rig.chain.mine(1); try await Task.sleep(for: .milliseconds(150)) }
            if !rig.daemonAlive { try rig.startDaemon() }
        }
        // Quiet chain: everything eligible must end up routed exactly once, and the store must agree.
        _ = try await rig.chain.rpc("test_setFaults", [.object([("mempool_min_fee", .int(0)), ("http_429", .int(0)), ("http_503", .int(0)),
                                                                ("drop_connections", .int(0))])])
        if !rig.daemonAlive { try rig.startDaemon() }
        let (settled, verdict) = try await rig.settleVerdict()
        rig.stopDaemon()
        if !settled {
            // Where each missing claim stands in the store, and what the keeper logged about it.
            let log = rig.log().split(separator: "\n")
            for m in verdict["missing"] as? [String] ?? [] {
                let parts = m.split(separator: ":").compactMap { UInt64($0) }
                let intent = parts.count == 2 ? try rig.store().read { r in try r.intent(at: LogPosition(block: parts[0], logIndex: UInt32(parts[1]))) } : nil
                print("missing \(m): store \(intent.map { "\($0.state) \($0.reason ?? "")" } ?? "no intent")")
                for line in log where line.contains("claim=\(m)") || line.contains("first=\(m)") { print("  \(line.prefix(300))") }
            }
            let kept = FileManager.default.temporaryDirectory.appendingPathComponent("exactly-once-failure-\(Env.seed)")
            try? FileManager.default.removeItem(at: kept)
            try? FileManager.default.copyItem(at: rig.dir, to: kept)
            print("kept the failed run's keeper log and store in \(kept.path)")
        }
        XCTAssertTrue(settled, "not settled: \(verdict) \n\(rig.log().suffix(3000))")
        XCTAssertEqual((verdict["duplicates"] as? [Any])?.count, 0, "claims routed twice: \(verdict)")
        XCTAssertEqual((verdict["unexpected"] as? [Any])?.count, 0, "claims routed that should not be: \(verdict)")
        XCTAssertEqual((verdict["missing"] as? [Any])?.count, 0, "eligible claims never routed: \(verdict)")
        XCTAssertEqual((verdict["contributed_mismatch"] as? [Any])?.count, 0, "\(verdict)")
        XCTAssertGreaterThan(verdict["routed"] as? Int ?? 0, 10, "the run routed too little to mean anything: \(verdict)")
        XCTAssertEqual(verdict["treasury_kind"] as? String, kind, "the oracle read another treasury kind")
        // The store agrees with the chain: the same routed claims, nothing left in flight.
        let storeRouted = try rig.store().read { r in Set(try r.intents(states: [.routed]).map { "\($0.claim)" }) }
        XCTAssertEqual(storeRouted, Set(verdict["routed_claims"] as? [String] ?? []), "store and chain disagree on routed claims")
        let audit = try Env.run(Env.binary, ["audit", "--config", rig.configPath])
        XCTAssertEqual(audit.status, 0, "audit: \(audit.out.prefix(3000)) \(audit.err)")
        let journal = try rig.store().read { r in try r.journal() }
        let replacements = journal.filter { $0.replacedBy != nil }.count
        // No orphaned claim was routed: every routed claim on chain is the store's live routed intent (checked
        // above, and its amount equals the canonical reward: the oracle's "unexpected"), none an orphaned one.
        let orphaned = try rig.store().read { r in try r.intents(states: [.orphaned]) }
        let routedOnChain = Set(verdict["routed_claims"] as? [String] ?? [])
        let liveRouted = try rig.store().read { r in Set(try r.intents(states: [.routed]).map { "\($0.claim)" }) }
        let orphanedRouted = orphaned.filter { routedOnChain.contains("\($0.claim)") && !liveRouted.contains("\($0.claim)") }
        XCTAssertTrue(orphanedRouted.isEmpty, "orphaned claims routed: \(orphanedRouted)")
        let total = survived.values.reduce(0, +)
        print("ExactlyOnceTests (\(kind) treasury): survived \(total) injected faults (\(survived.map { "\($0.key.rawValue): \($0.value)" }.sorted().joined(separator: "; "))); "
              + "\(cancelsLanded) operator cancels landed, \(replacements) replacements, \(journal.count) journaled transactions, "
              + "routed \(verdict["routed"] ?? 0) of \(verdict["eligible"] ?? 0) eligible claims exactly once; "
              + "\(deepDepths.count) deep reorgs (depths \(deepDepths)), \(orphaned.count) claims orphaned, 0 duplicates, 0 missing, "
              + "\(orphanedRouted.count) orphaned-routed")
    }
}
