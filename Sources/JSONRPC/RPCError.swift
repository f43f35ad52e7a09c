/// The one error type of JSONRPC. Every case keeps what an operator needs to debug the failure
/// (endpoint, code, message, the start of the raw body) and never contains request secrets.
public enum RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The node answered with a JSON-RPC error object (`data` is its raw JSON text, if any).
    case server(code: Int, message: String, data: String?)
    /// The request never produced an HTTP response (connect, DNS, TLS, timeout, dropped connection).
    /// `retryable` is false for errors that repeat deterministically (malformed URL, unsupported protocol).
    case transport(endpoint: String, reason: String, retryable: Bool)
    /// The server answered with an HTTP status other than 200 (`retryAfter` in seconds, from `Retry-After`).
    case http(endpoint: String, status: Int, retryAfter: Double?, bodyPrefix: String)
    /// The body was not the JSON-RPC response expected: `reason` names the field or byte offset.
    case decoding(reason: String, bodyPrefix: String)
    /// The node answered `null` where a value is required.
    case nullResult(method: String)
    /// The response body exceeded the configured size cap.
    case responseTooLarge(endpoint: String, limit: Int)
    /// The request was cancelled (task cancellation or transport shutdown).
    case cancelled
    /// The configured endpoints disagree on the chain id, or differ from the expected one.
    case chainIdMismatch(details: String)
    /// A block range of `eth_getLogs` could not be fetched after retries and range reductions.
    case rangeFailed(from: UInt64, to: UInt64, reason: String)
    /// An argument or a setting was invalid (`what` names it).
    case invalidArgument(what: String)

    /// One line naming what failed and where.
    public var description: String {
        switch self {
        case let .server(code, message, data):
            return "RPC error \(code): \(Self.clip(message, 300))" + (data.map { " (data: \(Self.clip($0, 200)))" } ?? "")
        case let .transport(endpoint, reason, _):
            return "transport error from \(endpoint): \(reason)"
        case let .http(endpoint, status, retryAfter, bodyPrefix):
            var text = "HTTP \(status) from \(endpoint)"
            if let retryAfter { text += " (Retry-After \(retryAfter) s)" }
            if !bodyPrefix.isEmpty { text += ": \(bodyPrefix)" }
            return text
        case let .decoding(reason, bodyPrefix):
            return "undecodable response: \(reason); body starts \(bodyPrefix.isEmpty ? "(empty)" : "\"\(bodyPrefix)\"")"
        case let .nullResult(method):
            return "\(method) returned null"
        case let .responseTooLarge(endpoint, limit):
            return "response from \(endpoint) exceeds the \(limit)-byte cap"
        case .cancelled:
            return "request cancelled"
        case let .chainIdMismatch(details):
            return "chain id mismatch: \(details)"
        case let .rangeFailed(from, to, reason):
            return "could not fetch logs for blocks \(from)-\(to): \(reason)"
        case let .invalidArgument(what):
            return "invalid argument: \(what)"
        }
    }

    /// Whether retrying the same request (possibly on another endpoint) may succeed.
    /// Deterministic errors — reverts, invalid params, malformed URLs, range limits — are never retried.
    public var isRetryable: Bool {
        switch self {
        case let .transport(_, _, retryable): return retryable
        case let .http(_, status, _, _): return status == 429 || status == 408 || (500...599).contains(status)
        case .decoding: return true  // a truncated or garbled body; a persistent one exhausts the retries
        case .responseTooLarge: return false
        case let .server(code, message, _): return RPCError.isRateLimitMessage(code: code, message: message)
        case .nullResult, .cancelled, .chainIdMismatch, .rangeFailed, .invalidArgument: return false
        }
    }

    /// Whether the error says "you asked for too much" in an `eth_getLogs` call (block range or result count).
    public var isLogRangeLimit: Bool { LogRangeLimit(self) != nil }

    /// The revert data of an `execution reverted` error (code 3), as bytes, when present and well-formed.
    public var revertData: [UInt8]? {
        guard case let .server(_, _, data?) = self else { return nil }
        var text = data
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        guard text.hasPrefix("0x") else { return nil }
        return HexScan.bytes(text)
    }

    /// Rate-limit answers some providers send as JSON-RPC errors (HTTP 200) rather than HTTP 429.
    static func isRateLimitMessage(code: Int, message: String) -> Bool {
        let m = message.lowercased()
        if code == 429 { return true }
        if m.contains("more than") && m.contains("results") { return false }
        return m.contains("rate limit") || m.contains("too many requests") || m.contains("request rate")
            || m.contains("rate exceeded") || m.contains("capacity exceeded") || m.contains("compute units")
            || m.contains("throughput")
    }

    /// Shortens text quoted in an error so a hostile megabyte body does not flood a log.
    static func clip(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 3)) + "..."
    }

    /// The first bytes of a body, printable, for `.decoding` and `.http` errors.
    static func prefix(of body: [UInt8], limit: Int = 120) -> String {
        var out = ""
        for b in body.prefix(limit) {
            out.unicodeScalars.append((0x20...0x7e).contains(b) ? Unicode.Scalar(b) : "?")
        }
        if body.count > limit { out += "..." }
        return out
    }
}
