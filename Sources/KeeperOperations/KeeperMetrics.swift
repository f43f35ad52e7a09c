// KeeperOperations — what an operator sees of the running keeper: the Prometheus
// metrics (this file), the /metrics + /healthz + /readyz server, readiness, the systemd notify protocol
// and the log format. Imports swift-metrics (the instrumentation API), swift-prometheus (the registry and
// the text exposition — never hand-written), Hummingbird (HTTP) and swift-log; never the CLI.
import Foundation
import KeeperStore
import KeeperCore
import KeeperIngest
import KeeperSubmission
import Metrics
import Prometheus

/// The Prometheus type of one metric family.
public enum MetricKind: String, Sendable, CaseIterable {
    case counter, gauge, histogram
}

/// One documented metric: its full name (with the `expansion_keeper_` prefix), type, label names and help text.
public struct MetricSpec: Sendable, Equatable {
    /// The full exposition name.
    public let name: String
    /// The Prometheus type.
    public let kind: MetricKind
    /// Label names, in the order the keeper sets them.
    public let labels: [String]
    /// The `# HELP` text (also the README's "meaning" column).
    public let help: String
    /// Histogram bucket bounds in the metric's unit (seconds for durations); empty for other kinds.
    public let buckets: [Double]

    /// A spec from its parts.
    public init(_ name: String, _ kind: MetricKind, labels: [String] = [], buckets: [Double] = [], _ help: String) {
        self.name = name; self.kind = kind; self.labels = labels; self.help = help; self.buckets = buckets
    }
}

/// A swift-metrics `MetricsFactory` over one `PrometheusCollectorRegistry` that gives every metric of the
/// catalog its `# HELP` text and buckets (swift-prometheus's own factory emits no help, which
/// `promtool check metrics` flags). Metrics outside the catalog still work, without help text.
public struct CatalogMetricsFactory: MetricsFactory {
    /// The registry the handlers live in.
    public let registry: PrometheusCollectorRegistry
    let specs: [String: MetricSpec]

    /// A factory over `registry` for the metrics of `catalog`.
    public init(registry: PrometheusCollectorRegistry, catalog: [MetricSpec]) {
        self.registry = registry
        var byName: [String: MetricSpec] = [:]
        for s in catalog { byName[s.name] = s }
        specs = byName
    }

    func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: specs[label]?.help ?? "")
    }

    static let defaultSecondsBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// A `Counter` handler in the registry, with the catalog's help text.
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    /// A `FloatingPointCounter` handler in the registry, with the catalog's help text.
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    /// A `Meter` handler in the registry, with the catalog's help text.
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    /// A `Recorder` handler in the registry, with the catalog's help text.
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = specs[label]?.buckets ?? Self.defaultSecondsBuckets
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    /// A `Timer` handler in the registry, with the catalog's help text.
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let seconds = specs[label]?.buckets ?? Self.defaultSecondsBuckets
        let buckets = seconds.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    /// Removes a `Counter` from the registry.
    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    /// Removes a `FloatingPointCounter` from the registry.
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    /// Removes a `Meter` from the registry.
    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }

    /// Removes a `Recorder` from the registry.
    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
        if let h = handler as? Prometheus.ValueHistogram { registry.unregisterValueHistogram(h) }
    }

    /// Removes a `Timer` from the registry.
    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? Prometheus.DurationHistogram { registry.unregisterDurationHistogram(h) }
    }
}

/// Every metric the keeper exports, as swift-metrics handles with their exact names, so instrumenting
/// a place in the engine is one line (`metrics.reorgs.increment()`). One instance per process (tests make
/// their own); `exposition()` renders the registry in the Prometheus text format 0.0.4.
public final class KeeperMetrics: Sendable {
    /// The name prefix of every keeper metric.
    public static let prefix = "expansion_keeper_"

    /// The catalog: every metric, its type, labels and meaning (README's metrics table is checked against it).
    public static let catalog: [MetricSpec] = [
        .init("expansion_keeper_build_info", .gauge, labels: ["version"], "Always 1; the version label names the running build."),
        .init("expansion_keeper_chain_head_block", .gauge, "Latest block number reported by the RPC endpoints."),
        .init("expansion_keeper_confirmed_target_block", .gauge, "Newest block the keeper may act on (head minus confirmations, or the safe/finalized block)."),
        .init("expansion_keeper_cursor_block", .gauge, "Highest block fully ingested into the store."),
        .init("expansion_keeper_lag_blocks", .gauge, "Blocks between the confirmed target and the cursor (0 when caught up)."),
        .init("expansion_keeper_reorgs_total", .counter, "Chain reorganisations detected and repaired by ingestion."),
        .init("expansion_keeper_reorg_depth_max", .gauge, "Deepest reorganisation repaired since the store was created (blocks)."),
        .init("expansion_keeper_halted", .gauge, "1 while ingestion is halted (reorg deeper than reorg_window, provider disagreement); the daemon stays up, not ready, rather than restart into the same halt."),
        .init("expansion_keeper_rpc_requests_total", .counter, labels: ["endpoint", "method", "outcome"],
              "HTTP requests to RPC endpoints by endpoint (redacted), JSON-RPC method and outcome (ok, rpc_error, http_error, invalid_response, transport_error)."),
        .init("expansion_keeper_rpc_request_duration_seconds", .histogram, labels: ["method"],
              buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
              "Duration of RPC HTTP requests (one attempt each, including failures)."),
        .init("expansion_keeper_rpc_getlogs_range_blocks", .gauge, "Block range of the latest successful eth_getLogs request (the adaptive range in force)."),
        .init("expansion_keeper_endpoint_healthy", .gauge, labels: ["endpoint"], "1 when the endpoint's latest request succeeded (an RPC error answer counts as reachable), 0 after a transport or HTTP failure."),
        .init("expansion_keeper_reward_events_total", .counter, "Reward events (the configured reward_event) ingested."),
        .init("expansion_keeper_registered_stakers", .gauge, "Stakers currently opted in to the treasury."),
        .init("expansion_keeper_intents", .gauge, labels: ["state"], "Route intents in the store by state (pending, policy_skipped, lapsed, sent, routed, skipped, orphaned)."),
        .init("expansion_keeper_routed_claims_total", .counter, labels: ["outcome"], "Treasury Routed (outcome=routed) and RouteSkipped (outcome=skipped) events ingested, whoever sent the transaction."),
        .init("expansion_keeper_routed_tokens_total", .counter, "Tokens contributed by ingested Routed events, in token units (wei / 1e18) as a float; exact wei totals are in registrations and audit."),
        .init("expansion_keeper_tx_sent_total", .counter, "Routing transactions broadcast (first sends, not replacements)."),
        .init("expansion_keeper_tx_replaced_total", .counter, "Routing transactions replaced with bumped fees at the same nonce."),
        .init("expansion_keeper_tx_inflight", .gauge, "Routing transactions sent and not yet final."),
        .init("expansion_keeper_tx_oldest_inflight_seconds", .gauge, "Seconds since the oldest routing transaction not yet confirmed was first sent (0 when none)."),
        .init("expansion_keeper_tx_confirm_seconds", .histogram, buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
              "Time from first broadcast to inclusion of routing transactions."),
        .init("expansion_keeper_fee_cap_reached", .gauge, "1 while the fee the network asks exceeds max_fee_per_gas_gwei (submission waits)."),
        .init("expansion_keeper_nonce_gap", .gauge, "Pending nonce of the node minus the next nonce the keeper expects (0 when in step)."),
        .init("expansion_keeper_keeper_balance_eth", .gauge, "The keeper account's balance in ETH (gas money)."),
        .init("expansion_keeper_min_balance_eth", .gauge, "The configured keeper.min_balance_eth: the LowBalance alert fires below it."),
        .init("expansion_keeper_proven_oldest_claim_age_blocks", .gauge, "With [treasury] kind = \"proven\": blocks between the chain head and the oldest claim the keeper has still to route (pending or sent; not claims held for the staker's allowance or balance); 0 when none or with the keeper treasury."),
        .init("expansion_keeper_proven_verifiable_window_blocks", .gauge, "With [treasury] kind = \"proven\": how far back the chain verifies a claim's block (8191 with the EIP-2935 history contract, 256 without); 0 with the keeper treasury."),
        .init("expansion_keeper_paused", .gauge, "1 while submission is paused (pause_file present or the treasury is paused)."),
        .init("expansion_keeper_dry_run", .gauge, "1 when the keeper runs with dry_run = true or run --dry-run (plans, never signs)."),
        .init("expansion_keeper_ready", .gauge, "1 while /readyz answers 200 (caught up, key loaded, an RPC endpoint healthy, not halted)."),
        .init("expansion_keeper_last_successful_poll_timestamp_seconds", .gauge, "Unix time of the end of the latest poll that completed without error."),
        .init("expansion_keeper_provider_disagreements_total", .counter, "Ranges where rpc_urls and verify_rpc_urls returned different log sets."),
        .init("expansion_keeper_leader", .gauge, "1 while this instance leads (ingests, plans, signs, broadcasts): always 1 without [ha]; with [ha], 1 on the lease holder and 0 on followers."),
        .init("expansion_keeper_leader_epoch", .gauge, "With [ha]: the lease epoch (fencing token) of the current leader as this instance last saw it; 0 without [ha]."),
        .init("expansion_keeper_failovers_total", .counter, "With [ha]: times this instance took the lease over from another instance."),
    ]

    /// The intent states exported under `intents{state}` (always all of them, zeros included).
    public static let intentStates = IntentState.allCases.map(\.rawValue)

    /// The registry every handle writes to.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over `registry` (for handles with labels known only at run time).
    public let factory: CatalogMetricsFactory

    /// A fresh registry with every unlabeled metric of the catalog at zero, `build_info{version}` = 1 and all intent
    /// states and routed outcomes present (so a first scrape already lists every family alerts use).
    public init(version: String) {
        registry = PrometheusCollectorRegistry()
        factory = CatalogMetricsFactory(registry: registry, catalog: Self.catalog)
        // Registering is creating a handle: the registry keeps the family, and every later handle of the same name
        // and labels (the accessors below) writes to it.
        for spec in Self.catalog where spec.labels.isEmpty {
            let name = String(spec.name.dropFirst(Self.prefix.count))
            switch spec.kind {
            case .gauge: meter(name).set(0.0)
            case .counter: _ = counter(name)
            case .histogram: _ = timer(name)
            }
        }
        meter("build_info", [("version", version)]).set(1.0)
        for state in Self.intentStates { intents(state: state).set(0.0) }
        for outcome in ["routed", "skipped"] { _ = routedClaims(outcome: outcome) }
        // Families with run-time labels: the histogram and request counter appear with their first request.
    }

    // The handles, by metric name without the prefix; each call returns a handle on the one registered family.
    func meter(_ name: String, _ labels: [(String, String)] = []) -> Meter {
        Meter(label: Self.prefix + name, dimensions: labels, factory: factory)
    }
    func counter(_ name: String, _ labels: [(String, String)] = []) -> Metrics.Counter {
        Metrics.Counter(label: Self.prefix + name, dimensions: labels, factory: factory)
    }
    func floatingCounter(_ name: String) -> FloatingPointCounter {
        FloatingPointCounter(label: Self.prefix + name, dimensions: [], factory: factory)
    }
    func timer(_ name: String, _ labels: [(String, String)] = []) -> Metrics.Timer {
        Metrics.Timer(label: Self.prefix + name, dimensions: labels, factory: factory)
    }

    /// `expansion_keeper_chain_head_block`.
    public var chainHead: Meter { meter("chain_head_block") }
    /// `expansion_keeper_confirmed_target_block`.
    public var confirmedTarget: Meter { meter("confirmed_target_block") }
    /// `expansion_keeper_cursor_block`.
    public var cursor: Meter { meter("cursor_block") }
    /// `expansion_keeper_lag_blocks`.
    public var lag: Meter { meter("lag_blocks") }
    /// `expansion_keeper_reorgs_total`.
    public var reorgs: Metrics.Counter { counter("reorgs_total") }
    /// `expansion_keeper_reorg_depth_max`.
    public var reorgDepthMax: Meter { meter("reorg_depth_max") }
    /// `expansion_keeper_halted`.
    public var halted: Meter { meter("halted") }
    /// `expansion_keeper_rpc_getlogs_range_blocks`.
    public var getLogsRange: Meter { meter("rpc_getlogs_range_blocks") }
    /// `expansion_keeper_reward_events_total`.
    public var rewardEvents: Metrics.Counter { counter("reward_events_total") }
    /// `expansion_keeper_registered_stakers`.
    public var registeredStakers: Meter { meter("registered_stakers") }
    /// `expansion_keeper_routed_tokens_total`.
    public var routedTokens: FloatingPointCounter { floatingCounter("routed_tokens_total") }
    /// `expansion_keeper_tx_sent_total`.
    public var txSent: Metrics.Counter { counter("tx_sent_total") }
    /// `expansion_keeper_tx_replaced_total`.
    public var txReplaced: Metrics.Counter { counter("tx_replaced_total") }
    /// `expansion_keeper_tx_inflight`.
    public var txInflight: Meter { meter("tx_inflight") }
    /// `expansion_keeper_tx_oldest_inflight_seconds`.
    public var txOldestInflightSeconds: Meter { meter("tx_oldest_inflight_seconds") }
    /// `expansion_keeper_tx_confirm_seconds`.
    public var txConfirm: Metrics.Timer { timer("tx_confirm_seconds") }
    /// `expansion_keeper_fee_cap_reached`.
    public var feeCapReached: Meter { meter("fee_cap_reached") }
    /// `expansion_keeper_nonce_gap`.
    public var nonceGap: Meter { meter("nonce_gap") }
    /// `expansion_keeper_proven_oldest_claim_age_blocks`.
    public var provenOldestClaimAge: Meter { meter("proven_oldest_claim_age_blocks") }
    /// `expansion_keeper_proven_verifiable_window_blocks`.
    public var provenVerifiableWindow: Meter { meter("proven_verifiable_window_blocks") }
    /// `expansion_keeper_keeper_balance_eth`.
    public var balanceEth: Meter { meter("keeper_balance_eth") }
    /// `expansion_keeper_min_balance_eth`.
    public var minBalanceEth: Meter { meter("min_balance_eth") }
    /// `expansion_keeper_paused`.
    public var paused: Meter { meter("paused") }
    /// `expansion_keeper_dry_run`.
    public var dryRun: Meter { meter("dry_run") }
    /// `expansion_keeper_ready`.
    public var ready: Meter { meter("ready") }
    /// `expansion_keeper_last_successful_poll_timestamp_seconds`.
    public var lastSuccessfulPoll: Meter { meter("last_successful_poll_timestamp_seconds") }
    /// `expansion_keeper_provider_disagreements_total`.
    public var providerDisagreements: Metrics.Counter { counter("provider_disagreements_total") }
    /// `leader`.
    public var leader: Meter { meter("leader") }
    /// `leader_epoch`.
    public var leaderEpoch: Meter { meter("leader_epoch") }
    /// `failovers_total`.
    public var failovers: Metrics.Counter { counter("failovers_total") }

    /// `intents{state}`.
    public func intents(state: String) -> Meter { meter("intents", [("state", state)]) }

    /// `routed_claims_total{outcome}` (`routed` or `skipped`).
    public func routedClaims(outcome: String) -> Metrics.Counter { counter("routed_claims_total", [("outcome", outcome)]) }

    /// `endpoint_healthy{endpoint}` (a redacted endpoint name).
    public func endpointHealthy(_ endpoint: String) -> Meter { meter("endpoint_healthy", [("endpoint", endpoint)]) }

    /// Records one RPC HTTP request: `rpc_requests_total{endpoint,method,outcome}` and the duration histogram.
    public func rpcRequest(endpoint: String, method: String, outcome: String, seconds: Double) {
        counter("rpc_requests_total", [("endpoint", endpoint), ("method", method), ("outcome", outcome)]).increment()
        timer("rpc_request_duration_seconds", [("method", method)]).recordNanoseconds(Int64((max(0, seconds) * 1e9).rounded()))
    }

    /// The whole registry in the Prometheus text exposition format (version 0.0.4).
    public func exposition() -> String { registry.emitToString() }

    /// The content type of `exposition()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
