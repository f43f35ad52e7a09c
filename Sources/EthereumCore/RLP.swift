/// One RLP item: a byte string or a list of items (Ethereum Yellow Paper, Appendix B).
public indirect enum RLPItem: Equatable, Sendable {
    case bytes([UInt8])
    case list([RLPItem])

    /// A quantity as its minimal big-endian bytes (zero is the empty string).
    public static func uint(_ value: UInt256) -> RLPItem { .bytes(value.minimalBigEndianBytes) }
    /// A 64-bit quantity.
    public static func uint(_ value: UInt64) -> RLPItem { .uint(UInt256(value)) }
    /// An address as 20 bytes.
    public static func address(_ value: Address) -> RLPItem { .bytes(value.bytes) }

    /// The byte string, or an error naming `field` when this is a list.
    public func bytes(_ field: String) throws(EthereumCoreError) -> [UInt8] {
        guard case let .bytes(b) = self else { throw .invalidRLP(reason: "\(field): expected a byte string, got a list", offset: 0) }
        return b
    }

    /// The list, or an error naming `field` when this is a byte string.
    public func list(_ field: String) throws(EthereumCoreError) -> [RLPItem] {
        guard case let .list(l) = self else { throw .invalidRLP(reason: "\(field): expected a list, got a byte string", offset: 0) }
        return l
    }

    /// A canonical quantity: at most 32 bytes and no leading zero byte.
    public func uint256(_ field: String) throws(EthereumCoreError) -> UInt256 {
        let b = try bytes(field)
        guard b.count <= 32 else { throw .invalidRLP(reason: "\(field): integer longer than 32 bytes", offset: 0) }
        guard b.first != 0 else { throw .invalidRLP(reason: "\(field): integer with leading zero byte", offset: 0) }
        return try UInt256(bigEndianBytes: b)
    }

    /// A canonical quantity that fits 64 bits.
    public func uint64(_ field: String) throws(EthereumCoreError) -> UInt64 {
        guard let v = try uint256(field).uint64 else { throw .invalidRLP(reason: "\(field): integer exceeds 64 bits", offset: 0) }
        return v
    }
}

/// Recursive Length Prefix encoding and strict decoding (Yellow Paper Appendix B).
/// The decoder accepts only the canonical encoding: a single byte below 0x80 must stand alone, long forms
/// are only for payloads of 56 bytes or more, lengths have no leading zeros, and nothing may follow the item.
public enum RLP {
    /// Bounds for decoding untrusted input.
    public struct Limits: Sendable {
        /// Maximum nesting of lists.
        public var maxDepth: Int
        /// Maximum input size in bytes.
        public var maxInputBytes: Int
        /// Reasonable defaults for transactions and block data.
        public static let `default` = Limits(maxDepth: 32, maxInputBytes: 16 << 20)
        /// Custom limits.
        public init(maxDepth: Int, maxInputBytes: Int) { self.maxDepth = maxDepth; self.maxInputBytes = maxInputBytes }
    }

    /// Encodes an item.
    public static func encode(_ item: RLPItem) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedLength(item))
        append(item, to: &out)
        return out
    }

    /// The length of the encoding of `item`.
    public static func encodedLength(_ item: RLPItem) -> Int {
        switch item {
        case let .bytes(b):
            if b.count == 1 && b[0] < 0x80 { return 1 }
            return headerLength(b.count) + b.count
        case let .list(items):
            let payload = items.reduce(0) { $0 + encodedLength($1) }
            return headerLength(payload) + payload
        }
    }

    /// Appends the encoding of `item` to `out`.
    public static func append(_ item: RLPItem, to out: inout [UInt8]) {
        switch item {
        case let .bytes(b):
            if b.count == 1 && b[0] < 0x80 {
                out.append(b[0])
            } else {
                appendHeader(length: b.count, short: 0x80, to: &out)
                out.append(contentsOf: b)
            }
        case let .list(items):
            let payload = items.reduce(0) { $0 + encodedLength($1) }
            appendHeader(length: payload, short: 0xc0, to: &out)
            for i in items { append(i, to: &out) }
        }
    }

    static func headerLength(_ length: Int) -> Int {
        length < 56 ? 1 : 1 + (Int.bitWidth - length.leadingZeroBitCount + 7) / 8
    }

    static func appendHeader(length: Int, short: UInt8, to out: inout [UInt8]) {
        if length < 56 {
            out.append(short + UInt8(length))
        } else {
            let n = (Int.bitWidth - length.leadingZeroBitCount + 7) / 8
            out.append(short + 55 + UInt8(n))
            for i in stride(from: n - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: length >> (8 * i))) }
        }
    }

    /// Decodes exactly one item spanning all of `input`.
    public static func decode(_ input: [UInt8], limits: Limits = .default) throws(EthereumCoreError) -> RLPItem {
        guard input.count <= limits.maxInputBytes else {
            throw .invalidRLP(reason: "input of \(input.count) bytes exceeds the limit of \(limits.maxInputBytes)", offset: 0)
        }
        guard !input.isEmpty else { throw .invalidRLP(reason: "empty input", offset: 0) }
        var decoder = Decoder(input: input, limits: limits)
        let (item, end) = try decoder.item(at: 0, limit: input.count, depth: 0)
        guard end == input.count else {
            throw .invalidRLP(reason: "\(input.count - end) trailing bytes after the item", offset: end)
        }
        return item
    }

    struct Decoder {
        let input: [UInt8]
        let limits: Limits

        /// Decodes the item at `offset`, which must end at or before `limit`; returns it and its end.
        mutating func item(at offset: Int, limit: Int, depth: Int) throws(EthereumCoreError) -> (RLPItem, Int) {
            guard offset < limit else { throw .invalidRLP(reason: "truncated: expected an item", offset: offset) }
            let prefix = input[offset]
            switch prefix {
            case 0x00...0x7f:
                return (.bytes([prefix]), offset + 1)
            case 0x80...0xbf:
                let (start, length) = try header(at: offset, limit: limit, prefix: prefix, short: 0x80)
                if length == 1 && input[start] < 0x80 {
                    throw .invalidRLP(reason: "single byte 0x\(Hex.encode([input[start]], prefix: false)) below 0x80 must not have a length prefix", offset: offset)
                }
                return (.bytes(Array(input[start..<(start + length)])), start + length)
            default:
                guard depth < limits.maxDepth else {
                    throw .invalidRLP(reason: "lists nested deeper than \(limits.maxDepth)", offset: offset)
                }
                let (start, length) = try header(at: offset, limit: limit, prefix: prefix, short: 0xc0)
                var items: [RLPItem] = []
                var cursor = start
                let end = start + length
                while cursor < end {
                    let (child, next) = try item(at: cursor, limit: end, depth: depth + 1)
                    items.append(child)
                    cursor = next
                }
                return (.list(items), end)
            }
        }

        /// Parses a string/list header: returns the payload start and length, checked against `limit`.
        func header(at offset: Int, limit: Int, prefix: UInt8, short: UInt8) throws(EthereumCoreError) -> (Int, Int) {
            let kind = short == 0x80 ? "string" : "list"
            if prefix <= short + 55 {
                let length = Int(prefix - short)
                guard offset + 1 + length <= limit else {
                    throw .invalidRLP(reason: "truncated \(kind): needs \(length) bytes, \(limit - offset - 1) available", offset: offset)
                }
                return (offset + 1, length)
            }
            let n = Int(prefix - short - 55)
            guard offset + 1 + n <= limit else {
                throw .invalidRLP(reason: "truncated \(kind) length: needs \(n) length bytes", offset: offset)
            }
            guard input[offset + 1] != 0 else {
                throw .invalidRLP(reason: "\(kind) length with leading zero byte", offset: offset + 1)
            }
            guard n <= 8 else { throw .invalidRLP(reason: "\(kind) length of \(n) bytes is too large", offset: offset) }
            var length: UInt64 = 0
            for i in 0..<n { length = length << 8 | UInt64(input[offset + 1 + i]) }
            guard length >= 56 else {
                throw .invalidRLP(reason: "non-canonical long \(kind) form for length \(length) (< 56)", offset: offset)
            }
            let available = UInt64(limit - offset - 1 - n)
            guard length <= available else {
                throw .invalidRLP(reason: "truncated \(kind): needs \(length) bytes, \(available) available", offset: offset)
            }
            return (offset + 1 + n, Int(length))
        }
    }
}
