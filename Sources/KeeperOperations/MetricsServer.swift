import FlyingFox
import FlyingSocks
import Foundation
import KeeperCore
import KeeperIngest
import KeeperSubmission
import Logging
import ServiceLifecycle

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
        // The port actually bound (the one to scrape when `listen` asked for port 0), once it listens.
        let announce = Task { [self] in
            do {
                try await waitUntilListening(timeout: 10)
                logger.notice("metrics server listening", metadata: [
                    "listen": "\(listen)", "host": "\(listen.host)", "port": "\(boundPort.map(String.init) ?? "unknown")",
                ])
            } catch {
                logger.debug("metrics server: bound port unknown", metadata: ["error": "\(error)"])
            }
        }
        defer { announce.cancel() }
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
