import KeeperCore

/// `[metrics]`: the Prometheus endpoint (its listen address and the loopback rule) and the readiness lag threshold.
/// Owned by KeeperOperations, which is the only module that reads it.
public struct MetricsSettings: ConfigSection, Equatable {
    /// The table's name.
    public static let name = "metrics"
    /// Its keys.
    public static let keys = ["listen", "allow_remote", "ready_max_lag_blocks"]

    /// `host:port` of the Prometheus endpoint (`listen`, default 127.0.0.1:9464); loopback only unless `allowRemote`.
    public var listen: String = "127.0.0.1:9464"
    /// Allow a non-loopback `listen` address (`allow_remote`, default false).
    public var allowRemote: Bool = false
    /// Largest lag in blocks at which `/readyz` still answers 200 (`ready_max_lag_blocks`, default 10).
    public var readyMaxLagBlocks: UInt64 = 10

    /// The defaults (the table absent).
    public init() {}

    /// Parses `[metrics]`, checking `listen` against the loopback rule.
    public static func parse(_ reader: inout ConfigSectionReader) -> MetricsSettings? {
        var out = MetricsSettings()
        let listener = reader.listener(default: out.listen, exposes: "metrics")
        let readyLag = reader.uint("ready_max_lag_blocks", default: 10, range: 0...1_000_000)
        guard let listener, let readyLag else { return nil }
        out.listen = listener.listen; out.allowRemote = listener.allowRemote; out.readyMaxLagBlocks = readyLag
        return out
    }

    /// The effective `[metrics]` table.
    public static func renderTOML(_ value: MetricsSettings?) -> String {
        let m = value ?? MetricsSettings()
        return "[metrics]\nlisten = \"\(m.listen)\"\nallow_remote = \(m.allowRemote)\nready_max_lag_blocks = \(m.readyMaxLagBlocks)\n"
    }
}

extension KeeperConfig {
    /// The `[metrics]` table, its defaults when the file has none.
    public var metrics: MetricsSettings { section(MetricsSettings.self) ?? MetricsSettings() }
}
