import EthereumCore

extension ABIValue {
    /// The canonical JSON text of this value, the form `expansion-keeper abi decode` and `logs` print:
    /// integers as decimal strings (negative with `-`), addresses EIP-55 checksummed, `bytesN`/`bytes` as
    /// lowercase `0x` hex, bools as JSON booleans, strings as JSON strings, arrays and tuples as arrays.
    public var canonicalJSON: String {
        var out = ""
        appendCanonicalJSON(to: &out)
        return out
    }

    /// Appends `canonicalJSON` to `out` (no whitespace).
    public func appendCanonicalJSON(to out: inout String) {
        switch self {
        case let .uint(v): out += "\"" + v.decimalString + "\""
        case let .int(v): out += "\"" + v.decimalString + "\""
        case let .address(a): out += "\"" + a.checksummed + "\""
        case let .bool(b): out += b ? "true" : "false"
        case let .fixedBytes(word, count): out += "\"" + Hex.encode(word.bytes.prefix(max(0, min(count, 32)))) + "\""
        case let .bytes(b): out += "\"" + Hex.encode(b) + "\""
        case let .string(s): JSONWriter.appendString(s, to: &out)
        case let .array(items), let .tuple(items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.appendCanonicalJSON(to: &out)
            }
            out += "]"
        }
    }

    /// The canonical JSON array of a value list (one element per parameter).
    public static func canonicalJSON(_ values: [ABIValue]) -> String {
        ABIValue.tuple(ABIList(values)).canonicalJSON
    }

    /// The canonical JSON object of named values (as `Event.decode` returns them), in order.
    public static func canonicalJSON(_ named: [(name: String, value: ABIValue)]) -> String {
        var out = "{"
        for (i, item) in named.enumerated() {
            if i > 0 { out += "," }
            JSONWriter.appendString(item.name, to: &out)
            out += ":"
            item.value.appendCanonicalJSON(to: &out)
        }
        return out + "}"
    }

    /// Parses a JSON array of arguments, one element per type, by the `abi encode` rules: integers as JSON
    /// numbers, decimal strings or `0x` hex strings (negative decimals for `int<M>`); `address`, `bytes<M>`
    /// (exactly M bytes) and `bytes` as `0x` hex; `bool` as `true`/`false`; `string` as a JSON string;
    /// arrays and tuples as JSON arrays. Values are range-checked against their types.
    public static func parseJSONArguments(_ text: String, types: [ABIType]) throws(ABIError) -> [ABIValue] {
        for t in types { try t.validate() }
        let json = try JSONText.parse(text)
        guard case let .array(items) = json else {
            throw .invalidJSON(at: "arguments", reason: "expected a JSON array with one element per parameter, got \(json.kind)")
        }
        guard items.count == types.count else {
            throw .invalidJSON(at: "arguments", reason: "expected \(types.count) arguments, got \(items.count)")
        }
        var values: [ABIValue] = []
        values.reserveCapacity(items.count)
        for (i, (item, type)) in zip(items, types).enumerated() {
            values.append(try fromJSON(item, type: type, path: "[\(i)]"))
        }
        return values
    }

    /// Parses one JSON value for `type` by the `parseJSONArguments` rules.
    public static func parseJSON(_ text: String, type: ABIType) throws(ABIError) -> ABIValue {
        try type.validate()
        return try fromJSON(try JSONText.parse(text), type: type, path: "")
    }

    static func fromJSON(_ json: JSONText, type: ABIType, path: String) throws(ABIError) -> ABIValue {
        func mismatch(_ reason: String) -> ABIError { .valueMismatch(path: path, type: type.canonical, reason: reason) }
        func text() throws(ABIError) -> String {
            guard case let .string(s) = json else { throw mismatch("expected a 0x hex string, got \(json.kind)") }
            return s
        }
        func hexBytes() throws(ABIError) -> [UInt8] {
            let s = try text()
            do { return try Hex.decode(s) } catch { throw mismatch("\(error)") }
        }
        func integerText() throws(ABIError) -> String {
            switch json {
            case let .number(n):
                guard n.utf8.allSatisfy({ $0 == 0x2d || ($0 >= 0x30 && $0 <= 0x39) }) else {
                    throw mismatch("\(ABIError.clip(n)) is not an integer")
                }
                return n
            case let .string(s):
                guard !s.isEmpty else { throw mismatch("empty string is not an integer") }
                return s
            default: throw mismatch("expected an integer (number, decimal string or 0x hex string), got \(json.kind)")
            }
        }
        switch type {
        case let .uint(bits):
            let t = try integerText()
            let v: UInt256
            do { v = try UInt256(parsing: t) } catch { throw mismatch("\(error)") }
            guard v.bitWidthUsed <= bits else { throw mismatch("\(ABIError.clip(t)) does not fit in \(bits) bits") }
            return .uint(v)
        case let .int(bits):
            let t = try integerText()
            let v: Int256
            do { v = try Int256(parsing: t) } catch { throw mismatch("\(error)") }
            guard ABICodecSupport.fitsSigned(v, bits: bits) else { throw mismatch("\(ABIError.clip(t)) does not fit in int\(bits)") }
            return .int(v)
        case .address:
            let s = try text()
            do { return .address(try Address(s)) } catch { throw mismatch("\(error)") }
        case .bool:
            guard case let .bool(b) = json else { throw mismatch("expected true or false, got \(json.kind)") }
            return .bool(b)
        case let .fixedBytes(n):
            let b = try hexBytes()
            guard b.count == n, let v = ABIValue.fixedBytes(b) else { throw mismatch("expected exactly \(n) bytes, got \(b.count)") }
            return v
        case .bytes:
            return .bytes(try hexBytes())
        case .string:
            guard case let .string(s) = json else { throw mismatch("expected a JSON string, got \(json.kind)") }
            return .string(s)
        case let .fixedArray(t, n):
            guard case let .array(items) = json else { throw mismatch("expected a JSON array, got \(json.kind)") }
            guard items.count == n else { throw mismatch("expected \(n) elements, got \(items.count)") }
            return .array(ABIList(try elements(items, type: t, path: path)))
        case let .array(t):
            guard case let .array(items) = json else { throw mismatch("expected a JSON array, got \(json.kind)") }
            return .array(ABIList(try elements(items, type: t, path: path)))
        case let .tuple(ts):
            guard case let .array(items) = json else { throw mismatch("expected a JSON array for the tuple, got \(json.kind)") }
            guard items.count == ts.count else { throw mismatch("expected \(ts.count) tuple components, got \(items.count)") }
            var out: [ABIValue] = []
            out.reserveCapacity(ts.count)
            for (i, (item, t)) in zip(items, ts).enumerated() {
                out.append(try fromJSON(item, type: t, path: path + "[\(i)]"))
            }
            return .tuple(ABIList(out))
        }
    }

    static func elements(_ items: [JSONText], type: ABIType, path: String) throws(ABIError) -> [ABIValue] {
        var out: [ABIValue] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { out.append(try fromJSON(item, type: type, path: path + "[\(i)]")) }
        return out
    }
}
