import EthereumCore
import Foundation
import KeeperStore
import KeeperTesting

/// Suite "store" (issue 20): the store's operations on PostgreSQL beside SQLite, in the same run — the SQLite figure
/// is the reference. A throwaway PostgreSQL 15 on loopback (Tests/Support/pgserver.py; no network latency, so the
/// ratio is the protocol's and the server's cost, not a datacentre's). Operations, each as the daemon does them:
/// - ingest a 10,000-event catch-up: reward events and block hashes in write transactions of 1,000 events (the
///   ingestor commits one range at a time), with the cursor;
/// - plan: 10,000 intents put in transactions of 1,000, then the pending ones read back in claim order;
/// - journal a batch: one signed transaction journaled with its 100 claims marked sent (one write transaction), ×20;
/// - read a staker's page (the stakers' API): 50 treasury events newest first, ×200.
func storeBench() throws {
    let events = ProcessInfo.processInfo.environment["STORE_BENCH_EVENTS"].flatMap(Int.init) ?? 10_000
    let server = try PostgresTestServer()
    defer { server.stop() }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-store-bench-\(getpid())")
    try? FileManager.default.removeItem(at: dir)
    defer { try? FileManager.default.removeItem(at: dir) }
    let sqlite = try KeeperStore(directory: dir.path)
    let pg = try KeeperStore(postgres: try PostgresSettings(url: server.url, password: server.password))
    defer { pg.close() }
    print("  \(events) events; PostgreSQL 15 on loopback (pgserver.py), SQLite in a temp dir (WAL); one round each")
    var rows: [(String, Double, Double)] = []
    for (name, op) in storeOperations(events: events) {
        let s = try op(sqlite), p = try op(pg)
        rows.append((name, s, p))
    }
    for (name, s, p) in rows {
        print("  \(name.padding(toLength: 40, withPad: " ", startingAt: 0)) sqlite \(fmtMs(s)) ms   postgres \(fmtMs(p)) ms   (\(String(format: "%.1f", p / s)) x sqlite)")
    }
}

private func fmtMs(_ s: Double) -> String { String(format: "%9.1f", s * 1000) }

private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = ContinuousClock.now
    try body()
    let d = ContinuousClock.now - t0
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

private func word(_ i: Int, _ tag: UInt8) -> Bytes32 {
    var b = [UInt8](repeating: tag, count: 32)
    withUnsafeBytes(of: UInt64(i).bigEndian) { for (k, x) in $0.enumerated() { b[24 + k] = x } }
    return try! Bytes32(b)
}

private func staker(_ i: Int) -> Address {
    var b = [UInt8](repeating: 0x11, count: 20)
    b[19] = UInt8(i % 200); b[18] = UInt8(i % 7)
    return try! Address(b)
}

/// The operations, each run on a store and timed (seconds).
private func storeOperations(events: Int) -> [(String, (KeeperStore) throws -> Double)] {
    let chunk = 1_000
    return [
        ("ingest \(events)-event catch-up", { store in
            seconds {
                for start in stride(from: 0, to: events, by: chunk) {
                    try! store.write { w in
                        for i in start..<min(events, start + chunk) {
                            let block = UInt64(1_000 + i)
                            try w.insert(RewardEvent(position: LogPosition(block: block, logIndex: 0), blockHash: word(i, 1), txHash: word(i, 2),
                                                     staker: staker(i), amount: UInt256(UInt64(1_000_000 + i))))
                            try w.putBlock(block, hash: word(i, 1))
                        }
                        try w.setCursor(UInt64(1_000 + min(events, start + chunk)))
                    }
                }
            }
        }),
        ("plan \(events) intents, read them back", { store in
            seconds {
                for start in stride(from: 0, to: events, by: chunk) {
                    try! store.write { w in
                        for i in start..<min(events, start + chunk) {
                            try w.put(RouteIntent(claim: LogPosition(block: UInt64(1_000 + i), logIndex: 0), staker: staker(i), blockHash: word(i, 1),
                                                  amount: UInt256(UInt64(1_000_000 + i)), shareBps: 5000, expected: UInt256(UInt64(500_000 + i)),
                                                  state: .pending))
                        }
                    }
                }
                let pending = try! store.read { r in try r.intents(states: [.pending]) }
                precondition(pending.count == events)
            }
        }),
        ("journal a 100-claim batch (x20)", { store in
            seconds {
                for batch in 0..<20 {
                    let claims = (0..<100).map { ClaimID(blockHash: word(batch * 100 + $0, 1), logIndex: 0) }
                    let e = NewJournalEntry(nonce: UInt64(batch), hash: word(batch, 9), raw: [UInt8](repeating: 2, count: 600), gasLimit: 2_000_000,
                                            maxFeePerGas: 1_000_000_000, maxPriorityFeePerGas: 1_000_000, createdAt: 1_700_000_000)
                    _ = try! store.write { w in try w.journal(e, claims: claims) }
                }
            }
        }),
        ("a staker's page of 50 events (x200)", { store in
            try store.write { w in
                for i in 0..<min(events, 2_000) {
                    try w.insert(TreasuryEvent(position: LogPosition(block: UInt64(50_000 + i), logIndex: 0), blockHash: word(i, 3), txHash: word(i, 4),
                                               staker: staker(i % 10), claim: LogPosition(block: UInt64(1_000 + i), logIndex: 0),
                                               claimBlockHash: word(i, 1), outcome: .routed(reward: 100, contributed: 50, shareBps: 5000)))
                }
            }
            return seconds {
                for k in 0..<200 { _ = try! store.read { r in try r.contributions(of: staker(k % 10), limit: 50) } }
            }
        }),
    ]
}
