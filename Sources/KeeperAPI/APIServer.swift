import EthereumCore
import Foundation
import Hummingbird
import HummingbirdCore
import KeeperCore
import KeeperStore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// What the API says about the deployment (from the config and, for the reward token, the treasury itself).
public struct APIFacts: Sendable {
    /// The chain id.
    public var chainID: UInt64
    /// The treasury.
    public var treasury: Address
    /// The treasury's reward token (VVV).
    public var rewardToken: Address
    /// The staking contract.
    public var staking: Address
    /// Blocks deep before the keeper acts (0 for "safe"/"finalized", which the app shows as such).
    public var confirmations: UInt64
    /// Which treasury (`[treasury] kind`): "keeper" or "proven".
    public var treasuryKind: String

    /// The facts.
    public init(chainID: UInt64, treasury: Address, rewardToken: Address, staking: Address, confirmations: UInt64,
                treasuryKind: String = "keeper") {
        self.chainID = chainID; self.treasury = treasury; self.rewardToken = rewardToken; self.staking = staking
        self.confirmations = confirmations; self.treasuryKind = treasuryKind
    }
}

/// With the ProvenExpansionTreasury: what `/api/v1/claims/{block}-{log_index}/route` builds a staker's own route_proven
/// transaction from (the daemon's chain reader, the reward event and its contract).
public struct ProvenRouting: Sendable {
    /// Reads blocks and receipts.
    public var chain: any ChainReader
    /// The reward event.
    public var reward: RewardEventBinding
    /// The staking contract (the reward source).
    public var staking: Address

    /// The parts.
    public init(chain: any ChainReader, reward: RewardEventBinding, staking: Address) {
        self.chain = chain; self.reward = reward; self.staking = staking
    }
}

/// The request context: Hummingbird's core storage plus the client's address (for the rate limit).
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let client: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        client = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// HTTP/1.1 with `RequestHeadGuard` in front of the parser.
struct GuardedHTTP1Channel: ServerChildChannel {
    let inner: HTTP1Channel
    let limits: APIServer.Limits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(RequestHeadGuard(
                maxRequestLine: limits.maxRequestLine, maxHead: limits.maxHead, headDeadline: limits.headDeadline,
                allow: APIResponder.allow))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async { await inner.handle(value: value, logger: logger) }
}

/// The stakers' API and app as a service of the daemon: `/api/v1/…` (read-only JSON and CSV from the store),
/// `/healthz`, and the static app from the web root at `/`.
public final class APIServer: Service, Sendable {
    /// Bounds on what a client may send.
    public struct Limits: Sendable {
        /// Longest request line answered (longer: 414).
        public var maxRequestLine = 8 * 1024
        /// Largest request head (longer: 431).
        public var maxHead = 16 * 1024
        /// Time for a whole request head to arrive (slower: 408 and closed).
        public var headDeadline = TimeAmount.seconds(10)
        /// An idle keep-alive connection is closed after this.
        public var idleTimeout = TimeAmount.seconds(30)
        /// The defaults.
        public init() {}
    }

    let settings: APISettings
    let responder: APIResponder
    let limits: Limits
    let logger: Logger
    let bound = BoundPort()

    /// A server over `store`; `healthz` answers `/healthz` (the daemon's liveness).
    public init(settings: APISettings, facts: APIFacts, store: KeeperStore, webRoot: String?, limits: Limits = Limits(),
                proven: ProvenRouting? = nil, logger: Logger, healthz: @escaping @Sendable () -> (ok: Bool, body: String)) {
        self.settings = settings; self.limits = limits; self.logger = logger
        responder = APIResponder(settings: settings, facts: facts, store: store, webRoot: webRoot, proven: proven, healthz: healthz)
    }

    /// The bound port once listening (the configured one, or the one the OS chose for port 0).
    public var port: Int? { bound.value.withLock { $0 } }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let listen = try MetricsListen.parse(settings.listen, allowRemote: settings.allowRemote, section: "api", what: "the API")
        let limits = self.limits
        let server = HTTPServerBuilder { responder in
            GuardedHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: limits.idleTimeout)),
                                limits: limits)
        }
        let logger = self.logger
        let app = Application(
            responder: responder, server: server,
            configuration: .init(address: .hostname(listen.host, port: Int(listen.port)), serverName: nil),
            onServerRunning: { [bound] channel in
                let port = channel.localAddress?.port ?? Int(listen.port)
                bound.value.withLock { $0 = port }
                let host = listen.isIPv6 ? "[\(listen.host)]" : listen.host
                logger.notice("api listening on http://\(host):\(port)", metadata: [
                    "app": "http://\(host):\(port)/", "api": "http://\(host):\(port)/api/v1/stats"])
            },
            logger: logger)
        try await app.run()  // not runService(): that installs its own SIGTERM handler and could end before the group shuts down
    }
}

/// The port the listener bound (set once it runs).
final class BoundPort: Sendable {
    let value = Mutex<Int?>(nil)
}
