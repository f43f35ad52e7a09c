import EthereumABI
import EthereumCore
import XCTest

/// Hostile input for the decoder: each case asserts the exact error (kind, type, byte offset).
final class ABIDecoderHostileTests: XCTestCase {
    func w(_ hex: String) -> [UInt8] {
        let digits = String(repeating: "0", count: 64 - hex.count) + hex
        return try! Hex.decode(digits, requirePrefix: false)
    }
    let max = String(repeating: "f", count: 64)
    let maxDecimal = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

    func assertError(_ types: String, _ data: [UInt8], _ expected: ABIError, limits: ABIDecoder.Limits = .default,
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            let sig = try ABISignature(parsing: types)
            let v = try ABIDecoder.decode(sig.types, from: data, limits: limits)
            XCTFail("decoded \(ABIValue.canonicalJSON(v)), expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    func testTruncations() {
        assertError("(uint256)", [], .truncated(type: "uint256", offset: 0, needed: 32, available: 0))
        assertError("(uint256)", Array(w("1").prefix(31)), .truncated(type: "uint256", offset: 0, needed: 32, available: 31))
        assertError("(uint256,address)", w("1") + [0, 0], .truncated(type: "address", offset: 32, needed: 32, available: 2))
        assertError("(bytes)", w("20"), .truncated(type: "bytes", offset: 32, needed: 32, available: 0))
        // Length 1 with its byte but without the 31 padding bytes.
        assertError("(bytes)", w("20") + w("1") + [0xaa], .truncated(type: "bytes", offset: 64, needed: 32, available: 1))
        assertError("(uint256[3])", w("1") + w("2"), .truncated(type: "uint256[3]", offset: 0, needed: 96, available: 64))
        assertError("((address,uint256)[])", w("20") + w("2") + w("1") + w("2") + w("3"),
                    .invalidLength(type: "(address,uint256)[]", offset: 32, length: "2", reason: "elements cannot fit in the 96 bytes that follow"))
    }

    func testHugeOffsetsAndLengths() {
        assertError("(bytes)", w(max), .nonCanonicalOffset(type: "bytes", offset: 0, found: maxDecimal, expected: 32))
        assertError("(bytes)", w("20") + w(max), .invalidLength(type: "bytes", offset: 32, length: maxDecimal, reason: "exceeds the 0 bytes that follow"))
        assertError("(string)", w("20") + w("40") + w("0"), .invalidLength(type: "string", offset: 32, length: "64", reason: "exceeds the 32 bytes that follow"))
        assertError("(uint256[])", w("20") + w("c9f2c9cd04674edea40000000"),
                    .invalidLength(type: "uint256[]", offset: 32, length: "1000000000000000000000000000000",
                                   reason: "elements cannot fit in the 0 bytes that follow"))
        assertError("(uint256[])", w("20") + w("3") + w("1") + w("2"),
                    .invalidLength(type: "uint256[]", offset: 32, length: "3", reason: "elements cannot fit in the 64 bytes that follow"))
        assertError("(string[])", w("20") + w("2") + w("40") + w("ffffffff") + w("0"),
                    .nonCanonicalOffset(type: "string", offset: 96, found: "4294967295", expected: 96))
    }

    func testOffsetLoopsAndAliasing() {
        // The inner array's offset points back at the outer array's own length word (a loop).
        assertError("(uint256[][])", w("20") + w("1") + w("0"),
                    .nonCanonicalOffset(type: "uint256[]", offset: 64, found: "0", expected: 32))
        // Two tails aliased onto the same bytes.
        assertError("(bytes,bytes)", w("40") + w("40") + w("1") + w("aa00000000000000000000000000000000000000000000000000000000000000"),
                    .nonCanonicalOffset(type: "bytes", offset: 32, found: "64", expected: 128))
        // An offset pointing into the head.
        assertError("(uint256,bytes)", w("1") + w("0") + w("0"),
                    .nonCanonicalOffset(type: "bytes", offset: 32, found: "0", expected: 64))
        // A gap between head and tail.
        assertError("(bytes)", w("40") + w("0") + w("0"), .nonCanonicalOffset(type: "bytes", offset: 0, found: "64", expected: 32))
        // A classic blow-up: 10 elements all aliasing one nested array is refused at the second offset.
        var data = w("20") + w("a")
        for _ in 0..<10 { data += w("140") }
        data += w("0")
        assertError("(uint256[][])", data, .nonCanonicalOffset(type: "uint256[]", offset: 96, found: "320", expected: 352))
    }

    func testDeepNesting() {
        let deep = "uint256" + String(repeating: "[]", count: 33)
        XCTAssertThrowsError(try ABIType(parsing: deep)) { e in
            XCTAssertEqual(e as? ABIError, .invalidType(text: deep, reason: "nesting deeper than 32", offset: 71))
        }
        let tuples = String(repeating: "(", count: 40) + "bool" + String(repeating: ")", count: 40)
        XCTAssertThrowsError(try ABIType(parsing: tuples)) { e in
            XCTAssertEqual(e as? ABIError, .invalidType(text: tuples, reason: "nesting deeper than 32", offset: 33))
        }
        // A programmatic type deeper than the limit is refused by validate() before decoding.
        var t = ABIType.bool
        for _ in 0..<40 { t = .array(t) }
        XCTAssertThrowsError(try ABIDecoder.decode([t], from: w("20") + w("0"))) { e in
            XCTAssertEqual(e as? ABIError, .invalidType(text: t.canonical, reason: "nesting deeper than 32", offset: 0))
        }
        assertError("(uint256[][][])", w("20") + w("1") + w("20") + w("1") + w("20") + w("0"),
                    .limitExceeded(what: "nesting depth", limit: 2, offset: 160),
                    limits: .init(maxDepth: 2, maxInputBytes: 1 << 20))
    }

    func testDirtyPaddingAndValuesThatDoNotFit() {
        assertError("(bytes3)", w("61626300000000000000000000000000000000000000000000000000000001"), .dirtyPadding(type: "bytes3", offset: 0))
        assertError("(bytes)", w("20") + w("1") + w("aa00000000000000000000000000000000000000000000000000000000000001"),
                    .dirtyPadding(type: "bytes", offset: 95))
        assertError("(bool)", w("2"), .invalidValue(type: "bool", offset: 0, reason: "word 0x" + String(repeating: "0", count: 63) + "2 is neither 0 nor 1"))
        assertError("(address)", w("1" + String(repeating: "0", count: 40)), .invalidValue(type: "address", offset: 0, reason: "non-zero high 12 bytes"))
        assertError("(uint8)", w("100"), .invalidValue(type: "uint8", offset: 0, reason: "value 0x100 has non-zero bits above bit 8"))
        // int8: 0x80 without sign extension is +128, out of range; so is a negative word beyond -128.
        assertError("(int8)", w("80"), .invalidValue(type: "int8", offset: 0, reason: "word 0x" + String(repeating: "0", count: 62) + "80 is not a sign-extended 8-bit value"))
        assertError("(int8)", w(String(repeating: "f", count: 62) + "7f"),
                    .invalidValue(type: "int8", offset: 0, reason: "word 0x" + String(repeating: "f", count: 62) + "7f is not a sign-extended 8-bit value"))
        assertError("(uint8,int16)", w("1") + w("8000"), .invalidValue(type: "int16", offset: 32, reason: "word 0x" + String(repeating: "0", count: 60) + "8000 is not a sign-extended 16-bit value"))
        assertError("(string)", w("20") + w("2") + w("c328000000000000000000000000000000000000000000000000000000000000"), .invalidUTF8(offset: 64))
    }

    func testTrailingBytesAndCalldata() throws {
        assertError("(uint256)", w("1") + [0], .trailingBytes(offset: 32, count: 1))
        XCTAssertEqual(try ABIDecoder.decode([.uint256], from: w("1") + [0], limits: .init(maxDepth: 32, maxInputBytes: 64, allowTrailingBytes: true)),
                       [.uint(1)])
        assertError("(uint256)", w("1"), .limitExceeded(what: "input of 32 bytes", limit: 16, offset: 0), limits: .init(maxDepth: 32, maxInputBytes: 16))
        let f = try ABIFunction(signature: "transfer(address,uint256)")
        XCTAssertThrowsError(try f.decodeCall([0xa9, 0x05])) { XCTAssertEqual($0 as? ABIError, .truncated(type: "selector", offset: 0, needed: 4, available: 2)) }
        XCTAssertThrowsError(try f.decodeCall([1, 2, 3, 4] + w("0") + w("0"))) {
            XCTAssertEqual($0 as? ABIError, .selectorMismatch(expected: "0xa9059cbb", found: "0x01020304"))
        }
        // Offsets in calldata errors count the selector.
        XCTAssertThrowsError(try f.decodeCall(f.selector + w("0") + w("0").prefix(5))) {
            XCTAssertEqual($0 as? ABIError, .truncated(type: "uint256", offset: 36, needed: 32, available: 5))
        }
    }

    func testErrorMessagesNameTheProblem() {
        XCTAssertEqual(ABIError.truncated(type: "uint256", offset: 36, needed: 32, available: 5).description,
                       "truncated data: uint256 at byte 36 needs 32 bytes, 5 available")
        XCTAssertEqual(ABIError.nonCanonicalOffset(type: "bytes", offset: 32, found: "64", expected: 128).description,
                       "non-canonical offset for bytes at byte 32: 64 (expected 128)")
    }

    /// Random mutations of valid encodings never crash; anything accepted re-encodes to the same bytes
    /// (the decoder accepts only canonical encodings).
    func testMutationsNeverCrashAndAcceptedInputIsCanonical() throws {
        let seed = ABITestSupport.seed &+ 7
        let rounds = ABITestSupport.soak ? 200_000 : 10_000
        print("ABI mutation test: seed \(seed), \(rounds) rounds")
        var random = ABIRandom(seed: seed)
        var accepted = 0
        for _ in 0..<rounds {
            let types = (0..<random.int(1...3)).map { _ in random.type() }
            var data = try ABIEncoder.encode(types.map { random.value($0) }, as: types)
            switch random.int(0...4) {
            case 0 where !data.isEmpty: data.removeLast(random.int(1...min(40, data.count)))
            case 1 where !data.isEmpty: data[random.int(0...data.count - 1)] ^= UInt8(1 << random.int(0...7))
            case 2 where data.count >= 32:
                let at = random.int(0...(data.count / 32 - 1)) * 32
                let words: [UInt256] = [.max, UInt256(UInt64(random.int(0...300))), UInt256.one << 64, .zero]
                data.replaceSubrange(at..<at + 32, with: words[random.int(0...3)].word.bytes)
            case 3: data += [UInt8](repeating: 0, count: random.int(1...40))
            default: if !data.isEmpty { data[random.int(0...data.count - 1)] = UInt8.random(in: 0...255, using: &random.rng) }
            }
            if let values = try? ABIDecoder.decode(types, from: data) {
                accepted += 1
                XCTAssertEqual(try ABIEncoder.encode(values, as: types), data, "\(types)")
            }
        }
        print("ABI mutation test: \(accepted) of \(rounds) mutated inputs were still valid canonical encodings")
    }
}
