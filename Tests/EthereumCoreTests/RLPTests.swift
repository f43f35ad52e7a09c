import EthereumCore
import KeeperTesting
import XCTest

final class RLPTests: XCTestCase {
    private func item(_ json: Any) -> RLPItem {
        if let list = json as? [Any] { return .list(list.map(item)) }
        let s = json as! String
        if s.hasPrefix("#") { return .uint(try! UInt256(decimal: String(s.dropFirst()))) }
        if s.hasPrefix("0x") { return .bytes(hexBytes(s)) }
        return .bytes(Array(s.utf8))
    }

    func testPublishedValidExamples() throws {
        let vectors = try loadVectors("rlp-valid.json")["vectors"] as! [[String: Any]]
        XCTAssertEqual(vectors.count, 12)
        for v in vectors {
            let expected = v["out"] as! String
            let i = item(v["in"]!)
            XCTAssertEqual(Hex.encode(RLP.encode(i)), expected)
            XCTAssertEqual(try RLP.decode(hexBytes(expected)), i, expected)
        }
    }

    func testPublishedInvalidExamplesAreRejected() throws {
        let vectors = try loadVectors("RLPTests-invalidRLPTest.json")
        XCTAssertEqual(vectors.count, 17)
        for (name, v) in vectors {
            let out = (v as! [String: Any])["out"] as! String
            XCTAssertThrowsError(try RLP.decode(hexBytes(out)), name)
        }
    }

    func testStrictnessWithExactErrors() {
        func reason(_ hex: String) -> EthereumCoreError? {
            do { _ = try RLP.decode(hexBytes(hex)); return nil } catch { return error }
        }
        XCTAssertEqual(reason("0x8100"), .invalidRLP(reason: "single byte 0x00 below 0x80 must not have a length prefix", offset: 0))
        XCTAssertEqual(reason("0xb801ff"), .invalidRLP(reason: "non-canonical long string form for length 1 (< 56)", offset: 0))
        XCTAssertEqual(reason("0xb90040"), .invalidRLP(reason: "string length with leading zero byte", offset: 1))
        XCTAssertEqual(reason("0x83646f"), .invalidRLP(reason: "truncated string: needs 3 bytes, 2 available", offset: 0))
        XCTAssertEqual(reason("0x83646f6700"), .invalidRLP(reason: "1 trailing bytes after the item", offset: 4))
        XCTAssertEqual(reason("0xc5836461"), .invalidRLP(reason: "truncated list: needs 5 bytes, 3 available", offset: 0))
        XCTAssertEqual(reason("0xc58363617483"), .invalidRLP(reason: "truncated string: needs 3 bytes, 0 available", offset: 5))
        XCTAssertEqual(reason("0x"), .invalidRLP(reason: "empty input", offset: 0))
        XCTAssertEqual(reason("0xbf0f000000000000021111"), .invalidRLP(reason: "truncated string: needs 1080863910568919042 bytes, 2 available", offset: 0))
        // Nested lists beyond the depth limit.
        var nested = RLPItem.list([])
        for _ in 0..<40 { nested = .list([nested]) }
        let deep = RLP.encode(nested)
        var limits = RLP.Limits.default
        limits.maxDepth = 32
        XCTAssertThrowsError(try RLP.decode(deep, limits: limits)) {
            XCTAssertEqual($0 as? EthereumCoreError, .invalidRLP(reason: "lists nested deeper than 32", offset: 32))  // 41 one-byte list headers
        }
        limits.maxInputBytes = 4
        XCTAssertThrowsError(try RLP.decode([0x85, 1, 2, 3, 4, 5], limits: limits))
    }

    func testFieldAccessorsRejectNonCanonicalIntegers() {
        XCTAssertEqual(try RLPItem.bytes([0x04, 0x00]).uint256("nonce"), 1024)
        XCTAssertThrowsError(try RLPItem.bytes([0x00, 0x04]).uint256("nonce")) {
            XCTAssertEqual(String(describing: $0), "invalid RLP: nonce: integer with leading zero byte at byte 0")
        }
        XCTAssertThrowsError(try RLPItem.list([]).bytes("to"))
        XCTAssertThrowsError(try RLPItem.bytes([UInt8](repeating: 1, count: 9)).uint64("gas"))
    }

    /// Differential against pyrlp: random nested items encode identically and decode both ways.
    func testAgainstPyrlp() throws {
        var rng = SplitMix64(seed: testSeed)
        print("rlp differential seed \(testSeed)")
        func randomItem(depth: Int) -> RLPItem {
            if depth < 4 && Int.random(in: 0..<3, using: &rng) == 0 {
                return .list((0..<Int.random(in: 0...6, using: &rng)).map { _ in randomItem(depth: depth + 1) })
            }
            let sizes = [0, 1, 1, 2, 55, 56, 57, 200, 1100]
            return .bytes(rng.bytes(sizes.randomElement(using: &rng)!))
        }
        func json(_ i: RLPItem) -> Any {
            switch i { case let .bytes(b): return Hex.encode(b, prefix: false); case let .list(l): return l.map(json) }
        }
        let items = (0..<400).map { _ in randomItem(depth: 0) }
        let answers = try PythonOracle.ask("core_oracle.py", items.map { ["op": "rlp_encode", "item": json($0)] })
        for (i, ans) in zip(items, answers) {
            let ours = RLP.encode(i)
            XCTAssertEqual(Hex.encode(ours, prefix: false), ans["out"] as? String)
            XCTAssertEqual(try RLP.decode(ours), i)
        }
        // pyrlp decodes what we encode (and both reject the same corrupted inputs).
        var corrupted: [[UInt8]] = []
        for i in items.prefix(200) {
            var e = RLP.encode(i)
            if e.count > 1 { e[Int.random(in: 0..<min(e.count, 3), using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            corrupted.append(e)
        }
        let decoded = try PythonOracle.ask("core_oracle.py", corrupted.map { ["op": "rlp_decode", "hex": Hex.encode($0, prefix: false)] })
        for (bytes, ans) in zip(corrupted, decoded) {
            let ours = try? RLP.decode(bytes)
            if let theirs = ans["item"] {
                XCTAssertNotNil(ours, "pyrlp accepted \(Hex.encode(bytes)) but we rejected it")
                if let ours { XCTAssertEqual(json(ours) as? NSObject, theirs as? NSObject) }
            } else {
                XCTAssertNil(ours, "pyrlp rejected \(Hex.encode(bytes)) (\(ans["error"]!)) but we accepted it")
            }
        }
    }
}
