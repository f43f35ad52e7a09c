import EthereumABI
import EthereumCore
import XCTest

/// Canonical JSON rendering and JSON argument parsing.
final class ABIValueJSONTests: XCTestCase {
    func testCanonicalJSON() throws {
        let values: [ABIValue] = [
            .uint(UInt256.max), .int(Int256(-42)), .address(try Address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")),
            .bool(false), ABIValue.fixedBytes([0xab, 0xcd])!, .bytes([]), .string("a\"b\\c\n\u{1}é"),
            .array([.uint(1), .tuple([.bool(true)])]),
        ]
        XCTAssertEqual(ABIValue.canonicalJSON(values),
                       #"["115792089237316195423570985008687907853269984665640564039457584007913129639935","-42","0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",false,"0xabcd","0x","a\"b\\c\n\u0001é",["1",[true]]]"#)
    }

    func testArgumentRules() throws {
        let types = try ABISignature(parsing: "(uint8,int16,uint256,address,bytes2,bytes,bool,string,uint8[2],(bool,string))").types
        let v = try ABIValue.parseJSONArguments(
            #"[255, "-300", "0xff", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xabcd", "0x", true, "hi", [1, "2"], [false, "x"]]"#, types: types)
        XCTAssertEqual(v[0], .uint(255))
        XCTAssertEqual(v[1], .int(Int256(-300)))
        XCTAssertEqual(v[2], .uint(255))
        XCTAssertEqual(v[8], .array([.uint(1), .uint(2)]))
    }

    func testArgumentErrorsNameThePath() {
        let cases: [(String, String, ABIError)] = [
            ("(uint8)", "[256]", .valueMismatch(path: "[0]", type: "uint8", reason: "256 does not fit in 8 bits")),
            ("(int8)", "[-129]", .valueMismatch(path: "[0]", type: "int8", reason: "-129 does not fit in int8")),
            ("(uint256)", "[1.5]", .valueMismatch(path: "[0]", type: "uint256", reason: "1.5 is not an integer")),
            ("(uint256)", "[-1]", .valueMismatch(path: "[0]", type: "uint256", reason: "invalid number \"-1\": unexpected character at 0")),
            ("(bytes2)", #"["0xab"]"#, .valueMismatch(path: "[0]", type: "bytes2", reason: "expected exactly 2 bytes, got 1")),
            ("(bool)", "[1]", .valueMismatch(path: "[0]", type: "bool", reason: "expected true or false, got a number")),
            ("(uint8[2])", "[[1]]", .valueMismatch(path: "[0]", type: "uint8[2]", reason: "expected 2 elements, got 1")),
            ("(uint8,(bool,uint8[]))", #"[1,[true,[1,300]]]"#, .valueMismatch(path: "[1][1][1]", type: "uint8", reason: "300 does not fit in 8 bits")),
            ("(uint8)", "[1,2]", .invalidJSON(at: "arguments", reason: "expected 1 arguments, got 2")),
            ("(uint8)", "{}", .invalidJSON(at: "arguments", reason: "expected a JSON array with one element per parameter, got an object")),
            ("(uint8)", "[1", .invalidJSON(at: "character 2", reason: "expected ',' or ']'")),
            ("(address)", #"["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"]"#, .valueMismatch(path: "[0]", type: "address",
                reason: "bad EIP-55 checksum in address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD (expected 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed)")),
        ]
        for (sig, json, expected) in cases {
            XCTAssertThrowsError(try ABIValue.parseJSONArguments(json, types: ABISignature(parsing: sig).types), json) {
                XCTAssertEqual($0 as? ABIError, expected, json)
            }
        }
    }

    /// The elementary-tuple fast path of the encoder falls back to the checked path for the exact error.
    func testCodecFastPathErrors() throws {
        let codec = try ABICodec([try ABIType(parsing: "(uint8,bool,bytes2)[]")])
        let good: ABIValue = .array([.tuple([.uint(1), .bool(true), ABIValue.fixedBytes([1, 2])!])])
        XCTAssertEqual(try codec.decode(try codec.encode([good])), [good])
        let bad: ABIValue = .array([.tuple([.uint(1), .bool(true), ABIValue.fixedBytes([1, 2])!]),
                                    .tuple([.uint(300), .bool(false), ABIValue.fixedBytes([1, 2])!])])
        XCTAssertThrowsError(try codec.encode([bad])) {
            XCTAssertEqual($0 as? ABIError, .valueMismatch(path: "[0][1][0]", type: "uint8", reason: "300 does not fit in 8 bits"))
        }
        let wrongKind: ABIValue = .array([.tuple([.uint(1), .uint(1), ABIValue.fixedBytes([1, 2])!])])
        XCTAssertThrowsError(try codec.encode([wrongKind])) {
            XCTAssertEqual($0 as? ABIError, .valueMismatch(path: "[0][0][1]", type: "bool", reason: "got an unsigned integer"))
        }
    }

    func testEncoderChecksProgrammaticValues() {
        XCTAssertThrowsError(try ABIEncoder.encode([.tuple([.uint(1), .bool(true)])], as: [try! ABIType(parsing: "(uint8,uint8)")])) {
            XCTAssertEqual($0 as? ABIError, .valueMismatch(path: "[0][1]", type: "uint8", reason: "got a bool"))
        }
        XCTAssertThrowsError(try ABIEncoder.encode([.fixedBytes(Bytes32(w0: 0, w1: 0, w2: 0, w3: 1), count: 2)], as: [.fixedBytes(count: 2)])) {
            XCTAssertEqual($0 as? ABIError, .valueMismatch(path: "[0]", type: "bytes2", reason: "bytes beyond the first 2 are not zero"))
        }
    }
}
