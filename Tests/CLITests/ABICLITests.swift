import Foundation
import XCTest

/// `expansion-keeper abi …` run as the real built binary: exact stdout, stderr and exit status.
final class ABICLITests: XCTestCase {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var binary: URL {
        #if os(Linux)
        return Bundle.main.bundleURL.appendingPathComponent("expansion-keeper")
        #else
        return Bundle(for: ABICLITests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("expansion-keeper")
        #endif
    }

    func abi(_ arguments: String...) throws -> Run {
        let process = Process()
        process.executableURL = ABICLITests.binary
        process.arguments = ["abi"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func assertOutput(_ run: Run, _ line: String, file: StaticString = #filePath, lineNo: UInt = #line) {
        XCTAssertEqual(run.status, 0, run.stderr, file: file, line: lineNo)
        XCTAssertEqual(run.stdout, line + "\n", file: file, line: lineNo)
        XCTAssertEqual(run.stderr, "", file: file, line: lineNo)
    }

    /// Exit status 1, nothing on stdout, exactly one stderr line equal to `message`.
    func assertFailure(_ run: Run, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, 1, file: file, line: line)
        XCTAssertEqual(run.stdout, "", file: file, line: line)
        XCTAssertEqual(run.stderr, message + "\n", file: file, line: line)
    }

    let dead = "0x000000000000000000000000000000000000dEaD"
    let transferCall = "0xa9059cbb000000000000000000000000000000000000000000000000000000000000dead00000000000000000000000000000000000000000000000000000000000003e8"

    func testKeccak() throws {
        assertOutput(try abi("keccak", "--text", ""), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        assertOutput(try abi("keccak", "0x"), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        assertOutput(try abi("keccak", "--text", "abc"), "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        assertOutput(try abi("keccak", "0x616263"), "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        assertFailure(try abi("keccak", "0x6g"), "Error: input: invalid hex: unexpected character 'g' at character 3")
        assertFailure(try abi("keccak", "616263"), "Error: input: invalid hex: missing 0x prefix at character 0")
        assertFailure(try abi("keccak"), "Error: give the bytes to hash as 0xHEX or the text with --text STRING")
        assertFailure(try abi("keccak", "0x00", "--text", "a"), "Error: give either 0xHEX or --text STRING, not both")
    }

    func testSelector() throws {
        assertOutput(try abi("selector", "transfer(address,uint256)"), "0xa9059cbb")
        assertOutput(try abi("selector", "transfer(address to, uint amount)"), "0xa9059cbb")
        assertOutput(try abi("selector", "--event", "Transfer(address indexed from,address indexed to,uint256 value)"),
                     "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
        assertFailure(try abi("selector", "transfer(address,uint25)"),
                      "Error: invalid ABI type \"transfer(address,uint25)\": \"uint25\" is not a valid integer type (uint8…uint256 / int8…int256 in steps of 8) at character 17")
        assertFailure(try abi("selector", "(uint256)"), "Error: invalid ABI type \"(uint256)\": a function signature needs a name at character 0")
    }

    func testEncode() throws {
        assertOutput(try abi("encode", "transfer(address,uint256)", "[\"\(dead)\", 1000]"), transferCall)
        assertOutput(try abi("encode", "(uint256,address[])", "[\"0x01\", []]"),
                     "0x" + "0000000000000000000000000000000000000000000000000000000000000001"
                        + "0000000000000000000000000000000000000000000000000000000000000040"
                        + "0000000000000000000000000000000000000000000000000000000000000000")
        assertOutput(try abi("encode", "(int8,bool,string)", "[\"-1\", true, \"hi\"]"),
                     "0x" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                        + "0000000000000000000000000000000000000000000000000000000000000001"
                        + "0000000000000000000000000000000000000000000000000000000000000060"
                        + "0000000000000000000000000000000000000000000000000000000000000002"
                        + "6869000000000000000000000000000000000000000000000000000000000000")
        assertFailure(try abi("encode", "f(uint8)", "[256]"), "Error: value [0] for uint8: 256 does not fit in 8 bits")
        assertFailure(try abi("encode", "f(uint8)", "[1"), "Error: invalid JSON at character 2: expected ',' or ']'")
        assertFailure(try abi("encode", "f(uint8,bool)", "[1]"), "Error: invalid JSON at arguments: expected 2 arguments, got 1")
    }

    func testDecode() throws {
        assertOutput(try abi("decode", "transfer(address,uint256)", transferCall), "[\"\(dead)\",\"1000\"]")
        assertOutput(try abi("decode", "(address,uint256)", "0x" + transferCall.dropFirst(10)), "[\"\(dead)\",\"1000\"]")
        assertOutput(try abi("decode", "(int8,bool,string)",
                             "0x" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                                + "0000000000000000000000000000000000000000000000000000000000000001"
                                + "0000000000000000000000000000000000000000000000000000000000000060"
                                + "0000000000000000000000000000000000000000000000000000000000000002"
                                + "6869000000000000000000000000000000000000000000000000000000000000"),
                     "[\"-1\",true,\"hi\"]")
        assertFailure(try abi("decode", "approve(address,uint256)", transferCall), "Error: selector mismatch: data starts with 0xa9059cbb, expected 0x095ea7b3")
        assertFailure(try abi("decode", "transfer(address,uint256)", String(transferCall.dropLast(2))),
                      "Error: truncated data: uint256 at byte 36 needs 32 bytes, 31 available")
        assertFailure(try abi("decode", "(bool)", "0x" + String(repeating: "0", count: 63) + "2"),
                      "Error: invalid bool at byte 0: word 0x" + String(repeating: "0", count: 63) + "2 is neither 0 nor 1")
        assertFailure(try abi("decode", "(bool)", "0x123"), "Error: data: invalid hex: odd number of hex digits (3) at character 5")
    }

    func testDecodeLog() throws {
        let sig = "Transfer(address indexed from,address indexed to,uint256 value)"
        let topic0 = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
        let from = "0x000000000000000000000000000000000000000000000000000000000000dead"
        let to = "0x0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
        let value = "0x00000000000000000000000000000000000000000000000000000000000003e8"
        assertOutput(try abi("decode-log", sig, "--topic", topic0, "--topic", from, "--topic", to, "--data", value),
                     "{\"from\":\"\(dead)\",\"to\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",\"value\":\"1000\"}")
        let named = "Named(string indexed name,uint8 n)"
        let namedTopic0 = "0x5c9419ffb336d5b82b5cfc7d8369f9ac57276248f652da3cce3f7894f81b6a1c"  // keccak256("Named(string,uint8)")
        let nameTopic = "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8"  // keccak256("hello")
        assertOutput(try abi("decode-log", named, "--topic", namedTopic0, "--topic", nameTopic, "--data", "0x" + String(repeating: "0", count: 63) + "7"),
                     "{\"name\":\"\(nameTopic)\",\"n\":\"7\"}")
        assertFailure(try abi("decode-log", sig, "--topic", topic0, "--topic", from, "--data", value),
                      "Error: log is not Transfer(address,address,uint256): expected 3 topics, got 2")
        assertFailure(try abi("decode-log", sig, "--topic", from, "--topic", from, "--topic", to, "--data", value),
                      "Error: log is not Transfer(address,address,uint256): topic0 is \(from), expected \(topic0)")
        assertFailure(try abi("decode-log", sig, "--topic", topic0, "--topic", "0x12", "--topic", to, "--data", value),
                      "Error: topic 1: invalid length for bytes32: expected 32 bytes, got 1")
        assertFailure(try abi("decode-log", "E(uint8 a,uint8 a)", "--data", "0x"), "Error: parameter name \"a\" appears twice in the signature")
    }

    func testUsageErrorsKeepArgumentParsersStatus() throws {
        let run = try abi("encode", "f(uint8)")
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stdout, "")
        XCTAssertTrue(run.stderr.hasPrefix("Error: Missing expected argument '<arguments>'"), run.stderr)
    }
}
