import Foundation
import XCTest

/// The keeper's read-only commands run as the real built binary when there is nothing to read yet:
/// each fails with exit status 1, exactly one line on stderr naming the problem, nothing on stdout.
/// (Runs against the local chain — status, registrations, plan, audit, run — are in KeeperEngineTests.)
final class KeeperCLITests: XCTestCase {
    struct Run { let status: Int32; let stdout: String; let stderr: String }

    static var binary: URL {
        #if os(Linux)
        return Bundle.main.bundleURL.appendingPathComponent("expansion-keeper")
        #else
        return Bundle(for: KeeperCLITests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("expansion-keeper")
        #endif
    }

    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func keeper(_ arguments: [String]) throws -> Run {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = arguments
        let errURL = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try err.close()
        let e = FileManager.default.contents(atPath: errURL.path) ?? Data()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    var config: String {
        let abi = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ABI/MockVeniceStaking.json").path
        let path = dir.appendingPathComponent("k.toml").path
        let text = """
        [chain]
        rpc_urls = ["http://127.0.0.1:9"]
        chain_id = 1337
        [contracts]
        staking = "0x321b7ff75154472B18EDb199033fF4D116F340Ff"
        staking_abi = "\(abi)"
        treasury = "0xacfE6019Ed1A7Dc6f7B508C02d1b04ec88cC21bf"
        [keeper]
        data_dir = "no-store-here"
        dry_run = true
        """
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func assertOneLineError(_ r: Run, contains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(contains), r.stderr, file: file, line: line)
    }

    func testReadOnlyCommandsWithoutAStore() throws {
        for cmd in ["status", "registrations", "plan"] {
            assertOneLineError(try keeper([cmd, "--config", config]), contains: "no keeper store at")
        }
    }

    func testMissingConfigFile() throws {
        for cmd in [["status"], ["registrations"], ["run"]] {
            assertOneLineError(try keeper(cmd + ["--config", dir.appendingPathComponent("absent.toml").path]), contains: "no such file")
        }
        // audit: 2 = could not audit (1 is reserved for "the audit found something wrong").
        let audit = try keeper(["audit", "--config", dir.appendingPathComponent("absent.toml").path])
        XCTAssertEqual(audit.status, 2)
        XCTAssertEqual(audit.stdout, "")
        XCTAssertTrue(audit.stderr.contains("could not audit") && audit.stderr.contains("no such file"), audit.stderr)
        let check = try keeper(["config", "check", "--config", dir.appendingPathComponent("absent.toml").path])
        assertOneLineError(check, contains: "config: file: cannot read")
    }
}
