import EthereumCore
import EthereumSigning
import XCTest

/// Published vectors (sources in Vectors/README.md and each file's `source` field).
final class PublishedVectorTests: XCTestCase {
    /// ethereum/tests KeyStoreTests/basic_tests.json: one pbkdf2 (c=262144) and one scrypt (n=262144, r=1, p=8) keystore.
    func testWeb3SecretStorageVectors() throws {
        let file = try signingVector("keystore_basic_tests.json")
        let tests = try XCTUnwrap(file["tests"] as? [String: [String: Any]])
        XCTAssertEqual(tests.count, 2)
        var kdfs: Set<String> = []
        for (name, test) in tests.sorted(by: { $0.key < $1.key }) {
            let json = try JSONSerialization.data(withJSONObject: try XCTUnwrap(test["json"]))
            let keystore = try Keystore.parse(json: Array(json))
            switch keystore.kdf {
            case .scrypt: kdfs.insert("scrypt")
            case .pbkdf2: kdfs.insert("pbkdf2")
            }
            let password = try XCTUnwrap(test["password"] as? String)
            let key = try keystore.decrypt(password: Array(password.utf8))
            XCTAssertEqual(key.unsafeHexForExport(), "0x" + (try XCTUnwrap(test["priv"] as? String)), name)
            if case .pbkdf2 = keystore.kdf {  // (the scrypt one takes ~6 s per try in a debug build)
                XCTAssertThrowsError(try keystore.decrypt(password: Array("wrong".utf8)), name) { error in
                    XCTAssertEqual(error as? SigningError, .wrongPassword)
                }
            }
        }
        XCTAssertEqual(kdfs, ["scrypt", "pbkdf2"])
    }

    /// EIP-155's example transaction: signing data, signing hash, RFC 6979 (v, r, s) and the signed bytes.
    func testEIP155Example() throws {
        let v = try signingVector("eip155.json")
        let fields = try XCTUnwrap(v["tx"] as? [String: Any])
        let key = try PrivateKey(hex: try XCTUnwrap(v["privateKey"] as? String))
        let tx = Transaction(kind: .legacy(gasPrice: try UInt256(parsing: try XCTUnwrap(fields["gasPrice"] as? String))),
                             chainId: 1, nonce: 9, gasLimit: 21000,
                             to: try Address(try XCTUnwrap(fields["to"] as? String)),
                             value: try UInt256(parsing: try XCTUnwrap(fields["value"] as? String)), data: [])
        XCTAssertEqual(tx.signingPayload.hexString, v["signingData"] as? String)
        XCTAssertEqual(tx.signingHash.hexString, v["signingHash"] as? String)
        let signed = try key.sign(transaction: tx)
        XCTAssertEqual(signed.v, UInt256(37))
        XCTAssertEqual(signed.r, try UInt256(parsing: try XCTUnwrap(v["r"] as? String)))
        XCTAssertEqual(signed.s, try UInt256(parsing: try XCTUnwrap(v["s"] as? String)))
        XCTAssertEqual(signed.rawBytes.hexString, v["signed"] as? String)
        let decoded = try SignedTransaction.decode(try Hex.decode(try XCTUnwrap(v["signed"] as? String)))
        XCTAssertEqual(decoded, signed)
        XCTAssertEqual(try decoded.recoverSender(), key.address)
    }

    /// EIP-55 test cases: each parses and prints back exactly.
    func testEIP55Addresses() throws {
        let v = try signingVector("eip55.json")
        for text in try XCTUnwrap(v["addresses"] as? [String]) {
            let address = try Address(text)
            let hasMixedCase = text.dropFirst(2).contains(where: \.isLowercase) && text.dropFirst(2).contains(where: \.isUppercase)
            if hasMixedCase { XCTAssertEqual(address.checksummed, text) }
            XCTAssertEqual(address.lowercased, text.lowercased())
            // A single flipped letter case breaks the checksum.
            if hasMixedCase, let i = text.indices.dropFirst(2).first(where: { text[$0].isLetter }) {
                var broken = text
                let c = text[i]
                broken.replaceSubrange(i...i, with: c.isUppercase ? c.lowercased() : c.uppercased())
                XCTAssertThrowsError(try Address(broken))
            }
        }
    }

    /// secp256k1 known answers: k·G for k = 1, 2, 3 and n−1, and their addresses.
    func testSecp256k1KnownAnswers() throws {
        let v = try signingVector("secp256k1_known_answers.json")
        let vectors = try XCTUnwrap(v["vectors"] as? [[String: String]])
        XCTAssertEqual(vectors.count, 4)
        for vector in vectors {
            let key = try PrivateKey(hex: try XCTUnwrap(vector["key"]))
            XCTAssertEqual(key.publicKey.x.hexString, vector["x"])
            XCTAssertEqual(key.publicKey.y.hexString, vector["y"])
            XCTAssertEqual(key.address.checksummed, vector["address"])
            // Sign/recover/verify round trip on a fixed digest.
            let digest = Keccak256.hash(text: "known answer")
            let sig = try key.sign(digest: digest)
            XCTAssertTrue(sig.isLowS)
            XCTAssertEqual(try sig.recoverAddress(digest: digest), key.address)
            XCTAssertTrue(sig.verify(digest: digest, publicKey: key.publicKey))
            XCTAssertFalse(sig.verify(digest: Keccak256.hash(text: "other"), publicKey: key.publicKey))
            // RFC 6979: signing twice gives the same signature.
            XCTAssertEqual(try key.sign(digest: digest), sig)
        }
    }
}
