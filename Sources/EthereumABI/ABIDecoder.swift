import EthereumCore

/// The ABI decoder (Solidity ABI spec, "Formal Specification of the Encoding"), for hostile input.
/// Every offset and length is bounds-checked before use, nesting is limited, values must fit their types
/// (no dirty high bytes, bools 0/1, proper sign extension, zero padding), and only the canonical layout is
/// accepted: each offset must point exactly where the canonical encoder puts that tail (no loops, aliasing
/// or gaps) and no bytes may follow the data. Errors carry the byte offset of the offending word.
public enum ABIDecoder {
    /// Bounds for decoding untrusted input.
    public struct Limits: Sendable {
        /// Deepest nesting of arrays and tuples (the parser already caps types at `ABIType.maxDepth`).
        public var maxDepth: Int
        /// Largest input accepted, in bytes.
        public var maxInputBytes: Int
        /// Accept bytes after the encoded values (some calldata carries appended data); off by default.
        public var allowTrailingBytes: Bool
        /// Depth 32, 16 MiB, no trailing bytes.
        public static let `default` = Limits(maxDepth: 32, maxInputBytes: 16 << 20, allowTrailingBytes: false)
        /// Limits from their parts.
        public init(maxDepth: Int, maxInputBytes: Int, allowTrailingBytes: Bool = false) {
            self.maxDepth = maxDepth; self.maxInputBytes = maxInputBytes; self.allowTrailingBytes = allowTrailingBytes
        }
    }

    /// Decodes `data` as the tuple of `types` (the values of `enc((v1,…,vn))`).
    public static func decode(_ types: [ABIType], from data: [UInt8], limits: Limits = .default) throws(ABIError) -> [ABIValue] {
        try decode(ABINode.compile(types), from: data, limits: limits)
    }

    /// Decodes `data[start...]` for compiled types; error offsets count from the start of `data`.
    static func decode(_ nodes: [ABINode], from data: [UInt8], reportingOffsetsFrom start: Int = 0,
                       limits: Limits = .default) throws(ABIError) -> [ABIValue] {
        guard data.count - start <= limits.maxInputBytes else {
            throw .limitExceeded(what: "input of \(data.count - start) bytes", limit: limits.maxInputBytes, offset: start)
        }
        let result = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Result<[ABIValue], ABIError> in
            do throws(ABIError) {
                let reader = Reader(buffer: UnsafeRawBufferPointer(rebasing: raw[start...]), report: start, limits: limits)
                let (values, end) = try reader.tuple(nodes, at: 0, depth: 1)
                if end != reader.count && !limits.allowTrailingBytes {
                    throw .trailingBytes(offset: start + end, count: reader.count - end)
                }
                return .success(values)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Reads one encoding. Positions are indices into `buffer`; `report` is added to every offset in errors.
    struct Reader {
        let buffer: UnsafeRawBufferPointer
        let report: Int
        let limits: Limits
        var count: Int { buffer.count }

        init(buffer: UnsafeRawBufferPointer, report: Int, limits: Limits) {
            self.buffer = buffer; self.report = report; self.limits = limits
        }

        @inline(__always) func word(_ node: ABINode, at p: Int) throws(ABIError) -> Bytes32 {
            guard p <= count - 32 else { throw .truncated(type: node.type.canonical, offset: report + p, needed: 32, available: max(0, count - p)) }
            return Bytes32(loadingFrom: buffer, at: p)
        }

        /// A length or offset word as an `Int`, or nil when it does not fit in 63 bits.
        @inline(__always) static func smallInt(_ w: Bytes32) -> Int? {
            (w.w0 | w.w1 | w.w2) == 0 && w.w3 <= UInt64(Int.max) ? Int(w.w3) : nil
        }

        /// Checks and converts one elementary word (bounds already checked).
        @inline(__always) func elementary(_ node: ABINode, _ w: Bytes32, at p: Int) throws(ABIError) -> ABIValue {
            try Reader.elementary(node.kind, w, offset: report + p, type: node.type)
        }

        /// Checks and converts one elementary word; `offset` is the position reported in errors.
        @inline(__always)
        static func elementary(_ kind: ABINode.Kind, _ w: Bytes32, offset p: Int, type: @autoclosure () -> ABIType) throws(ABIError) -> ABIValue {
            switch kind {
            case let .uint(bits):
                let v = UInt256(word: w)
                guard bits == 256 || (v >> bits).isZero else {
                    throw .invalidValue(type: type().canonical, offset: p, reason: "value \(v.hexString) has non-zero bits above bit \(bits)")
                }
                return .uint(v)
            case let .int(bits):
                let v = Int256(bitPattern: UInt256(word: w))
                guard ABICodecSupport.fitsSigned(v, bits: bits) else {
                    throw .invalidValue(type: type().canonical, offset: p, reason: "word \(w.hexString) is not a sign-extended \(bits)-bit value")
                }
                return .int(v)
            case .address:
                guard w.w0 == 0 && w.w1 >> 32 == 0 else {
                    throw .invalidValue(type: "address", offset: p, reason: "non-zero high 12 bytes")
                }
                return .address(Address(lowBytesOf: w))
            case .bool:
                guard (w.w0 | w.w1 | w.w2) == 0 && w.w3 <= 1 else {
                    throw .invalidValue(type: "bool", offset: p, reason: "word \(w.hexString) is neither 0 nor 1")
                }
                return .bool(w.w3 == 1)
            case let .fixedBytes(n):
                if n < 32 {
                    let bits = (32 - n) * 8
                    guard (UInt256(word: w) & (UInt256.max >> (256 - bits))).isZero else {
                        throw .dirtyPadding(type: type().canonical, offset: p)
                    }
                }
                return .fixedBytes(w, count: n)
            default:
                throw .invalidType(text: type().canonical, reason: "not an elementary type", offset: 0)
            }
        }

        /// Decodes a value of `node`'s type whose encoding starts at `p` (in place for static types, the
        /// tail for dynamic ones). Returns the value and the end of its encoding.
        func value(_ node: ABINode, at p: Int, depth: Int) throws(ABIError) -> (ABIValue, Int) {
            switch node.kind {
            case .uint, .int, .address, .bool, .fixedBytes:
                return (try elementary(node, try word(node, at: p), at: p), p + 32)
            case .bytes, .string:
                let lw = try word(node, at: p)
                let available = count - p - 32
                guard let n = Reader.smallInt(lw), n <= available else {
                    throw .invalidLength(type: node.type.canonical, offset: report + p, length: UInt256(word: lw).description,
                                         reason: "exceeds the \(available) bytes that follow")
                }
                let padded = (n + 31) & ~31
                guard padded <= available else {
                    throw .truncated(type: node.type.canonical, offset: report + p + 32, needed: padded, available: available)
                }
                let content = UnsafeRawBufferPointer(rebasing: buffer[(p + 32)..<(p + 32 + n)])
                for i in (p + 32 + n)..<(p + 32 + padded) where buffer[i] != 0 {
                    throw .dirtyPadding(type: node.type.canonical, offset: report + i)
                }
                if case .string = node.kind {
                    guard let s = String(validating: content, as: UTF8.self) else { throw .invalidUTF8(offset: report + p + 32) }
                    return (.string(s), p + 32 + padded)
                }
                return (.bytes([UInt8](content)), p + 32 + padded)
            case let .fixedArray(n):
                try checkDepth(depth, at: p)
                let (list, end) = try sequence(of: node.element!, count: n, at: p, depth: depth + 1, array: node)
                return (.array(list), end)
            case .array:
                try checkDepth(depth, at: p)
                let lw = try word(node, at: p)
                let available = count - p - 32
                guard let n = Reader.smallInt(lw), n <= available / node.element!.headSize else {
                    throw .invalidLength(type: node.type.canonical, offset: report + p, length: UInt256(word: lw).description,
                                         reason: "elements cannot fit in the \(available) bytes that follow")
                }
                let (list, end) = try sequence(of: node.element!, count: n, at: p + 32, depth: depth + 1, array: node)
                return (.array(list), end)
            case .tuple:
                try checkDepth(depth, at: p)
                let (values, end) = try tuple(node.components, at: p, depth: depth + 1)
                return (.tuple(ABIList(values)), end)
            }
        }

        @inline(__always) func checkDepth(_ depth: Int, at p: Int) throws(ABIError) {
            guard depth <= limits.maxDepth else { throw .limitExceeded(what: "nesting depth", limit: limits.maxDepth, offset: report + p) }
        }

        /// Follows the offset word of a dynamic value at head position `h` of a block starting at `block`;
        /// it must equal `expected` (relative to the block). Returns the absolute tail position.
        @inline(__always) func tail(_ node: ABINode, head h: Int, block: Int, expected: Int) throws(ABIError) -> Int {
            let ow = try word(node, at: h)
            guard let o = Reader.smallInt(ow), o == expected else {
                throw .nonCanonicalOffset(type: node.type.canonical, offset: report + h, found: UInt256(word: ow).description, expected: expected)
            }
            return block + o
        }

        /// The head/tail block of a tuple starting at `p`.
        func tuple(_ nodes: [ABINode], at p: Int, depth: Int) throws(ABIError) -> ([ABIValue], Int) {
            var head = 0
            for n in nodes { head += n.headSize }
            var values: [ABIValue] = []
            values.reserveCapacity(nodes.count)
            var h = p
            var expected = head
            for n in nodes {
                if n.isDynamic {
                    let start = try tail(n, head: h, block: p, expected: expected)
                    let (v, end) = try value(n, at: start, depth: depth)
                    values.append(v)
                    expected = end - p
                    h += 32
                } else {
                    let (v, end) = try value(n, at: h, depth: depth)
                    values.append(v)
                    h = end
                }
            }
            return (values, p + expected)
        }

        /// `n` elements of `element` laid out as a block starting at `p` (the body of `T[k]`, or of `T[]`
        /// after its length).
        func sequence(of element: ABINode, count n: Int, at p: Int, depth: Int, array: ABINode) throws(ABIError) -> (ABIList, Int) {
            if element.isDynamic {
                var values: [ABIValue] = []
                values.reserveCapacity(n)
                var expected = 32 * n
                for i in 0..<n {
                    let start = try tail(element, head: p + 32 * i, block: p, expected: expected)
                    let (v, end) = try value(element, at: start, depth: depth)
                    values.append(v)
                    expected = end - p
                }
                return (ABIList(values), p + expected)
            }
            let size = element.headSize
            guard n <= (count - p) / size else {
                throw .truncated(type: array.type.canonical, offset: report + p, needed: n * size, available: max(0, count - p))
            }
            if element.isElementary {
                var values: [ABIValue] = []
                values.reserveCapacity(n)
                for i in 0..<n {
                    let q = p + 32 * i
                    values.append(try elementary(element, Bytes32(loadingFrom: buffer, at: q), at: q))
                }
                return (ABIList(values), p + 32 * n)
            }
            try checkDepth(depth + element.depth - 1, at: p)
            return (try StaticLayout(element).decode(self, count: n, at: p), p + n * size)
        }
    }
}

/// The breadth-first layout of a static container type, used to decode many elements of it into one
/// value buffer per nesting level (no heap object per element; see the module header, note 2).
struct StaticLayout {
    enum Node {
        /// An elementary value: its kind, its byte offset in the element, its index in `leafNodes`.
        case leaf(ABINode.Kind, offset: Int, node: Int)
        case container(isTuple: Bool, childStart: Int, childCount: Int)
    }
    let isTuple: Bool
    let size: Int
    /// `levels[0]` are the element's components, `levels[k+1]` the components of the containers in `levels[k]`.
    var levels: [[Node]] = []
    /// The leaves' nodes, for error messages.
    var leafNodes: [ABINode] = []

    init(_ node: ABINode) {
        isTuple = { if case .tuple = node.kind { return true } else { return false } }()
        size = node.headSize
        var current = StaticLayout.children(of: node, at: 0)
        while !current.isEmpty {
            var level: [Node] = []
            var next: [(ABINode, Int)] = []
            for (n, o) in current {
                if n.isElementary {
                    level.append(.leaf(n.kind, offset: o, node: leafNodes.count))
                    leafNodes.append(n)
                } else {
                    let kids = StaticLayout.children(of: n, at: o)
                    let isTuple: Bool = { if case .tuple = n.kind { return true } else { return false } }()
                    level.append(.container(isTuple: isTuple, childStart: next.count, childCount: kids.count))
                    next.append(contentsOf: kids)
                }
            }
            levels.append(level)
            current = next
        }
    }

    static func children(of node: ABINode, at offset: Int) -> [(ABINode, Int)] {
        switch node.kind {
        case .tuple:
            var o = offset
            return node.components.map { n in defer { o += n.headSize }; return (n, o) }
        case let .fixedArray(count):
            let e = node.element!
            return (0..<count).map { (e, offset + $0 * e.headSize) }
        default:
            return []
        }
    }

    /// Decodes `n` consecutive elements starting at `p` (bounds already checked by the caller).
    func decode(_ reader: ABIDecoder.Reader, count n: Int, at p: Int) throws(ABIError) -> ABIList {
        var below: [ABIValue] = []
        var belowWidth = 0
        for level in levels.reversed() {
            var buffer: [ABIValue] = []
            buffer.reserveCapacity(n * level.count)
            for i in 0..<n {
                let base = p + i * size
                for node in level {
                    switch node {
                    case let .leaf(kind, o, index):
                        buffer.append(try ABIDecoder.Reader.elementary(kind, Bytes32(loadingFrom: reader.buffer, at: base + o),
                                                                       offset: reader.report + base + o, type: leafNodes[index].type))
                    case let .container(isTuple, start, count):
                        let list = ABIList(storage: below, base: i * belowWidth + start, count: count)
                        buffer.append(isTuple ? .tuple(list) : .array(list))
                    }
                }
            }
            below = buffer
            belowWidth = level.count
        }
        var out: [ABIValue] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let list = ABIList(storage: below, base: i * belowWidth, count: belowWidth)
            out.append(isTuple ? .tuple(list) : .array(list))
        }
        return ABIList(out)
    }
}
