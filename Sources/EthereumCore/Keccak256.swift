/// Keccak-256 as Ethereum uses it: Keccak[r=1088, c=512] with the original multi-rate padding
/// (domain byte 0x01), not FIPS 202 SHA3-256 (0x06). Written by hand; incremental and one-shot.
/// A one-shot hash allocates nothing on the heap: the sponge state lives on the stack.
public struct Keccak256: Sendable {
    /// The sponge's rate in bytes (1088 bits).
    public static let rate = 136

    /// 25 lanes of 64 bits; `position` is the number of bytes absorbed into the current block.
    private var state: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    private var position = 0

    /// A fresh hasher.
    public init() {}

    /// Absorbs `bytes` (incremental use: call any number of times, then `finalize()`).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let count = bytes.count
        var offset = 0
        let base = bytes.baseAddress!
        withUnsafeMutableBytes(of: &state) { raw in
            let lanes = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            let stateBytes = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            // Finish a partial block byte by byte.
            if position != 0 {
                while offset < count && position < Keccak256.rate {
                    stateBytes[position] ^= base.load(fromByteOffset: offset, as: UInt8.self)
                    position += 1
                    offset += 1
                }
                if position == Keccak256.rate {
                    Keccak256.permute(lanes)
                    position = 0
                }
            }
            // Whole blocks, a lane at a time.
            let blocks = (count - offset) / Keccak256.rate
            if blocks > 0 {
                Keccak256.absorb(lanes, base + offset, blocks: blocks)
                offset += blocks * Keccak256.rate
            }
            // The tail: whole lanes, then bytes.
            while count - offset >= 8 {
                lanes[position >> 3] ^= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                position += 8
                offset += 8
            }
            while offset < count {
                stateBytes[position] ^= base.load(fromByteOffset: offset, as: UInt8.self)
                position += 1
                offset += 1
            }
        }
    }

    /// Absorbs a byte array.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Absorbs the UTF-8 bytes of `text`.
    public mutating func update(text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Pads (0x01 … 0x80), permutes and returns the 32-byte digest. The hasher is consumed.
    public consuming func finalize() -> Bytes32 {
        let position = self.position
        return withUnsafeMutableBytes(of: &state) { raw in
            let bytes = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            bytes[position] ^= 0x01
            bytes[Keccak256.rate - 1] ^= 0x80
            let lanes = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            Keccak256.permute(lanes)
            return Bytes32(littleEndianLanes: lanes[0], lanes[1], lanes[2], lanes[3])
        }
    }

    /// One-shot Keccak-256 of raw bytes.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Bytes32 {
        var hasher = Keccak256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// One-shot Keccak-256 of a byte array.
    public static func hash(_ bytes: [UInt8]) -> Bytes32 {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// One-shot Keccak-256 of any contiguous or non-contiguous byte sequence.
    public static func hash<S: Sequence>(_ bytes: S) -> Bytes32 where S.Element == UInt8 {
        if let digest = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return hash(Array(bytes))
    }

    /// One-shot Keccak-256 of the UTF-8 bytes of `text` (signatures, selectors).
    public static func hash(text: String) -> Bytes32 {
        var hasher = Keccak256()
        hasher.update(text: text)
        return hasher.finalize()
    }
}
