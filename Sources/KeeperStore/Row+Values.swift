import EthereumCore
import Foundation

// Row ↔ value mapping. Every read checks the stored shape and throws `.corrupt` naming the table and
// column instead of trapping (a foreign or damaged file must never crash the keeper).

extension Bytes32 {
    var blob: Data { withUnsafeBytes(of: self.bigEndianTuple) { Data($0) } }
    fileprivate var bigEndianTuple: (UInt64, UInt64, UInt64, UInt64) { (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian) }
}

extension Address {
    var blob: Data { Data(bytes) }
}

extension UInt256 {
    var blob: Data { word.blob }
}

struct Col {
    let row: SQLRow
    let table: String

    func value(_ column: String) -> SQLValue { row[column] }

    func u64(_ column: String) throws(StoreError) -> UInt64 {
        guard case let .integer(v) = value(column), v >= 0 else {
            throw .corrupt(table: table, column: column, reason: "expected a non-negative integer")
        }
        return UInt64(v)
    }

    func int64(_ column: String) throws(StoreError) -> Int64 {
        guard case let .integer(v) = value(column) else { throw .corrupt(table: table, column: column, reason: "expected an integer") }
        return v
    }

    func u32(_ column: String) throws(StoreError) -> UInt32 {
        let v = try u64(column)
        guard let x = UInt32(exactly: v) else { throw .corrupt(table: table, column: column, reason: "out of range for uint32") }
        return x
    }

    func u16(_ column: String) throws(StoreError) -> UInt16 {
        let v = try u64(column)
        guard let x = UInt16(exactly: v) else { throw .corrupt(table: table, column: column, reason: "out of range for uint16") }
        return x
    }

    func bool(_ column: String) throws(StoreError) -> Bool { try u64(column) != 0 }

    func optionalU64(_ column: String) throws(StoreError) -> UInt64? {
        if value(column).isNull { return nil }
        return try u64(column)
    }

    func text(_ column: String) throws(StoreError) -> String {
        guard case let .text(s) = value(column) else { throw .corrupt(table: table, column: column, reason: "expected text") }
        return s
    }

    func optionalText(_ column: String) throws(StoreError) -> String? {
        if value(column).isNull { return nil }
        return try text(column)
    }

    func blob(_ column: String, count: Int) throws(StoreError) -> Data {
        guard case let .blob(d) = value(column), d.count == count else {
            throw .corrupt(table: table, column: column, reason: "expected a \(count)-byte blob")
        }
        return d
    }

    func bytes32(_ column: String) throws(StoreError) -> Bytes32 {
        let d = try blob(column, count: 32)
        do { return try Bytes32(d) } catch { throw .corrupt(table: table, column: column, reason: "bad 32-byte value") }
    }

    func address(_ column: String) throws(StoreError) -> Address {
        let d = try blob(column, count: 20)
        do { return try Address(d) } catch { throw .corrupt(table: table, column: column, reason: "bad address") }
    }

    func optionalBytes32(_ column: String) throws(StoreError) -> Bytes32? {
        if value(column).isNull { return nil }
        return try bytes32(column)
    }

    func uint256(_ column: String) throws(StoreError) -> UInt256 { UInt256(word: try bytes32(column)) }

    func optionalUInt256(_ column: String) throws(StoreError) -> UInt256? {
        if value(column).isNull { return nil }
        return try uint256(column)
    }
}

extension Int64 {
    init(checked v: UInt64, _ what: String) throws(StoreError) {
        guard let x = Int64(exactly: v) else { throw .corrupt(table: what, column: what, reason: "value above 2^63") }
        self = x
    }
}
