import Foundation
import KeeperTesting
import XCTest

/// The seed for differential tests (printed by each test that uses it).
let testSeed = TestEnvironment.seed

/// Loads a JSON vector file from this target's Vectors/ resources.
func loadVectors(_ name: String) throws -> [String: Any] {
    guard let url = Bundle.module.url(forResource: "Vectors/\(name)", withExtension: nil) else {
        throw TestSupportError("vector file \(name) missing")
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
