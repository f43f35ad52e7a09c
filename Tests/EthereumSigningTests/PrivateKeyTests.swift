import EthereumCore
@testable import EthereumSigning
import XCTest

final class PrivateKeyTests: XCTestCase {
    static let n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

    func testRefusesZeroAndValuesAtOrAboveTheCurveOrder() {
        let nPlusOne = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142"
        for text in [String(repeating: "0", count: 64), Self.n, nPlusOne, String(repeating: "f", count: 64)] {
            XCTAssertThrowsError(try PrivateKey(hex: text), text) { error in
                guard case .invalidPrivateKey(let reason) = error as? SigningError else { return XCTFail("\(error)") }
                XCTAssertFalse(reason.contains(text), "the error must not echo the key")
            }
        }
        XCTAssertNoThrow(try PrivateKey(hex: "0x" + Self.n.dropLast() + "0"))  // n - 1
        XCTAssertThrowsError(try PrivateKey(bytes: [UInt8](repeating: 1, count: 31)))
        XCTAssertThrowsError(try PrivateKey(bytes: [UInt8](repeating: 1, count: 33)))
        XCTAssertThrowsError(try PrivateKey(hex: "0x" + String(repeating: "g", count: 64))) { error in
            XCTAssertFalse("\(error)".contains("gggg"))
        }
    }

    func testNeverPrintsItself() throws {
        let hex = "4646464646464646464646464646464646464646464646464646464646464646"
        let key = try PrivateKey(hex: hex)
        var dumped = ""
        dump(key, to: &dumped)
        for text in [key.description, key.debugDescription, "\(key)", String(reflecting: key), dumped, "\([key])"] {
            XCTAssertFalse(text.lowercased().contains("4646464646"), text)
            XCTAssertTrue(text.contains(key.address.checksummed), text)
        }
        XCTAssertEqual(key.unsafeHexForExport(), "0x" + hex)
    }

    /// PrivateKey's deinit, the keystore code and the CLI clear secrets with these helpers.
    /// (Reading a released key's memory afterwards would be undefined behaviour, so the deinit itself is not observed.)
    func testZeroizeHelpersClearMemory() throws {
        var buffer = [UInt8](repeating: 0xAB, count: 32)
        zeroize(&buffer)
        XCTAssertEqual(buffer, [UInt8](repeating: 0, count: 32))
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0x5A)
        zeroize(raw)
        XCTAssertTrue(raw.allSatisfy { $0 == 0 })
    }

    func testGeneratedKeysAreDistinctAndSign() throws {
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        XCTAssertNotEqual(a.address, b.address)
        let digest = Keccak256.hash(text: "x")
        XCTAssertEqual(try a.sign(digest: digest).recoverAddress(digest: digest), a.address)
    }

    func testSignatureParsingAndRanges() throws {
        let key = try PrivateKey(hex: String(repeating: "46", count: 32))
        let digest = Keccak256.hash(text: "parse")
        let sig = try key.sign(digest: digest)
        XCTAssertEqual(try Signature(bytes: sig.bytes), sig)
        XCTAssertEqual(try Signature(bytes: sig.ethereumBytes), sig)
        XCTAssertEqual(sig.ethereumBytes[64], 27 + sig.recoveryId)
        var badV = sig.bytes
        badV[64] = 2
        XCTAssertThrowsError(try Signature(bytes: badV))
        XCTAssertThrowsError(try Signature(bytes: Array(sig.bytes.dropLast())))
        XCTAssertThrowsError(try Signature(r: .zero, s: sig.s, recoveryId: 0))
        XCTAssertThrowsError(try Signature(r: sig.r, s: try Bytes32(hex: "0x" + Self.n), recoveryId: 0))
        // The wrong recovery id recovers a different address (or none), never the signer.
        let flipped = try Signature(r: sig.r, s: sig.s, recoveryId: 1 - sig.recoveryId)
        XCTAssertNotEqual(try? flipped.recoverAddress(digest: digest), key.address)
        // A high-s twin verifies in raw ECDSA terms but is refused (EIP-2 / libsecp256k1 low-s rule).
        let highS = (SignedTransaction.curveOrder - UInt256(word: sig.s)).word
        let twin = try Signature(r: sig.r, s: highS, recoveryId: 1 - sig.recoveryId)
        XCTAssertFalse(twin.isLowS)
        XCTAssertFalse(twin.verify(digest: digest, publicKey: key.publicKey))
    }

    func testPersonalMessageDigest() throws {
        // EIP-191 version 0x45: keccak256("\x19Ethereum Signed Message:\n" + len + message).
        let message = Array("hello".utf8)
        XCTAssertEqual(PersonalMessage.digest(message), Keccak256.hash(Array("\u{19}Ethereum Signed Message:\n5hello".utf8)))
        let key = try PrivateKey(hex: String(repeating: "46", count: 32))
        let sig = try key.sign(personalMessage: message)
        XCTAssertEqual(try PersonalMessage.recoverSigner(of: message, signature: sig), key.address)
        XCTAssertNotEqual(try PersonalMessage.recoverSigner(of: Array("hellp".utf8), signature: sig), key.address)
    }
}
