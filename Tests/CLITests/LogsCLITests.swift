import Foundation
import KeeperTesting
import XCTest

/// `expansion-keeper logs` run as a process against the scripted stub (Tests/Support/rpc_stub_server.py),
/// whose synthetic chain gives block b exactly (b * 7 + 3) % 4 logs, alternating addresses 0xcdcd…/0xabab….
final class LogsCLITests: XCTestCase {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    nonisolated(unsafe) static var stub: (Process, Pipe, String)?

    static var binary: URL {
        #if os(Linux)
        return Bundle.main.bundleURL.appendingPathComponent("expansion-keeper")
        #else
        return Bundle(for: LogsCLITests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("expansion-keeper")
        #endif
    }

    /// Starts the stub once for this class (it exits when our stdin pipe closes, i.e. with this process).
    func stubURL(_ directives: String...) throws -> String {
        if Self.stub == nil {
            let python = try TestEnvironment.python()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [Self.root.appendingPathComponent("Tests/Support/rpc_stub_server.py").path]
            let out = Pipe(), input = Pipe()
            p.standardOutput = out
            p.standardInput = input
            try p.run()
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            let obj = try JSONSerialization.jsonObject(with: line) as? [String: Any]
            guard let url = obj?["url"] as? String else { throw CocoaError(.fileReadCorruptFile) }
            Self.stub = (p, input, url)
        }
        let token = "cli" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return ([Self.stub!.2, token] + directives).joined(separator: "/")
    }

    override class func tearDown() {
        if let (p, _, _) = stub { p.terminate(); p.waitUntilExit() }
        stub = nil
        super.tearDown()
    }

    func logs(_ arguments: [String]) throws -> Output {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["logs"] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    static let abab = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    static let cdcd = "0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD"

    /// The stub's logs of 0xabab… (odd log positions) in `from...to`, as (block, logIndex).
    func expected(_ from: Int, _ to: Int) -> [(Int, Int)] {
        (from...to).flatMap { b in (0..<((b * 7 + 3) % 4)).filter { $0 % 2 == 1 }.map { (b, $0) } }
    }

    func object(_ line: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
    }

    func testPrintsOneObjectPerLogInChainOrderAcrossRangeLimits() throws {
        let url = try stubURL("rangecap=7")
        let run = try logs(["--rpc", url, "--address", Self.abab, "--from-block", "10", "--to-block", "0x50"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let want = expected(10, 80)
        XCTAssertEqual(run.lines.count, want.count)
        for (line, (block, index)) in zip(run.lines, want) {
            let o = try object(line)
            XCTAssertEqual(o["blockNumber"] as? Int, block)
            XCTAssertEqual(o["logIndex"] as? Int, index)
            XCTAssertEqual(o["transactionIndex"] as? Int, index)
            XCTAssertEqual(o["address"] as? String, Self.abab, "EIP-55")
            XCTAssertEqual((o["topics"] as? [String])?.count, 2)
            XCTAssertEqual(o["data"] as? String, "0x" + String(format: "%064x", block * 1000 + index))
            XCTAssertNil(o["event"])
        }
        // Key order and integer rendering, byte for byte, on the first line.
        let first = try XCTUnwrap(run.lines.first)
        XCTAssertTrue(first.hasPrefix("{\"blockNumber\":\(want[0].0),\"blockHash\":\"0x"), first)
        XCTAssertTrue(first.contains(",\"transactionIndex\":1,\"logIndex\":1,\"address\":\"\(Self.abab)\",\"topics\":[\""), first)
        XCTAssertTrue(run.stderr.contains("provider refused blocks"), run.stderr)
        XCTAssertTrue(run.stderr.contains("eth_getLogs requests"), run.stderr)
    }

    func testDecodesMatchingEventsFromASignatureOrAnABIFile() throws {
        let url = try stubURL("ping")
        let signature = try logs(["--rpc", url, "--address", Self.abab, "--from-block", "100", "--to-block", "120",
                                  "--event", "Ping(uint256 indexed seq,uint256 value)"])
        XCTAssertEqual(signature.status, 0, signature.stderr)
        XCTAssertEqual(signature.lines.count, expected(100, 120).count)
        for line in signature.lines {
            let o = try object(line)
            XCTAssertEqual(o["event"] as? String, "Ping")
            let args = try XCTUnwrap(o["args"] as? [String: Any])
            let block = try XCTUnwrap(o["blockNumber"] as? Int), index = try XCTUnwrap(o["logIndex"] as? Int)
            XCTAssertEqual(args["seq"] as? String, String(block), "canonical values are decimal strings")
            XCTAssertEqual(args["value"] as? String, String(block * 1000 + index))
            XCTAssertTrue(line.hasSuffix(",\"event\":\"Ping\",\"args\":{\"seq\":\"\(block)\",\"value\":\"\(block * 1000 + index)\"}}"), line)
        }
        let abi = FileManager.default.temporaryDirectory.appendingPathComponent("ping-\(getpid()).json")
        try Data(#"[{"type":"event","name":"Ping","anonymous":false,"inputs":[{"name":"seq","type":"uint256","indexed":true},{"name":"value","type":"uint256","indexed":false}]}]"#.utf8).write(to: abi)
        defer { try? FileManager.default.removeItem(at: abi) }
        let fromFile = try logs(["--rpc", url, "--address", Self.abab, "--from-block", "100", "--to-block", "120", "--abi", abi.path])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        XCTAssertEqual(fromFile.lines, signature.lines)
        // A signature that does not match (wrong topic0) leaves the logs undecoded.
        let other = try logs(["--rpc", url, "--address", Self.abab, "--from-block", "100", "--to-block", "120",
                              "--event", "Transfer(address indexed from,address indexed to,uint256 value)"])
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertFalse(other.stdout.contains("\"event\""))
    }

    func testAnUnfetchableRangeExitsOneNamingIt() throws {
        // 0xcdcd… has 2 logs in every block b with (b * 7 + 3) % 4 == 3: blocks 0, 4, 8, …
        let url = try stubURL("resultcap=1")
        let early = try logs(["--rpc", url, "--address", Self.cdcd, "--from-block", "1", "--to-block", "30", "--retries", "1"])
        XCTAssertEqual(early.status, 1)
        let last = try XCTUnwrap(early.stderr.split(separator: "\n").last)
        XCTAssertTrue(last.contains("could not fetch logs for blocks 4-4"), String(last))
        XCTAssertEqual(early.lines.count, 2, "blocks 1-3 were printed before the failure (block 1 and 2 have one log each)")
    }

    func testTroubleIsReportedAndSurvived() throws {
        let run = try logs(["--rpc", "http://127.0.0.1:1", "--rpc", try stubURL("503x1"), "--address", Self.abab,
                            "--from-block", "4990", "--to-block", "latest"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.lines.count, expected(4990, 5000).count)
        XCTAssertTrue(run.stderr.contains("failover"), run.stderr)
        XCTAssertTrue(run.stderr.contains("retry"), run.stderr)
    }

    func testErrorsNameTheProblem() throws {
        let url = try stubURL()
        let cases: [([String], String)] = [
            (["--address", Self.abab, "--from-block", "1", "--to-block", "2"], "--rpc"),
            (["--rpc", url, "--from-block", "1", "--to-block", "2"], "--address"),
            (["--rpc", url, "--address", "0x1234", "--from-block", "1", "--to-block", "2"], "--address 0x1234"),
            (["--rpc", url, "--address", Self.abab, "--from-block", "x", "--to-block", "2"], "--from-block"),
            (["--rpc", url, "--address", Self.abab, "--from-block", "9", "--to-block", "2"], "after --to-block"),
            (["--rpc", url, "--address", Self.abab, "--from-block", "1", "--to-block", "2", "--event", "Nope("], "--event"),
            (["--rpc", "ftp://x", "--address", Self.abab, "--from-block", "1", "--to-block", "2"], "http"),
            (["--rpc", try stubURL("chain=1"), "--rpc", try stubURL("chain=2"), "--address", Self.abab, "--from-block", "1", "--to-block", "2"], "chain id mismatch"),
        ]
        for (arguments, text) in cases {
            let run = try logs(arguments)
            XCTAssertEqual(run.status, 1, "\(arguments)")
            XCTAssertEqual(run.stdout, "", "\(arguments)")
            let errLines = run.stderr.split(separator: "\n")
            XCTAssertTrue(errLines.last?.contains(text) ?? false, "\(arguments): \(run.stderr)")
        }
    }
}
