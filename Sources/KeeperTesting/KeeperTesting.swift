// KeeperTesting — support for tests and benchmarks only; never linked into the shipped binary.
// Owns: seeded randomness, the repository's paths and Python, running helper processes (the
// independent Python oracles in Tests/Support, servers, the built binary). Imports Foundation only.
import Foundation

/// SplitMix64: a tiny seeded generator so randomised tests repeat exactly (print the seed you use).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's state.
    public var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `n` random bytes.
    public mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// A test-support failure; its message says what is missing and how to get it.
public struct TestSupportError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    /// A failure with `description`.
    public init(_ description: String) { self.description = description }
}

/// Where things are and how a run is configured (`EXPANSION_KEEPER_SEED`, `EXPANSION_KEEPER_SOAK`,
/// `EXPANSION_KEEPER_PYTHON`).
public enum TestEnvironment {
    /// The repository root, found from this file's path.
    public static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The seed of randomised tests: `EXPANSION_KEEPER_SEED` or a fixed default.
    public static var seed: UInt64 {
        ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SEED"].flatMap(UInt64.init) ?? 20_261_129
    }

    /// True for opt-in long runs (`EXPANSION_KEEPER_SOAK=1`).
    public static var soak: Bool { ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SOAK"] == "1" }

    /// The project's Python with the pinned test tools: `EXPANSION_KEEPER_PYTHON`, else `<repo>/.venv/bin/python`.
    /// Throws (so the calling test fails, never skips) when it is missing.
    public static func python() throws -> String {
        if let p = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_PYTHON"], !p.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: p) else {
                throw TestSupportError("EXPANSION_KEEPER_PYTHON=\(p) is not an executable")
            }
            return p
        }
        let venv = repoRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            throw TestSupportError("Python not found at \(venv): run deploy/dev/setup.sh or set EXPANSION_KEEPER_PYTHON")
        }
        return venv
    }

    /// The path of `Tests/Support/<name>`.
    public static func supportScript(_ name: String) -> String {
        repoRoot.appendingPathComponent("Tests/Support/\(name)").path
    }
}

/// What a finished process left behind.
public struct ProcessOutput: Sendable {
    /// The exit status (or the signal number when killed by one).
    public let status: Int32
    /// Everything written to stdout.
    public let stdout: Data
    /// Everything written to stderr.
    public let stderr: Data
    /// stdout as UTF-8 text.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr as UTF-8 text.
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs a program to completion, feeding stdin and collecting stdout and stderr without deadlocking
/// on full pipes.
public enum Subprocess {
    /// Runs `executable` with `arguments`; `environment` replaces the inherited one when given.
    public static func run(_ executable: String, _ arguments: [String], input: Data? = nil,
                           environment: [String: String]? = nil) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let bytes = input ?? Data()
        let writer = Thread {
            if !bytes.isEmpty { stdin.fileHandleForWriting.write(bytes) }
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errorBox = DataBox()
        let reader = Thread { errorBox.data = stderr.fileHandleForReading.readDataToEndOfFile(); errorBox.done.signal() }
        reader.start()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        errorBox.done.wait()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus, stdout: out, stderr: errorBox.data)
    }

    private final class DataBox: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}

/// The independent Python implementations in `Tests/Support` that differential tests compare against.
public enum PythonOracle {
    /// Runs `Tests/Support/<script>` with `arguments` and `input`; throws when it exits non-zero.
    public static func run(_ script: String, _ arguments: [String] = [], input: Data? = nil) throws -> ProcessOutput {
        let output = try Subprocess.run(try TestEnvironment.python(), [TestEnvironment.supportScript(script)] + arguments, input: input)
        guard output.status == 0 else {
            throw TestSupportError("\(script) exited \(output.status): \(output.stderrText)")
        }
        return output
    }

    /// Sends one JSON object per line and returns the script's one-JSON-object-per-line answers, in order.
    public static func ask(_ script: String, _ requests: [[String: Any]], arguments: [String] = []) throws -> [[String: Any]] {
        var payload = Data()
        for request in requests {
            payload.append(try JSONSerialization.data(withJSONObject: request))
            payload.append(0x0a)
        }
        let output = try run(script, arguments, input: payload)
        let lines = output.stdoutText.split(separator: "\n")
        guard lines.count == requests.count else {
            throw TestSupportError("\(script) answered \(lines.count) of \(requests.count) requests")
        }
        return try lines.map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw TestSupportError("\(script) answered with something other than a JSON object")
            }
            return object
        }
    }
}
