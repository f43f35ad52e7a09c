import EthereumCore

/// A minimal, strict JSON reader (RFC 8259) for argument lists and JSON-ABI files. Numbers keep their
/// source text so 256-bit integers survive exactly; nesting and size are bounded. Internal to the module.
enum JSONText: Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written.
    case number(String)
    case string(String)
    case array([JSONText])
    /// Members in source order (duplicate keys are rejected).
    case object([(key: String, value: JSONText)])

    static func == (a: JSONText, b: JSONText) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)), let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The member named `key` of an object.
    subscript(key: String) -> JSONText? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// A short name of the kind of value, for error messages.
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    static let maxDepth = 64
    static let maxBytes = 64 << 20

    /// Parses one JSON value spanning all of `text` (surrounding whitespace allowed).
    static func parse(_ text: String) throws(ABIError) -> JSONText {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else { throw .invalidJSON(at: "", reason: "text longer than \(maxBytes) bytes") }
        var reader = Reader(bytes: bytes)
        reader.skipSpaces()
        let value = try reader.value(depth: 0)
        reader.skipSpaces()
        guard reader.pos == bytes.count else { throw reader.fail("unexpected text after the value") }
        return value
    }

    struct Reader {
        let bytes: [UInt8]
        var pos = 0

        func fail(_ reason: String) -> ABIError { .invalidJSON(at: "character \(pos)", reason: reason) }

        var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

        mutating func skipSpaces() {
            while let c = current, c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { pos += 1 }
        }

        mutating func literal(_ word: String, _ value: JSONText) throws(ABIError) -> JSONText {
            let w = Array(word.utf8)
            guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { throw fail("invalid literal") }
            pos += w.count
            return value
        }

        mutating func value(depth: Int) throws(ABIError) -> JSONText {
            guard depth <= JSONText.maxDepth else { throw fail("nesting deeper than \(JSONText.maxDepth)") }
            guard let c = current else { throw fail("unexpected end of text") }
            switch c {
            case 0x6e: return try literal("null", .null)
            case 0x74: return try literal("true", .bool(true))
            case 0x66: return try literal("false", .bool(false))
            case 0x22: return .string(try string())
            case 0x5b:
                pos += 1
                var items: [JSONText] = []
                skipSpaces()
                if current == 0x5d { pos += 1; return .array(items) }
                while true {
                    skipSpaces()
                    items.append(try value(depth: depth + 1))
                    skipSpaces()
                    if current == 0x2c { pos += 1; continue }
                    guard current == 0x5d else { throw fail("expected ',' or ']'") }
                    pos += 1
                    return .array(items)
                }
            case 0x7b:
                pos += 1
                var members: [(key: String, value: JSONText)] = []
                skipSpaces()
                if current == 0x7d { pos += 1; return .object(members) }
                while true {
                    skipSpaces()
                    guard current == 0x22 else { throw fail("expected a member name") }
                    let key = try string()
                    guard !members.contains(where: { $0.key == key }) else { throw fail("duplicate key \"\(ABIError.clip(key))\"") }
                    skipSpaces()
                    guard current == 0x3a else { throw fail("expected ':'") }
                    pos += 1
                    skipSpaces()
                    members.append((key, try value(depth: depth + 1)))
                    skipSpaces()
                    if current == 0x2c { pos += 1; continue }
                    guard current == 0x7d else { throw fail("expected ',' or '}'") }
                    pos += 1
                    return .object(members)
                }
            case 0x2d, 0x30...0x39: return .number(try number())
            default: throw fail("unexpected character")
            }
        }

        mutating func number() throws(ABIError) -> String {
            let start = pos
            func digits(_ r: inout Reader) -> Int {
                let s = r.pos
                while let c = r.current, c >= 0x30 && c <= 0x39 { r.pos += 1 }
                return r.pos - s
            }
            if current == 0x2d { pos += 1 }
            let intStart = pos
            let n = digits(&self)
            guard n > 0 else { throw fail("invalid number") }
            guard bytes[intStart] != 0x30 || n == 1 else { throw fail("number with a leading zero") }
            if current == 0x2e {
                pos += 1
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            if current == 0x65 || current == 0x45 {
                pos += 1
                if current == 0x2b || current == 0x2d { pos += 1 }
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            return String(decoding: bytes[start..<pos], as: UTF8.self)
        }

        mutating func hex4() throws(ABIError) -> UInt32 {
            guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | d
                pos += 1
            }
            return v
        }

        mutating func string() throws(ABIError) -> String {
            pos += 1  // opening quote
            var out: [UInt8] = []
            while true {
                guard let c = current else { throw fail("unterminated string") }
                pos += 1
                switch c {
                case 0x22:
                    guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
                    return s
                case 0x5c:
                    guard let e = current else { throw fail("unterminated string") }
                    pos += 1
                    switch e {
                    case 0x22, 0x5c, 0x2f: out.append(e)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0c)
                    case 0x6e: out.append(0x0a)
                    case 0x72: out.append(0x0d)
                    case 0x74: out.append(0x09)
                    case 0x75:
                        var scalar = try hex4()
                        if scalar >= 0xd800 && scalar < 0xdc00 {
                            guard current == 0x5c, pos + 1 < bytes.count, bytes[pos + 1] == 0x75 else { throw fail("unpaired surrogate") }
                            pos += 2
                            let low = try hex4()
                            guard low >= 0xdc00 && low < 0xe000 else { throw fail("unpaired surrogate") }
                            scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("unpaired surrogate") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw fail("invalid escape")
                    }
                default:
                    guard c >= 0x20 else { throw fail("unescaped control character in string") }
                    out.append(c)
                }
            }
        }
    }
}

/// Writing JSON strings.
enum JSONWriter {
    /// Appends `text` as a quoted JSON string: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control
    /// characters as `\u00xx`; everything else (including non-ASCII) as UTF-8.
    static func appendString(_ text: String, to out: inout String) { JSONString.append(text, to: &out) }
}
