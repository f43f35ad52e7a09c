import EthereumCore
@testable import JSONRPC
import KeeperTesting
import XCTest

final class JSONParsingTests: XCTestCase {
    static let logJSON = """
    {"jsonrpc":"2.0","id":7,"result":[{"address":"0xABab000000000000000000000000000000000001","topics":[\
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef","0x000000000000000000000000000000000000000000000000000000000000002a"],\
    "data":"0x00ff","blockNumber":"0x10","blockHash":"0x1111111111111111111111111111111111111111111111111111111111111111",\
    "transactionHash":"0x2222222222222222222222222222222222222222222222222222222222222222","transactionIndex":"0x3",\
    "logIndex":"0x0","removed":false,"extra":{"nested":[1,2,{"x":null}]}}]}
    """

    func testDecodesALogResponseIntoFixedValues() throws {
        let logs = try RawLog.decodeResponse(Array(Self.logJSON.utf8))
        XCTAssertEqual(logs.count, 1)
        let l = logs[0]
        XCTAssertEqual(l.address, try Address("0xabab000000000000000000000000000000000001"))
        XCTAssertEqual(l.topics, [try Bytes32(hex: "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"),
                                  try Bytes32(hex: "0x000000000000000000000000000000000000000000000000000000000000002a")])
        XCTAssertEqual(l.data, [0x00, 0xff])
        XCTAssertEqual(l.blockNumber, 16)
        XCTAssertEqual(l.transactionIndex, 3)
        XCTAssertEqual(l.logIndex, 0)
        XCTAssertEqual(l.blockHash, try Bytes32(hex: "0x" + String(repeating: "11", count: 32)))
        XCTAssertFalse(l.removed)
    }

    func testHexQuantities() {
        func q64(_ s: String) -> UInt64? { var s = s; return s.withUTF8 { HexScan.quantity64($0.baseAddress!, $0.count) } }
        func q256(_ s: String) -> UInt256? { var s = s; return s.withUTF8 { HexScan.quantity256($0.baseAddress!, $0.count) } }
        XCTAssertEqual(q64("0x0"), 0)
        XCTAssertEqual(q64("0xffffffffffffffff"), .max)
        XCTAssertEqual(q64("0x0000000000000000001"), 1)
        XCTAssertNil(q64("0x1ffffffffffffffff"))
        XCTAssertNil(q64("0x"))
        XCTAssertNil(q64("12"))
        XCTAssertNil(q64("0xg"))
        XCTAssertEqual(q256("0x" + String(repeating: "f", count: 64)), .max)
        XCTAssertEqual(q256("0x10000000000000000"), UInt256(l0: 0, l1: 1, l2: 0, l3: 0))
        XCTAssertNil(q256("0x1" + String(repeating: "0", count: 64)))
        XCTAssertEqual(HexScan.bytes("0x"), [])
        XCTAssertNil(HexScan.bytes("0x0"))
        XCTAssertNil(HexScan.bytes("0x0:"))
    }

    /// Every field of the wrong type, missing, or malformed gives a `.decoding` error naming it.
    func testMalformedLogsGiveTypedErrors() {
        let base = Self.logJSON
        let cases: [(String, String, String)] = [
            ("\"blockNumber\":\"0x10\"", "\"blockNumber\":16", "blockNumber"),
            ("\"blockNumber\":\"0x10\"", "\"blockNumber\":null", "blockNumber"),
            ("\"blockNumber\":\"0x10\",", "", "missing \"blockNumber\""),
            ("\"data\":\"0x00ff\"", "\"data\":\"0x00f\"", "data"),
            ("\"topics\":[", "\"topics\":[\"0x12\",", "topics"),
            ("\"address\":\"0xABab", "\"address\":\"0xABabab", "address"),
            ("\"logIndex\":\"0x0\"", "\"logIndex\":\"0x1ffffffffffffffff\"", "logIndex"),
            ("\"removed\":false", "\"removed\":\"no\"", "removed"),
        ]
        for (from, to, expected) in cases {
            let text = base.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(text, base, "case \(to) did not apply")
            XCTAssertThrowsError(try RawLog.decodeResponse(Array(text.utf8)), to) { error in
                guard case let .decoding(reason, prefix)? = error as? RPCError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains(expected), "\(reason) should name \(expected)")
                XCTAssertTrue(prefix.hasPrefix("{\"jsonrpc\""))
            }
        }
    }

    /// Cutting a valid response at every byte never crashes and never yields a value.
    func testEveryTruncationIsAnError() {
        let bytes = Array(Self.logJSON.utf8)
        for cut in 0..<bytes.count {
            XCTAssertThrowsError(try RawLog.decodeResponse(Array(bytes[0..<cut])), "cut at \(cut)")
        }
    }

    /// Seeded random byte flips: every outcome is a value or a typed error, never a crash.
    func testRandomMutationsNeverCrash() {
        var rng = SplitMix64(seed: 0x5eed_0001)
        print("mutation seed 0x5eed0001")
        let bytes = Array(Self.logJSON.utf8)
        let alphabet = Array("{}[]\",:0x123abcnul\\ \u{7f}".utf8)
        for _ in 0..<3000 {
            var m = bytes
            for _ in 0..<Int(rng.next() % 4 + 1) {
                m[Int(rng.next() % UInt64(m.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            do { _ = try RawLog.decodeResponse(m) } catch {
                if case .decoding = error {} else if case .server = error {} else if case .nullResult = error {} else { XCTFail("\(error)") }
            }
        }
    }

    func testEnvelopeErrorsAndIDs() throws {
        let err = try Envelope.decodeSingle(Array(#"{"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted","data":"0x08c379a0"}}"#.utf8)) { (s) throws(RPCError) in try s.value() }
        guard case let .failure(e) = err else { return XCTFail() }
        XCTAssertEqual(e, .server(code: 3, message: "execution reverted", data: "\"0x08c379a0\""))
        XCTAssertEqual(e.revertData, [0x08, 0xc3, 0x79, 0xa0])
        XCTAssertFalse(e.isRetryable)
        XCTAssertThrowsError(try Envelope.decodeSingle(Array(#"{"jsonrpc":"2.0","id":2,"result":"0x1"}"#.utf8), expectedID: 1) { (s) throws(RPCError) in try s.value() })
        XCTAssertThrowsError(try Envelope.decodeSingle(Array(#"{"jsonrpc":"2.0","id":1}"#.utf8)) { (s) throws(RPCError) in try s.value() })
        XCTAssertThrowsError(try Envelope.decodeSingle(Array(("{\"result\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}").utf8)) { (s) throws(RPCError) in try s.value() }) { e in
            XCTAssertTrue("\(e)".contains("nesting deeper"), "\(e)")
        }
        let items = try Envelope.decodeBatch(Array(#"[{"id":2,"result":"0x2"},{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}]"#.utf8))
        XCTAssertEqual(items.map(\.id), [2, 1])
        XCTAssertNotNil(items[0].result)
        XCTAssertNotNil(items[1].error)
    }

    func testJSONValueRoundTripWithEscapes() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null],"s":"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00 end","o":{}}"#
        let v = try JSONValue.parse(Array(text.utf8))
        XCTAssertEqual(v["s"]?.stringValue, "q\"\\/\u{8}\u{c}\n\r\té😀 end")
        XCTAssertEqual(try JSONValue.parse(v.encoded()), v)
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"\u{1}\"", "tru", "[1] 2", "\"\\u12g4\""] {
            XCTAssertThrowsError(try JSONValue.parse(Array(bad.utf8)), bad)
        }
    }

    func testBlockAndReceiptParsing() throws {
        let block = #"{"jsonrpc":"2.0","id":1,"result":{"number":"0x1b4","hash":"0x\#(String(repeating: "ab", count: 32))","parentHash":"0x\#(String(repeating: "cd", count: 32))","timestamp":"0x5","gasLimit":"0x1c9c380","gasUsed":"0x0","baseFeePerGas":"0x7","miner":"0x\#(String(repeating: "00", count: 20))","transactions":["0x\#(String(repeating: "01", count: 32))"],"uncles":[]}}"#
        let h = try Envelope.decodeSingle(Array(block.utf8)) { (s) throws(RPCError) in try BlockHeader.parse(&s) }.get()
        XCTAssertEqual(h.number, 436)
        XCTAssertEqual(h.baseFeePerGas, 7)
        XCTAssertEqual(h.transactionHashes.count, 1)
        let receipt = #"{"jsonrpc":"2.0","id":1,"result":{"transactionHash":"0x\#(String(repeating: "01", count: 32))","blockHash":"0x\#(String(repeating: "ab", count: 32))","blockNumber":"0x1b4","transactionIndex":"0x0","status":"0x1","gasUsed":"0x5208","cumulativeGasUsed":"0x5208","effectiveGasPrice":"0x3b9aca07","from":"0x\#(String(repeating: "11", count: 20))","to":null,"contractAddress":"0x\#(String(repeating: "22", count: 20))","logs":[]}}"#
        let r = try Envelope.decodeSingle(Array(receipt.utf8)) { (s) throws(RPCError) in try Receipt.parse(&s) }.get()
        XCTAssertEqual(r.status, 1)
        XCTAssertNil(r.to)
        XCTAssertEqual(r.gasUsed, 21000)
        XCTAssertEqual(r.effectiveGasPrice, 1_000_000_007)
    }
}
