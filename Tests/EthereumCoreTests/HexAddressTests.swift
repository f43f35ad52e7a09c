import EthereumCore
import XCTest

final class HexAddressTests: XCTestCase {
    func testHexRoundTripAndErrors() throws {
        XCTAssertEqual(try Hex.decode("0x"), [])
        XCTAssertEqual(try Hex.decode("0x00ff10Ab"), [0x00, 0xff, 0x10, 0xab])
        XCTAssertEqual(try Hex.decode("00ff", requirePrefix: false), [0x00, 0xff])
        XCTAssertEqual(Hex.encode([0xde, 0xad, 0x01]), "0xdead01")
        XCTAssertEqual(Hex.encode([0xde, 0xad], prefix: false), "dead")
        XCTAssertThrowsError(try Hex.decode("ff")) {
            XCTAssertEqual($0 as? EthereumCoreError, .invalidHex(reason: "missing 0x prefix", offset: 0))
        }
        XCTAssertThrowsError(try Hex.decode("0xabc")) {
            XCTAssertEqual($0 as? EthereumCoreError, .invalidHex(reason: "odd number of hex digits (3)", offset: 5))
        }
        XCTAssertThrowsError(try Hex.decode("0x12g4")) {
            XCTAssertEqual($0 as? EthereumCoreError, .invalidHex(reason: "unexpected character 'g'", offset: 4))
            XCTAssertEqual(String(describing: $0), "invalid hex: unexpected character 'g' at character 4")
        }
        XCTAssertThrowsError(try Hex.decode("0x 1")) { XCTAssertEqual($0 as? EthereumCoreError, .invalidHex(reason: "unexpected character byte 0x20", offset: 2)) }
    }

    func testEIP55Vectors() throws {
        let list = try loadVectors("eip55.json")["checksummed"] as! [String]
        XCTAssertEqual(list.count, 8)
        for text in list {
            let a = try Address(text)
            XCTAssertEqual(a.checksummed, text)
            XCTAssertEqual(try Address(text.lowercased().replacingOccurrences(of: "0x", with: "0x")), a)
            XCTAssertEqual(a.lowercased, "0x" + text.dropFirst(2).lowercased())
        }
    }

    func testMixedCaseWithWrongChecksumIsRejected() {
        // Flip the case of one letter of a valid checksummed address.
        let bad = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"
        XCTAssertThrowsError(try Address(bad)) {
            XCTAssertEqual($0 as? EthereumCoreError,
                           .badChecksum(given: bad, expected: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"))
        }
        XCTAssertNoThrow(try Address(bad.lowercased()))
        XCTAssertNoThrow(try Address("0x" + bad.dropFirst(2).uppercased()))
    }

    func testAddressLengthAndWord() throws {
        XCTAssertThrowsError(try Address("0x1234")) {
            XCTAssertEqual($0 as? EthereumCoreError, .invalidLength(what: "address", expected: 20, actual: 2))
        }
        let a = try Address("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")
        XCTAssertEqual(a.word.hexString, "0x000000000000000000000000fb6916095ca1df60bb79ce92ce3ea74c37c5d359")
        XCTAssertEqual(Address(lowBytesOf: a.word), a)
        XCTAssertEqual(try Address(a.bytes), a)
        XCTAssertEqual(Address.zero.checksummed, "0x0000000000000000000000000000000000000000")
    }

    func testBytes32() throws {
        let h = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
        let b = try Bytes32(hex: h)
        XCTAssertEqual(b.hexString, h)
        XCTAssertEqual(b[0], 0xdd)
        XCTAssertEqual(b[31], 0xef)
        XCTAssertEqual(try Bytes32(b.bytes), b)
        XCTAssertThrowsError(try Bytes32(hex: "0x00")) {
            XCTAssertEqual($0 as? EthereumCoreError, .invalidLength(what: "bytes32", expected: 32, actual: 1))
        }
    }
}
