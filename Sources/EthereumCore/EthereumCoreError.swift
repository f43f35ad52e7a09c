/// The one error type of EthereumCore. Each case names what was wrong and where (field, byte offset).
public enum EthereumCoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A hex string was malformed: `reason` says how, `offset` is the character index (after any `0x`).
    case invalidHex(reason: String, offset: Int)
    /// A value had the wrong number of bytes.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// A mixed-case address whose EIP-55 checksum does not match.
    case badChecksum(given: String, expected: String)
    /// A number could not be parsed (`reason` says why).
    case invalidNumber(text: String, reason: String)
    /// Arithmetic or a conversion overflowed.
    case overflow(what: String)
    /// RLP input was rejected at byte `offset`.
    case invalidRLP(reason: String, offset: Int)

    /// A one-line message naming the offending input.
    public var description: String {
        switch self {
        case let .invalidHex(reason, offset):
            return "invalid hex: \(reason) at character \(offset)"
        case let .invalidLength(what, expected, actual):
            return "invalid length for \(what): expected \(expected) bytes, got \(actual)"
        case let .badChecksum(given, expected):
            return "bad EIP-55 checksum in address \(given) (expected \(expected))"
        case let .invalidNumber(text, reason):
            return "invalid number \"\(Self.clip(text))\": \(reason)"
        case let .overflow(what):
            return "overflow: \(what)"
        case let .invalidRLP(reason, offset):
            return "invalid RLP: \(reason) at byte \(offset)"
        }
    }

    /// Shortens user input quoted in an error so a hostile megabyte string does not flood a log.
    static func clip(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(77)) + "..."
    }
}
