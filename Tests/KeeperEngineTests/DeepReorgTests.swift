import EthereumCore
import Foundation
import JSONRPC
import KeeperStore
import XCTest

/// Exactly-once across reorgs deeper than `confirmations`: a real keeper (`run`) on the real local chain, one
/// scenario after another on the same rig, each ending with the chain-only verdict — every canonical eligible
/// claim routed exactly once on chain (treasury events and `contributed()`), no claim of an orphaned block
/// routed, the store agreeing with the chain — and `audit` exit 0.
///
/// The forks reuse the old fork's positions with different rewards (other stakers claim at the same block
/// numbers and log indexes), which is what made the first keeper lose claims: it identified a claim by
/// (block number, log index) and let the old fork's settled intent stand for the new fork's reward.
final class DeepReorgTests: XCTestCase {
    var rig: SubmissionRig!
    var stakers: [String] = []

    override func setUp() async throws {
        rig = try SubmissionRig(confirmations: 3)
        stakers = try (0..<4).map { try rig.stakerAddress($0) }
        try rig.startDaemon()
    }

    override func tearDown() async throws { rig?.stopDaemon() }

    /// Claims by `who` (all stakers when nil), one transaction (and block) each; returns the first claim block.
    @discardableResult
    func claim(_ who: [String]? = nil) async throws -> UInt64 {
        let first = try await rig.chain.head() + 1
        var args = ["claim", "--advance", "30"]
        if let who { args += ["--only", who.joined(separator: ",")] }
        try rig.scenario(args)
        return first
    }

    func reorg(depth: UInt64, blocks: Int = 0, reinject: Bool) async throws {
        _ = try await rig.chain.rpc("test_reorg", [.object([("depth", .int(Int(depth))), ("blocks", .int(blocks)), ("reinject", .bool(reinject))])])
    }

    /// Waits until the chain-only verdict holds and nothing is left in flight, then checks every promise.
    func assertExactlyOnce(_ scenario: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let (settled, verdict) = try await rig.settleVerdict()
        XCTAssertTrue(settled, "\(scenario): not settled: \(verdict)\n\(rig.log().suffix(4000))", file: file, line: line)
        for key in ["duplicates", "unexpected", "missing", "contributed_mismatch"] {
            XCTAssertEqual((verdict[key] as? [Any])?.count, 0, "\(scenario): \(key): \(verdict)", file: file, line: line)
        }
        // The store agrees with the chain: the live routed intents are exactly the claims routed on chain, and
        // every routed intent's hash is the canonical hash of its block.
        let routed = try rig.store().read { r in try r.intents(states: [.routed]) }
        XCTAssertEqual(Set(routed.map { "\($0.claim)" }), Set(verdict["routed_claims"] as? [String] ?? []),
                       "\(scenario): store and chain disagree on routed claims", file: file, line: line)
        let canonical = try await rig.chain.client.blocks(Array(Set(routed.map(\.claim.block))).sorted())
        var hashes: [UInt64: Bytes32] = [:]
        for case let .success(h) in canonical { hashes[h.number] = h.hash }
        for i in routed {
            XCTAssertEqual(hashes[i.claim.block], i.blockHash, "\(scenario): routed intent \(i.claim) is not the canonical claim", file: file, line: line)
        }
        let audit = try Env.run(Env.binary, ["audit", "--config", rig.configPath])
        XCTAssertEqual(audit.status, 0, "\(scenario): audit: \(audit.out.prefix(3000)) \(audit.err)", file: file, line: line)
    }

    func orphanedIntents() throws -> [RouteIntent] { try rig.store().read { r in try r.intents(states: [.orphaned]) } }

    /// Waits (without mining) until `condition` holds on the store.
    func waitFor(_ what: String, timeout: Double = 30, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("timed out waiting for \(what)\n\(rig.log().suffix(3000))")
    }

    func testExactlyOnceAcrossReorgsDeeperThanConfirmations() async throws {
        // 1. The route was settled (confirmed, `routed` in the store); a reorg deeper than `confirmations` removes
        //    the claims' blocks and the new fork pays other stakers at the same (block, log index) positions.
        var c0 = try await claim()
        try await assertExactlyOnce("baseline")
        var depth = try await rig.chain.head() - (c0 - 1)
        try await reorg(depth: depth, reinject: false)
        try await claim([stakers[1], stakers[2]])
        try await assertExactlyOnce("settled route, fork reshuffles rewards at the same positions")
        let orphaned = try orphanedIntents()
        XCTAssertFalse(orphaned.isEmpty, "the old fork's claims must end orphaned")
        for o in orphaned { XCTAssertTrue(o.reason?.contains("orphaned (depth") == true, o.reason ?? "-") }

        // 2. The routing transaction mined but not yet `confirmations` deep when the fork happens.
        c0 = try await claim()
        try await rig.chain.mine(3)
        try await waitFor("a routing transaction mined, not confirmed") {
            try rig.store().read { r in !(try r.journal(states: [.mined]).isEmpty) }
        }
        depth = try await rig.chain.head() - (c0 - 1)
        try await reorg(depth: depth, reinject: false)
        try await claim([stakers[2], stakers[0]])
        try await assertExactlyOnce("routing transaction mined, unconfirmed")

        // 3. The routing transaction still in the mempool when the fork happens (the node keeps it).
        c0 = try await claim()
        _ = try await rig.chain.rpc("evm_setAutomine", [.bool(false)])
        try await rig.chain.mine(3)
        try await waitFor("a routing transaction in the pool") {
            let n = try await self.rig.nonces()
            return n.pending > n.latest
        }
        depth = try await rig.chain.head() - (c0 - 1)
        try await reorg(depth: depth, reinject: true)
        _ = try await rig.chain.rpc("evm_setAutomine", [.bool(true)])
        try await claim([stakers[1]])
        try await assertExactlyOnce("routing transaction pending in the mempool")

        // 4. Only the block with the `Routed` events is orphaned (the claims stay canonical); the node re-injects
        //    the routing transaction, which routes them again on the new fork — exactly once either way.
        for reinject in [true, false] {
            try await claim()
            try await assertExactlyOnce("before the Routed-only reorg (reinject \(reinject))")
            let mined = try XCTUnwrap(try rig.store().read { r in try r.journal(states: [.confirmed]).compactMap(\.minedBlock).max() })
            depth = try await rig.chain.head() - (mined - 1)
            try await reorg(depth: depth, blocks: Int(depth) + 1, reinject: reinject)
            try await assertExactlyOnce("only the Routed block orphaned (reinject \(reinject))")
        }

        // 5. kill -9 while the keeper handles the reorg (one store transaction: before it or after it).
        c0 = try await claim()
        try await assertExactlyOnce("before the kill during reorg handling")
        depth = try await rig.chain.head() - (c0 - 1)
        try await reorg(depth: depth, reinject: false)
        try await claim([stakers[2], stakers[1], stakers[0]])
        try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
        rig.stopDaemon(signal: SIGKILL)
        try rig.startDaemon()
        try await assertExactlyOnce("kill -9 during reorg handling")
        let reorgs = try rig.store().read { r in try r.reorgs() }
        // The four forks that orphaned claims were seen as reorgs by the ingestor; a fork that orphans only the
        // Routed block may end below its stored tip, where the chunk check of settled blocks undoes it instead.
        XCTAssertGreaterThanOrEqual(reorgs.count, 4, "every scenario that orphaned claims was detected as a reorg: \(reorgs)")
        print("DeepReorgTests: \(reorgs.count) reorgs handled (depths \(reorgs.map(\.depth))), \(try orphanedIntents().count) intents orphaned, "
              + "\(try rig.store().read { r in try r.journal().count }) journaled transactions")
    }
}
