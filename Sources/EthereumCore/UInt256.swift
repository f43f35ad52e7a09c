/// An unsigned 256-bit integer (the EVM word), held inline as four 64-bit limbs.
/// Operators `+ - * / %` trap on overflow and division by zero like Swift's integers; the
/// `…ReportingOverflow` methods and `&+ &- &*` are the checked and wrapping alternatives.
public struct UInt256: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Limbs, least significant first.
    public var l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64

    /// 0.
    public static let zero = UInt256(l0: 0, l1: 0, l2: 0, l3: 0)
    /// 1.
    public static let one = UInt256(l0: 1, l1: 0, l2: 0, l3: 0)
    /// 2^256 - 1.
    public static let max = UInt256(l0: .max, l1: .max, l2: .max, l3: .max)

    /// From limbs, least significant first.
    @inlinable public init(l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64) {
        self.l0 = l0; self.l1 = l1; self.l2 = l2; self.l3 = l3
    }

    /// From a 64-bit value.
    @inlinable public init(_ value: UInt64) { self.init(l0: value, l1: 0, l2: 0, l3: 0) }

    /// From an integer literal.
    @inlinable public init(integerLiteral value: UInt64) { self.init(value) }

    /// From a non-negative `Int`; nil when negative.
    @inlinable public init?(exactly value: Int) {
        guard value >= 0 else { return nil }
        self.init(UInt64(value))
    }

    /// From a 32-byte big-endian word.
    @inlinable public init(word: Bytes32) { self.init(l0: word.w3, l1: word.w2, l2: word.w1, l3: word.w0) }

    /// The 32-byte big-endian word.
    @inlinable public var word: Bytes32 { Bytes32(w0: l3, w1: l2, w2: l1, w3: l0) }

    /// From at most 32 big-endian bytes (leading zeros allowed).
    public init<C: Collection>(bigEndianBytes bytes: C) throws(EthereumCoreError) where C.Element == UInt8 {
        guard bytes.count <= 32 else {
            throw .invalidLength(what: "uint256 (at most)", expected: 32, actual: bytes.count)
        }
        var v = UInt256.zero
        for b in bytes { v = (v << 8) | UInt256(UInt64(b)) }
        self = v
    }

    /// The 32 big-endian bytes.
    public var bigEndianBytes: [UInt8] { word.bytes }

    /// The big-endian bytes without leading zeros (empty for zero), as RLP and JSON-RPC quantities want.
    public var minimalBigEndianBytes: [UInt8] {
        let n = (bitWidthUsed + 7) / 8
        return Array(bigEndianBytes.suffix(n))
    }

    /// The value as `UInt64` when it fits.
    @inlinable public var uint64: UInt64? { l1 == 0 && l2 == 0 && l3 == 0 ? l0 : nil }

    /// The value as `Int` when it fits.
    @inlinable public var int: Int? {
        guard let v = uint64, v <= UInt64(Int.max) else { return nil }
        return Int(v)
    }

    /// True for 0.
    @inlinable public var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }

    /// Number of leading zero bits (256 for zero).
    @inlinable public var leadingZeroBitCount: Int {
        if l3 != 0 { return l3.leadingZeroBitCount }
        if l2 != 0 { return 64 + l2.leadingZeroBitCount }
        if l1 != 0 { return 128 + l1.leadingZeroBitCount }
        return 192 + l0.leadingZeroBitCount
    }

    /// Bits needed to write the value (0 for zero).
    @inlinable public var bitWidthUsed: Int { 256 - leadingZeroBitCount }

    @inlinable subscript(limb i: Int) -> UInt64 {
        get {
            switch i { case 0: return l0; case 1: return l1; case 2: return l2; default: return l3 }
        }
        set {
            switch i { case 0: l0 = newValue; case 1: l1 = newValue; case 2: l2 = newValue; default: l3 = newValue }
        }
    }

    // MARK: Comparison

    /// Numeric order.
    @inlinable public static func < (a: UInt256, b: UInt256) -> Bool {
        if a.l3 != b.l3 { return a.l3 < b.l3 }
        if a.l2 != b.l2 { return a.l2 < b.l2 }
        if a.l1 != b.l1 { return a.l1 < b.l1 }
        return a.l0 < b.l0
    }

    // MARK: Addition and subtraction

    /// `self + other` and whether it overflowed 2^256.
    @inlinable public func addingReportingOverflow(_ o: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        let (r0, c0) = l0.addingReportingOverflow(o.l0)
        var (r1, c1) = l1.addingReportingOverflow(o.l1)
        var c1b = false
        if c0 { (r1, c1b) = r1.addingReportingOverflow(1) }
        var (r2, c2) = l2.addingReportingOverflow(o.l2)
        var c2b = false
        if c1 || c1b { (r2, c2b) = r2.addingReportingOverflow(1) }
        var (r3, c3) = l3.addingReportingOverflow(o.l3)
        var c3b = false
        if c2 || c2b { (r3, c3b) = r3.addingReportingOverflow(1) }
        return (UInt256(l0: r0, l1: r1, l2: r2, l3: r3), c3 || c3b)
    }

    // Subtraction mirrors addition (borrows for carries) rather than sharing it: each stays a straight-line chain of
    // four limb operations that the optimiser keeps in registers, which a shared generic or closure would put at risk.
    /// `self - other` and whether it went below zero.
    @inlinable public func subtractingReportingOverflow(_ o: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        let (r0, b0) = l0.subtractingReportingOverflow(o.l0)
        var (r1, b1) = l1.subtractingReportingOverflow(o.l1)
        var b1b = false
        if b0 { (r1, b1b) = r1.subtractingReportingOverflow(1) }
        var (r2, b2) = l2.subtractingReportingOverflow(o.l2)
        var b2b = false
        if b1 || b1b { (r2, b2b) = r2.subtractingReportingOverflow(1) }
        var (r3, b3) = l3.subtractingReportingOverflow(o.l3)
        var b3b = false
        if b2 || b2b { (r3, b3b) = r3.subtractingReportingOverflow(1) }
        return (UInt256(l0: r0, l1: r1, l2: r2, l3: r3), b3 || b3b)
    }

    // MARK: Multiplication

    /// `self * other` modulo 2^256 and whether the true product exceeded 2^256 - 1.
    public func multipliedReportingOverflow(by o: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var r: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var overflow = false
        withUnsafeMutableBytes(of: &r) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            for i in 0..<4 {
                let a = self[limb: i]
                if a == 0 { continue }
                var carry: UInt64 = 0
                for j in 0..<4 {
                    let b = o[limb: j]
                    let (hi, lo) = a.multipliedFullWidth(by: b)
                    if i + j >= 4 {
                        if hi != 0 || lo != 0 || carry != 0 { overflow = true }
                        carry = 0
                        continue
                    }
                    let (s1, c1) = out[i + j].addingReportingOverflow(lo)
                    let (s2, c2) = s1.addingReportingOverflow(carry)
                    out[i + j] = s2
                    carry = hi &+ (c1 ? 1 : 0) &+ (c2 ? 1 : 0)  // cannot overflow: hi <= 2^64 - 2
                }
                if carry != 0 { overflow = true }
            }
        }
        return (UInt256(l0: r.0, l1: r.1, l2: r.2, l3: r.3), overflow)
    }

    // MARK: Division

    /// Quotient and remainder of division by a 64-bit divisor (must be non-zero).
    public func quotientAndRemainder(dividingBy d: UInt64) -> (quotient: UInt256, remainder: UInt64) {
        precondition(d != 0, "UInt256 division by zero")
        var q = UInt256.zero
        var rem: UInt64 = 0
        for i in stride(from: 3, through: 0, by: -1) {
            let (qi, ri) = d.dividingFullWidth((rem, self[limb: i]))
            q[limb: i] = qi
            rem = ri
        }
        return (q, rem)
    }

    /// Quotient and remainder (divisor must be non-zero).
    public func quotientAndRemainder(dividingBy d: UInt256) -> (quotient: UInt256, remainder: UInt256) {
        precondition(!d.isZero, "UInt256 division by zero")
        if self < d { return (.zero, self) }
        if let small = d.uint64 {
            let (q, r) = quotientAndRemainder(dividingBy: small)
            return (q, UInt256(r))
        }
        // Shift-subtract long division; the divisor has at least 65 bits so at most 192 steps.
        let shift = d.leadingZeroBitCount - leadingZeroBitCount
        var divisor = d << shift
        var rem = self
        var q = UInt256.zero
        for i in stride(from: shift, through: 0, by: -1) {
            if rem >= divisor {
                rem = rem.subtractingReportingOverflow(divisor).partialValue
                q[limb: i >> 6] |= 1 << UInt64(i & 63)
            }
            divisor = divisor >> 1
        }
        return (q, rem)
    }

    // MARK: Operators

    /// Sum; traps on overflow.
    @inlinable public static func + (a: UInt256, b: UInt256) -> UInt256 {
        let (r, o) = a.addingReportingOverflow(b)
        precondition(!o, "UInt256 addition overflow")
        return r
    }
    /// Difference; traps below zero.
    @inlinable public static func - (a: UInt256, b: UInt256) -> UInt256 {
        let (r, o) = a.subtractingReportingOverflow(b)
        precondition(!o, "UInt256 subtraction underflow")
        return r
    }
    /// Product; traps on overflow.
    public static func * (a: UInt256, b: UInt256) -> UInt256 {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        precondition(!o, "UInt256 multiplication overflow")
        return r
    }
    /// Quotient; traps on division by zero.
    public static func / (a: UInt256, b: UInt256) -> UInt256 { a.quotientAndRemainder(dividingBy: b).quotient }
    /// Remainder; traps on division by zero.
    public static func % (a: UInt256, b: UInt256) -> UInt256 { a.quotientAndRemainder(dividingBy: b).remainder }
    /// Sum modulo 2^256.
    @inlinable public static func &+ (a: UInt256, b: UInt256) -> UInt256 { a.addingReportingOverflow(b).partialValue }
    /// Difference modulo 2^256.
    @inlinable public static func &- (a: UInt256, b: UInt256) -> UInt256 { a.subtractingReportingOverflow(b).partialValue }
    /// Product modulo 2^256.
    public static func &* (a: UInt256, b: UInt256) -> UInt256 { a.multipliedReportingOverflow(by: b).partialValue }
    /// Adds in place; traps on overflow.
    public static func += (a: inout UInt256, b: UInt256) { a = a + b }
    /// Subtracts in place; traps below zero.
    public static func -= (a: inout UInt256, b: UInt256) { a = a - b }

    /// Bitwise AND.
    @inlinable public static func & (a: UInt256, b: UInt256) -> UInt256 {
        UInt256(l0: a.l0 & b.l0, l1: a.l1 & b.l1, l2: a.l2 & b.l2, l3: a.l3 & b.l3)
    }
    /// Bitwise OR.
    @inlinable public static func | (a: UInt256, b: UInt256) -> UInt256 {
        UInt256(l0: a.l0 | b.l0, l1: a.l1 | b.l1, l2: a.l2 | b.l2, l3: a.l3 | b.l3)
    }
    /// Bitwise XOR.
    @inlinable public static func ^ (a: UInt256, b: UInt256) -> UInt256 {
        UInt256(l0: a.l0 ^ b.l0, l1: a.l1 ^ b.l1, l2: a.l2 ^ b.l2, l3: a.l3 ^ b.l3)
    }
    /// Bitwise NOT.
    @inlinable public static prefix func ~ (a: UInt256) -> UInt256 {
        UInt256(l0: ~a.l0, l1: ~a.l1, l2: ~a.l2, l3: ~a.l3)
    }

    /// Logical left shift; shifts of 256 or more give zero.
    public static func << (a: UInt256, n: Int) -> UInt256 {
        precondition(n >= 0, "negative shift")
        if n >= 256 { return .zero }
        let limbs = n >> 6, bits = UInt64(n & 63)
        var r = UInt256.zero
        for i in stride(from: 3, through: limbs, by: -1) {
            var v = a[limb: i - limbs] << bits
            if bits != 0 && i - limbs - 1 >= 0 { v |= a[limb: i - limbs - 1] >> (64 - bits) }
            r[limb: i] = v
        }
        return r
    }

    /// Logical right shift; shifts of 256 or more give zero.
    public static func >> (a: UInt256, n: Int) -> UInt256 {
        precondition(n >= 0, "negative shift")
        if n >= 256 { return .zero }
        let limbs = n >> 6, bits = UInt64(n & 63)
        var r = UInt256.zero
        for i in 0..<(4 - limbs) {
            var v = a[limb: i + limbs] >> bits
            if bits != 0 && i + limbs + 1 < 4 { v |= a[limb: i + limbs + 1] << (64 - bits) }
            r[limb: i] = v
        }
        return r
    }

    /// 2^n for n in 0..<256.
    public static func powerOfTwo(_ n: Int) -> UInt256 { UInt256.one << n }

    // MARK: Text

    /// Parses decimal digits (no sign, no separators, no leading `+`); errors on overflow.
    public init(decimal text: String) throws(EthereumCoreError) {
        guard !text.isEmpty else { throw .invalidNumber(text: text, reason: "empty") }
        var v = UInt256.zero
        for (i, c) in text.utf8.enumerated() {
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else {
                throw .invalidNumber(text: text, reason: "unexpected character at \(i)")
            }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt256(UInt64(c - UInt8(ascii: "0"))))
            if o1 || o2 { throw .invalidNumber(text: text, reason: "exceeds 2^256-1") }
            v = s
        }
        self = v
    }

    /// Parses `0x` hex (1 to 64 digits; leading zeros allowed).
    public init(hex text: String) throws(EthereumCoreError) {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") || utf8[1] == UInt8(ascii: "X") else {
            throw .invalidNumber(text: text, reason: "missing 0x prefix")
        }
        guard utf8.count > 2 else { throw .invalidNumber(text: text, reason: "no hex digits") }
        var v = UInt256.zero
        var significant = 0
        for i in 2..<utf8.count {
            guard let n = Hex.nibble(utf8[i]) else {
                throw .invalidNumber(text: text, reason: "unexpected character at \(i)")
            }
            if significant > 0 || n != 0 { significant += 1 }
            if significant > 64 { throw .invalidNumber(text: text, reason: "exceeds 2^256-1") }
            v = (v << 4) | UInt256(UInt64(n))
        }
        self = v
    }

    /// Parses either `0x` hex or decimal.
    public init(parsing text: String) throws(EthereumCoreError) {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { try self.init(hex: text) } else { try self.init(decimal: text) }
    }

    /// Decimal digits.
    public var decimalString: String {
        if let small = uint64 { return String(small) }
        // Peel 19 decimal digits at a time.
        var chunks: [UInt64] = []
        var v = self
        while !v.isZero {
            let (q, r) = v.quotientAndRemainder(dividingBy: 10_000_000_000_000_000_000 as UInt64)
            chunks.append(r)
            v = q
        }
        var out = String(chunks.removeLast())
        for chunk in chunks.reversed() {
            let s = String(chunk)
            out += String(repeating: "0", count: 19 - s.count) + s
        }
        return out
    }

    /// `0x` + lowercase hex without leading zeros (`0x0` for zero): the JSON-RPC quantity form.
    public var hexString: String {
        if isZero { return "0x0" }
        let hex = Hex.encode(minimalBigEndianBytes, prefix: false)
        return "0x" + (hex.hasPrefix("0") ? String(hex.dropFirst()) : hex)
    }

    /// Decimal digits (signed where applicable).
    public var description: String { decimalString }
}
