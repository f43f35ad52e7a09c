import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the metrics server listens, parsed from `[metrics] listen` with the loopback rule: an address
/// outside 127.0.0.0/8 and ::1 is refused unless `allow_remote = true` (metrics reveal balances, stakers
/// and endpoints; put a reverse proxy with TLS and auth in front of a remote scrape).
public struct MetricsListen: Sendable, Equatable, CustomStringConvertible {
    /// The IP literal (IPv4 dotted quad or IPv6 without brackets).
    public var host: String
    /// The TCP port (0 = any free port; tests use it).
    public var port: UInt16
    /// Whether `host` is IPv6.
    public var isIPv6: Bool { host.contains(":") }

    /// `host:port`, IPv6 in brackets.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the address is a loopback address (127.0.0.0/8 or ::1).
    public var isLoopback: Bool {
        if isIPv6 { return host == "::1" || host == "0:0:0:0:0:0:0:1" }
        return host.split(separator: ".").first == "127"
    }

    /// Parses `host:port` / `[v6]:port` (`localhost` means 127.0.0.1) and applies the loopback rule.
    /// Errors are `.config` issues on the key `metrics.listen` and say what to do.
    /// `section` names the table whose `listen` it is (`[api]` shares the rule) and `what` what a remote address exposes.
    public static func parse(_ text: String, allowRemote: Bool, section: String = "metrics",
                             what: String = "metrics") throws(EngineError) -> MetricsListen {
        func listenError(_ message: String) -> EngineError { .config([ConfigIssue(key: "\(section).listen", message: message)]) }
        var hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw listenError("\"\(text)\": expected [IPv6]:port")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw listenError("\"\(text)\": expected host:port, e.g. 127.0.0.1:9464 (IPv6 as [::1]:9464)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portPart) else { throw listenError("\"\(text)\": port \"\(portPart)\" is not 0...65535") }
        var host = String(hostPart)
        if host == "localhost" { host = "127.0.0.1" }
        guard Self.isIPLiteral(host) else {
            throw listenError("\"\(text)\": \"\(host)\" is not an IP address (use 127.0.0.1, ::1 or an interface address)")
        }
        let listen = MetricsListen(host: host, port: port)
        if !listen.isLoopback && !allowRemote {
            throw listenError("\"\(text)\" is not a loopback address; set [\(section)] allow_remote = true to expose \(what) beyond this host")
        }
        return listen
    }

    static func isIPLiteral(_ s: String) -> Bool {
        if s.contains(":") {
            var a = in6_addr()
            return inet_pton(AF_INET6, s, &a) == 1
        }
        var a = in_addr()
        return inet_pton(AF_INET, s, &a) == 1
    }
}

extension EngineError {
    /// A `[metrics] listen` problem (bad address, refused non-loopback, cannot bind).
    public static func listen(_ message: String) -> EngineError { .config([ConfigIssue(key: "metrics.listen", message: message)]) }
}
