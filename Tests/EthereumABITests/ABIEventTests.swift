import EthereumABI
import EthereumCore
import XCTest

/// Event descriptors: topic0, indexed topics, and log decoding that refuses foreign logs.
final class ABIEventTests: XCTestCase {
    let transfer = try! ABIEvent(signature: "Transfer(address indexed from,address indexed to,uint256 value)")
    let from = try! Address("0x000000000000000000000000000000000000dEaD")
    let to = try! Address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")

    func testTransferLogBothWays() throws {
        let (topics, data) = try transfer.encodeLog([.address(from), .address(to), .uint(1000)])
        XCTAssertEqual(topics.count, 3)
        XCTAssertEqual(topics[0].hexString, "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
        XCTAssertEqual(topics[1], from.word)
        XCTAssertEqual(data, UInt256(1000).word.bytes)
        let decoded = try transfer.decode(topics: topics, data: data)
        XCTAssertEqual(decoded.map { $0.name }, ["from", "to", "value"])
        XCTAssertEqual(ABIValue.canonicalJSON(decoded),
                       #"{"from":"0x000000000000000000000000000000000000dEaD","to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","value":"1000"}"#)
    }

    func testRefusesForeignLogs() throws {
        let (topics, data) = try transfer.encodeLog([.address(from), .address(to), .uint(1)])
        var wrong = topics
        wrong[0] = Keccak256.hash(text: "Approval(address,address,uint256)")
        XCTAssertThrowsError(try transfer.decode(topics: wrong, data: data)) {
            XCTAssertEqual($0 as? ABIError, .logMismatch(event: "Transfer(address,address,uint256)",
                reason: "topic0 is 0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925, expected 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"))
        }
        XCTAssertThrowsError(try transfer.decode(topics: Array(topics.prefix(2)), data: data)) {
            XCTAssertEqual($0 as? ABIError, .logMismatch(event: "Transfer(address,address,uint256)", reason: "expected 3 topics, got 2"))
        }
        var dirty = topics
        dirty[2] = Bytes32(w0: 1, w1: 0, w2: 0, w3: 0)
        XCTAssertThrowsError(try transfer.decode(topics: dirty, data: data)) {
            XCTAssertEqual($0 as? ABIError, .logMismatch(event: "Transfer(address,address,uint256)",
                reason: "topic 2 (to): invalid address at byte 0: non-zero high 12 bytes"))
        }
        XCTAssertThrowsError(try transfer.decode(topics: topics, data: data + [0])) {
            XCTAssertEqual($0 as? ABIError, .trailingBytes(offset: 32, count: 1))
        }
    }

    func testIndexedDynamicValuesAreHashes() throws {
        let e = try ABIEvent(signature: "Named(string indexed name,bytes indexed blob,uint256[] indexed ids,(uint8,string) indexed t,string note)",
                             anonymous: true)
        let values: [ABIValue] = [.string("hello"), .bytes([1, 2, 3]), .array([.uint(1), .uint(2)]), .tuple([.uint(7), .string("x")]), .string("n")]
        let (topics, data) = try e.encodeLog(values)
        XCTAssertEqual(topics[0], Keccak256.hash(text: "hello"))
        XCTAssertEqual(topics[1], Keccak256.hash([1, 2, 3]))
        XCTAssertEqual(topics[2], Keccak256.hash(UInt256(1).word.bytes + UInt256(2).word.bytes))
        XCTAssertEqual(topics[3], Keccak256.hash(UInt256(7).word.bytes + [0x78] + [UInt8](repeating: 0, count: 31)))
        let decoded = try e.decode(topics: topics, data: data)
        XCTAssertEqual(decoded[0].value, .fixedBytes(Keccak256.hash(text: "hello"), count: 32))
        XCTAssertEqual(decoded[4].value, .string("n"))
    }

    /// The elementary-data fast path reports the same errors as the general decoder.
    func testFastPathErrors() throws {
        let e = try ABIEvent(signature: "E(address indexed who,uint8 a,bool b)")
        let who = UInt256(7).word
        XCTAssertThrowsError(try e.decode(topics: [e.topic0, who], data: UInt256(256).word.bytes + UInt256(1).word.bytes)) {
            XCTAssertEqual($0 as? ABIError, .invalidValue(type: "uint8", offset: 0, reason: "value 0x100 has non-zero bits above bit 8"))
        }
        XCTAssertThrowsError(try e.decode(topics: [e.topic0, who], data: UInt256(1).word.bytes + UInt256(2).word.bytes)) {
            XCTAssertEqual($0 as? ABIError, .invalidValue(type: "bool", offset: 32, reason: "word 0x" + String(repeating: "0", count: 63) + "2 is neither 0 nor 1"))
        }
        XCTAssertThrowsError(try e.decode(topics: [e.topic0, who], data: UInt256(1).word.bytes)) {
            XCTAssertEqual($0 as? ABIError, .truncated(type: "bool", offset: 32, needed: 32, available: 0))
        }
        XCTAssertEqual(ABIValue.canonicalJSON(try e.decode(topics: [e.topic0, who], data: UInt256(255).word.bytes + UInt256(1).word.bytes)),
                       #"{"who":"0x0000000000000000000000000000000000000007","a":"255","b":true}"#)
    }

    func testAnonymousAndLimits() throws {
        let anon = try ABIEvent(signature: "Ping(uint256 indexed a,uint256 indexed b,uint256 indexed c,uint256 indexed d)", anonymous: true)
        XCTAssertEqual(anon.topicCount, 4)
        let (topics, data) = try anon.encodeLog([.uint(1), .uint(2), .uint(3), .uint(4)])
        XCTAssertEqual(try anon.decode(topics: topics, data: data).map { $0.value }, [.uint(1), .uint(2), .uint(3), .uint(4)])
        XCTAssertThrowsError(try ABIEvent(signature: "Ping(uint256 indexed a,uint256 indexed b,uint256 indexed c,uint256 indexed d)")) {
            XCTAssertEqual($0 as? ABIError, .invalidType(text: "Ping", reason: "4 indexed parameters (at most 3)", offset: 0))
        }
        let unnamed = try ABIEvent(signature: "E(uint8,bool)")
        XCTAssertEqual(try unnamed.decode(topics: [unnamed.topic0], data: UInt256(1).word.bytes + UInt256(0).word.bytes).map { $0.name }, ["arg0", "arg1"])
    }
}
