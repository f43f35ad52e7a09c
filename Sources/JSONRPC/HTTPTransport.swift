/// An HTTP answer: status, body, and the `Retry-After` delay (seconds) when the server sent one.
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The body, decompressed.
    public var body: [UInt8]
    /// `Retry-After` in seconds, when sent.
    public var retryAfter: Double?

    /// A response from its parts.
    public init(status: Int, body: [UInt8], retryAfter: Double? = nil) {
        self.status = status; self.body = body; self.retryAfter = retryAfter
    }
}

/// Posts JSON bodies to one endpoint. `CurlTransport` is the real one; tests may substitute their own.
public protocol HTTPTransport: AnyObject, Sendable {
    /// The endpoint as it may be printed (credentials and API-key paths redacted).
    var displayName: String { get }
    /// POSTs `body` (`Content-Type: application/json`) and returns the answer; throws only `RPCError`.
    func post(_ body: [UInt8]) async throws -> HTTPResponse
    /// Cancels queued and in-flight requests and stops accepting new ones.
    func shutdown()
}

/// Transport settings an operator can tune.
public struct TransportSettings: Sendable, Equatable {
    /// Time allowed to establish a TCP/TLS connection, in seconds.
    public var connectTimeout: Double = 5
    /// Time allowed for a whole request (connect, send, wait, receive), in seconds.
    public var requestTimeout: Double = 30
    /// Bodies larger than this (after decompression) are refused with `RPCError.responseTooLarge`.
    public var maxResponseBytes: Int = 64 << 20
    /// Requests in flight per endpoint; each has its own persistent (keep-alive) connection.
    public var connectionsPerEndpoint: Int = 2
    /// A PEM file of CA certificates for HTTPS, instead of the system's (for a private CA); nil = system.
    public var caBundlePath: String?

    /// Defaults: 5 s connect, 30 s request, 64 MiB cap, 2 connections per endpoint.
    public init() {}
}

/// Helpers for printing endpoints without secrets.
public enum EndpointName {
    /// `scheme://host[:port]`, plus `/…` when the URL has a path (providers put API keys there);
    /// user-info is dropped.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "(invalid URL)" }
        let scheme = url[..<schemeEnd.lowerBound]
        var rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<hostEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        rest = rest[hostEnd...]
        let hasPath = !(rest.isEmpty || rest == "/")
        return "\(scheme)://\(authority)\(hasPath ? "/…" : "")"
    }
}
