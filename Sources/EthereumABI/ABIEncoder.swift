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
        try encode(values, nodes: ABINode.compile(types))
    }

    /// `encode` for compiled types, after an optional prefix (a selector).
    static func encode(_ values: [ABIValue], nodes: [ABINode], prefix: [UInt8] = []) throws(ABIError) -> [UInt8] {
        guard values.count == nodes.count else {
            throw .valueMismatch(path: "", type: ABIType.tuple(nodes.map(\.type)).canonical, reason: "expected \(nodes.count) values, got \(values.count)")
        }
        var size = 0
        for i in 0..<nodes.count {
            size += try ABIError.at(i) { () throws(ABIError) in try encodedSize(values[i], nodes[i], inHead: true) }
        }
        var out = [UInt8](repeating: 0, count: prefix.count + size)
        let written = out.withUnsafeMutableBytes { raw -> Result<Int, ABIError> in
            for (i, b) in prefix.enumerated() { raw[i] = b }
            let writer = Writer(base: raw.baseAddress! + prefix.count)
            do throws(ABIError) {
                return .success(try writer.writeTuple(values, nodes, at: 0))
            } catch {
                return .failure(error)
            }
        }
        _ = try written.get()
        return out
    }

    /// The bytes `value` adds to the encoding (head + tail when `inHead`). Dynamic values are checked
    /// here (kinds, counts); static values are checked by the writer as it stores them.
    static func encodedSize(_ value: ABIValue, _ node: ABINode, inHead: Bool) throws(ABIError) -> Int {
        if !node.isDynamic { return node.headSize }
        func mismatch(_ reason: String) -> ABIError { .valueMismatch(path: "", type: node.type.canonical, reason: reason) }
        switch node.kind {
        case .bytes:
            guard case let .bytes(b) = value else { throw mismatch("got \(value.kindName)") }
            return (inHead ? 64 : 32) + (b.count + 31) / 32 * 32
        case .string:
            guard case let .string(s) = value else { throw mismatch("got \(value.kindName)") }
            return (inHead ? 64 : 32) + (s.utf8.count + 31) / 32 * 32
        case let .fixedArray(n):
            guard case let .array(items) = value else { throw mismatch("got \(value.kindName)") }
            guard items.count == n else { throw mismatch("expected \(n) elements, got \(items.count)") }
            return (try sequenceSize(items, node.element!)) + (inHead ? 32 : 0)
        case .array:
            guard case let .array(items) = value else { throw mismatch("got \(value.kindName)") }
            return (inHead ? 64 : 32) + (try sequenceSize(items, node.element!))
        case .tuple:
            guard case let .tuple(items) = value else { throw mismatch("got \(value.kindName)") }
            let ts = node.components
            guard items.count == ts.count else { throw mismatch("expected \(ts.count) components, got \(items.count)") }
            var size = 0
            for i in 0..<ts.count {
                size += try ABIError.at(i) { () throws(ABIError) in try encodedSize(items[i], ts[i], inHead: true) }
            }
            return size + (inHead ? 32 : 0)
        default:
            return 32
        }
    }

    /// The size of the items of an array (heads and tails).
    static func sequenceSize(_ items: ABIList, _ element: ABINode) throws(ABIError) -> Int {
        if !element.isDynamic { return element.headSize * items.count }
        var size = 0
        for i in 0..<items.count {
            size += try ABIError.at(i) { () throws(ABIError) in try encodedSize(items[i], element, inHead: true) }
        }
        return size
    }

    /// Writes into a buffer of exactly the computed size. Dynamic values were checked by `encodedSize`;
    /// static values are checked here, leaf by leaf, as they are stored.
    struct Writer {
        let base: UnsafeMutableRawPointer

        @inline(__always) func word(_ w: Bytes32, at offset: Int) { w.store(to: base + offset) }
        @inline(__always) func int(_ v: Int, at offset: Int) { word(UInt256(UInt64(v)).word, at: offset) }

        /// Checks and stores a value of a static type at `offset` (it occupies `node.headSize` bytes).
        func writeStatic(_ value: ABIValue, _ node: ABINode, at offset: Int) throws(ABIError) {
            func mismatch(_ reason: String) -> ABIError { .valueMismatch(path: "", type: node.type.canonical, reason: reason) }
            switch node.kind {
            case let .uint(bits):
                guard case let .uint(v) = value else { throw mismatch("got \(value.kindName)") }
                guard bits == 256 || v.bitWidthUsed <= bits else { throw mismatch("\(v) does not fit in \(bits) bits") }
                word(v.word, at: offset)
            case let .int(bits):
                guard case let .int(v) = value else { throw mismatch("got \(value.kindName)") }
                guard ABICodecSupport.fitsSigned(v, bits: bits) else { throw mismatch("\(v) does not fit in int\(bits)") }
                word(v.bitPattern.word, at: offset)
            case .address:
                guard case let .address(a) = value else { throw mismatch("got \(value.kindName)") }
                word(a.word, at: offset)
            case .bool:
                guard case let .bool(b) = value else { throw mismatch("got \(value.kindName)") }
                word(b ? UInt256.one.word : .zero, at: offset)
            case let .fixedBytes(n):
                guard case let .fixedBytes(w, count) = value else { throw mismatch("got \(value.kindName)") }
                guard count == n else { throw mismatch("got \(count) bytes") }
                let bits = (32 - n) * 8
                guard bits == 0 || (UInt256(word: w) & (UInt256.max >> (256 - bits))).isZero else {
                    throw mismatch("bytes beyond the first \(n) are not zero")
                }
                word(w, at: offset)
            case let .fixedArray(n):
                guard case let .array(items) = value else { throw mismatch("got \(value.kindName)") }
                guard items.count == n else { throw mismatch("expected \(n) elements, got \(items.count)") }
                let e = node.element!
                for i in 0..<n {
                    try ABIError.at(i) { () throws(ABIError) in try writeStatic(items[i], e, at: offset + i * e.headSize) }
                }
            case .tuple:
                guard case let .tuple(items) = value else { throw mismatch("got \(value.kindName)") }
                let ts = node.components
                guard items.count == ts.count else { throw mismatch("expected \(ts.count) components, got \(items.count)") }
                if let kinds = node.elementaryComponents, try writeElementaryTuple(items, kinds, at: offset) { return }
                var o = offset
                for i in 0..<ts.count {
                    let t = ts[i]
                    try ABIError.at(i) { () throws(ABIError) in try writeStatic(items[i], t, at: o) }
                    o += t.headSize
                }
            case .bytes, .string, .array:
                throw mismatch("not a static type")
            }
        }

        /// The fast path for a tuple of elementary values: stores each word when it fits its kind and
        /// returns true; returns false (having written nothing useful) when any component does not fit, so
        /// the caller re-runs the checked path, which reports the exact error.
        @inline(__always)
        func writeElementaryTuple(_ items: ABIList, _ kinds: [ABINode.Kind], at offset: Int) throws(ABIError) -> Bool {
            items.storage.withUnsafeBufferPointer { buf in
                kinds.withUnsafeBufferPointer { ks in
                    var o = offset
                    for i in 0..<ks.count {
                        switch (ks[i], buf[items.base + i]) {
                        case let (.uint(bits), .uint(v)):
                            guard bits == 256 || v.bitWidthUsed <= bits else { return false }
                            word(v.word, at: o)
                        case let (.int(bits), .int(v)):
                            guard ABICodecSupport.fitsSigned(v, bits: bits) else { return false }
                            word(v.bitPattern.word, at: o)
                        case let (.address, .address(a)):
                            word(a.word, at: o)
                        case let (.bool, .bool(b)):
                            word(b ? UInt256.one.word : .zero, at: o)
                        case let (.fixedBytes(n), .fixedBytes(w, count)):
                            let bits = (32 - n) * 8
                            guard count == n, bits == 0 || (UInt256(word: w) & (UInt256.max >> (256 - bits))).isZero else { return false }
                            word(w, at: o)
                        default:
                            return false
                        }
                        o += 32
                    }
                    return true
                }
            }
        }

        /// Writes a static value in place, or a dynamic value's tail, at `offset`; returns the bytes written.
        func write(_ value: ABIValue, _ node: ABINode, at offset: Int) throws(ABIError) -> Int {
            if !node.isDynamic {
                try writeStatic(value, node, at: offset)
                return node.headSize
            }
            switch value {
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
                if case .array = node.kind {
                    int(items.count, at: offset)
                    return 32 + (try writeSequence(items, node.element!, at: offset + 32))
                }
                return try writeSequence(items, node.element!, at: offset)
            case let .tuple(items):
                return try writeTuple(items, node.components, at: offset)
            default:
                return 0  // unreachable: encodedSize checked the kind of every dynamic value
            }
        }

        /// Head/tail encoding of items that all have `element`'s type.
        func writeSequence(_ items: ABIList, _ element: ABINode, at offset: Int) throws(ABIError) -> Int {
            if !element.isDynamic {
                let size = element.headSize
                for i in 0..<items.count {
                    try ABIError.at(i) { () throws(ABIError) in try writeStatic(items[i], element, at: offset + i * size) }
                }
                return size * items.count
            }
            var tail = 32 * items.count
            for i in 0..<items.count {
                int(tail, at: offset + 32 * i)
                tail += try ABIError.at(i) { () throws(ABIError) in try write(items[i], element, at: offset + tail) }
            }
            return tail
        }

        /// Head/tail encoding of a tuple.
        func writeTuple<C: RandomAccessCollection<ABIValue>>(_ items: C, _ nodes: [ABINode], at offset: Int) throws(ABIError) -> Int where C.Index == Int {
            var head = 0
            for n in nodes { head += n.headSize }
            var tail = head
            var h = 0
            for i in 0..<nodes.count {
                let n = nodes[i]
                let item = items[items.startIndex + i]
                if n.isDynamic {
                    int(tail, at: offset + h)
                    tail += try ABIError.at(i) { () throws(ABIError) in try write(item, n, at: offset + tail) }
                    h += 32
                } else {
                    try ABIError.at(i) { () throws(ABIError) in try writeStatic(item, n, at: offset + h) }
                    h += n.headSize
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
