/// A named parameter of a function, event or error: its type, its name (may be empty), whether it is an
/// `indexed` event parameter, and the names of tuple components (from JSON-ABI `components`, for display).
public struct ABIParameter: Hashable, Sendable, CustomStringConvertible {
    /// The parameter's name; empty when unnamed.
    public var name: String
    /// The parameter's type.
    public var type: ABIType
    /// True for an `indexed` event parameter (stored in a topic, not in the data).
    public var indexed: Bool
    /// For a tuple (or array of tuples) type: the component parameters, in order; empty otherwise or unknown.
    public var components: [ABIParameter]

    /// A parameter.
    public init(name: String = "", type: ABIType, indexed: Bool = false, components: [ABIParameter] = []) {
        self.name = name; self.type = type; self.indexed = indexed; self.components = components
    }

    /// `type [indexed] [name]`, as written in a human-readable signature.
    public var description: String {
        var s = type.canonical
        if indexed { s += " indexed" }
        if !name.isEmpty { s += " " + name }
        return s
    }
}

/// A parsed signature: an optional name and a parameter list, e.g. `transfer(address to,uint256 amount)`,
/// `Transfer(address indexed from,address indexed to,uint256 value)` or a bare tuple `(uint256,address[])`.
public struct ABISignature: Hashable, Sendable, CustomStringConvertible {
    /// The function, event or error name; nil for a bare tuple.
    public var name: String?
    /// The parameters in order.
    public var parameters: [ABIParameter]

    /// A signature from its parts.
    public init(name: String?, parameters: [ABIParameter]) {
        self.name = name; self.parameters = parameters
    }

    /// Parses a human-readable signature (whitespace around tokens is allowed; `uint`/`int` mean 256 bits).
    public init(parsing text: String) throws(ABIError) {
        var parser = ABITypeParser(text)
        self = try parser.parseSignature()
    }

    /// The parameter types in order.
    public var types: [ABIType] { parameters.map(\.type) }

    /// The canonical signature used for selectors and topic0: `name(type1,type2)` with no names or spaces.
    public var canonical: String { (name ?? "") + ABIType.tuple(types).canonical }

    /// The canonical signature.
    public var description: String { canonical }
}
