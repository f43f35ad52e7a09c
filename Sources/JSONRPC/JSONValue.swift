/// A JSON value: request parameters, and the results the client does not decode on a hot path.
/// Objects keep their member order; numbers keep their exact text.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    /// A number, as its JSON text (never rounded).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in order.
    case object([(String, JSONValue)])

    /// An integer number.
    public static func int(_ v: Int) -> JSONValue { .number(String(v)) }

    /// The member named `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// Compact JSON text.
    public var description: String { String(decoding: encoded(), as: UTF8.self) }

    /// Compact JSON bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Appends compact JSON to `out`.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .number(n): out.append(contentsOf: n.utf8)
        case let .string(s): JSONValue.encodeString(s, into: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.encode(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.encodeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                v.encode(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends a JSON string literal with the escapes RFC 8259 requires.
    public static func encodeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses one JSON document (strict; depth-limited).
    public static func parse(_ bytes: [UInt8]) throws(RPCError) -> JSONValue {
        try withScanner(bytes) { (s) throws(RPCError) -> JSONValue in
            let v = try s.value()
            try s.expectEnd()
            return v
        }
    }

    /// Structural equality (member order matters; numbers compare by text).
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

extension JSONScanner {
    /// Any value, as a `JSONValue`.
    mutating func value() throws(RPCError) -> JSONValue {
        guard let c = peek() else { throw fail("unexpected end of body, expected a value") }
        switch c {
        case UInt8(ascii: "{"):
            try beginObject()
            var members: [(String, JSONValue)] = []
            var first = true
            while let k = try nextKey(&first) {
                let name = keyString(k)
                members.append((name, try value()))
            }
            return .object(members)
        case UInt8(ascii: "["):
            try beginArray()
            var items: [JSONValue] = []
            var first = true
            while try nextElement(&first) { items.append(try value()) }
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try bool(field: "value"))
        case UInt8(ascii: "n"):
            guard consumeNull() else { throw fail("invalid literal") }
            return .null
        default:
            return .number(text(try numberSpan(), limit: Int.max))
        }
    }

    /// A key's text, unescaped (keys are already validated by `stringSpan`).
    func keyString(_ span: JSONSpan) -> String {
        var copy = self
        copy.pos = span.start - 1
        return (try? copy.string()) ?? text(span, limit: Int.max)
    }

    func text(_ span: JSONSpan, limit: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: base + span.start, count: min(span.count, limit)), as: UTF8.self)
    }
}
