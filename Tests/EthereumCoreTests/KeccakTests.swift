import EthereumCore
import KeeperTesting
import XCTest

final class KeccakTests: XCTestCase {
    func testPublishedVectors() throws {
        let file = try loadVectors("keccak256.json")
        let vectors = file["vectors"] as! [[String: Any]]
        XCTAssertGreaterThan(vectors.count, 10)
        for v in vectors {
            let msg = hexBytes(v["msg"] as! String)
            XCTAssertEqual(Keccak256.hash(msg).hexString, "0x" + (v["md"] as! String), "Len = \(v["len"]!)")
        }
        for v in file["text"] as! [[String: Any]] {
            XCTAssertEqual(Keccak256.hash(text: v["text"] as! String).hexString, "0x" + (v["md"] as! String))
        }
    }

    /// Ethereum's Keccak pads with 0x01; SHA3-256 (0x06) of "" is a7ffc6f8… — we must not produce it.
    func testIsNotFIPS202SHA3() {
        XCTAssertNotEqual(Keccak256.hash([]).hexString,
                          "0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
    }

    /// Every split of a message across `update` calls gives the one-shot digest.
    func testIncrementalEqualsOneShot() {
        var rng = SplitMix64(seed: testSeed)
        for length in [0, 1, 7, 8, 9, 135, 136, 137, 271, 272, 273, 500] {
            let msg = rng.bytes(length)
            let expected = Keccak256.hash(msg)
            for split in Set([0, 1, length / 2, max(0, length - 1), length, 136]) where split <= length {
                var h = Keccak256()
                h.update(Array(msg[..<split]))
                h.update(Array(msg[split...]))
                XCTAssertEqual(h.finalize(), expected, "length \(length) split \(split)")
            }
            var bytewise = Keccak256()
            for b in msg { bytewise.update([b]) }
            XCTAssertEqual(bytewise.finalize(), expected, "length \(length) byte by byte")
        }
    }

    /// Differential against pycryptodome: every length 0…300 (around the 135/136-byte rate boundary),
    /// then random lengths up to 5 KiB.
    func testAgainstPycryptodome() throws {
        var rng = SplitMix64(seed: testSeed)
        print("keccak differential seed \(testSeed)")
        var messages: [[UInt8]] = (0...300).map { rng.bytes($0) }
        for _ in 0..<50 { messages.append(rng.bytes(Int.random(in: 301...5000, using: &rng))) }
        let answers = try PythonOracle.ask("core_oracle.py", messages.map { ["op": "keccak", "hex": Hex.encode($0, prefix: false)] })
        for (msg, answer) in zip(messages, answers) {
            XCTAssertEqual(Keccak256.hash(msg).hexString, "0x" + (answer["md"] as! String), "length \(msg.count)")
        }
    }

    func testSelectorsAndTopics() {
        XCTAssertEqual(Keccak256.hash(text: "transfer(address,uint256)").hexString.prefix(10), "0xa9059cbb")
        XCTAssertEqual(Keccak256.hash(text: "Transfer(address,address,uint256)").hexString,
                       "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
        // research/venice-staking.md: Claimed(address,uint256) topic0.
        XCTAssertEqual(Keccak256.hash(text: "Claimed(address,uint256)").hexString,
                       "0xd8138f8a3f377c5259ca548e70e4c2de94f129f5a11036a15b69513cba2b426a")
    }
}
