import EthereumCore

/// A contract's JSON-ABI (Solidity ABI spec, "JSON"): its functions, events, custom errors and
/// constructor, with `tuple` types built from `components` and `indexed` flags kept.
public struct ABIContract: Sendable {
    /// Functions in file order (overloads keep their order).
    public let functions: [ABIFunction]
    /// Events in file order.
    public let events: [ABIEvent]
    /// Custom errors in file order.
    public let errors: [ABICustomError]
    /// The constructor's inputs (nil when the ABI declares none).
    public let constructorInputs: [ABIParameter]?
    /// True when the ABI declares a `fallback` function.
    public let hasFallback: Bool
    /// True when the ABI declares a `receive` function.
    public let hasReceive: Bool

    /// Parses a JSON-ABI document: a JSON array of entries (`{"type":"function",…}` …); entries without a
    /// `type` are functions. Errors name the entry index and field.
    public init(json text: String) throws(ABIError) {
        let json = try JSONText.parse(text)
        guard case let .array(entries) = json else {
            throw .invalidJSON(at: "", reason: "a JSON-ABI must be an array of entries, got \(json.kind)")
        }
        var functions: [ABIFunction] = [], events: [ABIEvent] = [], errors: [ABICustomError] = []
        var constructorInputs: [ABIParameter]?
        var hasFallback = false, hasReceive = false
        for (i, entry) in entries.enumerated() {
            let at = "entry \(i)"
            guard case .object = entry else { throw .invalidJSON(at: at, reason: "expected an object, got \(entry.kind)") }
            let kind = try ABIContract.string(entry, "type", at: at, default: "function")
            switch kind {
            case "function":
                let name = try ABIContract.string(entry, "name", at: at)
                let inputs = try ABIContract.parameters(entry, "inputs", at: at)
                let outputs = try ABIContract.parameters(entry, "outputs", at: at)
                let mutability = try ABIContract.string(entry, "stateMutability", at: at, default: "nonpayable")
                functions.append(try ABIFunction(name: name, inputs: inputs, outputs: outputs, stateMutability: mutability))
            case "event":
                let name = try ABIContract.string(entry, "name", at: at)
                let inputs = try ABIContract.parameters(entry, "inputs", at: at)
                var anonymous = false
                if let a = entry["anonymous"] {
                    guard case let .bool(b) = a else { throw .invalidJSON(at: at + ".anonymous", reason: "expected a boolean, got \(a.kind)") }
                    anonymous = b
                }
                events.append(try ABIEvent(name: name, parameters: inputs, anonymous: anonymous))
            case "error":
                errors.append(try ABICustomError(name: try ABIContract.string(entry, "name", at: at),
                                                 inputs: try ABIContract.parameters(entry, "inputs", at: at)))
            case "constructor":
                constructorInputs = try ABIContract.parameters(entry, "inputs", at: at)
            case "fallback": hasFallback = true
            case "receive": hasReceive = true
            default:
                throw .invalidJSON(at: at + ".type", reason: "unknown entry type \"\(ABIError.clip(kind))\"")
            }
        }
        self.functions = functions
        self.events = events
        self.errors = errors
        self.constructorInputs = constructorInputs
        self.hasFallback = hasFallback
        self.hasReceive = hasReceive
    }

    /// The functions named `name` (several when overloaded).
    public func functions(named name: String) -> [ABIFunction] { functions.filter { $0.name == name } }
    /// The first function named `name`.
    public func function(named name: String) -> ABIFunction? { functions.first { $0.name == name } }
    /// The first event named `name`.
    public func event(named name: String) -> ABIEvent? { events.first { $0.name == name } }
    /// The event whose topic0 is `topic0` (non-anonymous events only).
    public func event(topic0: Bytes32) -> ABIEvent? { events.first { !$0.anonymous && $0.topic0 == topic0 } }
    /// The first custom error named `name`.
    public func error(named name: String) -> ABICustomError? { errors.first { $0.name == name } }

    static func string(_ entry: JSONText, _ key: String, at: String, default fallback: String? = nil) throws(ABIError) -> String {
        guard let v = entry[key] else {
            if let fallback { return fallback }
            throw .invalidJSON(at: at, reason: "missing \"\(key)\"")
        }
        guard case let .string(s) = v else { throw .invalidJSON(at: at + "." + key, reason: "expected a string, got \(v.kind)") }
        return s
    }

    static func parameters(_ entry: JSONText, _ key: String, at: String, depth: Int = 0) throws(ABIError) -> [ABIParameter] {
        guard let v = entry[key] else { return [] }
        guard case let .array(items) = v else { throw .invalidJSON(at: at + "." + key, reason: "expected an array, got \(v.kind)") }
        var out: [ABIParameter] = []
        for (i, item) in items.enumerated() {
            out.append(try parameter(item, at: at + ".\(key)[\(i)]", depth: depth))
        }
        return out
    }

    static func parameter(_ item: JSONText, at: String, depth: Int) throws(ABIError) -> ABIParameter {
        guard case .object = item else { throw .invalidJSON(at: at, reason: "expected an object, got \(item.kind)") }
        guard depth <= ABIType.maxDepth else { throw .invalidJSON(at: at, reason: "components nested deeper than \(ABIType.maxDepth)") }
        let name = try string(item, "name", at: at, default: "")
        let typeText = try string(item, "type", at: at)
        var indexed = false
        if let v = item["indexed"] {
            guard case let .bool(b) = v else { throw .invalidJSON(at: at + ".indexed", reason: "expected a boolean, got \(v.kind)") }
            indexed = b
        }
        var components: [ABIParameter] = []
        let type: ABIType
        if typeText.hasPrefix("tuple") {
            components = try parameters(item, "components", at: at, depth: depth + 1)
            guard !components.isEmpty else { throw .invalidJSON(at: at + ".components", reason: "a tuple needs components") }
            let suffix = typeText.dropFirst("tuple".count)
            guard suffix.isEmpty || suffix.hasPrefix("[") else { throw .invalidJSON(at: at + ".type", reason: "invalid type \"\(ABIError.clip(typeText))\"") }
            type = try ABIType(parsing: ABIType.tuple(components.map(\.type)).canonical + suffix)
        } else {
            type = try ABIType(parsing: typeText)
        }
        return ABIParameter(name: name, type: type, indexed: indexed, components: components)
    }
}
