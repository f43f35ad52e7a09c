import EthereumCore

/// A secp256k1 private key. Its 32 bytes live in memory this object owns and zeroises on release;
/// it refuses 0 and values ≥ the curve order, and never prints itself (description, debugDescription,
/// reflection and errors show only the address).
public final class PrivateKey: Signer, @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// 32 bytes, immutable after init; zeroed and freed in deinit.
    private let storage: UnsafeMutableRawBufferPointer
    /// The public key.
    public let publicKey: PublicKey
    /// The Ethereum address of the public key.
    public let address: Address

    /// From exactly 32 big-endian bytes in 1..<n.
    public init<C: Collection>(bytes: C) throws(SigningError) where C.Element == UInt8 {
        guard bytes.count == 32 else {
            throw .invalidPrivateKey(reason: "expected 32 bytes, got \(bytes.count)")
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 16)
        var i = 0
        for b in bytes { storage[i] = b; i += 1 }
        let key = storage.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard Secp256k1.isValidSecretKey(key) else {
            zeroize(storage)
            storage.deallocate()
            throw .invalidPrivateKey(reason: "zero or not below the secp256k1 curve order")
        }
        do {
            publicKey = try Secp256k1.publicKey(secretKey: key)
        } catch {
            zeroize(storage)
            storage.deallocate()
            throw error
        }
        self.storage = storage
        address = publicKey.address
    }

    /// From 64 hex digits, with or without `0x`; surrounding whitespace is ignored. Errors never echo the text.
    public convenience init(hex text: String) throws(SigningError) {
        var utf8 = Array(text.utf8)
        defer { zeroize(&utf8) }
        while let last = utf8.last, last == 0x20 || last == 0x0a || last == 0x0d || last == 0x09 { utf8.removeLast() }
        var start = 0
        while start < utf8.count, utf8[start] == 0x20 || utf8[start] == 0x0a || utf8[start] == 0x0d || utf8[start] == 0x09 { start += 1 }
        if utf8.count - start >= 2, utf8[start] == UInt8(ascii: "0"), utf8[start + 1] | 0x20 == UInt8(ascii: "x") { start += 2 }
        guard utf8.count - start == 64 else {
            throw .invalidPrivateKey(reason: "expected 64 hex digits, got \(utf8.count - start) characters")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        defer { zeroize(&bytes) }
        for i in 0..<32 {
            guard let hi = PrivateKey.nibble(utf8[start + 2 * i]), let lo = PrivateKey.nibble(utf8[start + 2 * i + 1]) else {
                throw .invalidPrivateKey(reason: "non-hex character at position \(2 * i + (PrivateKey.nibble(utf8[start + 2 * i]) == nil ? 0 : 1))")
            }
            bytes[i] = hi << 4 | lo
        }
        try self.init(bytes: bytes)
    }

    /// A fresh key from the system's cryptographically secure generator.
    public static func generate() -> PrivateKey {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        defer { zeroize(&bytes) }
        while true {
            for i in 0..<32 { bytes[i] = rng.next() }
            if let key = try? PrivateKey(bytes: bytes) { return key }
        }
    }

    deinit {
        zeroize(storage)
        storage.deallocate()
    }

    /// Gives `body` read access to the 32 key bytes for the duration of the call (do not copy them out).
    public func withUnsafeKeyBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// The key as `0x` + 64 hex digits, for `keys export` only. The returned String cannot be zeroised.
    public func unsafeHexForExport() -> String { Hex.encode(UnsafeRawBufferPointer(storage)) }

    /// RFC 6979 deterministic, low-s recoverable signature of a 32-byte digest.
    public func sign(digest: Bytes32) throws(SigningError) -> Signature {
        try Secp256k1.sign(digest: digest, secretKey: UnsafePointer(storage.baseAddress!.assumingMemoryBound(to: UInt8.self)))
    }

    /// `PrivateKey(address: …, key: <redacted>)`: the address only, never the key bytes.
    public var description: String { "PrivateKey(address: \(address), key: <redacted>)" }
    /// The same redacted text as `description`.
    public var debugDescription: String { description }
    /// A mirror with only `address`, so `dump` and debuggers never show the key bytes.
    public var customMirror: Mirror { Mirror(self, children: ["address": address], displayStyle: .class) }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// An uncompressed secp256k1 public key.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The x coordinate, big-endian.
    public let x: Bytes32
    /// The y coordinate, big-endian.
    public let y: Bytes32

    /// From coordinates (not checked to be on the curve; `recover`/`PrivateKey` only produce valid points).
    public init(x: Bytes32, y: Bytes32) { self.x = x; self.y = y }

    /// The 65-byte SEC1 uncompressed encoding `04 ‖ x ‖ y`.
    public var uncompressed: [UInt8] { [4] + x.bytes + y.bytes }

    /// The Ethereum address: the last 20 bytes of Keccak-256(x ‖ y).
    public var address: Address {
        var pair = (x, y)
        let digest = withUnsafeMutableBytes(of: &pair) { raw in
            x.store(to: raw.baseAddress!)
            y.store(to: raw.baseAddress! + 32)
            return Keccak256.hash(UnsafeRawBufferPointer(raw))
        }
        return Address(lowBytesOf: digest)
    }

    /// The 65-byte uncompressed encoding as `0x`-prefixed hex (130 digits, starting `04`).
    public var description: String { Hex.encode(uncompressed) }
}
