import EthereumCore

/// A byte span of the buffer a `JSONScanner` reads (a string's contents without quotes, or a number).
struct JSONSpan {
    let start: Int
    let count: Int
}

/// A strict, allocation-free pull parser over UTF-8 JSON bytes (RFC 8259), used for every response.
/// It never reads out of bounds, limits nesting depth, and reports errors as `RPCError.decoding`
/// naming the byte offset. Typed decoders walk objects key by key and decode hex in place.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos: Int
    var depth = 0
    /// The whole body, for the `bodyPrefix` of errors.
    let body: UnsafeBufferPointer<UInt8>
    static let maxDepth = 64
    nonisolated(unsafe) private static let empty: UnsafeMutablePointer<UInt8> = .allocate(capacity: 1)

    init(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int = 0, to end: Int? = nil) {
        self.base = buffer.baseAddress.map { UnsafePointer($0) } ?? UnsafePointer(Self.empty)
        self.end = end ?? buffer.count
        self.pos = start
        self.body = buffer
    }

    // MARK: errors

    func fail(_ reason: String) -> RPCError {
        .decoding(reason: "\(reason) at byte \(pos)", bodyPrefix: RPCError.prefix(of: Array(body.prefix(121))))
    }

    func fail(field: String, _ what: String) -> RPCError {
        fail("field \"\(field)\": \(what)")
    }

    // MARK: structure

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }

    /// The next non-whitespace byte, not consumed; nil at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return pos < end ? base[pos] : nil
    }

    @inline(__always)
    mutating func expect(_ c: UInt8, _ what: String) throws(RPCError) {
        skipWhitespace()
        guard pos < end else { throw fail("unexpected end of body, expected \(what)") }
        guard base[pos] == c else { throw fail("expected \(what), found \(Self.describe(base[pos]))") }
        pos += 1
    }

    /// Requires only whitespace to remain.
    mutating func expectEnd() throws(RPCError) {
        skipWhitespace()
        if pos < end { throw fail("trailing bytes after the JSON value") }
    }

    /// The two containers: their brackets and how errors name them.
    struct Container {
        let open: UInt8, close: UInt8
        let opening: String, separator: String, inside: String
        static let object = Container(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), opening: "'{'", separator: "',' or '}'", inside: "an object")
        static let array = Container(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), opening: "'['", separator: "',' or ']'", inside: "an array")
    }

    /// Consumes the opening bracket of `container` and enters it (bounded by `maxDepth`).
    @inline(__always)
    mutating func begin(_ container: Container) throws(RPCError) {
        try expect(container.open, container.opening)
        depth += 1
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth)") }
    }

    /// True when another member of `container` follows (the `,` before it consumed); false after the closing bracket.
    @inline(__always)
    mutating func another(in container: Container, _ first: inout Bool) throws(RPCError) -> Bool {
        skipWhitespace()
        guard pos < end else { throw fail("unexpected end of body inside \(container.inside)") }
        if base[pos] == container.close {
            pos += 1; depth -= 1
            return false
        }
        if !first {
            guard base[pos] == UInt8(ascii: ",") else { throw fail("expected \(container.separator), found \(Self.describe(base[pos]))") }
            pos += 1
        }
        first = false
        return true
    }

    mutating func beginObject() throws(RPCError) { try begin(.object) }

    /// The next key of the current object (its `:` consumed), or nil after the closing `}`.
    mutating func nextKey(_ first: inout Bool) throws(RPCError) -> JSONSpan? {
        guard try another(in: .object, &first) else { return nil }
        skipWhitespace()
        guard pos < end, base[pos] == UInt8(ascii: "\"") else { throw fail("expected an object key") }
        let key = try stringSpan()
        try expect(UInt8(ascii: ":"), "':'")
        return key
    }

    mutating func beginArray() throws(RPCError) { try begin(.array) }

    /// True when another element follows (its `,` consumed); false after the closing `]`.
    mutating func nextElement(_ first: inout Bool) throws(RPCError) -> Bool {
        try another(in: .array, &first)
    }

    /// Compares a key span with an ASCII literal.
    @inline(__always)
    func key(_ span: JSONSpan, is literal: StaticString) -> Bool {
        guard span.count == literal.utf8CodeUnitCount else { return false }
        return memcmpEqual(base + span.start, literal.utf8Start, span.count)
    }

    @inline(__always)
    func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// The raw text of a key, for error messages.
    func text(_ span: JSONSpan) -> String {
        String(decoding: UnsafeBufferPointer(start: base + span.start, count: min(span.count, 80)), as: UTF8.self)
    }

    // MARK: scalars

    /// A string's raw contents (escapes validated but not decoded). The opening quote must be next.
    mutating func stringSpan() throws(RPCError) -> JSONSpan {
        skipWhitespace()
        guard pos < end, base[pos] == UInt8(ascii: "\"") else {
            throw fail(pos < end ? "expected a string, found \(Self.describe(base[pos]))" : "unexpected end of body, expected a string")
        }
        pos += 1
        let start = pos
        while pos < end {
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                let span = JSONSpan(start: start, count: pos - start)
                pos += 1
                return span
            }
            if c == UInt8(ascii: "\\") {
                pos += 1
                guard pos < end else { break }
                switch base[pos] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    pos += 1
                case UInt8(ascii: "u"):
                    guard pos + 4 < end else { pos = end; break }
                    for k in 1...4 where HexScan.table[Int(base[pos + k])] == 0xFF {
                        pos += k
                        throw fail("invalid \\u escape")
                    }
                    pos += 5
                default:
                    throw fail("invalid escape \\\(Self.describe(base[pos]))")
                }
                continue
            }
            if c < 0x20 { throw fail("control character in a string") }
            pos += 1
        }
        throw fail("unterminated string")
    }

    /// A string value, unescaped.
    mutating func string() throws(RPCError) -> String {
        let span = try stringSpan()
        let p = base + span.start
        var hasEscape = false
        for i in 0..<span.count where p[i] == UInt8(ascii: "\\") { hasEscape = true; break }
        if !hasEscape { return String(decoding: UnsafeBufferPointer(start: p, count: span.count), as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        var i = 0
        var pendingHigh: UInt32? = nil
        func appendScalar(_ v: UInt32) {
            let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        while i < span.count {
            let c = p[i]
            if c != UInt8(ascii: "\\") {
                if let h = pendingHigh { appendScalar(h); pendingHigh = nil }
                out.append(c); i += 1; continue
            }
            let e = p[i + 1]
            i += 2
            if e == UInt8(ascii: "u") {
                var bad: UInt8 = 0
                let v = UInt32(HexScan.word(p + i, 4, &bad))
                i += 4
                if let h = pendingHigh {
                    pendingHigh = nil
                    if (0xDC00...0xDFFF).contains(v) {
                        appendScalar(0x10000 + ((h - 0xD800) << 10) + (v - 0xDC00)); continue
                    }
                    appendScalar(h)
                }
                if (0xD800...0xDBFF).contains(v) { pendingHigh = v } else { appendScalar(v) }
                continue
            }
            if let h = pendingHigh { appendScalar(h); pendingHigh = nil }
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            default: out.append(e)
            }
        }
        if let h = pendingHigh { appendScalar(h) }
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON number's text span (validated against the JSON grammar).
    mutating func numberSpan() throws(RPCError) -> JSONSpan {
        skipWhitespace()
        let start = pos
        func digits() -> Int {
            let s = pos
            while pos < end, base[pos] >= UInt8(ascii: "0"), base[pos] <= UInt8(ascii: "9") { pos += 1 }
            return pos - s
        }
        if pos < end && base[pos] == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        let n = digits()
        guard n > 0 else { throw fail("expected a value") }
        if n > 1 && base[intStart] == UInt8(ascii: "0") { throw fail("leading zero in a number") }
        if pos < end && base[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw fail("expected digits after '.'") }
        }
        if pos < end && (base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard digits() > 0 else { throw fail("expected digits in an exponent") }
        }
        return JSONSpan(start: start, count: pos - start)
    }

    /// A JSON integer that fits Int (error codes, ids).
    mutating func integer() throws(RPCError) -> Int {
        let span = try numberSpan()
        guard let v = Int(text(span)) else { throw fail("expected an integer") }
        return v
    }

    /// Consumes `literal` (true/false/null) if it is next.
    mutating func consume(_ literal: StaticString) -> Bool {
        skipWhitespace()
        let n = literal.utf8CodeUnitCount
        guard end - pos >= n, memcmpEqual(base + pos, literal.utf8Start, n) else { return false }
        pos += n
        return true
    }

    /// Consumes `null` if it is next.
    @inline(__always)
    mutating func consumeNull() -> Bool {
        skipWhitespace()
        if pos < end && base[pos] == UInt8(ascii: "n") { return consume("null") }
        return false
    }

    mutating func bool(field: String) throws(RPCError) -> Bool {
        if consume("true") { return true }
        if consume("false") { return false }
        throw fail(field: field, "expected true or false")
    }

    /// Skips any value, validating it.
    mutating func skipValue() throws(RPCError) {
        guard let c = peek() else { throw fail("unexpected end of body, expected a value") }
        switch c {
        case UInt8(ascii: "{"):
            try beginObject()
            var first = true
            while try nextKey(&first) != nil { try skipValue() }
        case UInt8(ascii: "["):
            try beginArray()
            var first = true
            while try nextElement(&first) { try skipValue() }
        case UInt8(ascii: "\""):
            _ = try stringSpan()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            guard consume("true") || consume("false") || consume("null") else { throw fail("invalid literal") }
        default:
            _ = try numberSpan()
        }
    }

    // MARK: hex fields (the hot path)

    mutating func hexString(field: String) throws(RPCError) -> JSONSpan {
        skipWhitespace()
        guard pos < end, base[pos] == UInt8(ascii: "\"") else {
            if consumeNull() { throw fail(field: field, "is null") }
            throw fail(field: field, "expected a hex string")
        }
        // Hex never needs escapes: scan to the closing quote directly.
        let start = pos + 1
        var i = start
        while i < end && base[i] != UInt8(ascii: "\"") { i += 1 }
        guard i < end else { throw fail(field: field, "unterminated string") }
        pos = i + 1
        return JSONSpan(start: start, count: i - start)
    }

    /// A hex string field decoded in place by `decode` (a `HexScan` function); on bad hex the error points at the
    /// string's first byte and says what was `expected`.
    @inline(__always)
    mutating func hex<T>(field: String, expected: String,
                         _ decode: (UnsafePointer<UInt8>, Int) -> T?) throws(RPCError) -> T {
        let s = try hexString(field: field)
        guard let v = decode(base + s.start, s.count) else { pos = s.start; throw fail(field: field, expected) }
        return v
    }

    mutating func bytes32(field: String) throws(RPCError) -> Bytes32 {
        try hex(field: field, expected: "expected 0x + 64 hex digits", HexScan.bytes32)
    }

    mutating func address(field: String) throws(RPCError) -> Address {
        try hex(field: field, expected: "expected 0x + 40 hex digits", HexScan.address)
    }

    mutating func quantity(field: String) throws(RPCError) -> UInt64 {
        try hex(field: field, expected: "expected a hex quantity below 2^64", HexScan.quantity64)
    }

    mutating func quantity256(field: String) throws(RPCError) -> UInt256 {
        try hex(field: field, expected: "expected a hex quantity below 2^256", HexScan.quantity256)
    }

    mutating func data(field: String) throws(RPCError) -> [UInt8] {
        try hex(field: field, expected: "expected 0x + an even number of hex digits", HexScan.bytes)
    }

    mutating func optional<T>(_ decode: (inout JSONScanner) throws(RPCError) -> T) throws(RPCError) -> T? {
        if consumeNull() { return nil }
        return try decode(&self)
    }

    static func describe(_ c: UInt8) -> String {
        (0x21...0x7e).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x" + Hex.encode([c], prefix: false)
    }
}

/// Runs `body` with a scanner over `bytes`.
func withScanner<T>(_ bytes: [UInt8], _ body: (inout JSONScanner) throws(RPCError) -> T) throws(RPCError) -> T {
    try bytes.withUnsafeBufferPointer { (buf) throws(RPCError) -> T in
        var s = JSONScanner(buf)
        return try body(&s)
    }
}
