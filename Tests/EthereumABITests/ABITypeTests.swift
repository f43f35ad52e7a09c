import EthereumABI
import XCTest

/// The type grammar and signature parser.
final class ABITypeTests: XCTestCase {
    func testCanonicalForms() throws {
        let cases: [(String, String)] = [
            ("uint", "uint256"), ("int", "int256"), ("uint8", "uint8"), ("bytes32", "bytes32"), ("bytes", "bytes"),
            ("address[]", "address[]"), ("uint256[2][]", "uint256[2][]"),
            ("(uint256,(address,bytes)[])", "(uint256,(address,bytes)[])"),
            ("( uint , bool )[3]", "(uint256,bool)[3]"), ("tuple(address,uint)[]", "(address,uint256)[]"),
        ]
        for (text, canonical) in cases { XCTAssertEqual(try ABIType(parsing: text).canonical, canonical, text) }
        XCTAssertEqual(try ABIType(parsing: "uint256[2][]"), .array(.fixedArray(.uint256, count: 2)))
    }

    func testStaticAndDynamicSizes() throws {
        XCTAssertEqual(try ABIType(parsing: "(address,uint256,uint64,uint32,bytes32)").headSize, 160)
        XCTAssertEqual(try ABIType(parsing: "(address,address,uint256)[100]").headSize, 9600)
        XCTAssertTrue(try ABIType(parsing: "(uint256,string)[2]").isDynamic)
        XCTAssertEqual(try ABIType(parsing: "(uint256,string)[2]").headSize, 32)
        XCTAssertFalse(try ABIType(parsing: "bytes32[4]").isDynamic)
    }

    func testRejections() {
        let cases: [(String, String, Int)] = [
            ("uint7", "\"uint7\" is not a valid integer type (uint8…uint256 / int8…int256 in steps of 8)", 0),
            ("uint264", "\"uint264\" is not a valid integer type (uint8…uint256 / int8…int256 in steps of 8)", 0),
            ("uint08", "\"uint08\" is not a valid integer type (uint8…uint256 / int8…int256 in steps of 8)", 0),
            ("bytes33", "\"bytes33\" is not a valid fixed bytes type (bytes1…bytes32)", 0),
            ("bytes0", "\"bytes0\" is not a valid fixed bytes type (bytes1…bytes32)", 0),
            ("fixed128x18", "type \"fixed128x18\" is not supported", 0),
            ("foo", "unknown type \"foo\"", 0),
            ("uint256[0]", "fixed array length 0 (zero-sized types are not supported)", 8),
            ("uint256[01]", "array length with a leading zero", 8),
            ("uint256[", "expected an array length or ']', found end of text", 8),
            ("()", "empty tuple inside a type", 0),
            ("(uint256", "expected ')', found end of text", 8),
            ("uint256 x", "unexpected character 'x'", 8),
            ("uint256[2000000]", "fixed array length exceeds 1048576", 8),
            ("uint256[1000000][1000]", "static size exceeds 16777216 bytes", 7),
        ]
        for (text, reason, offset) in cases {
            XCTAssertThrowsError(try ABIType(parsing: text), text) { e in
                XCTAssertEqual(e as? ABIError, .invalidType(text: text, reason: reason, offset: offset), text)
            }
        }
    }

    func testSignatures() throws {
        let e = try ABISignature(parsing: "Transfer(address indexed from,address indexed to,uint256 value)")
        XCTAssertEqual(e.name, "Transfer")
        XCTAssertEqual(e.canonical, "Transfer(address,address,uint256)")
        XCTAssertEqual(e.parameters.map(\.name), ["from", "to", "value"])
        XCTAssertEqual(e.parameters.map(\.indexed), [true, true, false])
        let f = try ABISignature(parsing: " route( (address,uint256)[] items , uint64 ) ")
        XCTAssertEqual(f.canonical, "route((address,uint256)[],uint64)")
        XCTAssertEqual(f.parameters.map(\.name), ["items", ""])
        let bare = try ABISignature(parsing: "(uint256,address[])")
        XCTAssertNil(bare.name)
        XCTAssertEqual(bare.types, [.uint256, .array(.address)])
        XCTAssertEqual(try ABISignature(parsing: "f()").types, [])
        XCTAssertThrowsError(try ABISignature(parsing: "f(uint256 memory x)")) {
            XCTAssertEqual($0 as? ABIError, .invalidType(text: "f(uint256 memory x)", reason: "data location \"memory\" does not belong in an ABI signature", offset: 10))
        }
        XCTAssertThrowsError(try ABISignature(parsing: "f(uint256) returns (bool)")) {
            XCTAssertEqual($0 as? ABIError, .invalidType(text: "f(uint256) returns (bool)", reason: "unexpected 'r' after the parameter list", offset: 11))
        }
        XCTAssertThrowsError(try ABIFunction(signature: "(uint256)")) {
            XCTAssertEqual($0 as? ABIError, .invalidType(text: "(uint256)", reason: "a function signature needs a name", offset: 0))
        }
    }

    func testValidateRejectsBadProgrammaticTypes() {
        XCTAssertThrowsError(try ABIType.uint(bits: 7).validate())
        XCTAssertThrowsError(try ABIType.fixedArray(.bool, count: 0).validate())
        XCTAssertThrowsError(try ABIType.fixedArray(.fixedArray(.uint256, count: 1 << 20), count: 1 << 20).validate())
        XCTAssertThrowsError(try ABIType.tuple([]).validate())
        XCTAssertThrowsError(try ABIEncoder.encode([.bool(true)], as: [.fixedBytes(count: 40)]))
    }
}
