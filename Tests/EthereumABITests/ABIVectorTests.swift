import EthereumABI
import EthereumCore
import XCTest

/// Published vectors, each checked in both directions (alloy style): encode(args) == hex and
/// decode(hex) == canonical values.
final class ABIVectorTests: XCTestCase {
    func testSolidityABISpecExamplesBothDirections() throws {
        let doc = try XCTUnwrap(ABITestSupport.vectors("abi_spec_examples.json") as? [String: Any])
        let vectors = try XCTUnwrap(doc["vectors"] as? [[String: Any]])
        XCTAssertEqual(vectors.count, 5)
        for v in vectors {
            let sig = try XCTUnwrap(v["signature"] as? String)
            let args = String(decoding: try JSONSerialization.data(withJSONObject: v["args"]!), as: UTF8.self)
            let canonical = String(decoding: try JSONSerialization.data(withJSONObject: v["canonical"]!), as: UTF8.self)
            let encoded = try XCTUnwrap(v["encoded"] as? String)
            let f = try ABIFunction(signature: sig)
            XCTAssertEqual(f.selectorHex, v["selector"] as? String, sig)
            let values = try ABIValue.parseJSONArguments(args, types: f.inputs.map(\.type))
            XCTAssertEqual(Hex.encode(try f.encodeCall(values)), encoded, sig)
            let decoded = try f.decodeCall(try Hex.decode(encoded))
            XCTAssertEqual(decoded, values, sig)
            XCTAssertTrue(ABITestSupport.sameJSON(ABIValue.canonicalJSON(decoded), canonical), "\(sig): \(ABIValue.canonicalJSON(decoded))")
        }
    }

    func testEthereumTestsBasicABITests() throws {
        let doc = try XCTUnwrap(ABITestSupport.vectors("ABITests-basic_abi_tests.json") as? [String: [String: Any]])
        XCTAssertEqual(doc.count, 3)
        for (name, v) in doc {
            let types = try (v["types"] as? [String] ?? []).map { try ABIType(parsing: $0) }
            let rawArgs = try XCTUnwrap(v["args"] as? [Any])
            // The upstream args use strings for bytes and bare hex for addresses; convert to `abi encode` rules.
            var args: [Any] = []
            for (t, a) in zip(types, rawArgs) {
                switch t {
                case .address: args.append("0x" + (a as? String ?? ""))
                case .bytes, .fixedBytes: args.append(Hex.encode(Array((a as? String ?? "").utf8)))
                default: args.append(a)
                }
            }
            let json = String(decoding: try JSONSerialization.data(withJSONObject: args), as: UTF8.self)
            let values = try ABIValue.parseJSONArguments(json, types: types)
            let expected = try XCTUnwrap(v["result"] as? String)
            XCTAssertEqual(Hex.encode(try ABIEncoder.encode(values, as: types), prefix: false), expected, name)
            XCTAssertEqual(try ABIDecoder.decode(types, from: try Hex.decode(expected, requirePrefix: false)), values, name)
        }
    }

    func testERC20SelectorsAndTopics() throws {
        let doc = try XCTUnwrap(ABITestSupport.vectors("selectors.json") as? [String: Any])
        for f in try XCTUnwrap(doc["functions"] as? [[String: String]]) {
            XCTAssertEqual(try ABIFunction(signature: f["signature"]!).selectorHex, f["selector"])
        }
        for e in try XCTUnwrap(doc["events"] as? [[String: String]]) {
            XCTAssertEqual(try ABIEvent(signature: e["signature"]!).topic0.hexString, e["topic0"])
        }
    }

    /// A hand-written table of edge values, each checked in both directions.
    func testEdgeValueTableBothDirections() throws {
        let table: [(type: String, json: String, hex: String)] = [
            ("uint8", "255", "00000000000000000000000000000000000000000000000000000000000000ff"),
            ("uint256", "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            ("int8", "-128", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80"),
            ("int256", "\"-1\"", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            ("int16", "32767", "0000000000000000000000000000000000000000000000000000000000007fff"),
            ("bool", "true", "0000000000000000000000000000000000000000000000000000000000000001"),
            ("bytes1", "\"0xab\"", "ab00000000000000000000000000000000000000000000000000000000000000"),
            ("address", "\"0x000000000000000000000000000000000000dEaD\"", "000000000000000000000000000000000000000000000000000000000000dead"),
            ("string", "\"\"", "00000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000"),
            ("uint8[]", "[]", "00000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000"),
            ("(uint8,bool)", "[1,false]", "00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000000"),
        ]
        for row in table {
            let t = try ABIType(parsing: row.type)
            let v = try ABIValue.parseJSON(row.json, type: t)
            XCTAssertEqual(Hex.encode(try ABIEncoder.encode([v], as: [t]), prefix: false), row.hex, row.type)
            XCTAssertEqual(try ABIDecoder.decode([t], from: Hex.decode(row.hex, requirePrefix: false)), [v], row.type)
        }
    }
}
