import Foundation
import XCTest

/// KeeperBench fails like a tool (issue 16): a suite that cannot run prints one line on stderr saying what to do,
/// the other suites still run, the exit status has one bit per failed suite, and stdout already holds every figure.
/// Runs the debug KeeperBench built beside the tests with `--quick` and suites that fail early (about a second).
final class KeeperBenchFailureTests: XCTestCase {
    static var binary: URL { ABICLITests.binary.deletingLastPathComponent().appendingPathComponent("KeeperBench") }

    struct Run {
        let status: Int32
        let stdout: String
        let stderrLines: [String]
    }

    /// Runs KeeperBench with `arguments` and `python` as EXPANSION_KEEPER_PYTHON, stdout into a file (as a user
    /// redirecting it would), stderr into a pipe.
    func bench(_ arguments: [String], python: String) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw XCTSkip("KeeperBench not built at \(Self.binary.path) (swift build --build-tests builds it)")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("keeperbench-test-\(getpid())-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var environment = ProcessInfo.processInfo.environment
        environment["EXPANSION_KEEPER_PYTHON"] = python
        process.environment = environment
        let err = Pipe()
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stdout = try String(contentsOf: out, encoding: .utf8)
        return Run(status: process.terminationStatus, stdout: stdout,
                   stderrLines: String(decoding: e, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    /// No such Python: abi (bit 2) fails at once; signing (4) measures and prints its pure-Swift figures, then fails
    /// at its Python reference; catchup (8) still runs after both, and fails. One stderr line each.
    func testMissingPythonFailsEachSuiteInOneLine() throws {
        let run = try bench(["--quick", "abi", "signing", "catchup"], python: "/nonexistent/python")
        XCTAssertEqual(run.status, 2 | 4 | 8, "exit status: one bit per failed suite (abi 2, signing 4, catchup 8)\n\(run.stderrLines)")
        XCTAssertEqual(run.stderrLines, ["abi", "signing", "catchup"].map {
            "KeeperBench \($0): EXPANSION_KEEPER_PYTHON=/nonexistent/python is not an executable — " + Self.pythonFix
        })
        XCTAssertTrue(run.stdout.hasPrefix("== abi\n== signing\n"), run.stdout)
        XCTAssertTrue(run.stdout.hasSuffix("== catchup\n"), run.stdout)
        // The figures measured before the failure reached the file.
        XCTAssertTrue(run.stdout.contains("\nsign digest (RFC 6979, low-s) "), run.stdout)
        XCTAssertTrue(run.stdout.contains("\nrecover public key + address "), run.stdout)
    }

    /// A Python without the project's packages (the system one): the reference's traceback becomes its last line.
    func testPythonWithoutThePackagesFailsInOneLine() throws {
        let system = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: system),
              (try? Self.probe(system, "import eth_abi")) == false else {
            throw XCTSkip("\(system) missing or has eth_abi")
        }
        let run = try bench(["--quick", "abi"], python: system)
        XCTAssertEqual(run.status, 2, "\(run.stderrLines)")
        XCTAssertEqual(run.stderrLines.count, 1, "\(run.stderrLines)")
        XCTAssertEqual(run.stderrLines.first, "KeeperBench abi: the Python reference (an inline script under \(system)) exited 1: "
                       + "ModuleNotFoundError: No module named 'eth_abi' — " + Self.pythonFix)
        XCTAssertEqual(run.stdout, "== abi\n")
    }

    /// An unknown suite is a usage error (64), before anything runs.
    func testUnknownSuiteIsAUsageError() throws {
        let run = try bench(["keccak", "nosuch"], python: "/nonexistent/python")
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderrLines, ["KeeperBench: no suite \"nosuch\"; usage: KeeperBench [--quick] [suite …] "
                                         + "(suites: keccak, abi, signing, catchup, rpc, submit, api, proofs, store; none = all)"])
    }

    static let pythonFix = "run deploy/dev/setup.sh (it creates .venv with the pinned Python packages) "
        + "or set EXPANSION_KEEPER_PYTHON to a Python that has them"

    /// Whether `python -c code` exits 0.
    static func probe(_ python: String, _ code: String) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", code]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
