import EthereumCore
import EthereumSigning
import Foundation
import XCTest

/// Cross-implementation tests against Python's eth-account, eth-keyfile and eth-keys (Tests/Support/sign_oracle.py).
/// Seeded by EXPANSION_KEEPER_SEED (printed); EXPANSION_KEEPER_SOAK=1 runs ten times as many cases.
final class DifferentialTests: XCTestCase {
    /// A random transaction of any type: with and without access lists, contract creations, large calldata.
    static func randomTransaction(_ rng: inout SeededGenerator) -> Transaction {
        func quantity() -> UInt256 {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: return .zero
            case 1: return UInt256(UInt64.random(in: 1...1_000_000, using: &rng))
            case 2: return UInt256(rng.next())
            case 3: return UInt256(l0: rng.next(), l1: rng.next(), l2: 0, l3: 0)
            default: return UInt256(l0: rng.next(), l1: rng.next(), l2: rng.next(), l3: rng.next())
            }
        }
        let chainIds: [UInt64] = [1, 8453, 31337, 84532, 131_277_322_940_537, UInt64.random(in: 1...UInt64(UInt32.max), using: &rng)]
        let creation = Int.random(in: 0..<8, using: &rng) == 0
        let to: Address? = creation ? nil : try! Address(rng.bytes(20))
        let dataLength: Int
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: dataLength = 0
        case 1: dataLength = Int.random(in: 1...60, using: &rng)
        case 2: dataLength = 4 + 32 * Int.random(in: 1...20, using: &rng)
        case 3: dataLength = 4 + 32 * (2 + 100 * 5)    // a 100-claim routing batch
        case 4: dataLength = 4 + 32 * (2 + 600 * 5)    // a 600-claim routing batch (~96 KB)
        default: dataLength = Int.random(in: 100...5000, using: &rng)
        }
        let data = rng.bytes(creation ? min(dataLength, Transaction.maxInitCodeSize) : dataLength)
        var list: [AccessListEntry] = []
        if Bool.random(using: &rng) {
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                list.append(AccessListEntry(address: try! Address(rng.bytes(20)),
                                            storageKeys: (0..<Int.random(in: 0...3, using: &rng)).map { _ in try! Bytes32(rng.bytes(32)) }))
            }
        }
        let kind: Transaction.Kind
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: kind = .legacy(gasPrice: quantity())
        case 1: kind = .accessList(gasPrice: quantity(), accessList: list)
        default:
            let a = quantity(), b = quantity()
            kind = .dynamicFee(maxPriorityFeePerGas: min(a, b), maxFeePerGas: max(a, b), accessList: list)
        }
        let nonce = Bool.random(using: &rng) ? UInt64.random(in: 0...1000, using: &rng) : UInt64.random(in: 0..<UInt64.max, using: &rng)
        return Transaction(kind: kind, chainId: chainIds[Int.random(in: 0..<chainIds.count, using: &rng)], nonce: nonce,
                           gasLimit: UInt64.random(in: 21_000...30_000_000, using: &rng), to: to, value: quantity(), data: data)
    }

    /// The transaction as eth-account's dict (quantities as hex strings; the oracle converts them).
    static func ethAccountFields(_ tx: Transaction) -> [String: Any] {
        var out: [String: Any] = ["chainId": UInt256(tx.chainId).hexString, "nonce": UInt256(tx.nonce).hexString,
                                  "gas": UInt256(tx.gasLimit).hexString, "value": tx.value.hexString, "data": tx.data.hexString]
        if let to = tx.to { out["to"] = to.checksummed }
        func list(_ entries: [AccessListEntry]) -> [[String: Any]] {
            entries.map { ["address": $0.address.checksummed, "storageKeys": $0.storageKeys.map(\.hexString)] }
        }
        switch tx.kind {
        case let .legacy(gasPrice):
            out["gasPrice"] = gasPrice.hexString
        case let .accessList(gasPrice, entries):
            out["type"] = 1; out["gasPrice"] = gasPrice.hexString; out["accessList"] = list(entries)
        case let .dynamicFee(priority, cap, entries):
            out["type"] = 2; out["maxPriorityFeePerGas"] = priority.hexString; out["maxFeePerGas"] = cap.hexString
            out["accessList"] = list(entries)
        }
        return out
    }

    func testRandomTransactionsAreByteIdenticalToEthAccount() throws {
        var rng = SeededGenerator(seed: signingSeed)
        let count = soak ? 3000 : 300
        print("DifferentialTests.transactions seed=\(signingSeed) count=\(count)")
        var requests: [[String: Any]] = []
        var ours: [(SignedTransaction, PrivateKey)] = []
        for _ in 0..<count {
            let key = try PrivateKey(bytes: rng.bytes(32))
            let tx = Self.randomTransaction(&rng)
            let signed = try key.sign(transaction: tx)
            ours.append((signed, key))
            requests.append(["op": "sign_tx", "key": key.unsafeHexForExport(),
                             "tx": Self.ethAccountFields(tx), "ours": signed.rawBytes.hexString])
        }
        let answers = try SignOracle.ask(requests)
        var types = [0, 0, 0], creations = 0, withList = 0, big = 0
        for (i, answer) in answers.enumerated() {
            let (signed, key) = ours[i]
            XCTAssertNil(answer["error"], "case \(i): \(answer["error"] ?? "")")
            let theirs = answer["raw"] as? String ?? "", mine = signed.rawBytes.hexString
            XCTAssertTrue(theirs == mine, "case \(i) (seed \(signingSeed)): raw bytes differ: ours \(mine.prefix(120))…, eth-account \(theirs.prefix(120))…")
            XCTAssertEqual(answer["hash"] as? String, signed.hash.hexString, "case \(i): hash differs")
            XCTAssertEqual(answer["ours_sender"] as? String, key.address.checksummed, "case \(i): eth-account recovers another sender")
            // Our own decoder round-trips the bytes and recovers the sender.
            let decoded = try SignedTransaction.decode(signed.rawBytes)
            XCTAssertEqual(decoded, signed, "case \(i)")
            XCTAssertEqual(try decoded.recoverSender(), key.address)
            types[Int(signed.transaction.type)] += 1
            if signed.transaction.to == nil { creations += 1 }
            if !signed.transaction.accessList.isEmpty { withList += 1 }
            if signed.transaction.data.count > 10_000 { big += 1 }
        }
        // The generator really covered what the issue asks for.
        XCTAssertTrue(types.allSatisfy { $0 > count / 5 }, "\(types)")
        XCTAssertGreaterThan(creations, count / 20)
        XCTAssertGreaterThan(withList, count / 5)
        XCTAssertGreaterThan(big, count / 20)
    }

    func testPersonalSignIsIdenticalToEthAccount() throws {
        var rng = SeededGenerator(seed: signingSeed ^ 0x191)
        print("DifferentialTests.personalSign seed=\(signingSeed)")
        var requests: [[String: Any]] = []
        var ours: [(message: [UInt8], signature: Signature, key: PrivateKey)] = []
        for i in 0..<(soak ? 500 : 60) {
            let key = try PrivateKey(bytes: rng.bytes(32))
            let message = i == 0 ? [] : rng.bytes(Int.random(in: 1...(i % 10 == 0 ? 3000 : 100), using: &rng))
            let signature = try key.sign(personalMessage: message)
            ours.append((message, signature, key))
            requests.append(["op": "personal_sign", "key": key.unsafeHexForExport(), "message": message.hexString])
            requests.append(["op": "recover_message", "message": message.hexString, "signature": signature.ethereumBytes.hexString])
        }
        let answers = try SignOracle.ask(requests)
        for (i, item) in ours.enumerated() {
            XCTAssertEqual(answers[2 * i]["signature"] as? String, item.signature.ethereumBytes.hexString, "message \(i)")
            XCTAssertEqual(answers[2 * i + 1]["address"] as? String, item.key.address.checksummed, "message \(i)")
            let theirs = try Signature(bytes: ((answers[2 * i]["signature"] as? String) ?? "").hexBytes)
            XCTAssertEqual(try PersonalMessage.recoverSigner(of: item.message, signature: theirs), item.key.address)
        }
    }

    func testKeystoresOpenInBothDirections() throws {
        var rng = SeededGenerator(seed: signingSeed ^ 0x5EC)
        print("DifferentialTests.keystores seed=\(signingSeed)")
        let passwords = ["testpassword", "", "pässwörd ✓ with spaces", String(repeating: "x", count: 200)]
        // Ours -> eth-keyfile: several scrypt (n, r, p) and pbkdf2 c.
        let ourKDFs: [Keystore.KDF] = [.scrypt(n: 2, r: 1, p: 1), .scrypt(n: 16, r: 8, p: 1), .scrypt(n: 1024, r: 8, p: 2),
                                       .scrypt(n: 256, r: 1, p: 8), .scrypt(n: 64, r: 3, p: 5), .pbkdf2(c: 1), .pbkdf2(c: 1000),
                                       .pbkdf2(c: 4096)]
        var requests: [[String: Any]] = []
        var expected: [String] = []
        for (i, kdf) in ourKDFs.enumerated() {
            let key = try PrivateKey(bytes: rng.bytes(32))
            let password = passwords[i % passwords.count]
            let keystore = try Keystore.encrypt(key, password: Array(password.utf8), kdf: kdf)
            requests.append(["op": "keystore_decrypt", "json": keystore.jsonText, "password": password])
            expected.append(key.unsafeHexForExport())
            requests.append(["op": "keystore_decrypt", "json": keystore.jsonText, "password": password + "!"])
            expected.append("error")
        }
        // eth-keyfile -> ours: its scrypt (r=1, p=8, several n) and pbkdf2 (several c).
        let theirKDFs: [(String, Int)] = [("scrypt", 2), ("scrypt", 64), ("scrypt", 1024), ("pbkdf2", 1), ("pbkdf2", 1000), ("pbkdf2", 10_000)]
        var theirKeys: [(PrivateKey, String)] = []
        for (i, (kdf, work)) in theirKDFs.enumerated() {
            let key = try PrivateKey(bytes: rng.bytes(32))
            let password = passwords[(i + 1) % passwords.count]
            theirKeys.append((key, password))
            requests.append(["op": "keystore_create", "key": key.unsafeHexForExport(), "password": password, "kdf": kdf, "work": work])
        }
        let answers = try SignOracle.ask(requests)
        for i in 0..<expected.count {
            if expected[i] == "error" {
                XCTAssertNotNil(answers[i]["error"], "eth-keyfile accepted a wrong password (case \(i))")
            } else {
                XCTAssertEqual(answers[i]["key"] as? String, expected[i], "eth-keyfile could not open our \(ourKDFs[i / 2]) keystore: \(answers[i])")
            }
        }
        for (j, (key, password)) in theirKeys.enumerated() {
            let json = try XCTUnwrap(answers[expected.count + j]["json"] as? String, "\(answers[expected.count + j])")
            let keystore = try Keystore.parse(json: Array(json.utf8))
            XCTAssertEqual(keystore.address, key.address)
            XCTAssertEqual(try keystore.decrypt(password: Array(password.utf8)).unsafeHexForExport(), key.unsafeHexForExport(),
                           "eth-keyfile \(theirKDFs[j])")
            XCTAssertThrowsError(try keystore.decrypt(password: Array((password + "?").utf8))) {
                XCTAssertEqual($0 as? SigningError, .wrongPassword)
            }
        }
    }
}
