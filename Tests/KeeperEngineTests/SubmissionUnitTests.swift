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

/// Unit tests of the submission pieces that need no chain: fees, nonces, caps, error classes, the journal's atomicity.
final class SubmissionUnitTests: XCTestCase {
    let gwei = UInt256(UInt64(1_000_000_000))
    func g(_ x: UInt64) -> UInt256 { UInt256(x) }

    func testFeePolicyInitialAndCap() {
        let p = FeePolicy(cap: g(50_000_000_000))
        let f = p.initial(nextBaseFee: g(1_000_000_000), suggestedTip: g(2_000_000_000))
        XCTAssertEqual(f?.maxFee, g(4_000_000_000))
        XCTAssertEqual(f?.tip, g(2_000_000_000))
        // A quiet chain (no tips) still pays the minimum tip.
        XCTAssertEqual(p.initial(nextBaseFee: g(100), suggestedTip: .zero)?.tip, FeePolicy.minTip)
        // Base fee above the cap: defer.
        XCTAssertNil(FeePolicy(cap: g(10)).initial(nextBaseFee: g(11), suggestedTip: .zero))
        // 2 × base + tip above the cap: clamped to the cap, tip never above the fee.
        let c = FeePolicy(cap: g(3_000)).initial(nextBaseFee: g(2_000), suggestedTip: g(5_000))
        XCTAssertEqual(c?.maxFee, g(3_000)); XCTAssertEqual(c?.tip, g(3_000))
    }

    func testReplacementBumpsBothFieldsAtLeastTwelveAndAHalfPercent() {
        let p = FeePolicy(cap: g(1_000_000_000_000))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let fee = UInt64.random(in: 1...100_000_000_000, using: &rng)
            let tip = UInt64.random(in: 0...fee)
            guard let r = p.replacement(maxFee: g(fee), tip: g(tip), nextBaseFee: g(fee / 3), suggestedTip: .zero) else {
                return XCTFail("no replacement for \(fee)/\(tip)")
            }
            // new × 8 ≥ old × 9 on both fields (≥ +12.5%), hence also geth's +10%.
            XCTAssertGreaterThanOrEqual(r.maxFee.multipliedReportingOverflow(by: g(8)).partialValue, g(fee).multipliedReportingOverflow(by: g(9)).partialValue)
            XCTAssertGreaterThanOrEqual(r.tip.multipliedReportingOverflow(by: g(8)).partialValue, g(tip).multipliedReportingOverflow(by: g(9)).partialValue)
            XCTAssertLessThanOrEqual(r.tip, r.maxFee)
        }
        XCTAssertEqual(FeePolicy.bumped(g(8)), g(9))
        XCTAssertEqual(FeePolicy.bumped(g(9)), g(11))  // 10.125 rounded up
    }

    func testReplacementAtTheCapWaits() {
        let p = FeePolicy(cap: g(1_000))
        XCTAssertNil(p.replacement(maxFee: g(1_000), tip: g(10), nextBaseFee: g(1), suggestedTip: .zero), "already at the cap")
        XCTAssertNil(p.replacement(maxFee: g(900), tip: g(10), nextBaseFee: g(1), suggestedTip: .zero), "900 × 1.125 > 1000")
        let r = p.replacement(maxFee: g(800), tip: g(10), nextBaseFee: g(450), suggestedTip: .zero)
        XCTAssertEqual(r?.maxFee, g(1_000), "market wants more than the bump; clamped to the cap, still ≥ +12.5%")
    }

    func testNonceManagerDerivesFromJournalAndChain() {
        XCTAssertEqual(NonceManager.next(latest: 7, openNonces: []), 7, "nothing in flight: the chain decides (drift repaired)")
        XCTAssertEqual(NonceManager.next(latest: 7, openNonces: [7, 8]), 9)
        XCTAssertEqual(NonceManager.next(latest: 10, openNonces: [7]), 10, "a stale open nonce never pulls the next one back")
        XCTAssertEqual(NonceManager.gap(latest: 5, openNonces: [5, 7]), 6)
        XCTAssertNil(NonceManager.gap(latest: 5, openNonces: [5, 6]))
    }

    func testBroadcastErrorsAreClassified() {
        XCTAssertEqual(BroadcastOutcome.classify(.server(code: -32000, message: "already known", data: nil)), .alreadyKnown)
        XCTAssertEqual(BroadcastOutcome.classify(.server(code: -32000, message: "nonce too low: next nonce 5, tx nonce 4", data: nil)),
                       .nonceTooLow("nonce too low: next nonce 5, tx nonce 4"))
        XCTAssertEqual(BroadcastOutcome.classify(.server(code: -32000, message: "replacement transaction underpriced", data: nil)),
                       .underpriced("replacement transaction underpriced"))
        if case .transient = BroadcastOutcome.classify(.http(endpoint: "e", status: 429, retryAfter: nil, bodyPrefix: "")) {} else { XCTFail("429") }
        if case .transient = BroadcastOutcome.classify(.transport(endpoint: "e", reason: "reset", retryable: true)) {} else { XCTFail("drop") }
        if case .rejected = BroadcastOutcome.classify(.server(code: -32000, message: "insufficient funds for gas * price + value", data: nil)) {} else {
            XCTFail("insufficient funds is deterministic")
        }
    }

    func intent(_ b: UInt64, _ expected: UInt64) -> RouteIntent {
        RouteIntent(claim: LogPosition(block: b, logIndex: 0), staker: .zero, blockHash: try! Bytes32([UInt8](repeating: UInt8(b % 250), count: 32)),
                    amount: UInt256(expected * 2), shareBps: 5000,
                    expected: UInt256(expected), state: .pending)
    }

    /// A dry-run config in `dir` whose RPC endpoint is never contacted, with extra `[keeper]` lines.
    private func offlineConfig(in dir: URL, keeperKeys: String = "") throws -> KeeperConfig {
        let path = dir.appendingPathComponent("k.toml").path
        try """
        [chain]
        rpc_urls = ["http://127.0.0.1:1"]
        chain_id = 1337
        [contracts]
        staking = "0x0000000000000000000000000000000000000001"
        staking_abi = "\(Env.repoRoot.appendingPathComponent("ABI/MockVeniceStaking.json").path)"
        treasury = "0x0000000000000000000000000000000000000002"
        [keeper]
        data_dir = "\(dir.path)/data"
        dry_run = true
        \(keeperKeys)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try KeeperConfig.load(path: path, environment: [:], sections: [MetricsSettings.self])
    }

    func testCapsAdmitAPrefixAndSayWhy() throws {
        let dir = try Env.tempDir("caps")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = try offlineConfig(in: dir, keeperKeys: """
            max_batch = 3
            max_routed_per_day_wei = "100"
            max_routed_per_tx = "0.00000000000000005"
            """)
        var s = SubmissionSettings(config: cfg)
        XCTAssertEqual(s.pauseFile, "\(dir.path)/data/PAUSE")
        let gate = SafetyGate(settings: s, treasury: cfg.contracts.treasury)
        let pending = [intent(1, 20), intent(2, 20), intent(3, 20), intent(4, 20)]
        XCTAssertEqual(gate.admit(pending, spentToday: .zero).batch.map(\.claim.block), [1, 2], "per-tx cap 50")
        XCTAssertEqual(gate.admit(pending, spentToday: UInt256(UInt64(70))).batch.map(\.claim.block), [1], "30 left today")
        let day = gate.admit(pending, spentToday: UInt256(UInt64(100)))
        XCTAssertTrue(day.batch.isEmpty); XCTAssertTrue(day.deferred?.contains("max_routed_per_day") == true, "\(day)")
        let big = gate.admit([intent(9, 60)], spentToday: .zero)
        XCTAssertTrue(big.deferred?.contains("exceeds max_routed_per_tx") == true, "\(big)")
        s.maxRoutedPerTx = nil; s.maxRoutedPerDay = nil
        XCTAssertEqual(SafetyGate(settings: s, treasury: .zero).admit(pending, spentToday: .zero).batch.count, 3, "max_batch")
    }

    /// `status` shows a pause (the pause file), the submitter's recorded deferral, and counts every nonce whose
    /// transaction is not final (`sent` and `mined`), a replacement at the same nonce once.
    func testStatusShowsPauseDeferralAndInFlightNonces() async throws {
        let dir = try Env.tempDir("status-pause")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = try offlineConfig(in: dir)
        let store = try KeeperStore(directory: cfg.keeper.dataDir)
        func entry(_ nonce: UInt64, _ tag: UInt8) throws -> NewJournalEntry {
            NewJournalEntry(nonce: nonce, hash: try Bytes32([UInt8](repeating: tag, count: 32)), raw: [2, tag], gasLimit: 100_000,
                            maxFeePerGas: gwei, maxPriorityFeePerGas: gwei, createdAt: 1)
        }
        try store.write { w in
            for b in 1...4 as ClosedRange<UInt64> { try w.put(intent(b, 10)) }
            let first = try w.journal(try entry(0, 1), claims: [intent(1, 10).id])
            _ = try w.journalReplacement(try entry(0, 2), replacing: first)
            let mined = try w.journal(try entry(1, 3), claims: [intent(2, 10).id])
            try w.setJournalState(id: mined, .mined, minedBlock: 10)
            let done = try w.journal(try entry(2, 4), claims: [intent(3, 10).id])
            try w.setJournalState(id: done, .confirmed, minedBlock: 11)
        }
        var report = try await StatusReport.make(config: cfg, store: store, chain: nil)
        XCTAssertEqual(report.inFlightTransactions, 2, "nonce 0 (sent, replaced) and nonce 1 (mined, not deep enough)")
        XCTAssertFalse(report.submissionPaused)
        XCTAssertTrue(report.text.contains("active"), report.text)

        try store.write { w in try w.setMeta("submission_deferred", "max_routed_per_day reached (100 wei in the last 24 h)") }
        report = try await StatusReport.make(config: cfg, store: store, chain: nil)
        XCTAssertFalse(report.submissionPaused)
        XCTAssertTrue(report.text.contains("deferred (max_routed_per_day reached"), report.text)

        XCTAssertTrue(FileManager.default.createFile(atPath: "\(dir.path)/data/PAUSE", contents: nil))
        report = try await StatusReport.make(config: cfg, store: store, chain: nil)
        XCTAssertTrue(report.submissionPaused)
        XCTAssertTrue(report.text.contains("paused (pause file present)"), report.text)
        XCTAssertEqual(report.json["submission_paused"] as? Bool, true)
        XCTAssertEqual(report.json["pause_file_present"] as? Bool, true)
        XCTAssertEqual(report.json["in_flight_transactions"] as? Int, 2)
    }

    func testJournalIsAtomicWithItsClaims() throws {
        let dir = try Env.tempDir("journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try KeeperStore(directory: dir.path)
        try store.write { w in
            for b in 1...3 as ClosedRange<UInt64> { try w.put(intent(b, 10)) }
            var lapsed = intent(4, 10); lapsed.state = .lapsed
            try w.put(lapsed)
        }
        let e = NewJournalEntry(nonce: 0, hash: try Bytes32([UInt8](repeating: 7, count: 32)), raw: [2, 1, 2, 3], gasLimit: 100_000,
                                maxFeePerGas: gwei, maxPriorityFeePerGas: gwei, createdAt: 1)
        // A batch citing a claim that is not pending (lapsed) is refused as a whole: no row, no claim marked.
        XCTAssertThrowsError(try store.write { w in try w.journal(e, claims: [intent(1, 10).id, intent(4, 10).id]) })
        XCTAssertEqual(try store.read { r in try r.journal() }.count, 0)
        XCTAssertEqual(try store.read { r in try r.intents(states: [.sent]) }.count, 0)
        // The real thing: row and claims together.
        _ = try store.write { w in try w.journal(e, claims: [intent(1, 10).id, intent(2, 10).id]) }
        XCTAssertEqual(try store.read { r in try r.journal().map(\.raw) }, [[2, 1, 2, 3]])
        XCTAssertEqual(try store.read { r in try r.claims(ofNonce: 0).map(\.claim.block) }, [1, 2])
        XCTAssertEqual(try store.read { r in try r.openNonces() }, [0])
        XCTAssertEqual(try store.read { r in try r.journaledContribution(since: 0) }, UInt256(UInt64(20)))
        // A rescue at the same nonce, then the nonce consumed elsewhere: claims return to the planner.
        var rescue = e; rescue.hash = try Bytes32([UInt8](repeating: 8, count: 32)); rescue.raw = [2, 9]
        let rid = try store.write { w in try w.journalReplacement(rescue, replacing: 1) }
        XCTAssertEqual(try store.read { r in try r.journal(nonce: 0).map(\.replacedBy) }, [rid, nil])
        XCTAssertEqual(try store.write { w in try w.returnClaims(ofNonce: 0, reason: nil) }, 2)
        XCTAssertEqual(try store.read { r in try r.intents(states: [.pending]) }.map(\.claim.block), [1, 2, 3])
    }
}
