import EthereumCore
import Foundation
import KeeperTesting

/// The seeded generator of these tests (SplitMix64; the seed is printed).
typealias SeededGenerator = SplitMix64

/// `EXPANSION_KEEPER_SEED` or a fixed default.
let signingSeed = TestEnvironment.seed
/// Bigger differential runs when `EXPANSION_KEEPER_SOAK=1`.
let soak = TestEnvironment.soak

/// The Python oracle `Tests/Support/sign_oracle.py` (eth-account, eth-keyfile, eth-keys), one JSON line per request.
enum SignOracle {
    /// Sends the requests and returns the answers in order. Fails (never skips) without Python.
    static func ask(_ requests: [[String: Any]]) throws -> [[String: Any]] {
        try PythonOracle.ask("sign_oracle.py", requests)
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
