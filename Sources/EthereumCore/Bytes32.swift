/// Exactly 32 bytes held inline (no heap): hashes, topics, `bytes32` values, storage keys.
public struct Bytes32: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Big-endian 64-bit words: `w0` holds bytes 0..<8.
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// All zero bytes.
    public static let zero = Bytes32(w0: 0, w1: 0, w2: 0, w3: 0)

    /// From four big-endian words.
    @inlinable public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// From four little-endian lanes as Keccak's sponge produces them.
    @inlinable init(littleEndianLanes l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) {
        self.init(w0: l0.byteSwapped, w1: l1.byteSwapped, w2: l2.byteSwapped, w3: l3.byteSwapped)
    }

    /// From exactly 32 bytes.
    public init<C: Collection>(_ bytes: C) throws(EthereumCoreError) where C.Element == UInt8 {
        guard bytes.count == 32 else { throw .invalidLength(what: "bytes32", expected: 32, actual: bytes.count) }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for b in bytes {
            switch i >> 3 {
            case 0: words.0 = words.0 << 8 | UInt64(b)
            case 1: words.1 = words.1 << 8 | UInt64(b)
            case 2: words.2 = words.2 << 8 | UInt64(b)
            default: words.3 = words.3 << 8 | UInt64(b)
            }
            i += 1
        }
        self.init(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// Reads 32 bytes at `offset` of a raw buffer (the caller has checked the bounds).
    @inlinable public init(loadingFrom buffer: UnsafeRawBufferPointer, at offset: Int) {
        let p = buffer.baseAddress!
        self.init(w0: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                  w1: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
                  w2: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)),
                  w3: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)))
    }

    /// From `0x` + 64 hex digits.
    public init(hex: String) throws(EthereumCoreError) {
        let bytes = try Hex.decode(hex)
        try self.init(bytes)
    }

    /// Writes the 32 bytes at `pointer`.
    @inlinable public func store(to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
        pointer.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
        pointer.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
        pointer.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// The 32 bytes as an array.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            store(to: UnsafeMutableRawPointer(buffer.baseAddress!))
            count = 32
        }
    }

    /// Byte `index` (0..<32).
    @inlinable public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < 32, "Bytes32 index out of range")
        let word: UInt64
        switch index >> 3 {
        case 0: word = w0
        case 1: word = w1
        case 2: word = w2
        default: word = w3
        }
        return UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (index & 7)))
    }

    /// Lowercase `0x` + 64 hex digits.
    public var hexString: String { Hex.encode(bytes) }
    /// Lowercase `0x` hex.
    public var description: String { hexString }

    /// Orders by bytes (big-endian).
    public static func < (a: Bytes32, b: Bytes32) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}
