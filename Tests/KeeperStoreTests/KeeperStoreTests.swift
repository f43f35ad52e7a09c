import EthereumCore
import Foundation
@testable import KeeperStore
import KeeperTesting
import XCTest

final class KeeperStoreTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-store-\(UUID().uuidString.prefix(8))")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The conformance suite: `body` runs on a fresh SQLite store in `dir`, then on a fresh PostgreSQL store (the
    /// process's throwaway server, every table dropped first).
    func eachBackend(_ body: (KeeperStore) throws -> Void) throws {
        let sqlite = try KeeperStore(directory: dir.path)
        try body(sqlite)
        let pg = try Self.freshPostgres()
        defer { pg.close() }
        try body(pg)
    }

    static func postgresSettings() throws -> PostgresSettings {
        let server = try PostgresTestServer.shared()
        return try PostgresSettings(url: server.url, password: server.password)
    }

    /// A PostgreSQL store with nothing in it: every table of an earlier test dropped, then migrated anew.
    static func freshPostgres() throws -> KeeperStore {
        try dropEverything()
        return try KeeperStore(postgres: try postgresSettings())
    }

    /// Drops every table of the test database.
    static func dropEverything() throws {
        let old = try KeeperStore(postgres: try postgresSettings())
        try old.write { w in
            let tables = try w.reader.rows("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").compactMap { row -> String? in
                if case let .text(t) = row["tablename"] { t } else { nil }
            }
            for t in tables { try w.exec("DROP TABLE IF EXISTS \"\(t)\" CASCADE") }
        }
        old.close()
    }

    let alice = try! Address("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
    func hash(_ n: UInt8) -> Bytes32 { try! Bytes32([UInt8](repeating: n, count: 32)) }
    func reward(_ b: UInt64, _ i: UInt32, _ amount: UInt64) -> RewardEvent {
        RewardEvent(position: LogPosition(block: b, logIndex: i), blockHash: hash(UInt8(b % 250)), txHash: hash(1), staker: alice, amount: UInt256(amount))
    }

    func testRoundTripAndWALAndIdentity() throws {
        try eachBackend { store in
            let id = StoreIdentity(chainID: 8453, staking: alice, rewardTopic: hash(9), treasury: alice)
            try store.bind(to: id)
            try store.bind(to: id)
            try store.write { w in
                try w.insert(reward(10, 2, 1_000))
                try w.putBlock(10, hash: hash(10))
                try w.setCursor(11)
            }
            XCTAssertEqual(try store.read { r in try r.rewardEvents() }, [reward(10, 2, 1_000)])
            XCTAssertEqual(try store.read { r in try r.cursor() }, 11)
            XCTAssertEqual(try store.read { r in try r.tip()?.number }, 10)
            // A second process-like reader while the writer holds the file (WAL), or the database.
            let reader = store.backend == .sqlite ? try KeeperStore(directory: dir.path, readOnly: true)
                : try KeeperStore(postgres: try Self.postgresSettings(), readOnly: true)
            XCTAssertEqual(try reader.read { r in try r.rewardCount() }, 1)
            reader.close()
            if store.backend == .sqlite {
                let mode = try String(contentsOfFile: store.path, encoding: .isoLatin1).prefix(20)
                XCTAssertTrue(mode.hasPrefix("SQLite format 3"))
            }
            XCTAssertThrowsError(try store.bind(to: StoreIdentity(chainID: 1, staking: alice, rewardTopic: hash(9), treasury: alice))) { e in
                XCTAssertTrue("\(e)".contains("the store was built for chain id 8453 but the config says 1"), "\(e)")
            }
        }
    }

    func testWriteIsAllOrNothingAndDuplicatesAreErrors() throws {
        try eachBackend { store in
            struct Boom: Error {}
            XCTAssertThrowsError(try store.write { w in
                try w.insert(reward(5, 0, 1))
                try w.setCursor(6)
                throw Boom()
            })
            XCTAssertEqual(try store.read { r in try r.rewardCount() }, 0)
            XCTAssertNil(try store.read { r in try r.cursor() })
            try store.write { w in try w.insert(reward(5, 0, 1)) }
            XCTAssertThrowsError(try store.write { w in try w.insert(reward(5, 0, 1)) }) { e in
                let text = "\(e)"
                XCTAssertTrue(text.contains(store.backend == .sqlite ? "SQLite error" : "PostgreSQL error 23505"), text)
                XCTAssertFalse(text.contains(alice.lowercased.dropFirst(2)), "bound arguments never appear in errors: \(text)")
            }
        }
    }

    func testDeleteAboveDropsEventsAndPrunesWindow() throws {
        try eachBackend { store in
            try store.write { w in
                for b in UInt64(1)...20 { try w.putBlock(b, hash: hash(UInt8(b))) }
                try w.insert(reward(3, 0, 100))
                try w.insert(reward(15, 0, 100))
                for (b, state) in [(UInt64(3), IntentState.pending), (15, .sent), (16, .pending)] {
                    try w.put(RouteIntent(claim: LogPosition(block: b, logIndex: 0), staker: alice, blockHash: hash(UInt8(b)), amount: 100,
                                          shareBps: 5000, expected: 50, state: state))
                }
                try w.pruneBlocks(below: 10)
            }
            XCTAssertEqual(try store.read { r in try r.blocks(atOrBelow: 9, limit: 100).map(\.number) }, [3], "only blocks holding events survive pruning")
            try store.write { w in _ = try w.deleteAbove(12) }
            XCTAssertEqual(try store.read { r in try r.rewardEvents().map(\.position.block) }, [3])
            XCTAssertEqual(try store.read { r in try r.tip()?.number }, 12)
            // put() never overrides a settled intent unless asked to.
            try store.write { w in
                try w.put(RouteIntent(claim: LogPosition(block: 15, logIndex: 0), staker: alice, blockHash: hash(15), amount: 100,
                                      shareBps: 1, expected: 1, state: .pending))
            }
            XCTAssertEqual(try store.read { r in try r.intent(at: LogPosition(block: 15, logIndex: 0))?.state }, .sent)
        }
    }

    /// A claim is (block hash, log index): two forks' rewards at the same position are two intents.
    func testTwoForksAtOnePositionAreTwoClaims() throws {
        try eachBackend { store in
            let old = RouteIntent(claim: LogPosition(block: 166, logIndex: 1), staker: alice, blockHash: hash(1), amount: 4_000,
                                  shareBps: 10_000, expected: 4_000, state: .routed, settledBlock: 170, settledBlockHash: hash(2))
            var new = old; new.blockHash = hash(3); new.amount = 99_999; new.expected = 9_999; new.state = .pending
            new.settledBlock = nil; new.settledBlockHash = nil
            try store.write { w in try w.put(old, overridingSettled: true); try w.put(new) }
            XCTAssertEqual(try store.read { r in try r.intents(atPosition: LogPosition(block: 166, logIndex: 1)).count }, 2)
            XCTAssertEqual(try store.read { r in try r.intent(id: old.id)?.state }, .routed)
            XCTAssertEqual(try store.read { r in try r.intent(id: new.id)?.amount }, 99_999)
        }
    }

    /// A reorg orphans every intent of an orphaned block whatever its state (terminal, never replaced), puts
    /// transactions mined in orphaned blocks back in flight, and returns intents whose settling event was
    /// orphaned to the submission path (`sent` with their transaction in flight again, `pending` otherwise).
    func testDeepReorgOrphansClaimsAndUndoesOrphanedSettlements() throws {
        try eachBackend { store in
            func intent(_ b: UInt64, _ state: IntentState, settled: UInt64? = nil) -> RouteIntent {
                RouteIntent(claim: LogPosition(block: b, logIndex: 0), staker: alice, blockHash: hash(UInt8(b)), amount: 100, shareBps: 5000,
                            expected: 50, state: state, settledBlock: settled, settledBlockHash: settled.map { hash(UInt8($0)) })
            }
            func entry(_ nonce: UInt64, _ tag: UInt8) -> NewJournalEntry {
                NewJournalEntry(nonce: nonce, hash: hash(tag), raw: [2, tag], gasLimit: 1, maxFeePerGas: 1, maxPriorityFeePerGas: 1, createdAt: 1)
            }
            try store.write { w in
                for i in [intent(5, .pending), intent(6, .pending), intent(7, .pending)] { try w.put(i) }
                // 5 and 6 travel in transaction 0 (mined in 12, orphaned); 7 was routed by someone else in 13.
                let tx = try w.journal(entry(0, 200), claims: [intent(5, .pending).id, intent(6, .pending).id])
                try w.setJournalState(id: tx, .confirmed, minedBlock: 12, minedBlockHash: hash(12))
                try w.put(intent(5, .routed, settled: 12), overridingSettled: true)
                try w.put(intent(6, .skipped, settled: 12), overridingSettled: true)
                try w.put(intent(7, .routed, settled: 13), overridingSettled: true)
                for (b, s) in [(UInt64(11), IntentState.routed), (14, .sent), (15, .pending), (16, .lapsed)] {
                    try w.put(intent(b, s, settled: s == .routed ? 12 : nil), overridingSettled: true)
                }
            }
            let undone = try store.write { w in try w.undoOrphanedBlocks(above: 10, reason: "reorg #1") }
            XCTAssertEqual(undone.orphaned, 4, "claims of blocks 11, 14, 15, 16")
            XCTAssertEqual(undone.reopened, 1)
            XCTAssertEqual(undone.unsettled, 3)
            let after = try store.read { r in Dictionary(uniqueKeysWithValues: try r.intents().map { ($0.claim.block, $0) }) }
            for b in [UInt64(11), 14, 15, 16] {
                XCTAssertEqual(after[b]?.state, .orphaned, "block \(b)")
                XCTAssertEqual(after[b]?.reason, "reorg #1")
            }
            XCTAssertEqual(after[5]?.state, .sent, "its transaction is in flight again")
            XCTAssertEqual(after[6]?.state, .sent)
            XCTAssertEqual(after[7]?.state, .pending, "routed by a transaction we do not track: back to the planner")
            XCTAssertNil(after[5]?.settledBlock)
            XCTAssertEqual(try store.read { r in try r.journal().map(\.state) }, [.sent])
            // Orphaned is terminal: planning the same claim again changes nothing.
            try store.write { w in try w.put(intent(15, .pending)) }
            XCTAssertEqual(try store.read { r in try r.intent(id: intent(15, .pending).id)?.state }, .orphaned)
            XCTAssertNil(try store.read { r in try r.intent(at: LogPosition(block: 15, logIndex: 0)) }, "no live intent at an orphaned position")
            // A settlement whose block the ingestor later sees with another hash is undone the same way.
            try store.write { w in try w.put(intent(7, .routed, settled: 13), overridingSettled: true) }
            XCTAssertEqual(try store.write { w in try w.undoSettlements(inBlock: 13, unlessHash: hash(13)) }.unsettled, 0, "same hash: kept")
            XCTAssertEqual(try store.write { w in try w.undoSettlements(inBlock: 13, unlessHash: hash(99)) }.unsettled, 1)
            XCTAssertEqual(try store.read { r in try r.intent(id: intent(7, .pending).id)?.state }, .pending)
        }
    }

    /// Journaling the same signed bytes twice (same nonce, batch and fees after a reorg gave the nonce back)
    /// reuses the row instead of failing on the unique hash.
    func testJournalingTheSameTransactionAgainReusesItsRow() throws {
        try eachBackend { store in
            let i = RouteIntent(claim: LogPosition(block: 5, logIndex: 0), staker: alice, blockHash: hash(5), amount: 100, shareBps: 5000,
                                expected: 50, state: .pending)
            let e = NewJournalEntry(nonce: 3, hash: hash(77), raw: [2, 1], gasLimit: 1, maxFeePerGas: 1, maxPriorityFeePerGas: 1, createdAt: 1)
            let first = try store.write { w in try w.put(i); return try w.journal(e, claims: [i.id]) }
            try store.write { w in
                try w.setJournalState(id: first, .superseded, minedBlock: nil)
                _ = try w.returnClaims(ofNonce: 3, reason: nil)
            }
            XCTAssertEqual(try store.read { r in try r.intent(id: i.id)?.state }, .pending)
            let second = try store.write { w in try w.journal(e, claims: [i.id]) }
            XCTAssertEqual(first, second)
            XCTAssertEqual(try store.read { r in try r.journal().map(\.state) }, [.sent])
        }
    }

    /// A store written by the previous version (schema v1: intents keyed by position) opens, is migrated
    /// (intents re-keyed by block hash, settlements carried over) and keeps working.
    func testAStoreOfTheFirstSchemaIsMigrated() throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(KeeperStore.fileName).path
        do {
            let v1 = try KeeperStore(path: path, readOnly: false, migrations: 1)
            try v1.write { w in
                try w.exec("INSERT INTO reward_events VALUES (15, 0, ?, ?, ?, ?)", [hash(15).blob, hash(1).blob, alice.blob, UInt256(100).blob])
                try w.exec("INSERT INTO treasury_events (block_number, log_index, block_hash, tx_hash, routed, staker, claim_block, claim_log_index, reward, contributed, share_bps) VALUES (20, 3, ?, ?, 1, ?, 15, 0, ?, ?, 5000)",
                           [hash(20).blob, hash(2).blob, alice.blob, UInt256(100).blob, UInt256(50).blob])
                try w.exec("INSERT INTO intents (claim_block, claim_log_index, staker, block_hash, amount, share_bps, expected, state) VALUES (15, 0, ?, ?, ?, 5000, ?, 'routed')",
                           [alice.blob, hash(15).blob, UInt256(100).blob, UInt256(50).blob])
                try w.exec("INSERT INTO intents (claim_block, claim_log_index, staker, block_hash, amount, share_bps, expected, state) VALUES (16, 0, ?, ?, ?, 5000, ?, 'pending')",
                           [alice.blob, hash(16).blob, UInt256(100).blob, UInt256(50).blob])
                try w.exec("INSERT INTO transactions (nonce, hash, raw, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, state, created_at, mined_block) VALUES (0, ?, ?, 1, ?, ?, 'confirmed', 1, 20)",
                           [hash(9).blob, Data([2]), UInt256(1).blob, UInt256(1).blob])
            }
        }
        let store = try KeeperStore(path: path)
        let routed = try XCTUnwrap(try store.read { r in try r.intent(at: LogPosition(block: 15, logIndex: 0)) })
        XCTAssertEqual(routed.state, .routed)
        XCTAssertEqual(routed.id, ClaimID(blockHash: hash(15), logIndex: 0))
        XCTAssertEqual(routed.settledBlock, 20)
        XCTAssertEqual(routed.settledBlockHash, hash(20))
        XCTAssertEqual(try store.read { r in try r.treasuryEvents().first?.claimBlockHash }, hash(15))
        XCTAssertEqual(try store.read { r in try r.journal().first?.minedBlock }, 20)
        XCTAssertEqual(try store.read { r in try r.intents(states: [.pending]).map(\.claim.block) }, [16])
        // It keeps working: a reorg above 17 puts the route (settled in 20) back on the submission path.
        try store.write { w in _ = try w.undoOrphanedBlocks(above: 17, reason: "reorg #1") }
        XCTAssertEqual(try store.read { r in try r.intent(at: LogPosition(block: 15, logIndex: 0))?.state }, .pending)
    }

    func testRegistrationHistoryAnswersForAnyBlock() throws {
        try eachBackend { store in
            try store.write { w in
                try w.insert(RegistrationEvent(position: LogPosition(block: 10, logIndex: 1), blockHash: hash(1), txHash: hash(2), staker: alice,
                                               optedIn: true, shareBps: 2500, sinceBlock: 10))
                try w.insert(RegistrationEvent(position: LogPosition(block: 20, logIndex: 0), blockHash: hash(1), txHash: hash(2), staker: alice,
                                               optedIn: true, shareBps: 5000, sinceBlock: 20))
                try w.insert(RegistrationEvent(position: LogPosition(block: 30, logIndex: 0), blockHash: hash(1), txHash: hash(2), staker: alice,
                                               optedIn: false, shareBps: 0, sinceBlock: 0))
            }
            try store.read { r in
                XCTAssertNil(try r.registration(of: alice, forClaimAt: 9))
                XCTAssertEqual(try r.registration(of: alice, forClaimAt: 10)?.shareBps, 2500)
                XCTAssertEqual(try r.registration(of: alice, forClaimAt: 19)?.shareBps, 2500)
                XCTAssertEqual(try r.registration(of: alice, forClaimAt: 25)?.sinceBlock, 20)
                XCTAssertNil(try r.registration(of: alice, forClaimAt: 30))
            }
        }
    }

    func testReadOnlyOpenOfMissingStoreAndForeignFile() throws {
        XCTAssertThrowsError(try KeeperStore(directory: dir.path, readOnly: true)) { e in
            XCTAssertTrue("\(e)".contains("no keeper store at"), "\(e)")
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let junk = dir.appendingPathComponent(KeeperStore.fileName).path
        try Data("this is not a database, just text of some length........".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try KeeperStore(path: junk)) { e in XCTAssertTrue("\(e)".contains("SQLite error"), "\(e)") }
    }

    // MARK: PostgreSQL only: the URL, the lease and the fencing rule

    func testPostgresURLIsParsedStrictlyAndNeverHoldsAPassword() throws {
        let s = try PostgresSettings(url: "postgresql://keeper@db.internal:6432/keeper", password: "pw")
        XCTAssertEqual(s.sslMode, .verifyFull, "TLS with full verification unless the URL says otherwise")
        XCTAssertEqual(s.port, 6432)
        XCTAssertEqual(s.redactedURL, "postgresql://keeper@db.internal:6432/keeper?sslmode=verify-full")
        for (url, says) in [("postgresql://keeper:secret@db/keeper", "holds a password"), ("mysql://keeper@db/keeper", "not a postgresql:// URL"),
                            ("postgresql://db/keeper", "names no user"), ("postgresql://keeper@db/", "names no database"),
                            ("postgresql://keeper@db/keeper?sslmode=allow", "sslmode allow is not one of"),
                            ("postgresql://keeper@db/keeper?target_session_attrs=any", "unknown parameter target_session_attrs")] {
            XCTAssertThrowsError(try PostgresSettings(url: url, password: nil), url) { e in
                XCTAssertTrue("\(e)".contains(says) && "\(e)".contains("store.postgres_url"), "\(url): \(e)")
                XCTAssertFalse("\(e)".contains("secret"), "the password never appears: \(e)")
            }
        }
    }

    func testPostgresWrongPasswordAndReadOnlyEmptyDatabaseAreClearErrors() throws {
        let server = try PostgresTestServer.shared()
        XCTAssertThrowsError(try KeeperStore(postgres: try PostgresSettings(url: server.url, password: "wrong"))) { e in
            XCTAssertTrue("\(e)".contains("28P01") || "\(e)".contains("password"), "\(e)")
            XCTAssertFalse("\(e)".contains("wrong"), "the password never appears: \(e)")
        }
        try Self.dropEverything()
        defer { _ = try? Self.freshPostgres().close() }
        XCTAssertThrowsError(try KeeperStore(postgres: try Self.postgresSettings(), readOnly: true)) { e in
            XCTAssertTrue("\(e)".contains("no keeper store at postgresql://keeper@127.0.0.1"), "\(e)")
        }
    }

    /// One lease, epochs that only grow, and the fencing rule: a keeper writes only while it holds the lease at its epoch,
    /// unexpired, by the database's clock; the journal records who journaled under which epoch.
    func testLeaseEpochsAndFencedWrites() throws {
        let a = try Self.freshPostgres(), b = try KeeperStore(postgres: try Self.postgresSettings())
        defer { a.close(); b.close() }
        let la = try LeaseClient(store: a, instance: "keeper-a", leaseMs: 600), lb = try LeaseClient(store: b, instance: "keeper-b", leaseMs: 600)
        defer { la.close(); lb.close() }
        guard case .leader(1, _, nil, true) = try la.attempt() else { return XCTFail("the first attempt takes the lease at epoch 1") }
        guard case .follower("keeper-a", 1, _) = try lb.attempt() else { return XCTFail("b follows a") }
        guard case .leader(1, _, nil, false) = try la.attempt() else { return XCTFail("a renews at the same epoch") }
        a.setWriteFence(.leader(LeaseHolder(instance: "keeper-a", epoch: 1)))
        b.setWriteFence(.follower)
        let i = RouteIntent(claim: LogPosition(block: 5, logIndex: 0), staker: alice, blockHash: hash(5), amount: 100, shareBps: 5000,
                            expected: 50, state: .pending)
        let e = NewJournalEntry(nonce: 0, hash: hash(70), raw: [2, 1], gasLimit: 1, maxFeePerGas: 1, maxPriorityFeePerGas: 1, createdAt: 1)
        try a.write { w in try w.put(i); _ = try w.journal(e, claims: [i.id]) }
        let row = try XCTUnwrap(try a.read { r in try r.journal().first })
        XCTAssertEqual(row.journaledBy, "keeper-a")
        XCTAssertEqual(row.journaledEpoch, 1)
        XCTAssertNotNil(row.journaledAtMs)
        XCTAssertThrowsError(try b.write { w in try w.setCursor(9) }) { e in XCTAssertTrue("\(e)".contains("follower"), "\(e)") }
        // a stops renewing: once the lease expired (database clock) a writes nothing, and b takes over at epoch 2.
        Thread.sleep(forTimeInterval: 0.7)
        XCTAssertThrowsError(try a.write { w in try w.setCursor(9) }) { e in XCTAssertTrue("\(e)".contains("fenced: keeper-a no longer holds"), "\(e)") }
        guard case .leader(2, _, "keeper-a", true) = try lb.attempt() else { return XCTFail("b takes the expired lease over at epoch 2") }
        guard case .follower("keeper-b", 2, _) = try la.attempt() else { return XCTFail("a, back, follows b") }
        XCTAssertThrowsError(try a.write { w in try w.setCursor(9) }) { e in XCTAssertTrue("\(e)".contains("keeper-b holds epoch 2"), "\(e)") }
        b.setWriteFence(.leader(LeaseHolder(instance: "keeper-b", epoch: 2)))
        try b.write { w in try w.setCursor(9) }
        XCTAssertEqual(try a.read { r in try r.cursor() }, 9)
        // A graceful leader gives the lease up at once.
        lb.release()
        guard case .leader(3, _, "keeper-b", true) = try la.attempt() else { return XCTFail("a takes the released lease at epoch 3") }
        XCTAssertEqual(try a.leaderHistory().map { "\($0.epoch) \($0.holder)" }, ["1 keeper-a", "2 keeper-b", "3 keeper-a"])
        XCTAssertEqual(try a.currentLease()?.holder, "keeper-a")
        XCTAssertEqual(try a.currentLease()?.live, true)
    }

    /// A takeover waits for the old leader's write in progress (it holds the lease row FOR KEY SHARE; a new epoch is a key update): that write commits
    /// before the new term begins, so the new leader sees it when it reconciles.
    func testTakeoverWaitsForTheLeadersWriteInProgress() throws {
        let a = try Self.freshPostgres(), b = try KeeperStore(postgres: try Self.postgresSettings())
        defer { a.close(); b.close() }
        let la = try LeaseClient(store: a, instance: "keeper-a", leaseMs: 300), lb = try LeaseClient(store: b, instance: "keeper-b", leaseMs: 300)
        defer { la.close(); lb.close() }
        guard case .leader(1, _, _, _) = try la.attempt() else { return XCTFail("a leads") }
        a.setWriteFence(.leader(LeaseHolder(instance: "keeper-a", epoch: 1)))
        final class When: @unchecked Sendable { let lock = NSLock(); var at = Date.distantFuture }
        let committed = When()
        let writer = Thread {
            try? a.write { w in
                try w.setCursor(42)
                Thread.sleep(forTimeInterval: 0.8)  // past the lease, inside the transaction
            }
            committed.lock.lock(); committed.at = Date(); committed.lock.unlock()
        }
        writer.start()
        Thread.sleep(forTimeInterval: 0.5)
        guard case .leader(2, _, "keeper-a", _) = try lb.attempt() else { return XCTFail("b takes over once a's write ended") }
        let tookOver = Date()
        committed.lock.lock(); let at = committed.at; committed.lock.unlock()
        XCTAssertLessThanOrEqual(at, tookOver, "the takeover waited for the write in progress")
        XCTAssertEqual(try b.read { r in try r.cursor() }, 42, "the old leader's last write committed before the new term")
        writer.cancel()
        // And a leader's long write never holds its own renewal up.
        b.setWriteFence(.leader(LeaseHolder(instance: "keeper-b", epoch: 2)))
        let long = Thread { try? b.write { w in try w.setCursor(43); Thread.sleep(forTimeInterval: 0.6) } }
        long.start()
        Thread.sleep(forTimeInterval: 0.1)
        let before = Date()
        guard case .leader(2, _, _, false) = try lb.attempt() else { return XCTFail("b renews during its own write") }
        XCTAssertLessThan(Date().timeIntervalSince(before), 0.4, "the renewal did not wait for the write")
    }

    /// `store migrate`: SQLite → PostgreSQL → SQLite keeps every row (the digests agree at each step), ids continue
    /// after the copied ones, and a target holding data is refused.
    func testStoreCopiesBetweenBackendsVerified() throws {
        let sqlite = try KeeperStore(directory: dir.path)
        try sqlite.bind(to: StoreIdentity(chainID: 8453, staking: alice, rewardTopic: hash(9), treasury: alice))
        let i = RouteIntent(claim: LogPosition(block: 5, logIndex: 0), staker: alice, blockHash: hash(5), amount: 100, shareBps: 5000,
                            expected: 50, state: .pending)
        try sqlite.write { w in
            for b in UInt64(1)...40 { try w.insert(reward(b, UInt32(b % 3), b * 7)); try w.putBlock(b, hash: hash(UInt8(b))) }
            try w.put(i)
            _ = try w.journal(NewJournalEntry(nonce: 0, hash: hash(77), raw: [2, 9], gasLimit: 21_000, maxFeePerGas: 5, maxPriorityFeePerGas: 1,
                                              createdAt: 1_700_000_000), claims: [i.id])
            _ = try w.record(ReorgRecord(oldTip: 12, ancestor: 10, depth: 2, detectedAt: 1_700_000_001))
        }
        let pg = try Self.freshPostgres()
        defer { pg.close() }
        let there = try StoreCopy.copy(from: sqlite, to: pg)
        XCTAssertTrue(there.allSatisfy(\.verified), "\(there)")
        XCTAssertEqual(there.first { $0.table == "reward_events" }?.targetRows, 40)
        XCTAssertEqual(try pg.read { r in try r.canonicalDump() }, try sqlite.read { r in try r.canonicalDump() })
        // The next journaled row and reorg get fresh ids after the copied ones.
        XCTAssertEqual(try pg.write { w in try w.record(ReorgRecord(oldTip: 20, ancestor: 19, depth: 1, detectedAt: 2)) }, 2)
        XCTAssertThrowsError(try StoreCopy.copy(from: sqlite, to: pg)) { e in XCTAssertTrue("\(e)".contains("already holds data"), "\(e)") }
        let back = try KeeperStore(directory: dir.appendingPathComponent("back").path)
        let returned = try StoreCopy.copy(from: pg, to: back)
        XCTAssertTrue(returned.allSatisfy(\.verified), "\(returned)")
        XCTAssertEqual(try back.read { r in try r.journal().map(\.hash) }, [hash(77)])
        // A row changed in transit would not verify: the digest covers every value.
        let rows = try sqlite.read { r in try r.rows("SELECT * FROM blocks") }
        var changed = rows
        changed[0] = SQLRow(columns: rows[0].columns, values: [rows[0].values[0], .blob(Data(repeating: 0xEE, count: 32))])
        XCTAssertNotEqual(StoreCopy.digest(rows), StoreCopy.digest(changed))
    }
}
