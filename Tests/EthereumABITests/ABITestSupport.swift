import Foundation
import XCTest

/// Shared helpers of the EthereumABI tests: vector files, the repository root, the Python oracle.
enum ABITestSupport {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A vector file of `Tests/EthereumABITests/Vectors`, parsed as JSON.
    static func vectors(_ name: String) throws -> Any {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/\(name)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url), options: [.fragmentsAllowed])
    }

    /// The Python interpreter with eth-abi: `$EXPANSION_KEEPER_PYTHON`, else `<repo>/.venv/bin/python`.
    /// Fails the calling test (never skips) when neither exists.
    static func python(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let p = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_PYTHON"], FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        let venv = root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            XCTFail("Python with eth-abi not found: set EXPANSION_KEEPER_PYTHON or run deploy/dev/setup.sh (looked for \(venv))", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return venv
    }

    /// Runs a `Tests/Support` script with `arguments`, feeding `input` to stdin; returns stdout. Fails on a
    /// non-zero exit.
    static func runPython(_ script: String, _ arguments: [String], input: Data? = nil,
                          file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try python(file: file, line: line))
        process.arguments = [root.appendingPathComponent("Tests/Support/\(script)").path] + arguments
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        try process.run()
        let writer = Thread {
            if let input { inp.fileHandleForWriting.write(input) }
            try? inp.fileHandleForWriting.close()
        }
        writer.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            XCTFail("\(script) exited \(process.terminationStatus): \(String(decoding: stderr, as: UTF8.self))", file: file, line: line)
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// Two JSON texts are equal as JSON values.
    static func sameJSON(_ a: String, _ b: String) -> Bool {
        func normal(_ text: String) -> Data? {
            guard let v = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return nil }
            return try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed])
        }
        guard let x = normal(a), let y = normal(b) else { return false }
        return x == y
    }

    /// The seed for a differential run: `$EXPANSION_KEEPER_SEED` or a fixed default (printed by the caller).
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SEED"].flatMap(UInt64.init) ?? 20_261_129
    }

    /// True for opt-in long runs.
    static var soak: Bool { ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SOAK"] == "1" }
}

/// SplitMix64: a tiny seeded generator so randomised tests repeat exactly.
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
}
