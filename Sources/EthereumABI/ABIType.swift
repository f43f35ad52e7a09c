/// An ABI type (Solidity ABI spec, "Types"): an elementary type, a fixed or dynamic array, or a tuple.
public indirect enum ABIType: Hashable, Sendable, CustomStringConvertible {
    /// `uint<M>`, 8 ≤ M ≤ 256, M % 8 == 0.
    case uint(bits: Int)
    /// `int<M>`, two's complement, 8 ≤ M ≤ 256, M % 8 == 0.
    case int(bits: Int)
    /// `address` (20 bytes, left-padded).
    case address
    /// `bool` (0 or 1).
    case bool
    /// `bytes<M>`, 1 ≤ M ≤ 32 (right-padded).
    case fixedBytes(count: Int)
    /// `bytes`, dynamic.
    case bytes
    /// `string`, dynamic, UTF-8.
    case string
    /// `T[k]` (k ≥ 1).
    case fixedArray(ABIType, count: Int)
    /// `T[]`.
    case array(ABIType)
    /// `(T1,…,Tn)`.
    case tuple([ABIType])

    /// `uint256`.
    public static let uint256 = ABIType.uint(bits: 256)
    /// `int256`.
    public static let int256 = ABIType.int(bits: 256)
    /// `bytes32`.
    public static let bytes32 = ABIType.fixedBytes(count: 32)

    /// The canonical type string used in signatures (`uint256`, `(address,bytes)[]`).
    public var canonical: String {
        var out = ""
        appendCanonical(to: &out)
        return out
    }

    /// The canonical type string.
    public var description: String { canonical }

    func appendCanonical(to out: inout String) {
        switch self {
        case let .uint(bits): out += "uint\(bits)"
        case let .int(bits): out += "int\(bits)"
        case .address: out += "address"
        case .bool: out += "bool"
        case let .fixedBytes(n): out += "bytes\(n)"
        case .bytes: out += "bytes"
        case .string: out += "string"
        case let .fixedArray(t, n): t.appendCanonical(to: &out); out += "[\(n)]"
        case let .array(t): t.appendCanonical(to: &out); out += "[]"
        case let .tuple(ts):
            out += "("
            for (i, t) in ts.enumerated() {
                if i > 0 { out += "," }
                t.appendCanonical(to: &out)
            }
            out += ")"
        }
    }

    /// True for `bytes`, `string`, `T[]`, and arrays/tuples containing one of them (spec: "dynamic" types).
    public var isDynamic: Bool {
        switch self {
        case .uint, .int, .address, .bool, .fixedBytes: return false
        case .bytes, .string, .array: return true
        case let .fixedArray(t, _): return t.isDynamic
        case let .tuple(ts): return ts.contains { $0.isDynamic }
        }
    }

    /// True for the elementary types that occupy exactly one word.
    public var isElementary: Bool {
        switch self {
        case .uint, .int, .address, .bool, .fixedBytes: return true
        default: return false
        }
    }

    /// Bytes this type occupies in the head of its enclosing tuple: 32 for a dynamic type (its offset),
    /// the full in-place size for a static one.
    public var headSize: Int {
        if isDynamic { return 32 }
        switch self {
        case let .fixedArray(t, n): return t.headSize &* n
        case let .tuple(ts): return ts.reduce(0) { $0 &+ $1.headSize }
        default: return 32
        }
    }

    /// Nesting depth: 0 for an elementary type, one more for each array or tuple around it.
    public var depth: Int {
        switch self {
        case .uint, .int, .address, .bool, .fixedBytes, .bytes, .string: return 0
        case let .fixedArray(t, _), let .array(t): return t.depth + 1
        case let .tuple(ts): return (ts.map(\.depth).max() ?? 0) + 1
        }
    }
}
