import EthereumCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JSONRPC
import KeeperStore
import XCTest

/// Issue 20's proof: three `expansion-keeper run` processes in high availability on one real PostgreSQL (HARig), the
/// local chain with stakers claiming continuously, and the faults a leader meets, drawn in a seeded order
/// (EXPANSION_KEEPER_SEED; the seed is printed): kill -9 of the leader at a random instant while it routes; kill -9
/// with claims waiting (its submissions paused, so the new leader's first journal is measurable); kill -9 of a new
/// leader right after its first journal commit (the daemon's test hook: journaled, never broadcast); SIGSTOP of the
/// leader past its lease and SIGCONT once another leads (the zombie must journal nothing and exit 75 by itself); the
/// leader's database connection reset, and partitioned for two leases; a crash restart of PostgreSQL.
/// Afterwards, on a quiet chain: every eligible claim routed exactly once and none that should not be (the chain-only
/// oracle), the store agrees with the chain, `audit` passes, and the fencing holds — each epoch journaled by exactly
/// its lease holder, nothing journaled under an old epoch once a newer one journaled, epochs without gaps, and every
/// transaction the keeper's address sent on chain is a journaled one. Failover per leader kill (to the new lease, to
/// the new leader's first journal) is printed as p50/p99.
/// CI: 5 kills and one of each other fault (about 3 minutes); EXPANSION_KEEPER_SOAK=1: 50 kills
/// (EXPANSION_KEEPER_SOAK_ITERATIONS) and a tenth as many of each other fault, PostgreSQL restarted once.
final class HAFailoverTests: XCTestCase {
    enum Fault: String, CaseIterable {
        case killRandom = "kill -9 of the leader at a random instant"
        case killBacklog = "kill -9 of the leader with claims waiting"
        case killAfterJournal = "kill -9 of a new leader right after its first journal commit"
        case stop = "SIGSTOP of the leader past its lease, then SIGCONT"
        case drop = "the leader's database connection reset"
        case stall = "the leader's database connection partitioned for two leases"
        case restartPostgres = "PostgreSQL crash-restarted"

        var isKill: Bool { [.killRandom, .killBacklog, .killAfterJournal].contains(self) }
    }

    /// A leader killed by the harness: when, which epoch died, whether claims were waiting, and until when the
    /// next fault left the new leader alone.
    struct Kill {
        let fault: Fault
        let atMs: Int64
        let epoch: UInt64
        let claimsWaiting: Bool
        var windowEndMs: Int64 = .max
    }

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    let leaseSeconds = Double(HARig.leaseSeconds)

    func testFailoverUnderFaults() async throws {
        let env = ProcessInfo.processInfo.environment
        let kills = Env.soak ? Int(env["EXPANSION_KEEPER_SOAK_ITERATIONS"] ?? "") ?? 50 : 5
        let others = Env.soak ? max(1, kills / 10) : 1
        var rng = SplitMix(seed: Env.seed)
        // Kills in the proportions 2:2:1; the others `others` times each; PostgreSQL restarted once; seeded order.
        var schedule: [Fault] = (0..<kills).map { [Fault.killRandom, .killBacklog, .killRandom, .killBacklog, .killAfterJournal][$0 % 5] }
        for f in [Fault.stop, .drop, .stall] { schedule += Array(repeating: f, count: others) }
        schedule.append(.restartPostgres)
        schedule.shuffle(using: &rng)
        print("HAFailoverTests seed \(Env.seed), \(schedule.count) faults (EXPANSION_KEEPER_SEED / EXPANSION_KEEPER_SOAK=1 to change)")

        let rig = try await HARig()
        var passed = false
        defer {
            if !passed || (testRun?.failureCount ?? 0) > 0 { print("kept the failed run's logs in \(rig.keepLogs(seed: Env.seed))") }
            rig.shutdown()
        }
        // One instance first (it creates the schema and takes the lease), then the two followers.
        try rig.start(rig.instances[0])
        guard try await rig.waitForLeader(timeout: 60) != nil else {
            return XCTFail("no leader within 60 s:\n\(rig.instances[0].log())")
        }
        for i in rig.instances.dropFirst() { try rig.start(i) }
        try await rig.run(for: 3)
        try await checkVisibility(rig)

        var killed: [Kill] = []
        var survived: [Fault: Int] = [:]
        var hookDeaths = 0
        var zombies: [String] = []
        for (n, fault) in schedule.enumerated() {
            guard let (leader, held) = try await rig.waitForLeader(timeout: 30) else {
                return XCTFail("fault \(n): no live leader within 30 s before \(fault.rawValue)\n\(logs(rig))")
            }
            if Env.soak { print("fault \(n): \(fault.rawValue) (leader \(leader.name), epoch \(held.epoch))") }
            // The previous kill's new leader was left alone until now.
            if !killed.isEmpty && killed[killed.count - 1].windowEndMs == .max { killed[killed.count - 1].windowEndMs = Self.nowMs }
            switch fault {
            case .killRandom:
                try rig.claimRound()
                try await rig.run(for: Double(rng.next() % 1500) / 1000)
                if let k = try await killLeader(rig, fault, claimsWaiting: nil) { killed.append(k) }
            case .killBacklog:
                // The leader pauses submission (its own pause file) while claims arrive and are ingested as pending.
                _ = FileManager.default.createFile(atPath: leader.pauseFile, contents: nil)
                try rig.claimRound()
                let queued = try await rig.wait(timeout: 15) { (try? rig.withStore { s in try s.read { r in try r.intents(states: [.pending]).count } }) ?? 0 > 0 }
                try await rig.run(for: Double(rng.next() % 1000) / 1000)
                if let k = try await killLeader(rig, fault, claimsWaiting: queued) { killed.append(k) }
                try? FileManager.default.removeItem(atPath: leader.pauseFile)
            case .killAfterJournal:
                // Arm the followers with the hook (restarted, still followers), then kill the leader: the follower that
                // takes over dies right after its first journal commit, before broadcasting it.
                let followers = rig.instances.filter { $0 !== leader }
                for f in followers {
                    rig.stop(f)
                    f.environment = ["EXPANSION_KEEPER_TEST_KILL_AFTER_JOURNAL": "1"]
                    try rig.start(f)
                }
                try await rig.run(for: 2)
                try rig.claimRound()
                let armedAt = Date()
                if let k = try await killLeader(rig, fault, claimsWaiting: true) { killed.append(k) }
                let hooked = try await rig.wait(timeout: 20) {
                    followers.contains { f in f.exits.contains { $0.signaled && $0.status == SIGKILL && $0.at > armedAt } }
                }
                if hooked { hookDeaths += 1 } else { print("kill after journal: no armed follower journaled within 20 s (another instance led)") }
                // Disarm: every instance starts without the hook from now on; a running armed one is restarted gracefully.
                for f in followers {
                    f.environment = [:]
                    if f.running { rig.stop(f); try rig.start(f) }
                }
            case .stop:
                let stoppedAt = Date()
                let pid = leader.pid
                leader.paused = true
                kill(pid, SIGSTOP)
                try await rig.run(for: 2 * leaseSeconds + 1)
                let successor = try await rig.waitForLeader(above: held.epoch, timeout: 15)
                XCTAssertNotNil(successor, "nobody took over from \(leader.name) stopped for \(Date().timeIntervalSince(stoppedAt)) s")
                let before = Set(try await rig.journal().map(\.id))
                let contMs = Self.nowMs
                let logBefore = leader.log(last: Int.max).count
                kill(pid, SIGCONT)
                // The zombie finds it lost the lease and exits 75 by itself, journaling nothing. Its exit is read from
                // /proc and its log: Foundation may have taken the stop for an exit.
                let exited = try await rig.wait(timeout: 10) { !HARig.alive(pid) }
                let after = String(leader.log(last: Int.max).dropFirst(logBefore))
                let said75 = after.contains("lost the leader lease") && after.contains("exit_status=75")
                if !exited { kill(pid, SIGKILL) }
                leader.paused = false
                if leader.process?.processIdentifier == pid && leader.downSince == nil {
                    leader.exits.append(.init(status: exited && said75 ? 75 : 9, signaled: !(exited && said75), at: Date()))
                    leader.downSince = Date()
                }
                XCTAssertTrue(exited && said75,
                              "the zombie \(leader.name) should exit 75 by itself within 10 s of SIGCONT (exited: \(exited), logged exit 75: \(said75))\n\(after.suffix(3000))")
                let late = try await rig.journal().filter {
                    ($0.journaledEpoch ?? 0) <= held.epoch && (!before.contains($0.id) || ($0.journaledEpoch == held.epoch && ($0.journaledAtMs ?? 0) > contMs))
                }
                XCTAssertTrue(late.isEmpty, "the zombie's epoch \(held.epoch) journaled after SIGCONT: \(late.map { "id \($0.id) by \($0.journaledBy ?? "?")" })")
                zombies.append("\(leader.name)@\(held.epoch): \(exited && said75 ? "exit 75" : "killed")")
            case .drop:
                leader.proxy.send(SIGUSR1)
                let recovered = try await rig.waitForLeader(timeout: 20)
                XCTAssertNotNil(recovered, "no leader within 20 s of resetting \(leader.name)'s database connection")
            case .stall:
                let stalledAt = Date()
                leader.proxy.send(SIGUSR2)
                try await rig.run(for: 2 * leaseSeconds)
                let successor = try await rig.waitForLeader(above: held.epoch, timeout: 5)
                leader.proxy.send(SIGUSR2)
                XCTAssertNotNil(successor, "nobody took over from \(leader.name) partitioned from the database for \(2 * leaseSeconds) s")
                let exited = try await rig.wait(timeout: 10) { leader.exits.contains { $0.at > stalledAt } }
                let partitionedExit = leader.exits.first { $0.at > stalledAt }
                XCTAssertTrue(exited && partitionedExit.map { !$0.signaled && $0.status == 75 } ?? false,
                              "\(leader.name), partitioned past its lease, should exit 75; it did \(partitionedExit?.text ?? "not exit") "
                              + "(within 10 s of the partition's end)\n\(leader.log())")
            case .restartPostgres:
                let acks = rig.pg.log().components(separatedBy: "crash restart").count
                rig.pg.send(SIGUSR1)
                let restarted = try await rig.wait(timeout: 60) { rig.pg.log().components(separatedBy: "crash restart").count > acks }
                XCTAssertTrue(restarted, "pgserver did not report its crash restart within 60 s: \(rig.pg.log().suffix(2000))")
                let recovered = try await rig.waitForLeader(timeout: 30)
                XCTAssertNotNil(recovered, "no leader within 30 s of PostgreSQL's restart\n\(logs(rig))")
            }
            survived[fault, default: 0] += 1
            try await rig.run(for: 1.5)
        }

        // Quiet chain: the stakers stop; every instance runs without hooks; everything eligible ends up routed once.
        rig.claiming = false
        let (settled, verdict) = try await rig.settleVerdict()
        rig.supervising = false
        for i in rig.instances { rig.stop(i) }
        XCTAssertTrue(settled, "not settled: \(verdict)\n\(logs(rig))")
        XCTAssertEqual((verdict["duplicates"] as? [Any])?.count, 0, "claims routed twice: \(verdict)")
        XCTAssertEqual((verdict["unexpected"] as? [Any])?.count, 0, "claims routed that should not be: \(verdict)")
        XCTAssertEqual((verdict["missing"] as? [Any])?.count, 0, "eligible claims never routed: \(verdict)")
        XCTAssertEqual((verdict["contributed_mismatch"] as? [Any])?.count, 0, "\(verdict)")
        XCTAssertGreaterThan(verdict["routed"] as? Int ?? 0, 10, "the run routed too little to mean anything: \(verdict)")
        let storeRouted = try rig.withStore { s in try s.read { r in Set(try r.intents(states: [.routed]).map { "\($0.claim)" }) } }
        XCTAssertEqual(storeRouted, Set(verdict["routed_claims"] as? [String] ?? []), "store and chain disagree on routed claims")
        var auditEnv = ProcessInfo.processInfo.environment
        auditEnv["EXPANSION_KEEPER_PG_PASSWORD"] = rig.pgPassword
        let audit = try Env.run(Env.binary, ["audit", "--config", rig.instances[0].configPath], environment: auditEnv)
        XCTAssertEqual(audit.status, 0, "audit: \(audit.out.prefix(3000)) \(audit.err)")

        // Fencing, from the journal and the leaders' history.
        let journal = try rig.withStore { s in try s.read { r in try r.journal() } }
        let history = try rig.withStore { s in try s.leaderHistory() }
        let holders = Dictionary(history.map { ($0.epoch, $0.holder) }, uniquingKeysWith: { a, _ in a })
        let unfenced = journal.filter { $0.journaledBy == nil || $0.journaledEpoch == nil }
        XCTAssertTrue(unfenced.isEmpty, "journaled without an instance or epoch: ids \(unfenced.map(\.id))")
        for (epoch, rows) in Dictionary(grouping: journal.filter { $0.journaledEpoch != nil }, by: { $0.journaledEpoch! }) {
            let by = Set(rows.compactMap(\.journaledBy))
            XCTAssertEqual(by.count, 1, "epoch \(epoch) journaled by several instances: \(by.sorted())")
            XCTAssertEqual(by.first, holders[epoch], "epoch \(epoch) journaled by \(by.sorted()), its lease holder was \(holders[epoch] ?? "nobody")")
        }
        for (a, b) in zip(history, history.dropFirst()) {
            XCTAssertEqual(b.epoch, a.epoch + 1, "leader epochs jump from \(a.epoch) to \(b.epoch)")
        }
        XCTAssertEqual(history.first?.epoch, 1, "the first term's epoch")
        // Nothing journaled under an old epoch after a newer one journaled. By id: an id above a newer epoch's row never
        // carries an older epoch — unless that newer row was re-journaled (same hash, put back in flight, keeping its old
        // id) after it, which its later journaledAtMs shows. By time: epochs never go back.
        var newest: (epoch: UInt64, atMs: Int64, id: Int64)?
        var backwards: [String] = []
        for t in journal.sorted(by: { $0.id < $1.id }) {
            guard let e = t.journaledEpoch else { continue }
            if let n = newest, e < n.epoch, (t.journaledAtMs ?? .max) >= n.atMs {
                backwards.append("id \(t.id) epoch \(e) by \(t.journaledBy ?? "?") after id \(n.id) epoch \(n.epoch)")
            }
            if e > (newest?.epoch ?? 0) { newest = (e, t.journaledAtMs ?? 0, t.id) }
        }
        let byTime = journal.filter { $0.journaledEpoch != nil }.sorted { ($0.journaledAtMs ?? 0, $0.id) < ($1.journaledAtMs ?? 0, $1.id) }
        for (a, b) in zip(byTime, byTime.dropFirst()) where b.journaledEpoch! < a.journaledEpoch! {
            backwards.append("at \(b.journaledAtMs ?? 0) ms id \(b.id) epoch \(b.journaledEpoch!) after id \(a.id) epoch \(a.journaledEpoch!)")
        }
        XCTAssertTrue(backwards.isEmpty, "journaled under an old epoch after a newer one: \(backwards.prefix(20))")
        // Nothing broadcast that was not journaled: every transaction of the keeper's address since the setup is in the journal.
        let onChain = try await rig.keeperTransactionsOnChain()
        let journaledHashes = Set(journal.map { $0.hash.hexString.lowercased() })
        XCTAssertTrue(onChain.isSubset(of: journaledHashes), "the keeper's address sent unjournaled transactions: \(onChain.subtracting(journaledHashes).sorted())")

        // Failover per leader kill: (a) to the next epoch's lease, (b) to its first journal (when claims were waiting and
        // no other fault came first).
        var toLease: [Int64] = [], toJournal: [Int64] = []
        var unmeasured = 0
        for k in killed {
            if let next = history.first(where: { $0.epoch > k.epoch }) { toLease.append(next.acquiredAtMs - k.atMs) }
            guard k.claimsWaiting else { continue }
            let first = journal.filter { ($0.journaledEpoch ?? 0) > k.epoch }.compactMap(\.journaledAtMs).filter { $0 >= k.atMs && $0 < k.windowEndMs }.min()
            if let first { toJournal.append(first - k.atMs) } else { unmeasured += 1 }
        }
        XCTAssertEqual(toLease.count, killed.count, "a killed leader's epoch has no successor in the history")
        // Target (issue 20): lease + one poll interval (100 ms). Asserted with 1.5 s of slack: on a loaded 2-core CI machine
        // (the chain, PostgreSQL, three keepers and the test) a follower's lease attempt can be scheduled late; the
        // printed p99 shows the real figure.
        let p99Lease = percentile(toLease, 0.99)
        XCTAssertLessThanOrEqual(p99Lease, Int64((leaseSeconds + 1.5) * 1000), "failover p99 to the new lease: \(toLease.sorted()) ms")

        let exits = rig.instances.map { i in
            "\(i.name) \(i.starts) starts (" + Dictionary(grouping: i.exits, by: \.text).map { "\($0.key) ×\($0.value.count)" }.sorted().joined(separator: ", ") + ")"
        }
        let crashed = rig.instances.flatMap { i in i.exits.filter { $0.signaled && $0.status != SIGKILL && $0.status != SIGTERM }.map { "\(i.name): \($0.text)" } }
        XCTAssertTrue(crashed.isEmpty, "an instance crashed: \(crashed)\n\(logs(rig))")
        let total = survived.values.reduce(0, +)
        print("HAFailoverTests: survived \(total) faults (\(survived.map { "\($0.key.rawValue): \($0.value)" }.sorted().joined(separator: "; "))); "
              + "\(hookDeaths) new leaders died between journal and broadcast; zombies \(zombies); "
              + "failover to the new lease p50 \(percentile(toLease, 0.5)) ms p99 \(p99Lease) ms (n=\(toLease.count)), "
              + "to its first journal p50 \(percentile(toJournal, 0.5)) ms p99 \(percentile(toJournal, 0.99)) ms (n=\(toJournal.count), \(unmeasured) unmeasured); "
              + "\(history.count) epochs, \(journal.count) journaled transactions, \(rig.claimRounds) claim rounds, "
              + "routed \(verdict["routed"] ?? 0) of \(verdict["eligible"] ?? 0) eligible claims exactly once, 0 duplicates, 0 missing; "
              + "instances: \(exits.joined(separator: "; "))")
        passed = true
    }

    /// kill -9 of whoever leads now (the lease read right before the kill); nil when nobody leads. `claimsWaiting` nil:
    /// whether the store holds pending claims right after the kill.
    func killLeader(_ rig: HARig, _ fault: Fault, claimsWaiting: Bool?) async throws -> Kill? {
        guard let (leader, held) = rig.leader() else {
            print("\(fault.rawValue): nobody led at the kill instant; no kill")
            return nil
        }
        let at = Self.nowMs
        rig.stop(leader, signal: SIGKILL)
        var waiting = claimsWaiting ?? false
        if claimsWaiting == nil { waiting = try await rig.pendingIntents() > 0 }
        return Kill(fault: fault, atMs: at, epoch: held.epoch, claimsWaiting: waiting)
    }

    /// Nearest-rank percentile (0 for no samples).
    func percentile(_ xs: [Int64], _ p: Double) -> Int64 {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s[min(s.count - 1, max(0, Int((p * Double(s.count)).rounded(.up)) - 1))]
    }

    /// The last lines of every instance's log, for failure messages.
    func logs(_ rig: HARig) -> String {
        rig.instances.map { "== \($0.name) (\($0.running ? "running" : "down"), exits \($0.exits.map(\.text)))\n\($0.log(last: 1500))" }
            .joined(separator: "\n")
    }

    /// What an operator sees of three instances: /readyz 200 on the leader and on the healthy followers (they can take
    /// over), each naming its role; `expansion_keeper_leader` 1 on exactly one; every instance on the same epoch;
    /// `status --json` naming the store and the same leader.
    func checkVisibility(_ rig: HARig) async throws {
        guard let (leader, lease) = try await rig.waitForLeader(timeout: 30) else { return XCTFail("no leader for the visibility check") }
        var leaders = 0
        for i in rig.instances {
            guard let port = i.log(last: 1_000_000).split(separator: "\n").last(where: { $0.contains("metrics server listening") })?
                .split(separator: " ").first(where: { $0.hasPrefix("port=") }).map({ String($0.dropFirst(5)) }) else {
                XCTFail("\(i.name): no metrics port in its log"); continue
            }
            var ready = (status: 0, body: "")
            for _ in 0..<40 {  // a follower is ready once a lease check and an RPC sample succeeded
                ready = try await Self.get("http://127.0.0.1:\(port)/readyz")
                if ready.status == 200 { break }
                try await rig.tick()
            }
            let role = i.name == leader.name ? "role: leader, epoch \(lease.epoch)" : "role: follower, leader \(leader.name), epoch \(lease.epoch)"
            XCTAssertEqual(ready.status, 200, "\(i.name) /readyz: \(ready.body)")
            XCTAssertTrue(ready.body.contains(role), "\(i.name) /readyz should say \(role): \(ready.body)")
            let metrics = try await Self.get("http://127.0.0.1:\(port)/metrics").body
            if metrics.contains("\nexpansion_keeper_leader 1") { leaders += 1 }
            XCTAssertTrue(metrics.contains("\nexpansion_keeper_leader_epoch \(lease.epoch)"), "\(i.name): leader_epoch \(lease.epoch)")
            let status = try Env.run(Env.binary, ["status", "--config", i.configPath, "--json"], environment: ProcessInfo.processInfo.environment.merging(["EXPANSION_KEEPER_PG_PASSWORD": rig.pgPassword]) { $1 })
            let doc = (try? JSONSerialization.jsonObject(with: Data(status.out.utf8))) as? [String: Any]
            XCTAssertEqual((doc?["store"] as? [String: Any])?["backend"] as? String, "postgres", "\(i.name) status: \(status.out) \(status.err)")
            XCTAssertEqual((doc?["ha"] as? [String: Any])?["leader"] as? String, leader.name, "\(i.name) status: \(status.out)")
            XCTAssertEqual((doc?["ha"] as? [String: Any])?["instance"] as? String, i.name)
        }
        XCTAssertEqual(leaders, 1, "exactly one instance reports expansion_keeper_leader 1")
    }

    static func get(_ url: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
