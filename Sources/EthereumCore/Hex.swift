/// Strict hexadecimal encoding and decoding of byte strings.
public enum Hex {
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`, with a `0x` prefix unless `prefix` is false.
    public static func encode<C: Collection>(_ bytes: C, prefix: Bool = true) -> String where C.Element == UInt8 {
        let count = bytes.count * 2 + (prefix ? 2 : 0)
        return String(unsafeUninitializedCapacity: count) { out in
            var i = 0
            if prefix {
                out[0] = UInt8(ascii: "0"); out[1] = UInt8(ascii: "x"); i = 2
            }
            for b in bytes {
                out[i] = digits[Int(b >> 4)]
                out[i + 1] = digits[Int(b & 0x0f)]
                i += 2
            }
            return count
        }
    }

    /// The value of one ASCII hex digit, or nil.
    @inlinable static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }

    /// Decodes hex. `0x`/`0X` is required when `requirePrefix` is true and optional otherwise.
    /// The digit count must be even; every character must be a hex digit. Errors name the offending offset.
    public static func decode(_ text: String, requirePrefix: Bool = true) throws(EthereumCoreError) -> [UInt8] {
        var text = text
        var result: Result<[UInt8], EthereumCoreError> = .success([])
        text.withUTF8 { utf8 in
            result = Result { () throws(EthereumCoreError) -> [UInt8] in try decode(utf8: utf8, requirePrefix: requirePrefix) }
        }
        return try result.get()
    }

    /// Decodes hex from UTF-8 bytes (see `decode(_:requirePrefix:)`).
    public static func decode(utf8: UnsafeBufferPointer<UInt8>, requirePrefix: Bool = true) throws(EthereumCoreError) -> [UInt8] {
        var start = 0
        if utf8.count >= 2 && utf8[0] == UInt8(ascii: "0") && (utf8[1] == UInt8(ascii: "x") || utf8[1] == UInt8(ascii: "X")) {
            start = 2
        } else if requirePrefix {
            throw .invalidHex(reason: "missing 0x prefix", offset: 0)
        }
        let digits = utf8.count - start
        guard digits % 2 == 0 else {
            throw .invalidHex(reason: "odd number of hex digits (\(digits))", offset: utf8.count)
        }
        var out = [UInt8](repeating: 0, count: digits / 2)
        var i = start
        var o = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]) else {
                throw .invalidHex(reason: "unexpected character \(describe(utf8[i]))", offset: i)
            }
            guard let lo = nibble(utf8[i + 1]) else {
                throw .invalidHex(reason: "unexpected character \(describe(utf8[i + 1]))", offset: i + 1)
            }
            out[o] = hi << 4 | lo
            o += 1
            i += 2
        }
        return out
    }

    static func describe(_ c: UInt8) -> String {
        (0x21...0x7e).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x" + encode([c], prefix: false)
    }
}

extension Array where Element == UInt8 {
    /// The bytes as lowercase `0x` hex.
    public var hexString: String { Hex.encode(self) }
}
