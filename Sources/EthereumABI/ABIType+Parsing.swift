extension ABIType {
    /// Deepest nesting of arrays and tuples a parsed or decoded type may have.
    public static let maxDepth = 32
    /// Largest `k` in a fixed array `T[k]`.
    public static let maxFixedArrayCount = 1 << 20
    /// Largest in-place (head) size of a static type, in bytes (16 MiB).
    public static let maxStaticSize = 1 << 24

    /// Parses a type string: `uint256`, `uint` (= `uint256`), `bytes32`, `(uint256,(address,bytes)[])`,
    /// `tuple(address,uint256)[2]`. Whitespace is not allowed inside elementary names.
    public init(parsing text: String) throws(ABIError) {
        var parser = ABITypeParser(text)
        parser.skipSpaces()
        let type = try parser.parseType(depth: 0)
        parser.skipSpaces()
        guard parser.atEnd else { throw parser.fail("unexpected character \(parser.describeCurrent())") }
        self = type
    }

    /// Checks a programmatically built type against the same rules the parser applies (widths, array
    /// counts, depth, no zero-sized types, static size). The encoder and decoder call this first.
    public func validate() throws(ABIError) {
        do throws(ABIError) {
            try validate(depth: 0)
        } catch {
            guard case let .invalidType(_, reason, _) = error else { throw error }
            throw .invalidType(text: canonical, reason: reason, offset: 0)
        }
        if !isDynamic && headSize > ABIType.maxStaticSize {
            throw .invalidType(text: canonical, reason: "static size exceeds \(ABIType.maxStaticSize) bytes", offset: 0)
        }
    }

    func validate(depth: Int) throws(ABIError) {
        func bad(_ reason: String) -> ABIError { .invalidType(text: canonical, reason: reason, offset: 0) }
        guard depth <= ABIType.maxDepth else { throw bad("nesting deeper than \(ABIType.maxDepth)") }
        switch self {
        case let .uint(bits), let .int(bits):
            guard bits >= 8 && bits <= 256 && bits % 8 == 0 else { throw bad("integer width \(bits) is not 8…256 in steps of 8") }
        case let .fixedBytes(n):
            guard n >= 1 && n <= 32 else { throw bad("bytes\(n) is not bytes1…bytes32") }
        case .address, .bool, .bytes, .string:
            break
        case let .fixedArray(t, n):
            guard n >= 1 && n <= ABIType.maxFixedArrayCount else { throw bad("fixed array length \(n) is not 1…\(ABIType.maxFixedArrayCount)") }
            try t.validate(depth: depth + 1)
            if !t.isDynamic && t.headSize > ABIType.maxStaticSize / n { throw bad("static size exceeds \(ABIType.maxStaticSize) bytes") }
        case let .array(t):
            try t.validate(depth: depth + 1)
        case let .tuple(ts):
            guard !ts.isEmpty else { throw bad("empty tuple inside a type") }
            var size = 0
            for t in ts {
                try t.validate(depth: depth + 1)
                size += t.headSize
                if size > ABIType.maxStaticSize { throw bad("static size exceeds \(ABIType.maxStaticSize) bytes") }
            }
        }
    }
}

/// A hand-written recursive-descent parser over the UTF-8 of a type or signature string.
struct ABITypeParser {
    let text: String
    let utf8: [UInt8]
    var pos = 0

    /// Longest type or signature text accepted.
    static let maxLength = 1 << 16

    init(_ text: String) {
        self.text = text
        utf8 = Array(text.utf8.prefix(ABITypeParser.maxLength + 1))
    }

    var atEnd: Bool { pos >= utf8.count }
    var current: UInt8? { pos < utf8.count ? utf8[pos] : nil }

    func fail(_ reason: String, at offset: Int? = nil) -> ABIError {
        .invalidType(text: text, reason: reason, offset: offset ?? pos)
    }

    func describeCurrent() -> String {
        guard let c = current else { return "end of text" }
        return (0x21...0x7e).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x" + String(c, radix: 16)
    }

    mutating func skipSpaces() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { pos += 1 }
    }

    static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f || c == 0x24
    }
    static func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }

    mutating func identifier() -> String? {
        guard let c = current, ABITypeParser.isIdentStart(c) else { return nil }
        let start = pos
        while let c = current, ABITypeParser.isIdentChar(c) { pos += 1 }
        return String(decoding: utf8[start..<pos], as: UTF8.self)
    }

    mutating func expect(_ c: UInt8) throws(ABIError) {
        guard current == c else {
            throw fail("expected '\(Character(Unicode.Scalar(c)))', found \(describeCurrent())")
        }
        pos += 1
    }

    /// `[name] '(' params ')'` where a parameter is `type ['indexed'] [name]`.
    mutating func parseSignature() throws(ABIError) -> ABISignature {
        guard utf8.count <= ABITypeParser.maxLength else { throw fail("longer than \(ABITypeParser.maxLength) bytes", at: 0) }
        skipSpaces()
        let name = identifier()
        skipSpaces()
        try expect(0x28)  // (
        var params: [ABIParameter] = []
        skipSpaces()
        if current == 0x29 {
            pos += 1
        } else {
            while true {
                skipSpaces()
                let type = try parseType(depth: 1)
                var param = ABIParameter(type: type)
                skipSpaces()
                if let c = current, ABITypeParser.isIdentStart(c) {
                    let wordStart = pos
                    let word = identifier() ?? ""
                    if word == "indexed" {
                        param.indexed = true
                        skipSpaces()
                        if let c = current, ABITypeParser.isIdentStart(c) { param.name = identifier() ?? "" }
                    } else {
                        param.name = word
                    }
                    if ["calldata", "memory", "storage"].contains(param.name) {
                        throw fail("data location \"\(param.name)\" does not belong in an ABI signature", at: wordStart)
                    }
                }
                params.append(param)
                skipSpaces()
                if current == 0x2c { pos += 1; continue }  // ,
                try expect(0x29)  // )
                break
            }
        }
        skipSpaces()
        guard atEnd else { throw fail("unexpected \(describeCurrent()) after the parameter list") }
        return ABISignature(name: name, parameters: params)
    }

    /// A type with any array suffixes.
    mutating func parseType(depth: Int) throws(ABIError) -> ABIType {
        guard utf8.count <= ABITypeParser.maxLength else { throw fail("longer than \(ABITypeParser.maxLength) bytes", at: 0) }
        guard depth <= ABIType.maxDepth else { throw fail("nesting deeper than \(ABIType.maxDepth)") }
        let start = pos
        var type: ABIType
        if current == 0x28 {
            type = try parseTupleBody(depth: depth)
        } else {
            guard let word = identifier() else { throw fail("expected a type, found \(describeCurrent())") }
            if word == "tuple" && current == 0x28 {
                type = try parseTupleBody(depth: depth)
            } else {
                type = try elementary(word, at: start)
            }
        }
        var arrayDepth = depth
        while current == 0x5b {  // [
            let bracket = pos
            pos += 1
            arrayDepth += 1
            guard arrayDepth <= ABIType.maxDepth else { throw fail("nesting deeper than \(ABIType.maxDepth)", at: bracket) }
            if current == 0x5d {
                pos += 1
                type = .array(type)
                continue
            }
            let digitsStart = pos
            var n = 0
            while let c = current, c >= 0x30 && c <= 0x39 {
                n = n * 10 + Int(c - 0x30)
                pos += 1
                if n > ABIType.maxFixedArrayCount { throw fail("fixed array length exceeds \(ABIType.maxFixedArrayCount)", at: digitsStart) }
            }
            guard pos > digitsStart else { throw fail("expected an array length or ']', found \(describeCurrent())") }
            guard utf8[digitsStart] != 0x30 || pos - digitsStart == 1 else { throw fail("array length with a leading zero", at: digitsStart) }
            guard n >= 1 else { throw fail("fixed array length 0 (zero-sized types are not supported)", at: digitsStart) }
            try expect(0x5d)
            if !type.isDynamic && type.headSize > ABIType.maxStaticSize / n {
                throw fail("static size exceeds \(ABIType.maxStaticSize) bytes", at: bracket)
            }
            type = .fixedArray(type, count: n)
        }
        return type
    }

    mutating func parseTupleBody(depth: Int) throws(ABIError) -> ABIType {
        let open = pos
        try expect(0x28)
        skipSpaces()
        guard current != 0x29 else { throw fail("empty tuple inside a type", at: open) }
        var items: [ABIType] = []
        var size = 0
        while true {
            skipSpaces()
            let t = try parseType(depth: depth + 1)
            size += t.headSize
            if size > ABIType.maxStaticSize { throw fail("static size exceeds \(ABIType.maxStaticSize) bytes", at: open) }
            items.append(t)
            skipSpaces()
            if current == 0x2c { pos += 1; continue }
            try expect(0x29)
            return .tuple(items)
        }
    }

    func elementary(_ word: String, at start: Int) throws(ABIError) -> ABIType {
        switch word {
        case "address": return .address
        case "bool": return .bool
        case "string": return .string
        case "bytes": return .bytes
        case "uint": return .uint256
        case "int": return .int256
        default: break
        }
        func width(after prefix: String) -> Int? {
            let digits = word.utf8.dropFirst(prefix.utf8.count)
            guard !digits.isEmpty, digits.count <= 3, digits.first != 0x30, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        if word.hasPrefix("uint") || word.hasPrefix("int") {
            let signed = word.hasPrefix("int")
            guard let bits = width(after: signed ? "int" : "uint"), bits >= 8, bits <= 256, bits % 8 == 0 else {
                throw fail("\"\(word)\" is not a valid integer type (uint8…uint256 / int8…int256 in steps of 8)", at: start)
            }
            return signed ? .int(bits: bits) : .uint(bits: bits)
        }
        if word.hasPrefix("bytes") {
            guard let n = width(after: "bytes"), n >= 1, n <= 32 else {
                throw fail("\"\(word)\" is not a valid fixed bytes type (bytes1…bytes32)", at: start)
            }
            return .fixedBytes(count: n)
        }
        if word.hasPrefix("fixed") || word.hasPrefix("ufixed") || word == "function" {
            throw fail("type \"\(word)\" is not supported", at: start)
        }
        throw fail("unknown type \"\(word)\"", at: start)
    }
}
