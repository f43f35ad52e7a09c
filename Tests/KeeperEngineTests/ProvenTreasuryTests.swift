import EthereumCore
import Foundation
import JSONRPC
import KeeperCore
import KeeperStore
import XCTest

/// The keeper on the ProvenExpansionTreasury, where anyone may route: a real keeper (`run`) on the real local chain.
/// A stranger routes one staker's claim with `prove --config --claim` (the keeper settles it as routed from the chain,
/// and never routes it again); a stranger's forged proofs of another claim are refused on chain (BAD_PROOF,
/// BAD_RECEIPT) and must NOT settle that claim in the keeper (it routes it itself); a stranger's route of a third claim
/// at a moment its staker's allowance is 0 (NO_ALLOWANCE) must not end it either (the keeper routes it once the staker
/// approves); the chain-only verdict holds, the store agrees, `audit` passes (the refusals are justified: nothing was
/// taken), and the metrics show the window.
final class ProvenTreasuryTests: XCTestCase {
    func send(_ rig: SubmissionRig, to: String, data: [UInt8]) throws -> [String: Any] {
        try SubmissionRig.json(Env.run(SubmissionRig.python, [SubmissionRig.script("Tests/Support/submit_oracle.py"), "send", "--url", rig.chain.url,
                                                             "--to", to, "--data", Hex.encode(data)]), "send")
    }

    func prove(_ rig: SubmissionRig, _ claim: LogPosition) throws -> (to: String, data: [UInt8], line: String) {
        let r = try Env.run(Env.binary, ["prove", "--config", rig.configPath, "--claim", "\(claim.block):\(claim.logIndex)"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n").count, 1, "prove --claim prints one JSON line: \(r.out)")
        let o = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] ?? [:]
        return (o["to"] as? String ?? "", try Hex.decode(o["data"] as? String ?? ""), r.out)
    }

    func testStrangersRouteAndForgeriesSettleNothing() async throws {
        let rig = try SubmissionRig(confirmations: 2, kind: "proven")
        try rig.scenario(["claim", "--advance", "30"])
        // Ingest and plan without sending, to learn the claims.
        try rig.startDaemon(arguments: ["--dry-run"])
        let noAllowance = try Address(try rig.stakerAddress(3))
        let planned = try await rig.settle(timeout: 60) {
            // The store appears once the daemon has started.
            let stakers = Set(((try? rig.store().read { r in try r.intents(states: [.pending]) }) ?? []).map(\.staker))
            return stakers.count >= 3 && stakers.contains(noAllowance)
        }
        rig.stopDaemon()
        XCTAssertTrue(planned, "no pending claims of two stakers: \(rig.log().suffix(2000))")
        let pending = try rig.store().read { r in try r.intents(states: [.pending]) }.sorted { $0.claim < $1.claim }
        let x = try XCTUnwrap(pending.first { $0.staker != noAllowance })
        let y = try XCTUnwrap(pending.first { $0.staker != x.staker && $0.staker != noAllowance })
        let z = try XCTUnwrap(pending.first { $0.staker == noAllowance }, "the staker without allowance has a claim")

        // prove --claim: one JSON line naming the treasury and the claim's location; a non-reward log is refused.
        let genuineX = try prove(rig, x.claim)
        XCTAssertEqual(try Address(genuineX.to), try Address(rig.treasury))
        XCTAssertTrue(genuineX.line.contains("\"log_index\":\(x.claim.logIndex)") && genuineX.line.contains(x.staker.checksummed), genuineX.line)
        let bad = try Env.run(Env.binary, ["prove", "--config", rig.configPath, "--claim", "\(x.claim.block):999"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("has no log 999"), bad.err)
        let malformed = try Env.run(Env.binary, ["prove", "--config", rig.configPath, "--claim", "twelve"])
        XCTAssertTrue(malformed.status != 0 && malformed.err.contains("BLOCK:LOG_INDEX"), malformed.err)

        // Forgeries of X by a stranger. One names X exactly (block, tx index, log position) with a corrupted trie node:
        // the keeper maps that refusal to X, and must not take it as X's settlement. The other names a log position past
        // the receipt's logs (the claim's words are the call's last three: tx index, log position, proof).
        func corruptedNode() -> [UInt8] {
            var d = genuineX.data
            let nodesOffset = 4 + Int(d[4 + 32 + 28]) << 24 + Int(d[4 + 32 + 29]) << 16 + Int(d[4 + 32 + 30]) << 8 + Int(d[4 + 32 + 31])
            d[nodesOffset + 32 + 40] ^= 0x01  // inside the root node: it no longer hashes to receiptsRoot
            return d
        }
        func forged(word fromEnd: Int, plus: UInt8) -> [UInt8] {
            var d = genuineX.data
            d[d.count - 32 * fromEnd + 31] &+= plus
            return d
        }
        for (data, what) in [(corruptedNode(), "a corrupted trie node"), (forged(word: 2, plus: 7), "a log position past the receipt's logs")] {
            let sent = try send(rig, to: genuineX.to, data: data)
            XCTAssertEqual(sent["status"] as? Int, 1, "a forged call (\(what)) must not revert the batch: \(sent)")
        }
        // A stranger routes Y with the genuine call.
        let genuineY = try prove(rig, y.claim)
        let byStranger = try send(rig, to: genuineY.to, data: genuineY.data)
        XCTAssertEqual(byStranger["status"] as? Int, 1)

        // A stranger routes Z while its staker's allowance is 0: skipped NO_ALLOWANCE (the staker keeps the reward, for now).
        let genuineZ = try prove(rig, z.claim)
        XCTAssertEqual(try send(rig, to: genuineZ.to, data: genuineZ.data)["status"] as? Int, 1)

        // The keeper runs: Y is settled as the stranger routed it, X is routed by the keeper itself; Z's staker approves.
        try rig.startDaemon()
        try rig.scenario(["approve", "--staker", noAllowance.checksummed, "--allowance", "max"])
        let (settled, verdict) = try await rig.settleVerdict()
        XCTAssertTrue(settled, "not settled: \(verdict)\n\(rig.log().suffix(3000))")
        XCTAssertEqual(verdict["treasury_kind"] as? String, "proven")
        XCTAssertEqual((verdict["duplicates"] as? [Any])?.count, 0, "\(verdict)")
        XCTAssertEqual((verdict["unexpected"] as? [Any])?.count, 0, "\(verdict)")
        XCTAssertEqual((verdict["missing"] as? [Any])?.count, 0, "\(verdict)")
        // Settlement comes from our transaction's receipt; the events table from ingestion (confirmations later).
        let ingested = try await rig.settle(timeout: 60) {
            try rig.store().read { r in
                let routed = try r.treasuryEvents().filter { if case .routed = $0.outcome { return true }; return false }
                return routed.contains { $0.claimID == x.id } && routed.contains { $0.claimID == y.id } && routed.contains { $0.claimID == z.id }
            }
        }
        XCTAssertTrue(ingested, "the routes of X and Y were not ingested")
        let store = try rig.store()
        let (ix, iy, events, journal) = try store.read { r in
            (try r.intent(id: x.id), try r.intent(id: y.id), try r.treasuryEvents(), try r.journal())
        }
        XCTAssertEqual(ix?.state, .routed, "X must be routed by the keeper despite the stranger's forged proofs: \(String(describing: ix))")
        XCTAssertEqual(iy?.state, .routed)
        let strangerHash = try Bytes32(hex: byStranger["tx"] as? String ?? "")
        let yRoute = events.first { $0.claimID == y.id }
        XCTAssertEqual(yRoute?.txHash, strangerHash, "Y's route is the stranger's transaction")
        XCTAssertFalse(journal.contains { $0.hash == strangerHash })
        let xRoute = try XCTUnwrap(events.first { $0.claimID == x.id && { if case .routed = $0.outcome { return true }; return false }($0) })
        XCTAssertTrue(journal.contains { $0.hash == xRoute.txHash }, "X was routed by the keeper's own journaled transaction")
        let refusals = events.compactMap { e -> UInt8? in if case let .skipped(code) = e.outcome { return code }; return nil }
        XCTAssertTrue(refusals.contains(13) && refusals.contains(14), "the forgeries are on chain as BAD_PROOF and BAD_RECEIPT: \(refusals)")
        // A stranger's proof refusals are not even looked up (no receipt fetched on a stranger's word): they cite nothing.
        XCTAssertTrue(events.contains { $0.outcome == .skipped(reason: 13) && $0.claim.logIndex == TreasuryEvent.unresolvedLogIndex && $0.claimID == nil },
                      "the BAD_PROOF refusal is stored citing no claim")
        // A stranger's skip for the moment's allowance (NO_ALLOWANCE) does not end Z: once its staker approves, the keeper
        // routes it (a keeper that took the stranger's skip as final would never route it: the verdict would miss it).
        XCTAssertTrue(events.contains { $0.claimID == z.id && $0.outcome == .skipped(reason: 7) }, "the stranger's NO_ALLOWANCE skip cites Z")
        XCTAssertEqual(try store.read { r in try r.intent(id: z.id) }?.state, .routed, "Z was routed by the keeper after the staker approved")

        // The metrics show the window the chain verifies (the local chain has the EIP-2935 history contract).
        let port = try XCTUnwrap(rig.log().components(separatedBy: "metrics server listening").last?
            .components(separatedBy: "port=").dropFirst().first?.prefix { $0.isNumber })
        var text = ""
        _ = try await rig.settle(timeout: 30) {
            text = (try? String(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!, encoding: .utf8)) ?? ""
            return text.contains("expansion_keeper_proven_verifiable_window_blocks 8191")
                && text.contains("expansion_keeper_proven_oldest_claim_age_blocks 0")
        }
        XCTAssertTrue(text.contains("expansion_keeper_proven_verifiable_window_blocks 8191"), text.prefix(4000).description)
        XCTAssertTrue(text.contains("expansion_keeper_proven_oldest_claim_age_blocks 0"),
                      "nothing is waiting: \(text.split(separator: "\n").filter { $0.contains("proven") })")
        rig.stopDaemon()

        let audit = try Env.run(Env.binary, ["audit", "--config", rig.configPath, "--json"])
        XCTAssertEqual(audit.status, 0, "audit: \(audit.out.prefix(3000)) \(audit.err)")
        XCTAssertTrue(audit.out.contains("proof_refused"), "the stranger's refused proofs are listed as justified: \(audit.out.prefix(3000))")
    }

    func testProvenKindRefusesATreasuryThatIsNotOne() async throws {
        // A keeper treasury configured as proven: `config check` and `run` name the key and refuse.
        let rig = try SubmissionRig(confirmations: 2)
        let env = ProcessInfo.processInfo.environment.merging(["EXPANSION_KEEPER_TREASURY_KIND": "proven"]) { $1 }
        let check = try Env.run(Env.binary, ["config", "check", "--config", rig.configPath], environment: env)
        XCTAssertNotEqual(check.status, 0)
        XCTAssertTrue((check.out + check.err).contains("treasury.kind") && (check.out + check.err).contains("not a ProvenExpansionTreasury"),
                      check.out + check.err)
        let run = try Env.run(Env.binary, ["run", "--config", rig.configPath], environment: env)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.err.contains("not a ProvenExpansionTreasury"), run.err.suffix(2000).description)
        let typo = try Env.run(Env.binary, ["config", "check", "--config", rig.configPath],
                               environment: env.merging(["EXPANSION_KEEPER_TREASURY_KIND": "provn"]) { $1 })
        XCTAssertTrue(typo.status != 0 && (typo.out + typo.err).contains("\"provn\" is not a treasury kind"), typo.out + typo.err)
    }
}
