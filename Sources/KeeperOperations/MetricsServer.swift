import Foundation
import Hummingbird
import KeeperCore
import KeeperIngest
import KeeperSubmission
import Logging
import ServiceLifecycle
import Synchronization

/// The HTTP server (Hummingbird 2, the daemon's one HTTP stack — the stakers' API uses it too) for `GET /metrics`
/// (Prometheus text format 0.0.4), `GET /healthz` and `GET /readyz`, as a `Service`: it stops on graceful shutdown
/// of the group (after the services started later, so the last scrape sees the final values). Anything else is
/// 404; non-GET is 405.
public final class MetricsServer: Service, Sendable {
    /// The address it was asked to listen on.
    public let listen: MetricsListen
    let metrics: KeeperMetrics
    let health: KeeperHealth
    let logger: Logger
    let bound = BoundAddress()

    /// A server for `metrics` and `health` on `listen`.
    public init(listen: MetricsListen, metrics: KeeperMetrics, health: KeeperHealth, logger: Logger) throws(EngineError) {
        self.listen = listen; self.metrics = metrics; self.health = health; self.logger = logger
    }

    /// The port actually bound (after `waitUntilListening`), useful with port 0.
    public var boundPort: UInt16? { bound.state.withLock { $0.port } }

    /// Waits until the socket is listening (or `timeout` seconds pass).
    public func waitUntilListening(timeout: Double = 5) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while boundPort == nil {
            if let failure = bound.state.withLock({ $0.failure }) { throw EngineError.listen("cannot serve on \(listen): \(failure)") }
            guard ContinuousClock.now < deadline else { throw EngineError.listen("\(listen): not listening after \(timeout) s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        logger.info("metrics server starting", metadata: ["listen": "\(listen)"])
        let (listen, logger, bound) = (self.listen, self.logger, self.bound)
        let app = Application(
            responder: Router(metrics: metrics, health: health),
            configuration: .init(address: .hostname(listen.host, port: Int(listen.port)), serverName: nil),
            onServerRunning: { channel in
                let port = UInt16(channel.localAddress?.port ?? Int(listen.port))
                bound.state.withLock { $0.port = port }
                logger.notice("metrics server listening", metadata: [
                    "listen": "\(listen)", "host": "\(listen.host)", "port": "\(port)",
                ])
            },
            logger: logger)
        do {
            try await app.run()  // not runService(): that installs its own SIGTERM handler and could end before the group shuts down
        } catch {
            bound.state.withLock { $0.failure = "\(error)" }
            throw EngineError.listen("cannot serve on \(listen): \(error)")
        }
        logger.info("metrics server stopped")
    }

    /// Routes requests.
    struct Router: HTTPResponder {
        typealias Context = BasicRequestContext
        let metrics: KeeperMetrics
        let health: KeeperHealth

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            let path = request.uri.path
            guard ["/metrics", "/healthz", "/readyz"].contains(path) else {
                return text(.notFound, "not found: try /metrics, /healthz or /readyz\n")
            }
            guard request.method == .get || request.method == .head else {
                var r = text(.methodNotAllowed, "method not allowed\n")
                r.headers[.allow] = "GET, HEAD"
                return r
            }
            switch path {
            case "/metrics":
                // Readiness is itself a metric: refresh it at scrape time.
                metrics.ready.set(health.readiness().ok ? 1.0 : 0.0)
                return text(.ok, metrics.exposition(), type: KeeperMetrics.contentType)
            case "/healthz":
                let v = health.liveness()
                return text(v.ok ? .ok : .serviceUnavailable, v.body)
            default:
                let v = health.readiness()
                return text(v.ok ? .ok : .serviceUnavailable, v.body)
            }
        }

        func text(_ status: HTTPResponse.Status, _ body: String, type: String = "text/plain; charset=utf-8") -> Response {
            Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }
}

/// The port the server bound, or why it could not.
final class BoundAddress: Sendable {
    let state = Mutex<(port: UInt16?, failure: String?)>((nil, nil))
}
