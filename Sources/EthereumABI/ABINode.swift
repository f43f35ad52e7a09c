/// A validated `ABIType` compiled for the codec: kind and sizes computed once, children as nodes, so the
/// encoder and decoder walk trivial fields instead of re-deriving `isDynamic`/`headSize` from the
/// indirect enum at every element. Internal; `ABIFunction`, `ABIEvent` and `ABICodec` keep theirs.
final class ABINode: Sendable {
    enum Kind: Sendable {
        case uint(bits: Int), int(bits: Int), address, bool, fixedBytes(count: Int), bytes, string
        case fixedArray(count: Int), array, tuple
    }
    let kind: Kind
    /// The type, for error messages.
    let type: ABIType
    let isDynamic: Bool
    let headSize: Int
    /// Nesting depth below this node (0 for elementary).
    let depth: Int
    /// The element of an array.
    let element: ABINode?
    /// The components of a tuple.
    let components: [ABINode]
    /// For a tuple whose components are all elementary: their kinds (the fast path of the codec).
    let elementaryComponents: [Kind]?

    var isElementary: Bool {
        switch kind {
        case .uint, .int, .address, .bool, .fixedBytes: return true
        default: return false
        }
    }

    /// Compiles a type that passed `validate()`.
    init(_ type: ABIType) {
        self.type = type
        isDynamic = type.isDynamic
        headSize = type.headSize
        depth = type.depth
        switch type {
        case let .uint(bits): kind = .uint(bits: bits); element = nil; components = []
        case let .int(bits): kind = .int(bits: bits); element = nil; components = []
        case .address: kind = .address; element = nil; components = []
        case .bool: kind = .bool; element = nil; components = []
        case let .fixedBytes(n): kind = .fixedBytes(count: n); element = nil; components = []
        case .bytes: kind = .bytes; element = nil; components = []
        case .string: kind = .string; element = nil; components = []
        case let .fixedArray(t, n): kind = .fixedArray(count: n); element = ABINode(t); components = []
        case let .array(t): kind = .array; element = ABINode(t); components = []
        case let .tuple(ts): kind = .tuple; element = nil; components = ts.map(ABINode.init)
        }
        elementaryComponents = case_tuple(kind) && components.allSatisfy(\.isElementary) ? components.map(\.kind) : nil
    }

    /// Validates and compiles a list of types.
    static func compile(_ types: [ABIType]) throws(ABIError) -> [ABINode] {
        var nodes: [ABINode] = []
        nodes.reserveCapacity(types.count)
        for t in types {
            try t.validate()
            nodes.append(ABINode(t))
        }
        return nodes
    }
}

private func case_tuple(_ kind: ABINode.Kind) -> Bool {
    if case .tuple = kind { return true }
    return false
}

/// A reusable encoder/decoder for one parameter list, compiled and validated once: the fast path for
/// hot loops (the keeper's batches and logs). `ABIEncoder.encode`/`ABIDecoder.decode` compile per call.
public struct ABICodec: Sendable {
    /// The parameter types.
    public let types: [ABIType]
    let nodes: [ABINode]

    /// Validates and compiles `types`.
    public init(_ types: [ABIType]) throws(ABIError) {
        self.types = types
        nodes = try ABINode.compile(types)
    }

    /// `enc((v1,…,vn))` (see `ABIEncoder.encode`).
    public func encode(_ values: [ABIValue]) throws(ABIError) -> [UInt8] {
        try ABIEncoder.encode(values, nodes: nodes)
    }

    /// Decodes `data` (see `ABIDecoder.decode`).
    public func decode(_ data: [UInt8], limits: ABIDecoder.Limits = .default) throws(ABIError) -> [ABIValue] {
        try ABIDecoder.decode(nodes, from: data, limits: limits)
    }
}
