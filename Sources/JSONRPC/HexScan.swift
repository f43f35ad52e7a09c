import EthereumCore

/// Hex digits straight from response bytes into fixed-size values (no intermediate strings).
/// Every function validates every digit; callers get `nil` on malformed input and name the field.
enum HexScan {
    /// Nibble values by ASCII code; 0xFF marks a non-hex byte (its high bit makes validation one OR).
    nonisolated(unsafe) static let table: UnsafeMutablePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        t.initialize(repeating: 0xFF, count: 256)
        for (i, c) in "0123456789".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        for (i, c) in "abcdef".utf8.enumerated() { t[Int(c)] = UInt8(10 + i) }
        for (i, c) in "ABCDEF".utf8.enumerated() { t[Int(c)] = UInt8(10 + i) }
        return t
    }()

    /// Up to 16 digits at `p` into a UInt64; `bad` gets 0x80 or more when a byte is not a hex digit.
    @inline(__always)
    static func word(_ p: UnsafePointer<UInt8>, _ n: Int, _ bad: inout UInt8) -> UInt64 {
        let t = table
        var v: UInt64 = 0
        var i = 0
        while i < n {
            let x = t[Int(p[i])]
            bad |= x
            v = v << 4 | UInt64(x & 0x0F)
            i += 1
        }
        return v
    }

    /// Whether `p[0..<n]` starts with `0x`.
    @inline(__always)
    static func hasPrefix(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        n >= 2 && p[0] == UInt8(ascii: "0") && (p[1] == UInt8(ascii: "x") || p[1] == UInt8(ascii: "X"))
    }

    /// `0x` + exactly 64 digits.
    static func bytes32(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bytes32? {
        guard n == 66, hasPrefix(p, n) else { return nil }
        var bad: UInt8 = 0
        let b = Bytes32(w0: word(p + 2, 16, &bad), w1: word(p + 18, 16, &bad),
                        w2: word(p + 34, 16, &bad), w3: word(p + 50, 16, &bad))
        return bad & 0x80 == 0 ? b : nil
    }

    /// `0x` + exactly 40 digits (any case; checksums are not verified on node output).
    static func address(_ p: UnsafePointer<UInt8>, _ n: Int) -> Address? {
        guard n == 42, hasPrefix(p, n) else { return nil }
        var bad: UInt8 = 0
        let w = Bytes32(w0: 0, w1: word(p + 2, 8, &bad), w2: word(p + 10, 16, &bad), w3: word(p + 26, 16, &bad))
        return bad & 0x80 == 0 ? Address(lowBytesOf: w) : nil
    }

    /// A quantity (`0x` + 1...16 significant digits; leading zeros tolerated) into UInt64.
    static func quantity64(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64? {
        guard n > 2, hasPrefix(p, n) else { return nil }
        var start = 2
        while start < n - 1 && p[start] == UInt8(ascii: "0") { start += 1 }
        let digits = n - start
        guard digits <= 16 else { return nil }
        var bad: UInt8 = 0
        let v = word(p + start, digits, &bad)
        return bad & 0x80 == 0 ? v : nil
    }

    /// A quantity (`0x` + 1...64 significant digits) into UInt256.
    static func quantity256(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt256? {
        guard n > 2, hasPrefix(p, n) else { return nil }
        var start = 2
        while start < n - 1 && p[start] == UInt8(ascii: "0") { start += 1 }
        var digits = n - start
        guard digits <= 64 else { return nil }
        var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var bad: UInt8 = 0
        var end = n
        var k = 0
        while digits > 0 {
            let take = min(16, digits)
            let v = word(p + end - take, take, &bad)
            switch k {
            case 0: limbs.0 = v
            case 1: limbs.1 = v
            case 2: limbs.2 = v
            default: limbs.3 = v
            }
            k += 1; end -= take; digits -= take
        }
        return bad & 0x80 == 0 ? UInt256(l0: limbs.0, l1: limbs.1, l2: limbs.2, l3: limbs.3) : nil
    }

    /// `0x` + an even number of digits into bytes.
    static func bytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> [UInt8]? {
        guard n >= 2, hasPrefix(p, n), n % 2 == 0 else { return nil }
        let count = (n - 2) / 2
        if count == 0 { return [] }
        let t = table
        var bad: UInt8 = 0
        let out = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            var i = 0
            var q = p + 2
            while i < count {
                let hi = t[Int(q[0])], lo = t[Int(q[1])]
                bad |= hi | lo
                buf[i] = hi << 4 | (lo & 0x0F)
                q += 2; i += 1
            }
            initialized = count
        }
        return bad & 0x80 == 0 ? out : nil
    }

    /// `bytes` from a String (slow path, for error data and tests).
    static func bytes(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { u in u.baseAddress.flatMap { bytes($0, u.count) } ?? nil }
    }
}
