import EthereumCore

/// An event: its signature, topic0 and the split of its parameters between topics (`indexed`) and data
/// (Solidity ABI spec, "Events"). It refuses a log whose topic0 or topic count does not match.
public struct ABIEvent: Hashable, Sendable {
    /// The event name.
    public let name: String
    /// All parameters in declaration order.
    public let parameters: [ABIParameter]
    /// True for an `anonymous` event (no topic0).
    public let anonymous: Bool
    /// The canonical signature, e.g. `Transfer(address,address,uint256)`.
    public let signature: String
    /// keccak256 of the canonical signature (topic0 of a non-anonymous event).
    public let topic0: Bytes32
    /// The number of topics a matching log has.
    public let topicCount: Int
    let dataNodes: [ABINode]
    /// Where each parameter's value comes from.
    enum Slot: Sendable {
        /// An indexed elementary value: its kind and topic index.
        case topic(ABINode.Kind, Int)
        /// An indexed hashed value (bytes, string, array, tuple): its topic index.
        case hashed(Int)
        /// A data value: its index among the decoded data values.
        case data(Int)
    }
    let slots: [Slot]
    /// When every data parameter is elementary: their kinds (the fast path for the common log shape).
    let dataKinds: [ABINode.Kind]?
    let keys: [String]

    /// An event from its parts; types are validated and at most 3 parameters (4 when anonymous) may be indexed.
    public init(name: String, parameters: [ABIParameter], anonymous: Bool = false) throws(ABIError) {
        for p in parameters { try p.type.validate() }
        let indexed = parameters.filter(\.indexed).count
        let maxIndexed = anonymous ? 4 : 3
        guard indexed <= maxIndexed else {
            throw .invalidType(text: name, reason: "\(indexed) indexed parameters (at most \(maxIndexed))", offset: 0)
        }
        self.name = name
        self.parameters = parameters
        self.anonymous = anonymous
        signature = name + ABIType.tuple(parameters.map(\.type)).canonical
        topic0 = Keccak256.hash(text: signature)
        topicCount = (anonymous ? 0 : 1) + indexed
        dataNodes = try ABINode.compile(parameters.filter { !$0.indexed }.map(\.type))
        var topicIndex = anonymous ? 0 : 1, dataIndex = 0
        slots = parameters.map { p in
            defer { if p.indexed { topicIndex += 1 } else { dataIndex += 1 } }
            if !p.indexed { return .data(dataIndex) }
            return p.type.isElementary ? .topic(ABINode(p.type).kind, topicIndex) : .hashed(topicIndex)
        }
        dataKinds = dataNodes.allSatisfy(\.isElementary) ? dataNodes.map(\.kind) : nil
        keys = parameters.enumerated().map { i, p in p.name.isEmpty ? "arg\(i)" : p.name }
    }

    /// Same name, parameters (names, types, `indexed`) and anonymity.
    public static func == (a: ABIEvent, b: ABIEvent) -> Bool {
        a.name == b.name && a.parameters == b.parameters && a.anonymous == b.anonymous
    }

    /// Hashes the canonical signature and anonymity.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(signature)
        hasher.combine(anonymous)
    }

    /// An event from a signature such as `Transfer(address indexed from,address indexed to,uint256 value)`.
    public init(signature text: String, anonymous: Bool = false) throws(ABIError) {
        let sig = try ABISignature(parsing: text)
        guard let name = sig.name else { throw .invalidType(text: text, reason: "an event signature needs a name", offset: 0) }
        try self.init(name: name, parameters: sig.parameters, anonymous: anonymous)
    }

    /// The key under which `decode` returns parameter `index`: its name, or `arg<index>` when unnamed.
    public func key(ofParameter index: Int) -> String {
        keys[index]
    }

    /// Decodes a log into (name, value) pairs in declaration order. Indexed elementary values are decoded
    /// from their topic (and checked like data words); indexed `bytes`, `string`, arrays and tuples are
    /// returned as their 32-byte topic hash (`.fixedBytes(topic, count: 32)`). Error offsets refer to `data`.
    public func decode(topics: [Bytes32], data: [UInt8], limits: ABIDecoder.Limits = .default) throws(ABIError) -> [(name: String, value: ABIValue)] {
        guard topics.count == topicCount else {
            throw .logMismatch(event: signature, reason: "expected \(topicCount) topics, got \(topics.count)")
        }
        if !anonymous {
            guard topics[0] == topic0 else {
                throw .logMismatch(event: signature, reason: "topic0 is \(topics[0].hexString), expected \(topic0.hexString)")
            }
        }
        // Fast path: only elementary data words and exactly that many bytes (anything else takes the general
        // decoder, which reports the precise error).
        if let kinds = dataKinds, data.count == 32 * kinds.count {
            let result = data.withUnsafeBytes { raw -> Result<[(name: String, value: ABIValue)], ABIError> in
                do throws(ABIError) {
                    return .success(try assemble(topics) { (d: Int) throws(ABIError) -> ABIValue in
                        try ABIDecoder.Reader.elementary(kinds[d], Bytes32(loadingFrom: raw, at: 32 * d), offset: 32 * d, type: dataNodes[d].type)
                    })
                } catch {
                    return .failure(error)
                }
            }
            return try result.get()
        }
        let dataValues = try ABIDecoder.decode(dataNodes, from: data, limits: limits)
        return try assemble(topics) { (d: Int) throws(ABIError) -> ABIValue in dataValues[d] }
    }

    /// Builds the (name, value) list from the topics and a source of data values by data index.
    @inline(__always)
    private func assemble(_ topics: [Bytes32], data: (Int) throws(ABIError) -> ABIValue) throws(ABIError) -> [(name: String, value: ABIValue)] {
        var out: [(name: String, value: ABIValue)] = []
        out.reserveCapacity(slots.count)
        for i in 0..<slots.count {
            let value: ABIValue
            switch slots[i] {
            case let .topic(kind, t):
                do throws(ABIError) {
                    value = try ABIDecoder.Reader.elementary(kind, topics[t], offset: 0, type: parameters[i].type)
                } catch {
                    throw .logMismatch(event: signature, reason: "topic \(t) (\(keys[i])): \(error)")
                }
            case let .hashed(t):
                value = .fixedBytes(topics[t], count: 32)
            case let .data(d):
                value = try data(d)
            }
            out.append((keys[i], value))
        }
        return out
    }

    /// Encodes a log for `values` (one per parameter, in order): its topics and data.
    public func encodeLog(_ values: [ABIValue]) throws(ABIError) -> (topics: [Bytes32], data: [UInt8]) {
        guard values.count == parameters.count else {
            throw .valueMismatch(path: "", type: signature, reason: "expected \(parameters.count) values, got \(values.count)")
        }
        var topics: [Bytes32] = anonymous ? [] : [topic0]
        var dataValues: [ABIValue] = []
        for (i, (p, v)) in zip(parameters, values).enumerated() {
            if p.indexed {
                topics.append(try ABIError.at(i) { () throws(ABIError) in try ABIEvent.topic(for: v, type: p.type) })
            } else {
                dataValues.append(v)
            }
        }
        return (topics, try ABIEncoder.encode(dataValues, nodes: dataNodes))
    }

    /// The topic of an indexed parameter: the 32-byte word of an elementary value; keccak256 of the
    /// contents of `bytes`/`string`; keccak256 of the in-place encoding of arrays and tuples (elements
    /// padded to 32 bytes, no lengths, no offsets) — Solidity ABI spec, "Encoding of Indexed Event Parameters".
    public static func topic(for value: ABIValue, type: ABIType) throws(ABIError) -> Bytes32 {
        let node = try ABINode.compile([type])[0]
        if type.isElementary {
            let bytes = try ABIEncoder.encode([value], nodes: [node])
            return Bytes32(loadingFromArray: bytes)
        }
        _ = try ABIEncoder.encode([value], nodes: [node])  // checks the value against its type
        switch value {
        case let .bytes(b): return Keccak256.hash(b)
        case let .string(s): return Keccak256.hash(text: s)
        default:
            var out: [UInt8] = []
            appendInPlace(value, to: &out)
            return Keccak256.hash(out)
        }
    }

    static func appendInPlace(_ value: ABIValue, to out: inout [UInt8]) {
        func pad(_ b: [UInt8]) { out.append(contentsOf: b); out.append(contentsOf: repeatElement(0, count: (32 - b.count % 32) % 32)) }
        switch value {
        case let .uint(v): out.append(contentsOf: v.word.bytes)
        case let .int(v): out.append(contentsOf: v.bitPattern.word.bytes)
        case let .address(a): out.append(contentsOf: a.word.bytes)
        case let .bool(b): out.append(contentsOf: (b ? UInt256.one : .zero).word.bytes)
        case let .fixedBytes(w, _): out.append(contentsOf: w.bytes)
        case let .bytes(b): pad(b)
        case let .string(s): pad(Array(s.utf8))
        case let .array(items), let .tuple(items): for v in items { appendInPlace(v, to: &out) }
        }
    }
}

extension Bytes32 {
    /// The first 32 bytes of an array of at least 32 bytes.
    init(loadingFromArray bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { Bytes32(loadingFrom: $0, at: 0) }
    }

}
