import EthereumCore
import KeeperTesting
import XCTest

final class UInt256Tests: XCTestCase {
    func testParsingAndPrinting() throws {
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        XCTAssertEqual(try UInt256(decimal: max), .max)
        XCTAssertEqual(UInt256.max.decimalString, max)
        XCTAssertEqual(UInt256.max.hexString, "0x" + String(repeating: "f", count: 64))
        XCTAssertEqual(UInt256.zero.hexString, "0x0")
        XCTAssertEqual(UInt256.zero.decimalString, "0")
        XCTAssertEqual(try UInt256(hex: "0x00000001"), 1)
        XCTAssertEqual(try UInt256(parsing: "0x1f"), 31)
        XCTAssertEqual(try UInt256(parsing: "10000000000000000000"), UInt256(10_000_000_000_000_000_000 as UInt64))
        XCTAssertEqual(UInt256(10_000_000_000_000_000_000 as UInt64).hexString, "0x8ac7230489e80000")
        XCTAssertThrowsError(try UInt256(decimal: max.replacingOccurrences(of: "935", with: "936"))) {
            XCTAssertEqual(String(describing: $0).hasSuffix("exceeds 2^256-1"), true)
        }
        XCTAssertThrowsError(try UInt256(decimal: "")) 
        XCTAssertThrowsError(try UInt256(decimal: "-1")) {
            XCTAssertEqual($0 as? EthereumCoreError, .invalidNumber(text: "-1", reason: "unexpected character at 0"))
        }
        XCTAssertThrowsError(try UInt256(decimal: "1_000"))
        XCTAssertThrowsError(try UInt256(hex: "0x"))
        XCTAssertThrowsError(try UInt256(hex: "0x1" + String(repeating: "0", count: 64)))
        XCTAssertEqual(try UInt256(hex: "0x" + String(repeating: "0", count: 70) + "1"), 1)
    }

    func testOverflowDetection() {
        XCTAssertTrue(UInt256.max.addingReportingOverflow(1).overflow)
        XCTAssertEqual(UInt256.max.addingReportingOverflow(1).partialValue, 0)
        XCTAssertTrue(UInt256.zero.subtractingReportingOverflow(1).overflow)
        XCTAssertEqual(UInt256.zero.subtractingReportingOverflow(1).partialValue, .max)
        let half = UInt256.one << 128
        XCTAssertTrue(half.multipliedReportingOverflow(by: half).overflow)
        XCTAssertFalse(half.multipliedReportingOverflow(by: half >> 1).overflow)
        XCTAssertEqual(half &* half, 0)
    }

    func testBytes() throws {
        XCTAssertEqual(UInt256(1024).minimalBigEndianBytes, [0x04, 0x00])
        XCTAssertEqual(UInt256.zero.minimalBigEndianBytes, [])
        XCTAssertEqual(try UInt256(bigEndianBytes: [0x00, 0x04, 0x00]), 1024)
        XCTAssertThrowsError(try UInt256(bigEndianBytes: [UInt8](repeating: 1, count: 33)))
        XCTAssertEqual(UInt256(word: UInt256(77).word), 77)
    }

    func testInt256() throws {
        XCTAssertEqual(try Int256(parsing: "-1").bitPattern, .max)
        XCTAssertEqual(Int256(-1).decimalString, "-1")
        XCTAssertEqual(Int256.min.decimalString, "-57896044618658097711785492504343953926634992332820282019728792003956564819968")
        XCTAssertEqual(Int256.max.decimalString, "57896044618658097711785492504343953926634992332820282019728792003956564819967")
        XCTAssertEqual(try Int256(parsing: Int256.min.decimalString), .min)
        XCTAssertThrowsError(try Int256(parsing: "57896044618658097711785492504343953926634992332820282019728792003956564819968"))
        XCTAssertThrowsError(try Int256(parsing: "-57896044618658097711785492504343953926634992332820282019728792003956564819969"))
        XCTAssertThrowsError(try Int256(parsing: "--1"))
        XCTAssertTrue(Int256(-5) < Int256(3))
        XCTAssertTrue(Int256.min < Int256(-1))
        XCTAssertTrue(Int256.max.addingReportingOverflow(1).overflow)
        XCTAssertTrue(Int256.min.subtractingReportingOverflow(1).overflow)
        XCTAssertEqual(Int256(-7) + Int256(10), Int256(3))
        XCTAssertEqual(-Int256(9), Int256(-9))
    }

    /// Differential against Python's integers over random operands of every size class.
    func testAgainstPythonIntegers() throws {
        var rng = SplitMix64(seed: testSeed)
        print("uint256 differential seed \(testSeed)")
        func random() -> UInt256 {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return UInt256(UInt64.random(in: 0...3, using: &rng))
            case 1: return .max &- UInt256(UInt64.random(in: 0...3, using: &rng))
            case 2: return UInt256(rng.next())
            default:
                let v = UInt256(l0: rng.next(), l1: rng.next(), l2: rng.next(), l3: rng.next())
                return v >> Int.random(in: 0..<256, using: &rng)
            }
        }
        var cases: [(UInt256, UInt256, Int)] = []
        for _ in 0..<3000 { cases.append((random(), random(), Int.random(in: 0...300, using: &rng))) }
        let answers = try PythonOracle.ask("core_oracle.py", cases.map {
            ["op": "uint", "a": $0.0.decimalString, "b": $0.1.decimalString, "shift": $0.2]
        })
        for ((a, b, n), ans) in zip(cases, answers) {
            let ctx = "a=\(a) b=\(b) n=\(n)"
            let add = a.addingReportingOverflow(b), sub = a.subtractingReportingOverflow(b), mul = a.multipliedReportingOverflow(by: b)
            XCTAssertEqual(add.partialValue.decimalString, ans["add"] as? String, ctx)
            XCTAssertEqual(add.overflow, ans["add_o"] as? Bool, ctx)
            XCTAssertEqual(sub.partialValue.decimalString, ans["sub"] as? String, ctx)
            XCTAssertEqual(sub.overflow, ans["sub_o"] as? Bool, ctx)
            XCTAssertEqual(mul.partialValue.decimalString, ans["mul"] as? String, ctx)
            XCTAssertEqual(mul.overflow, ans["mul_o"] as? Bool, ctx)
            XCTAssertEqual((a << n).decimalString, ans["shl"] as? String, ctx)
            XCTAssertEqual((a >> n).decimalString, ans["shr"] as? String, ctx)
            XCTAssertEqual(a.hexString, ans["hex"] as? String, ctx)
            XCTAssertEqual(try UInt256(decimal: a.decimalString), a, ctx)
            XCTAssertEqual(try UInt256(hex: a.hexString), a, ctx)
            if !b.isZero {
                XCTAssertEqual((a / b).decimalString, ans["div"] as? String, ctx)
                XCTAssertEqual((a % b).decimalString, ans["mod"] as? String, ctx)
            }
        }
    }
}
