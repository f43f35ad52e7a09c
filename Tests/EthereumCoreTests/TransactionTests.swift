import EthereumCore
import XCTest

/// Transactions as pure values: payloads, validation and strict decoding (signing is tested in EthereumSigningTests).
final class TransactionTests: XCTestCase {
    // EIP-155 "Example" (https://eips.ethereum.org/EIPS/eip-155).
    static let eip155Signed = "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"

    func eip155Transaction() throws -> Transaction {
        Transaction(kind: .legacy(gasPrice: UInt256(20_000_000_000)), chainId: 1, nonce: 9, gasLimit: 21000,
                    to: try Address("0x3535353535353535353535353535353535353535"), value: UInt256(1_000_000_000_000_000_000))
    }

    func testEIP155SigningPayloadAndDecoding() throws {
        let tx = try eip155Transaction()
        XCTAssertEqual(tx.signingPayload.hexString, "0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080")
        XCTAssertEqual(tx.signingHash.hexString, "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53")
        let decoded = try SignedTransaction.decode(try Hex.decode(Self.eip155Signed))
        XCTAssertEqual(decoded.transaction, tx)
        XCTAssertEqual(decoded.v, UInt256(37))
        XCTAssertEqual(decoded.yParity, 0)
        XCTAssertEqual(decoded.rawBytes.hexString, Self.eip155Signed)
        XCTAssertEqual(decoded.hash, Keccak256.hash(try Hex.decode(Self.eip155Signed)))
    }

    func testTypedPayloadsStartWithTheirType() throws {
        let to = try Address("0x3535353535353535353535353535353535353535")
        let list = [AccessListEntry(address: to, storageKeys: [.zero])]
        let t1 = Transaction(kind: .accessList(gasPrice: 1, accessList: list), chainId: 8453, nonce: 0, gasLimit: 50000, to: to)
        let t2 = Transaction(kind: .dynamicFee(maxPriorityFeePerGas: 1, maxFeePerGas: 2, accessList: []), chainId: 8453, nonce: 0,
                             gasLimit: 50000, to: nil, data: [0x60, 0x00])
        XCTAssertEqual(t1.signingPayload.first, 1)
        XCTAssertEqual(t2.signingPayload.first, 2)
        // type 2, empty access list, empty `to` (creation): rlp([chainId, nonce, 1, 2, gas, "", 0, data, []]).
        XCTAssertEqual(t2.signingPayload.hexString, "0x02cf822105800102" + "82c350" + "8080" + "826000" + "c0")
        XCTAssertTrue(t2.isContractCreation)
        let signed = try SignedTransaction(transaction: t1, yParity: 1, r: 5, s: 7)
        let decoded = try SignedTransaction.decode(signed.rawBytes)
        XCTAssertEqual(decoded, signed)
        XCTAssertEqual(decoded.transaction.accessList, list)
    }

    func testValidationNamesTheField() throws {
        var tx = try eip155Transaction()
        tx.chainId = 0
        XCTAssertThrowsError(try tx.validate()) { XCTAssertTrue("\($0)".contains("chainId")) }
        tx = try eip155Transaction(); tx.gasLimit = 20999
        XCTAssertThrowsError(try tx.validate()) { XCTAssertTrue("\($0)".contains("gas")) }
        tx = try eip155Transaction(); tx.nonce = .max
        XCTAssertThrowsError(try tx.validate()) { XCTAssertTrue("\($0)".contains("nonce")) }
        tx = try eip155Transaction(); tx.kind = .dynamicFee(maxPriorityFeePerGas: 3, maxFeePerGas: 2, accessList: [])
        XCTAssertThrowsError(try tx.validate()) { XCTAssertTrue("\($0)".contains("maxPriorityFeePerGas")) }
        tx = try eip155Transaction(); tx.to = nil; tx.data = [UInt8](repeating: 0, count: Transaction.maxInitCodeSize + 1)
        XCTAssertThrowsError(try tx.validate()) { XCTAssertTrue("\($0)".contains("init code")) }
        XCTAssertNoThrow(try eip155Transaction().validate())
    }

    func testSignatureRangesAreEnforced() throws {
        let tx = try eip155Transaction()
        XCTAssertThrowsError(try SignedTransaction(transaction: tx, yParity: 2, r: 1, s: 1))
        XCTAssertThrowsError(try SignedTransaction(transaction: tx, yParity: 0, r: 0, s: 1))
        XCTAssertThrowsError(try SignedTransaction(transaction: tx, yParity: 0, r: SignedTransaction.curveOrder, s: 1))
        XCTAssertThrowsError(try SignedTransaction(transaction: tx, yParity: 0, r: 1, s: SignedTransaction.halfCurveOrder + 1))
        XCTAssertNoThrow(try SignedTransaction(transaction: tx, yParity: 0, r: 1, s: SignedTransaction.halfCurveOrder))
    }

    func testDecoderRejectsMalformedInput() throws {
        let good = try Hex.decode(Self.eip155Signed)
        let items = try RLP.decode(good).list("tx")
        func legacy(_ change: (inout [RLPItem]) -> Void) -> [UInt8] {
            var copy = items
            change(&copy)
            return RLP.encode(.list(copy))
        }
        var cases: [(String, [UInt8])] = []
        cases.append(("empty", []))
        cases.append(("trailing byte", good + [0]))
        cases.append(("truncated", Array(good.dropLast())))
        cases.append(("unknown type 3", [3] + good))
        cases.append(("type 0x7f", [0x7f]))
        cases.append(("eight fields", legacy { $0.removeLast() }))
        cases.append(("ten fields", legacy { $0.append(.bytes([])) }))
        cases.append(("nonce with leading zero", legacy { $0[0] = .bytes([0, 9]) }))
        cases.append(("to of 19 bytes", legacy { $0[3] = .bytes([UInt8](repeating: 0x35, count: 19)) }))
        cases.append(("v = 29", legacy { $0[6] = .bytes([29]) }))
        cases.append(("v = 0", legacy { $0[6] = .bytes([]) }))
        cases.append(("high s", legacy { $0[8] = .uint(SignedTransaction.halfCurveOrder + UInt256.one) }))
        cases.append(("zero r", legacy { $0[7] = .bytes([]) }))
        cases.append(("nonce above 64 bits", legacy { $0[0] = .bytes([1, 0, 0, 0, 0, 0, 0, 0, 0]) }))
        cases.append(("list as data", legacy { $0[5] = .list([]) }))
        let empty = RLPItem.bytes([])
        cases.append(("type 2 with 11 fields", [2] + RLP.encode(.list(Array(repeating: empty, count: 11)))))
        let badList: [RLPItem] = [.uint(UInt64(1)), .uint(UInt64(0)), .uint(UInt64(1)), .uint(UInt64(21000)), empty, .uint(UInt64(0)), empty,
                                  .list([.list([.bytes([1])])]), .uint(UInt64(0)), .uint(UInt64(1)), .uint(UInt64(1))]
        cases.append(("type 1 bad access list", [1] + RLP.encode(.list(badList))))
        let badParity: [RLPItem] = [.uint(UInt64(1)), .uint(UInt64(0)), .uint(UInt64(1)), .uint(UInt64(2)), .uint(UInt64(21000)), empty,
                                    .uint(UInt64(0)), empty, .list([]), .uint(UInt64(2)), .uint(UInt64(1)), .uint(UInt64(1))]
        cases.append(("type 2 yParity 2", [2] + RLP.encode(.list(badParity))))
        for (name, bytes) in cases {
            XCTAssertThrowsError(try SignedTransaction.decode(bytes), name)
        }
    }

    func testPreEIP155LegacyDecodesWithChainIdZero() throws {
        let tx = Transaction(kind: .legacy(gasPrice: 1), chainId: 0, nonce: 0, gasLimit: 21000, to: nil, data: [0x00])
        let signed = try SignedTransaction(transaction: tx, yParity: 1, r: 3, s: 4)
        XCTAssertEqual(signed.v, UInt256(28))
        XCTAssertEqual(try SignedTransaction.decode(signed.rawBytes), signed)
        // Six-field payload, and signing such a transaction is refused by validation.
        XCTAssertEqual(try RLP.decode(tx.signingPayload).list("p").count, 6)
        XCTAssertThrowsError(try tx.validate())
    }
}
