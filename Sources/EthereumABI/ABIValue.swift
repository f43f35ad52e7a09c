import EthereumCore

/// A decoded or to-be-encoded ABI value. Elementary values are held inline (no heap storage);
/// `bytes`/`string` own their contents; arrays and tuples hold an `ABIList` (a view that may share one
/// buffer with its siblings, so arrays of static tuples decode without a heap object per element).
public enum ABIValue: Hashable, Sendable, CustomStringConvertible {
    /// Any `uint<M>`.
    case uint(UInt256)
    /// Any `int<M>`.
    case int(Int256)
    /// `address`.
    case address(Address)
    /// `bool`.
    case bool(Bool)
    /// `bytes<count>`: the first `count` bytes of the word are the value, the rest are zero.
    case fixedBytes(Bytes32, count: Int)
    /// `bytes`.
    case bytes([UInt8])
    /// `string`.
    case string(String)
    /// `T[k]` or `T[]`.
    case array(ABIList)
    /// `(T1,…,Tn)`.
    case tuple(ABIList)

    /// `bytes<n>` from up to 32 bytes (the rest zero); nil when longer than 32.
    public static func fixedBytes(_ bytes: [UInt8]) -> ABIValue? {
        guard !bytes.isEmpty && bytes.count <= 32 else { return nil }
        let word = try? Bytes32(bytes + [UInt8](repeating: 0, count: 32 - bytes.count))
        return word.map { .fixedBytes($0, count: bytes.count) }
    }

    /// The canonical JSON text of this value (see `appendCanonicalJSON`).
    public var description: String { canonicalJSON }
}

/// An immutable, zero-based list of values: the items of an array or tuple. It is a view into a buffer
/// that several lists may share (one buffer per nesting level for arrays of static tuples).
public struct ABIList: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    @usableFromInline let storage: [ABIValue]
    @usableFromInline let base: Int
    /// Number of items.
    public let count: Int

    /// A list holding `items`.
    public init(_ items: [ABIValue]) { storage = items; base = 0; count = items.count }

    /// A list from an array literal.
    public init(arrayLiteral items: ABIValue...) { self.init(items) }

    /// A view of `count` items of `storage` starting at `base` (the caller guarantees the range is valid).
    @inlinable init(storage: [ABIValue], base: Int, count: Int) {
        self.storage = storage; self.base = base; self.count = count
    }

    /// 0.
    @inlinable public var startIndex: Int { 0 }
    /// `count`.
    @inlinable public var endIndex: Int { count }

    /// Item `i` (0-based).
    @inlinable public subscript(i: Int) -> ABIValue {
        precondition(i >= 0 && i < count, "ABIList index out of range")
        return storage[base + i]
    }

    /// Equal items in the same order (however the storage is shared).
    public static func == (a: ABIList, b: ABIList) -> Bool { a.elementsEqual(b) }

    /// Hashes the count and the items.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for v in self { hasher.combine(v) }
    }
}
