import Crypto
import _CryptoExtras
import EthereumCore
@testable import EthereumSigning
import XCTest

/// The fallback scrypt (for r/N combinations BoringSSL refuses) against RFC 7914's vectors, BoringSSL and pycryptodome.
final class ScryptTests: XCTestCase {
    /// RFC 7914 §12 test vectors 1 and 2 (https://www.rfc-editor.org/rfc/rfc7914#section-12).
    func testRFC7914Vectors() throws {
        XCTAssertEqual(try Scrypt.derive(password: [], salt: [], n: 16, r: 1, p: 1, length: 64).hexString,
                       "0x77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
        XCTAssertEqual(try Scrypt.derive(password: Array("password".utf8), salt: Array("NaCl".utf8), n: 1024, r: 8, p: 16, length: 64).hexString,
                       "0xfdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }

    /// Where both apply, the fallback equals BoringSSL.
    func testAgreesWithBoringSSL() throws {
        var rng = SeededGenerator(seed: signingSeed ^ 0x5C)
        for (n, r, p) in [(2, 1, 1), (16, 2, 3), (256, 1, 2), (1024, 4, 1), (64, 16, 1)] {
            let password = rng.bytes(Int.random(in: 0...20, using: &rng)), salt = rng.bytes(32)
            XCTAssertTrue(Scrypt.boringSSLAccepts(n: n, r: r))
            let boring = try KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: 32, rounds: n, blockSize: r, parallelism: p)
                .withUnsafeBytes { Array($0) }
            XCTAssertEqual(try Scrypt.derive(password: password, salt: salt, n: n, r: r, p: p, length: 32), boring, "n=\(n) r=\(r) p=\(p)")
        }
    }

    /// Beyond BoringSSL's rule (N ≥ 2^(16·r)), against pycryptodome — the scrypt inside eth-keyfile.
    func testAgreesWithPycryptodomeBeyondBoringSSLsRule() throws {
        var rng = SeededGenerator(seed: signingSeed ^ 0x5D)
        let sets = [(65536, 1, 1), (131072, 1, 1), (65536, 1, 3)]
        var requests: [[String: Any]] = []
        var inputs: [([UInt8], [UInt8])] = []
        for (n, r, p) in sets {
            XCTAssertFalse(Scrypt.boringSSLAccepts(n: n, r: r))
            let password = rng.bytes(12), salt = rng.bytes(16)
            inputs.append((password, salt))
            requests.append(["op": "scrypt", "password": password.hexString, "salt": salt.hexString, "n": n, "r": r, "p": p, "dklen": 32])
        }
        let answers = try SignOracle.ask(requests)
        for (i, (n, r, p)) in sets.enumerated() {
            XCTAssertEqual(try Scrypt.derive(password: inputs[i].0, salt: inputs[i].1, n: n, r: r, p: p, length: 32).hexString,
                           answers[i]["key"] as? String, "n=\(n) r=\(r) p=\(p)")
        }
    }
}
