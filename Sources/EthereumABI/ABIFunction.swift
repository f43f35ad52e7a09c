import EthereumCore

/// A contract function: its name, inputs and outputs. Calldata is the 4-byte selector
/// (first 4 bytes of keccak256 of the canonical signature, Solidity ABI spec "Function Selector")
/// followed by the encoded inputs.
public struct ABIFunction: Hashable, Sendable {
    /// The function name.
    public let name: String
    /// The input parameters.
    public let inputs: [ABIParameter]
    /// The output parameters (empty when unknown, e.g. parsed from a signature).
    public let outputs: [ABIParameter]
    /// `pure`, `view`, `nonpayable` or `payable` (JSON-ABI `stateMutability`; `nonpayable` by default).
    public let stateMutability: String
    /// The canonical signature, e.g. `transfer(address,uint256)`.
    public let signature: String
    /// The 4-byte selector.
    public let selector: [UInt8]
    let inputNodes: [ABINode]
    let outputNodes: [ABINode]

    /// A function from its parts; the types are validated.
    public init(name: String, inputs: [ABIParameter], outputs: [ABIParameter] = [], stateMutability: String = "nonpayable") throws(ABIError) {
        inputNodes = try ABINode.compile(inputs.map(\.type))
        outputNodes = try ABINode.compile(outputs.map(\.type))
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.stateMutability = stateMutability
        signature = name + ABIType.tuple(inputs.map(\.type)).canonical
        selector = ABIFunction.selector(of: signature)
    }

    /// A function from a signature such as `transfer(address to,uint256 amount)`.
    public init(signature text: String) throws(ABIError) {
        let sig = try ABISignature(parsing: text)
        guard let name = sig.name else {
            throw .invalidType(text: text, reason: "a function signature needs a name", offset: 0)
        }
        if let p = sig.parameters.first(where: \.indexed) {
            throw .invalidType(text: text, reason: "\"indexed\" parameter \(p) in a function signature", offset: 0)
        }
        try self.init(name: name, inputs: sig.parameters)
    }

    /// The first 4 bytes of keccak256(`canonicalSignature`).
    public static func selector(of canonicalSignature: String) -> [UInt8] {
        Array(Keccak256.hash(text: canonicalSignature).bytes.prefix(4))
    }

    /// The selector as `0x` + 8 hex digits.
    public var selectorHex: String { Hex.encode(selector) }

    /// Calldata: selector + `enc(inputs)`.
    public func encodeCall(_ arguments: [ABIValue]) throws(ABIError) -> [UInt8] {
        try ABIEncoder.encode(arguments, nodes: inputNodes, prefix: selector)
    }

    /// Decodes calldata: checks and skips the selector, then decodes the inputs (error offsets count from
    /// the start of the calldata, selector included).
    public func decodeCall(_ calldata: [UInt8], limits: ABIDecoder.Limits = .default) throws(ABIError) -> [ABIValue] {
        guard calldata.count >= 4 else {
            throw .truncated(type: "selector", offset: 0, needed: 4, available: calldata.count)
        }
        guard Array(calldata.prefix(4)) == selector else {
            throw .selectorMismatch(expected: selectorHex, found: Hex.encode(calldata.prefix(4)))
        }
        return try ABIDecoder.decode(inputNodes, from: calldata, reportingOffsetsFrom: 4, limits: limits)
    }

    /// Same name, inputs, outputs and state mutability.
    public static func == (a: ABIFunction, b: ABIFunction) -> Bool {
        a.name == b.name && a.inputs == b.inputs && a.outputs == b.outputs && a.stateMutability == b.stateMutability
    }

    /// Hashes the canonical signature and the outputs.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(signature)
        hasher.combine(outputs)
    }

    /// Decodes return data as the outputs.
    public func decodeOutput(_ data: [UInt8], limits: ABIDecoder.Limits = .default) throws(ABIError) -> [ABIValue] {
        try ABIDecoder.decode(outputNodes, from: data, limits: limits)
    }
}

/// A custom error (`error Unauthorized(address caller)`): revert data is its selector and encoded inputs.
public struct ABICustomError: Hashable, Sendable {
    /// The error name.
    public let name: String
    /// Its parameters.
    public let inputs: [ABIParameter]
    /// The canonical signature, e.g. `Unauthorized(address)`.
    public let signature: String
    /// The 4-byte selector.
    public let selector: [UInt8]

    /// An error from its parts; the types are validated.
    public init(name: String, inputs: [ABIParameter]) throws(ABIError) {
        for p in inputs { try p.type.validate() }
        self.name = name
        self.inputs = inputs
        signature = name + ABIType.tuple(inputs.map(\.type)).canonical
        selector = ABIFunction.selector(of: signature)
    }

    /// Decodes revert data (selector checked and skipped).
    public func decode(_ revertData: [UInt8], limits: ABIDecoder.Limits = .default) throws(ABIError) -> [ABIValue] {
        try ABIFunction(name: name, inputs: inputs).decodeCall(revertData, limits: limits)
    }
}
