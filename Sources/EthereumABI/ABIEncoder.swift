import EthereumCore

/// Shared range checks of the encoder and decoder.
enum ABICodecSupport {
    /// True when `v` lies in int<bits>'s range.
    @inline(__always) static func fitsSigned(_ v: Int256, bits: Int) -> Bool {
        if bits == 256 { return true }
        // The top 256 - bits + 1 bits must all equal the sign bit.
        let p = v.bitPattern
        let shifted = p >> (bits - 1)
        return v.isNegative ? shifted == (UInt256.max >> (bits - 1)) : shifted.isZero
    }
}

/// The ABI encoder (Solidity ABI spec, "Formal Specification of the Encoding"). It checks each value
/// against its type, computes the exact size first, and writes into one preallocated buffer.
public enum ABIEncoder {
    /// `enc((v1,…,vn))`: the encoding of the values as the tuple of `types`.
    public static func encode(_ values: [ABIValue], as types: [ABIType]) throws(ABIError) -> [UInt8] {
        for t in types { try t.validate() }
        return try encodeValidated(values, as: types)
    }

    /// `encode` for types already validated (an `ABIFunction`/`ABIEvent`/`ABITupleCodec` validates once).
    static func encodeValidated(_ values: [ABIValue], as types: [ABIType], prefix: [UInt8] = []) throws(ABIError) -> [UInt8] {
        guard values.count == types.count else {
            throw .valueMismatch(path: "", type: ABIType.tuple(types).canonical, reason: "expected \(types.count) values, got \(values.count)")
        }
        let list = ABIList(values)
        var size = 0
        for (i, t) in types.enumerated() {
            size += try ABIError.at(i) { () throws(ABIError) in try encodedSize(list[i], type: t, inHead: true) }
        }
        var out = [UInt8](repeating: 0, count: prefix.count + size)
        out.withUnsafeMutableBytes { raw in
            for (i, b) in prefix.enumerated() { raw[i] = b }
            let writer = Writer(base: raw.baseAddress! + prefix.count)
            _ = writer.writeTuple(list, types: types[...], at: 0)
        }
        return out
    }

    /// The bytes `value` adds to the encoding (head + tail when `inHead`), checking it fits `type`.
    static func encodedSize(_ value: ABIValue, type: ABIType, inHead: Bool) throws(ABIError) -> Int {
        func mismatch(_ reason: String) -> ABIError { .valueMismatch(path: "", type: type.canonical, reason: reason) }
        switch (type, value) {
        case let (.uint(bits), .uint(v)):
            guard v.bitWidthUsed <= bits else { throw mismatch("\(v) does not fit in \(bits) bits") }
            return 32
        case let (.int(bits), .int(v)):
            guard ABICodecSupport.fitsSigned(v, bits: bits) else { throw mismatch("\(v) does not fit in int\(bits)") }
            return 32
        case (.address, .address), (.bool, .bool):
            return 32
        case let (.fixedBytes(n), .fixedBytes(word, count)):
            guard count == n else { throw mismatch("got \(count) bytes") }
            let bits = (32 - n) * 8
            guard bits == 0 || (UInt256(word: word) & (UInt256.max >> (256 - bits))).isZero else {
                throw mismatch("bytes beyond the first \(n) are not zero")
            }
            return 32
        case let (.bytes, .bytes(b)):
            return (inHead ? 64 : 32) + (b.count + 31) / 32 * 32
        case let (.string, .string(s)):
            return (inHead ? 64 : 32) + (s.utf8.count + 31) / 32 * 32
        case let (.fixedArray(t, n), .array(items)):
            guard items.count == n else { throw mismatch("expected \(n) elements, got \(items.count)") }
            var size = 0
            for (i, v) in items.enumerated() { size += try ABIError.at(i) { () throws(ABIError) in try encodedSize(v, type: t, inHead: true) } }
            return size + (type.isDynamic && inHead ? 32 : 0)
        case let (.array(t), .array(items)):
            var size = inHead ? 64 : 32
            if t.isElementary {
                for (i, v) in items.enumerated() { _ = try ABIError.at(i) { () throws(ABIError) in try encodedSize(v, type: t, inHead: true) } }
                return size + 32 * items.count
            }
            for (i, v) in items.enumerated() { size += try ABIError.at(i) { () throws(ABIError) in try encodedSize(v, type: t, inHead: true) } }
            return size
        case let (.tuple(ts), .tuple(items)):
            guard items.count == ts.count else { throw mismatch("expected \(ts.count) components, got \(items.count)") }
            var size = 0
            for (i, t) in ts.enumerated() { size += try ABIError.at(i) { () throws(ABIError) in try encodedSize(items[i], type: t, inHead: true) } }
            return size + (type.isDynamic && inHead ? 32 : 0)
        default:
            throw mismatch("got \(value.kindName)")
        }
    }

    /// Writes into a buffer of exactly the computed size (values were checked by `encodedSize`).
    struct Writer {
        let base: UnsafeMutableRawPointer

        @inline(__always) func word(_ w: Bytes32, at offset: Int) { w.store(to: base + offset) }
        @inline(__always) func int(_ v: Int, at offset: Int) { word(UInt256(UInt64(v)).word, at: offset) }

        /// Writes a static value in place, or a dynamic value's tail, at `offset`; returns the bytes written.
        @discardableResult
        func write(_ value: ABIValue, type: ABIType, at offset: Int) -> Int {
            switch value {
            case let .uint(v): word(v.word, at: offset); return 32
            case let .int(v): word(v.bitPattern.word, at: offset); return 32
            case let .address(a): word(a.word, at: offset); return 32
            case let .bool(b): word(b ? UInt256.one.word : .zero, at: offset); return 32
            case let .fixedBytes(w, _): word(w, at: offset); return 32
            case let .bytes(b):
                int(b.count, at: offset)
                b.withUnsafeBytes { src in
                    if let p = src.baseAddress { (base + offset + 32).copyMemory(from: p, byteCount: src.count) }
                }
                return 32 + (b.count + 31) / 32 * 32
            case let .string(s):
                var s = s
                return s.withUTF8 { src in
                    int(src.count, at: offset)
                    if let p = src.baseAddress { (base + offset + 32).copyMemory(from: p, byteCount: src.count) }
                    return 32 + (src.count + 31) / 32 * 32
                }
            case let .array(items):
                switch type {
                case let .array(t):
                    int(items.count, at: offset)
                    return 32 + writeSequence(items, elementType: t, at: offset + 32)
                case let .fixedArray(t, _):
                    return writeSequence(items, elementType: t, at: offset)
                default: return 0
                }
            case let .tuple(items):
                guard case let .tuple(ts) = type else { return 0 }
                return writeTuple(items, types: ts[...], at: offset)
            }
        }

        /// Head/tail encoding of items that all have `elementType`.
        func writeSequence(_ items: ABIList, elementType t: ABIType, at offset: Int) -> Int {
            if !t.isDynamic {
                var o = offset
                for v in items { o += write(v, type: t, at: o) }
                return o - offset
            }
            var tail = 32 * items.count
            for (i, v) in items.enumerated() {
                int(tail, at: offset + 32 * i)
                tail += write(v, type: t, at: offset + tail)
            }
            return tail
        }

        /// Head/tail encoding of a tuple.
        func writeTuple(_ items: ABIList, types: ArraySlice<ABIType>, at offset: Int) -> Int {
            var head = 0
            for t in types { head += t.headSize }
            var tail = head
            var h = 0
            for (i, t) in types.enumerated() {
                if t.isDynamic {
                    int(tail, at: offset + h)
                    tail += write(items[i], type: t, at: offset + tail)
                    h += 32
                } else {
                    h += write(items[i], type: t, at: offset + h)
                }
            }
            return tail
        }
    }
}

extension ABIValue {
    /// A short name of the value's kind, for error messages.
    var kindName: String {
        switch self {
        case .uint: return "an unsigned integer"
        case .int: return "a signed integer"
        case .address: return "an address"
        case .bool: return "a bool"
        case let .fixedBytes(_, n): return "bytes\(n)"
        case .bytes: return "bytes"
        case .string: return "a string"
        case .array: return "an array"
        case .tuple: return "a tuple"
        }
    }
}
