import Foundation
import XCTest

/// A small seeded PRNG (SplitMix64) so differential tests are repeatable: the seed is printed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// The seed for differential tests: `EXPANSION_KEEPER_SEED` or a fixed default.
let testSeed: UInt64 = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SEED"].flatMap(UInt64.init) ?? 20261129

/// Runs an independent Python implementation (Tests/Support/<script>) over JSON lines.
enum PythonOracle {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var python: String {
        if let p = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_PYTHON"], !p.isEmpty { return p }
        return repoRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// Sends `requests` (one JSON object each) and returns the decoded answers in order.
    static func ask(_ script: String, _ requests: [[String: Any]]) throws -> [[String: Any]] {
        try requirePython()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repoRoot.appendingPathComponent("Tests/Support/\(script)").path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        var payload = Data()
        for r in requests {
            payload.append(try JSONSerialization.data(withJSONObject: r))
            payload.append(0x0a)
        }
        let bytes = payload
        // Write on another thread so a full stdout pipe cannot deadlock us.
        let writer = Thread {
            input.fileHandleForWriting.write(bytes)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OracleError(message: "\(script) exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
        }
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        guard lines.count == requests.count else {
            throw OracleError(message: "\(script) answered \(lines.count) of \(requests.count) requests")
        }
        return try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// Fails the test (never skips) when the oracle's Python is missing.
    static func requirePython(file: StaticString = #filePath, line: UInt = #line) throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("Python oracle not found at \(python): run deploy/dev/setup.sh or set EXPANSION_KEEPER_PYTHON", file: file, line: line)
            throw OracleError(message: "no python")
        }
    }
}

struct OracleError: Error, CustomStringConvertible { let message: String; var description: String { message } }

/// Loads a JSON vector file from this target's Vectors/ resources.
func loadVectors(_ name: String) throws -> [String: Any] {
    guard let url = Bundle.module.url(forResource: "Vectors/\(name)", withExtension: nil) else {
        throw OracleError(message: "vector file \(name) missing")
    }
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

func hexBytes(_ s: String) -> [UInt8] {
    let s = s.hasPrefix("0x") ? String(s.dropFirst(2)) : s
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}
