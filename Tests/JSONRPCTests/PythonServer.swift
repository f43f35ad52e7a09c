import Foundation
import KeeperTesting
import XCTest

/// The repository root.
let repoRoot = TestEnvironment.repoRoot

/// The project's Python; throws (failing the test) when missing.
func pythonPath() throws -> String { try TestEnvironment.python() }

/// A Python server launched as a subprocess (the RPC stub or the local chain). It prints one JSON line
/// when ready; `stop()` (also run at deinit) sends SIGTERM and waits.
final class PythonServer: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    let ready: [String: Any]
    let url: String

    init(script: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: try pythonPath())
        process.arguments = [repoRoot.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = repoRoot
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin  // the stub exits when this closes (the test process ended)
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let handle = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
            if line.contains(UInt8(ascii: "\n")) { break }
        }
        guard let text = String(data: line, encoding: .utf8)?.split(separator: "\n").first,
              let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let url = obj["url"] as? String else {
            process.terminate()
            throw NSError(domain: "PythonServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(script) did not print its ready line"])
        }
        ready = obj
        self.url = url
    }

    /// The port the server listens on.
    var port: Int { Int(url.split(separator: ":").last ?? "0") ?? 0 }

    /// SIGTERM, then SIGKILL after 5 s; waits by polling (waitUntilExit spins a run loop, which is
    /// wrong on a Swift concurrency thread).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for i in 0..<100 where process.isRunning {
            if i == 50 { kill(process.processIdentifier, SIGKILL) }
            usleep(100_000)
        }
    }

    deinit { stop() }
}

/// One stub server shared by the tests of this target (each test uses its own URL path).
enum Stub {
    nonisolated(unsafe) private static var shared: PythonServer?
    private static let lock = NSLock()

    /// The stub's base URL (started on first use).
    static func url() throws -> String {
        try lock.withLock {
            if let s = shared, s.process.isRunning { return s.url }
            let s = try PythonServer(script: "Tests/Support/rpc_stub_server.py")
            shared = s
            return s.url
        }
    }

    /// A fresh path for one test: `base/<unique>/<directives…>`.
    static func path(_ directives: String...) throws -> String {
        let token = "t" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return ([try url(), token] + directives).joined(separator: "/")
    }
}
