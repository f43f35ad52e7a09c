import EthereumCore
import EthereumSigning
import Foundation
import XCTest

final class KeystoreTests: XCTestCase {
    static let fast = Keystore.KDF.scrypt(n: 16, r: 8, p: 1)
    let key = try! PrivateKey(hex: "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d")
    let password = Array("correct horse".utf8)

    func testRoundTripBothKDFs() throws {
        for kdf in [Self.fast, .scrypt(n: 1024, r: 1, p: 3), .pbkdf2(c: 1), .pbkdf2(c: 1000)] {
            let keystore = try Keystore.encrypt(key, password: password, kdf: kdf)
            let reparsed = try Keystore.parse(json: Array(keystore.jsonText.utf8))
            XCTAssertEqual(reparsed, keystore)
            XCTAssertEqual(try reparsed.decrypt(password: password).address, key.address)
            XCTAssertFalse(keystore.jsonText.contains("7a28b5ba57"), "plaintext key in JSON")
        }
    }

    func testWrongPasswordIsReportedAsSuch() throws {
        let keystore = try Keystore.encrypt(key, password: password, kdf: Self.fast)
        XCTAssertThrowsError(try keystore.decrypt(password: Array("correct horsf".utf8))) {
            XCTAssertEqual($0 as? SigningError, .wrongPassword)
            XCTAssertTrue("\($0)".hasPrefix("wrong password"))
            XCTAssertFalse("\($0)".contains("correct horse"))
        }
    }

    func testFlippedMacOrCiphertextBytesAreRejected() throws {
        let keystore = try Keystore.encrypt(key, password: password, kdf: Self.fast)
        for i in [0, 17, 31] {
            var tampered = keystore
            tampered.ciphertext[i] ^= 0x01
            XCTAssertThrowsError(try tampered.decrypt(password: password)) { XCTAssertEqual($0 as? SigningError, .wrongPassword) }
            var mac = keystore.mac.bytes
            mac[i] ^= 0x80
            tampered = keystore
            tampered.mac = try Bytes32(mac)
            XCTAssertThrowsError(try tampered.decrypt(password: password)) { XCTAssertEqual($0 as? SigningError, .wrongPassword) }
            // Tampering through the JSON text gives the same result.
            var text = Array(keystore.jsonText.utf8)
            let macHex = Array(Hex.encode(keystore.mac.bytes, prefix: false).utf8)
            let at = try XCTUnwrap(text.firstRange(of: macHex)).lowerBound + 2 * i
            text[at] = text[at] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            XCTAssertThrowsError(try Keystore.parse(json: text).decrypt(password: password)) {
                XCTAssertEqual($0 as? SigningError, .wrongPassword)
            }
        }
    }

    func testTruncatedAndMalformedJSONIsCorruptNotWrongPassword() throws {
        let text = Array(try Keystore.encrypt(key, password: password, kdf: Self.fast).jsonText.utf8)
        for cut in [0, 1, text.count / 3, text.count / 2, text.count - 1] {
            XCTAssertThrowsError(try Keystore.parse(json: Array(text.prefix(cut))), "cut \(cut)") { error in
                guard case .corruptKeystore = error as? SigningError else { return XCTFail("cut \(cut): \(error)") }
            }
        }
        func mutate(_ body: (inout [String: Any]) -> Void) throws -> [UInt8] {
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
            body(&object)
            return Array(try JSONSerialization.data(withJSONObject: object))
        }
        func crypto(_ body: @escaping (inout [String: Any]) -> Void) throws -> [UInt8] {
            try mutate { root in
                var c = root["crypto"] as! [String: Any]
                body(&c)
                root["crypto"] = c
            }
        }
        let cases: [(String, [UInt8], String)] = [
            ("version 4", try mutate { $0["version"] = 4 }, "unsupported"),
            ("no crypto", try mutate { $0["crypto"] = nil }, "corrupt"),
            ("cipher", try crypto { $0["cipher"] = "aes-256-gcm" }, "unsupported"),
            ("kdf", try crypto { $0["kdf"] = "argon2id" }, "unsupported"),
            ("iv length", try crypto { $0["cipherparams"] = ["iv": "00"] }, "corrupt"),
            ("ciphertext hex", try crypto { $0["ciphertext"] = "zz" }, "corrupt"),
            ("mac missing", try crypto { $0["mac"] = nil }, "corrupt"),
            ("n as string", try crypto { c in var p = c["kdfparams"] as! [String: Any]; p["n"] = "16"; c["kdfparams"] = p }, "corrupt"),
        ]
        for (name, json, kind) in cases {
            XCTAssertThrowsError(try Keystore.parse(json: json), name) { error in
                switch (error as? SigningError, kind) {
                case (.unsupportedKeystore?, "unsupported"), (.corruptKeystore?, "corrupt"): break
                default: XCTFail("\(name): \(error)")
                }
            }
        }
    }

    func testAbsurdKDFParametersAreRefusedBeforeAllocating() throws {
        let keystore = try Keystore.encrypt(key, password: password, kdf: Self.fast)
        let absurd: [Keystore.KDF] = [
            .scrypt(n: 1 << 40, r: 8, p: 1),        // 128 TiB
            .scrypt(n: 1 << 22, r: 8, p: 1),        // 4 GiB
            .scrypt(n: 1 << 20, r: 8, p: 1000),     // memory fine, work absurd
            .scrypt(n: 2, r: 1, p: 1 << 23),        // tiny table, but 1 GiB of p blocks
            .scrypt(n: 1000, r: 8, p: 1),           // not a power of two
            .scrypt(n: 16, r: 0, p: 1),
            .scrypt(n: 16, r: Int.max, p: Int.max), // overflow
            .pbkdf2(c: 1_000_000_000_000),
            .pbkdf2(c: 0),
        ]
        for kdf in absurd {
            var k = keystore
            k.kdf = kdf
            let start = Date()
            XCTAssertThrowsError(try k.decrypt(password: password), "\(kdf)") { error in
                guard case .kdfParametersRejected = error as? SigningError else { return XCTFail("\(kdf): \(error)") }
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 0.5, "\(kdf) was not refused up front")
        }
        var k = keystore
        k.dklen = 16
        XCTAssertThrowsError(try k.decrypt(password: password))
        k.dklen = 1 << 30
        XCTAssertThrowsError(try k.decrypt(password: password))
    }

    func testAddressFieldThatLiesIsRejected() throws {
        var keystore = try Keystore.encrypt(key, password: password, kdf: Self.fast)
        let other = try Address("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
        keystore.address = other
        XCTAssertThrowsError(try keystore.decrypt(password: password)) {
            XCTAssertEqual($0 as? SigningError, .addressMismatch(file: other, derived: self.key.address))
        }
        keystore.address = nil  // no address field: accepted (Foundry keystores omit it)
        XCTAssertEqual(try keystore.decrypt(password: password).address, key.address)
    }

    /// Web3 Secret Storage v3 does not authenticate the IV: a changed iv passes the MAC and decrypts to another
    /// key. The `address` field (always written by us and geth) is what refuses it.
    func testTamperedIVIsCaughtByTheAddressField() throws {
        var keystore = try Keystore.encrypt(key, password: password, kdf: Self.fast)
        keystore.iv[15] ^= 1
        XCTAssertThrowsError(try keystore.decrypt(password: password)) { error in
            guard case .addressMismatch = error as? SigningError else { return XCTFail("\(error)") }
        }
        keystore.address = nil
        XCTAssertNotEqual(try keystore.decrypt(password: password).address, key.address, "format limitation no longer holds?")
    }

    func testFilesAreWrittenAtomicallyWithPrivateModes() throws {
        let parent = try makeTemporaryDirectory("files")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let dir = parent + "/keystore"
        try KeystoreFile.prepareDirectory(dir)
        XCTAssertEqual(try fileMode(dir), 0o700)
        let keystore = try Keystore.encrypt(key, password: password, kdf: Self.fast)
        let name = KeystoreFile.fileName(for: key.address)
        XCTAssertTrue(name.hasPrefix("UTC--") && name.hasSuffix("--" + Hex.encode(key.address.bytes, prefix: false)), name)
        var verified = 0
        let path = try KeystoreFile.writeNew(keystore.jsonText, directory: dir, fileName: name) { tmp throws(SigningError) in
            XCTAssertEqual(try? fileMode(tmp), 0o600)
            _ = try KeystoreFile.read(path: tmp).decrypt(password: self.password)
            verified += 1
        }
        XCTAssertEqual(verified, 1)
        XCTAssertEqual(try fileMode(path), 0o600)
        XCTAssertEqual(try KeystoreFile.read(path: path), keystore)
        // Never overwrites an existing keystore.
        XCTAssertThrowsError(try KeystoreFile.writeNew(keystore.jsonText, directory: dir, fileName: name) { _ throws(SigningError) in })
        // A failed verification leaves nothing behind and the original untouched.
        XCTAssertThrowsError(try KeystoreFile.replace(path: path, with: "{}") { tmp throws(SigningError) in
            _ = try KeystoreFile.read(path: tmp)
        })
        XCTAssertEqual(try KeystoreFile.read(path: path), keystore)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [name])
        let listed = try KeystoreFile.list(directory: dir)
        XCTAssertEqual(listed.map(\.address), [key.address])
        XCTAssertEqual(listed.map(\.path), [path])
        // A directory others can read is refused.
        let loose = parent + "/loose"
        try FileManager.default.createDirectory(atPath: loose, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        XCTAssertThrowsError(try KeystoreFile.prepareDirectory(loose))
    }
}
