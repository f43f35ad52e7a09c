/// A signed 256-bit integer in two's complement (the ABI's `int256`), held inline.
public struct Int256: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The two's-complement bit pattern.
    public var bitPattern: UInt256

    /// -2^255.
    public static let min = Int256(bitPattern: UInt256.one << 255)
    /// 2^255 - 1.
    public static let max = Int256(bitPattern: ~(UInt256.one << 255))
    /// 0.
    public static let zero = Int256(bitPattern: .zero)

    /// From a bit pattern.
    @inlinable public init(bitPattern: UInt256) { self.bitPattern = bitPattern }

    /// From a 64-bit signed value.
    public init(_ value: Int64) {
        let ext: UInt64 = value < 0 ? .max : 0
        bitPattern = UInt256(l0: UInt64(bitPattern: value), l1: ext, l2: ext, l3: ext)
    }

    /// From an integer literal.
    public init(integerLiteral value: Int64) { self.init(value) }

    /// True when below zero.
    @inlinable public var isNegative: Bool { bitPattern.l3 >> 63 == 1 }

    /// |self| (2^255 for `min`).
    public var magnitude: UInt256 { isNegative ? (~bitPattern &+ .one) : bitPattern }

    /// From a sign and magnitude; errors when outside [-2^255, 2^255-1].
    public init(negative: Bool, magnitude: UInt256) throws(EthereumCoreError) {
        let limit = UInt256.one << 255
        if negative {
            guard magnitude <= limit else { throw .overflow(what: "-\(magnitude) is below int256 minimum") }
            bitPattern = ~magnitude &+ .one
        } else {
            guard magnitude < limit else { throw .overflow(what: "\(magnitude) exceeds int256 maximum") }
            bitPattern = magnitude
        }
    }

    /// Parses an optionally `-`-signed decimal, or `0x` hex (non-negative, as a value, not a bit pattern).
    public init(parsing text: String) throws(EthereumCoreError) {
        if text.hasPrefix("-") {
            let rest = String(text.dropFirst())
            guard !rest.hasPrefix("-") && !rest.hasPrefix("+") else { throw .invalidNumber(text: text, reason: "bad sign") }
            try self.init(negative: true, magnitude: UInt256(parsing: rest))
        } else {
            try self.init(negative: false, magnitude: UInt256(parsing: text))
        }
    }

    /// `self + other` and whether it overflowed the signed range.
    public func addingReportingOverflow(_ o: Int256) -> (partialValue: Int256, overflow: Bool) {
        let r = Int256(bitPattern: bitPattern &+ o.bitPattern)
        return (r, isNegative == o.isNegative && r.isNegative != isNegative)
    }

    /// `self - other` and whether it overflowed the signed range.
    public func subtractingReportingOverflow(_ o: Int256) -> (partialValue: Int256, overflow: Bool) {
        let r = Int256(bitPattern: bitPattern &- o.bitPattern)
        return (r, isNegative != o.isNegative && r.isNegative != isNegative)
    }

    /// Sum; traps on signed overflow.
    public static func + (a: Int256, b: Int256) -> Int256 {
        let (r, o) = a.addingReportingOverflow(b); precondition(!o, "Int256 addition overflow"); return r
    }
    /// Difference; traps on signed overflow.
    public static func - (a: Int256, b: Int256) -> Int256 {
        let (r, o) = a.subtractingReportingOverflow(b); precondition(!o, "Int256 subtraction overflow"); return r
    }
    /// Negation; traps for `min`.
    public static prefix func - (a: Int256) -> Int256 { Int256.zero - a }

    /// Signed order.
    public static func < (a: Int256, b: Int256) -> Bool {
        if a.isNegative != b.isNegative { return a.isNegative }
        return a.bitPattern < b.bitPattern
    }

    /// Decimal with a leading `-` when negative.
    public var decimalString: String { (isNegative ? "-" : "") + magnitude.decimalString }
    /// Decimal digits (signed where applicable).
    public var description: String { decimalString }
}
