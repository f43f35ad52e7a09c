import Foundation
import KeeperTesting

/// Shared helpers of the EthereumABI tests: vector files, the repository root, the Python oracle.
enum ABITestSupport {
    /// The repository root.
    static var root: URL { TestEnvironment.repoRoot }

    /// A vector file of `Tests/EthereumABITests/Vectors`, parsed as JSON.
    static func vectors(_ name: String) throws -> Any {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/\(name)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url), options: [.fragmentsAllowed])
    }

    /// Runs a `Tests/Support` script with `arguments`, feeding `input` to stdin; returns stdout. Throws on a
    /// non-zero exit or a missing Python (so the test fails, never skips).
    static func runPython(_ script: String, _ arguments: [String], input: Data? = nil) throws -> String {
        try PythonOracle.run(script, arguments, input: input).stdoutText
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

    /// The seed for a differential run (printed by the caller).
    static var seed: UInt64 { TestEnvironment.seed }

    /// True for opt-in long runs.
    static var soak: Bool { TestEnvironment.soak }
}
