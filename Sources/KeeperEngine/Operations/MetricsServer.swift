import FlyingFox
import FlyingSocks
import Foundation
import Logging
import ServiceLifecycle

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
    public static func parse(_ text: String, allowRemote: Bool) throws(EngineError) -> MetricsListen {
        var hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .listen("\"\(text)\": expected [IPv6]:port")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw .listen("\"\(text)\": expected host:port, e.g. 127.0.0.1:9464 (IPv6 as [::1]:9464)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portPart) else { throw .listen("\"\(text)\": port \"\(portPart)\" is not 0...65535") }
        var host = String(hostPart)
        if host == "localhost" { host = "127.0.0.1" }
        guard Self.isIPLiteral(host) else {
            throw .listen("\"\(text)\": \"\(host)\" is not an IP address (use 127.0.0.1, ::1 or an interface address)")
        }
        let listen = MetricsListen(host: host, port: port)
        if !listen.isLoopback && !allowRemote {
            throw .listen("\"\(text)\" is not a loopback address; set [metrics] allow_remote = true to expose metrics beyond this host")
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

/// The HTTP server (FlyingFox) for `GET /metrics` (Prometheus text format 0.0.4), `GET /healthz` and
/// `GET /readyz`, as a `Service`: it stops on graceful shutdown of the group (after the services
/// started later, so the last scrape sees the final values). Anything else is 404; non-GET is 405.
public final class MetricsServer: Service, Sendable {
    /// The address it was asked to listen on.
    public let listen: MetricsListen
    let metrics: KeeperMetrics
    let health: KeeperHealth
    let logger: Logger
    let server: HTTPServer
    let bound = BoundAddress()

    /// A server for `metrics` and `health` on `listen`.
    public init(listen: MetricsListen, metrics: KeeperMetrics, health: KeeperHealth, logger: Logger) throws(EngineError) {
        self.listen = listen; self.metrics = metrics; self.health = health; self.logger = logger
        let address: any SocketAddress
        do {
            address = listen.isIPv6 ? try sockaddr_in6.inet6(ip6: listen.host, port: listen.port)
                                    : try sockaddr_in.inet(ip4: listen.host, port: listen.port)
        } catch {
            throw .listen("\(listen): \(error)")
        }
        server = HTTPServer(config: .init(address: address, timeout: 10, logger: FlyingFoxLogBridge(logger: logger)),
                            handler: Router(metrics: metrics, health: health))
    }

    /// The port actually bound (after `waitUntilListening`), useful with port 0.
    public var boundPort: UInt16? { bound.port }

    /// Waits until the socket is listening (or `timeout` seconds pass) and records the bound port.
    public func waitUntilListening(timeout: Double = 5) async throws {
        try await server.waitUntilListening(timeout: timeout)
        if let a = await server.listeningAddress {
            switch a {
            case let .ip4(_, port), let .ip6(_, port): bound.set(port)
            case .unix: break
            }
        }
    }

    /// Serves until graceful shutdown (FlyingFox's throw after `stop()` is a clean exit).
    public func run() async throws {
        logger.info("metrics server starting", metadata: ["listen": "\(listen)"])
        try await withGracefulShutdownHandler {
            do {
                try await server.run()
            } catch {
                // FlyingFox's run() throws once stop() closed the listening socket: a clean exit then.
                if Task.isShuttingDownGracefully || Task.isCancelled || bound.stopped { return }
                throw EngineError.listen("cannot serve on \(listen): \(error)")
            }
        } onGracefulShutdown: { [server, bound] in
            bound.markStopped()
            Task { await server.stop(timeout: 2) }
        }
        logger.info("metrics server stopped")
    }

    /// Routes requests; a struct so the server holds no reference cycle.
    struct Router: HTTPHandler {
        let metrics: KeeperMetrics
        let health: KeeperHealth

        func handleRequest(_ request: HTTPRequest) async throws -> FlyingFox.HTTPResponse {
            let path = request.path
            guard ["/metrics", "/healthz", "/readyz"].contains(path) else {
                return text(.notFound, "not found: try /metrics, /healthz or /readyz\n")
            }
            guard request.method == .GET || request.method == .HEAD else {
                var r = text(.methodNotAllowed, "method not allowed\n")
                r.headers[HTTPHeader("Allow")] = "GET, HEAD"
                return r
            }
            switch path {
            case "/metrics":
                // Readiness is itself a metric: refresh it at scrape time.
                metrics.ready.set(health.readiness().ok ? 1.0 : 0.0)
                var headers = HTTPHeaders()
                headers[.contentType] = KeeperMetrics.contentType
                return FlyingFox.HTTPResponse(statusCode: .ok, headers: headers, body: Data(metrics.exposition().utf8))
            case "/healthz":
                let v = health.liveness()
                return text(v.ok ? .ok : .serviceUnavailable, v.body)
            default:
                let v = health.readiness()
                return text(v.ok ? .ok : .serviceUnavailable, v.body)
            }
        }

        func text(_ status: HTTPStatusCode, _ body: String) -> FlyingFox.HTTPResponse {
            var headers = HTTPHeaders()
            headers[.contentType] = "text/plain; charset=utf-8"
            return FlyingFox.HTTPResponse(statusCode: status, headers: headers, body: Data(body.utf8))
        }
    }
}

/// The port the server bound and whether a stop was requested (set from the shutdown handler).
final class BoundAddress: @unchecked Sendable {
    let lock = NSLock()
    var port: UInt16?
    var stopped = false
    func set(_ p: UInt16) { lock.lock(); port = p; lock.unlock() }
    func markStopped() { lock.lock(); stopped = true; lock.unlock() }
}

/// FlyingFox's own log lines at trace/debug in our logs (a failure to serve surfaces as the error of `run()`).
struct FlyingFoxLogBridge: FlyingSocks.Logging {
    let logger: Logger
    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("\(debug())", metadata: ["component": "http"]) }
    func logInfo(_ info: @autoclosure () -> String) { logger.debug("\(info())", metadata: ["component": "http"]) }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("\(warning())", metadata: ["component": "http"]) }
    func logError(_ error: @autoclosure () -> String) { logger.debug("\(error())", metadata: ["component": "http"]) }
    func logCritical(_ critical: @autoclosure () -> String) { logger.debug("\(critical())", metadata: ["component": "http"]) }
}

extension EngineError {
    /// A `[metrics] listen` problem (bad address, refused non-loopback, cannot bind).
    static func listen(_ message: String) -> EngineError { .config([ConfigIssue(key: "metrics.listen", message: message)]) }
}
