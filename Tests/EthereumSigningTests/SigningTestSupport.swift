import EthereumCore
import Foundation
import XCTest

/// SplitMix64: a seeded PRNG so differential tests are repeatable (the seed is printed).
struct SeededGenerator: RandomNumberGenerator {
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

/// `EXPANSION_KEEPER_SEED` or a fixed default.
let signingSeed: UInt64 = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SEED"].flatMap(UInt64.init) ?? 20_261_129
/// Bigger differential runs when `EXPANSION_KEEPER_SOAK=1`.
let soak = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SOAK"] == "1"

/// The Python oracle `Tests/Support/sign_oracle.py` (eth-account, eth-keyfile, eth-keys), one JSON line per request.
enum SignOracle {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var python: String {
        if let p = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_PYTHON"], !p.isEmpty { return p }
        return repoRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// Sends the requests and returns the answers in order. Fails (never skips) without Python.
    static func ask(_ requests: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("Python not found at \(python): run deploy/dev/setup.sh or set EXPANSION_KEEPER_PYTHON", file: file, line: line)
            throw SignTestError("no python")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repoRoot.appendingPathComponent("Tests/Support/sign_oracle.py").path]
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
        let writer = Thread {
            input.fileHandleForWriting.write(bytes)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SignTestError("sign_oracle.py exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
        }
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        guard lines.count == requests.count else { throw SignTestError("oracle answered \(lines.count) of \(requests.count)") }
        return try lines.map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw SignTestError("oracle answer is not an object")
            }
            return object
        }
    }
}

struct SignTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Loads `Vectors/<name>` of this test target.
func signingVector(_ name: String) throws -> [String: Any] {
    guard let url = Bundle.module.url(forResource: "Vectors/\(name)", withExtension: nil),
          let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
        throw SignTestError("vector file \(name) missing or not an object")
    }
    return object
}

/// A fresh private temporary directory for one test, removed afterwards.
func makeTemporaryDirectory(_ tag: String) throws -> String {
    let path = NSTemporaryDirectory() + "sign-\(tag)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return path
}

/// The permission bits of a file.
func fileMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

extension String {
    /// Bytes of `0x` hex (test helper; traps on bad hex, which only our own literals supply).
    var hexBytes: [UInt8] { (try? Hex.decode(self, requirePrefix: false)) ?? [] }
}
