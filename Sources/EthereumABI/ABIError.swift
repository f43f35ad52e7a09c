/// The one error type of EthereumABI. Every message names the offending input: the type or field, and for
/// decoding the byte offset into the data (for calls, after the 4-byte selector).
public enum ABIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A type or signature string could not be parsed; `offset` is the character index.
    case invalidType(text: String, reason: String, offset: Int)
    /// The data ended before a value of `type` that starts at byte `offset` (needs `needed` bytes, `available` left).
    case truncated(type: String, offset: Int, needed: Int, available: Int)
    /// A word at byte `offset` holds a value that does not fit `type` (dirty high bytes, bool not 0/1, sign extension).
    case invalidValue(type: String, offset: Int, reason: String)
    /// Non-zero padding after a `bytesN`/`bytes`/`string` value at byte `offset`.
    case dirtyPadding(type: String, offset: Int)
    /// A dynamic value's offset word at byte `offset` does not point where the canonical encoding puts its tail.
    case nonCanonicalOffset(type: String, offset: Int, found: String, expected: Int)
    /// A length word at byte `offset` is larger than the data could hold.
    case invalidLength(type: String, offset: Int, length: String, reason: String)
    /// A `string` at byte `offset` is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// Bytes left over after the last value (`count` of them, starting at byte `offset`).
    case trailingBytes(offset: Int, count: Int)
    /// A decoding limit was hit (depth, input size).
    case limitExceeded(what: String, limit: Int, offset: Int)
    /// A value given for encoding does not match its type; `path` locates it (`[1][0]` …).
    case valueMismatch(path: String, type: String, reason: String)
    /// The 4-byte selector at the start of calldata is not the expected one.
    case selectorMismatch(expected: String, found: String)
    /// A log does not belong to this event (wrong topic0, wrong topic count).
    case logMismatch(event: String, reason: String)
    /// A JSON text (arguments or a JSON-ABI file) was malformed or had the wrong shape; `at` locates it.
    case invalidJSON(at: String, reason: String)

    /// A one-line message naming the input and, for data, the byte offset.
    public var description: String {
        switch self {
        case let .invalidType(text, reason, offset):
            return "invalid ABI type \"\(Self.clip(text))\": \(reason) at character \(offset)"
        case let .truncated(type, offset, needed, available):
            return "truncated data: \(type) at byte \(offset) needs \(needed) bytes, \(available) available"
        case let .invalidValue(type, offset, reason):
            return "invalid \(type) at byte \(offset): \(reason)"
        case let .dirtyPadding(type, offset):
            return "non-zero padding after \(type) at byte \(offset)"
        case let .nonCanonicalOffset(type, offset, found, expected):
            return "non-canonical offset for \(type) at byte \(offset): \(found) (expected \(expected))"
        case let .invalidLength(type, offset, length, reason):
            return "invalid length for \(type) at byte \(offset): \(length) \(reason)"
        case let .invalidUTF8(offset):
            return "invalid UTF-8 in string at byte \(offset)"
        case let .trailingBytes(offset, count):
            return "\(count) trailing bytes after the encoded values at byte \(offset)"
        case let .limitExceeded(what, limit, offset):
            return "\(what) exceeds the limit of \(limit) at byte \(offset)"
        case let .valueMismatch(path, type, reason):
            return "value \(path.isEmpty ? "" : path + " ")for \(type): \(reason)"
        case let .selectorMismatch(expected, found):
            return "selector mismatch: data starts with \(found), expected \(expected)"
        case let .logMismatch(event, reason):
            return "log is not \(event): \(reason)"
        case let .invalidJSON(at, reason):
            return "invalid JSON\(at.isEmpty ? "" : " at " + at): \(reason)"
        }
    }

    /// Runs `body`; a `valueMismatch` it throws gets `[index]` prepended to its path.
    @inline(__always)
    static func at<T>(_ index: Int, _ body: () throws(ABIError) -> T) throws(ABIError) -> T {
        do throws(ABIError) {
            return try body()
        } catch {
            if case let .valueMismatch(path, type, reason) = error {
                throw .valueMismatch(path: "[\(index)]" + path, type: type, reason: reason)
            }
            throw error
        }
    }

    /// Shortens user input quoted in an error so a hostile megabyte string does not flood a log.
    static func clip(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(77)) + "..."
    }
}
