import EthereumCore
import Foundation
import KeeperStore
import XCTest

final class KeeperStoreTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-store-\(UUID().uuidString.prefix(8))")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    let alice = try! Address("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
    func hash(_ n: UInt8) -> Bytes32 { try! Bytes32([UInt8](repeating: n, count: 32)) }
    func reward(_ b: UInt64, _ i: UInt32, _ amount: UInt64) -> RewardEvent {
        RewardEvent(position: LogPosition(block: b, logIndex: i), blockHash: hash(UInt8(b % 250)), txHash: hash(1), staker: alice, amount: UInt256(amount))
    }

    func testRoundTripAndWALAndIdentity() throws {
        let store = try KeeperStore(directory: dir.path)
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
        // A second process-like reader while the writer holds the file (WAL).
        let reader = try KeeperStore(directory: dir.path, readOnly: true)
        XCTAssertEqual(try reader.read { r in try r.rewardCount() }, 1)
        let mode = try String(contentsOfFile: store.path, encoding: .isoLatin1).prefix(20)
        XCTAssertTrue(mode.hasPrefix("SQLite format 3"))
        XCTAssertThrowsError(try store.bind(to: StoreIdentity(chainID: 1, staking: alice, rewardTopic: hash(9), treasury: alice))) { e in
            XCTAssertTrue("\(e)".contains("the store was built for chain id 8453 but the config says 1"), "\(e)")
        }
    }

    func testWriteIsAllOrNothingAndDuplicatesAreErrors() throws {
        let store = try KeeperStore(directory: dir.path)
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
            XCTAssertTrue(text.contains("SQLite error"), text)
            XCTAssertFalse(text.contains(alice.lowercased.dropFirst(2)), "bound arguments never appear in errors: \(text)")
        }
    }

    func testDeleteAboveKeepsSentIntentsAndPrunesWindow() throws {
        let store = try KeeperStore(directory: dir.path)
        try store.write { w in
            for b in UInt64(1)...20 { try w.putBlock(b, hash: hash(UInt8(b))) }
            try w.insert(reward(3, 0, 100))
            try w.insert(reward(15, 0, 100))
            for (b, state) in [(UInt64(3), IntentState.pending), (15, .sent), (16, .pending)] {
                try w.put(RouteIntent(claim: LogPosition(block: b, logIndex: 0), staker: alice, blockHash: hash(1), amount: 100,
                                      shareBps: 5000, expected: 50, state: state))
            }
            try w.pruneBlocks(below: 10)
        }
        XCTAssertEqual(try store.read { r in try r.blocks(atOrBelow: 9, limit: 100).map(\.number) }, [3], "only blocks holding events survive pruning")
        try store.write { w in _ = try w.deleteAbove(12) }
        XCTAssertEqual(try store.read { r in try r.rewardEvents().map(\.position.block) }, [3])
        XCTAssertEqual(try store.read { r in try r.intents().map(\.claim.block) }, [3, 15], "a sent intent's fate is settled on chain")
        XCTAssertEqual(try store.read { r in try r.tip()?.number }, 12)
        // put() never overrides a settled intent unless asked to.
        try store.write { w in
            try w.put(RouteIntent(claim: LogPosition(block: 15, logIndex: 0), staker: alice, blockHash: hash(1), amount: 100,
                                  shareBps: 1, expected: 1, state: .pending))
        }
        XCTAssertEqual(try store.read { r in try r.intent(at: LogPosition(block: 15, logIndex: 0))?.state }, .sent)
    }

    func testRegistrationHistoryAnswersForAnyBlock() throws {
        let store = try KeeperStore(directory: dir.path)
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

    func testReadOnlyOpenOfMissingStoreAndForeignFile() throws {
        XCTAssertThrowsError(try KeeperStore(directory: dir.path, readOnly: true)) { e in
            XCTAssertTrue("\(e)".contains("no keeper store at"), "\(e)")
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let junk = dir.appendingPathComponent(KeeperStore.fileName).path
        try Data("this is not a database, just text of some length........".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try KeeperStore(path: junk)) { e in XCTAssertTrue("\(e)".contains("SQLite error"), "\(e)") }
    }
}
