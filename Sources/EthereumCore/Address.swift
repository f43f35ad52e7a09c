/// A 20-byte Ethereum account address, held inline; prints with its EIP-55 checksum.
public struct Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0..<8, 8..<16 and 16..<20, big-endian.
    public let hi: UInt64, mid: UInt64, lo: UInt32

    /// The zero address.
    public static let zero = Address(hi: 0, mid: 0, lo: 0)

    @inlinable init(hi: UInt64, mid: UInt64, lo: UInt32) {
        self.hi = hi; self.mid = mid; self.lo = lo
    }

    /// From exactly 20 bytes.
    public init<C: Collection>(_ bytes: C) throws(EthereumCoreError) where C.Element == UInt8 {
        guard bytes.count == 20 else { throw .invalidLength(what: "address", expected: 20, actual: bytes.count) }
        var h: UInt64 = 0, m: UInt64 = 0, l: UInt32 = 0
        var i = 0
        for b in bytes {
            if i < 8 { h = h << 8 | UInt64(b) } else if i < 16 { m = m << 8 | UInt64(b) } else { l = l << 8 | UInt32(b) }
            i += 1
        }
        self.init(hi: h, mid: m, lo: l)
    }

    /// The low 20 bytes of a 32-byte word (the caller checks the high 12 bytes where that matters).
    @inlinable public init(lowBytesOf word: Bytes32) {
        self.init(hi: word.w1 << 32 | word.w2 >> 32, mid: word.w2 << 32 | word.w3 >> 32, lo: UInt32(truncatingIfNeeded: word.w3))
    }

    /// Parses `0x` + 40 hex digits. All-lowercase and all-uppercase are accepted as unchecksummed;
    /// mixed case must carry a correct EIP-55 checksum.
    public init(_ text: String) throws(EthereumCoreError) {
        let bytes = try Hex.decode(text)
        try self.init(bytes)
        let digits = text.utf8.dropFirst(2)
        let hasLower = digits.contains { (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
        let hasUpper = digits.contains { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) }
        if hasLower && hasUpper {
            let expected = checksummed
            guard Substring(text).dropFirst(2) == Substring(expected).dropFirst(2) else {
                throw .badChecksum(given: EthereumCoreError.clip(text), expected: expected)
            }
        }
    }

    /// The 32-byte ABI word of this address (12 zero bytes, then the address).
    @inlinable public var word: Bytes32 {
        Bytes32(w0: 0, w1: hi >> 32, w2: hi << 32 | mid >> 32, w3: mid << 32 | UInt64(lo))
    }

    /// The 20 bytes.
    public var bytes: [UInt8] { Array(word.bytes[12...]) }

    /// EIP-55 mixed-case checksum encoding (https://eips.ethereum.org/EIPS/eip-55).
    public var checksummed: String {
        let lower = Array(Hex.encode(bytes, prefix: false).utf8)
        let hash = Keccak256.hash(lower)
        var out: [UInt8] = Array("0x".utf8)
        out.reserveCapacity(42)
        for (i, c) in lower.enumerated() {
            let nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f
            out.append(c >= UInt8(ascii: "a") && nibble >= 8 ? c - 32 : c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercase `0x` hex.
    public var lowercased: String { Hex.encode(bytes) }

    /// The EIP-55 checksummed form.
    public var description: String { checksummed }

    /// Orders addresses by their bytes.
    public static func < (a: Address, b: Address) -> Bool { (a.hi, a.mid, a.lo) < (b.hi, b.mid, b.lo) }
}
