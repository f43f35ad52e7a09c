import KeeperAPI
import KeeperCore
import KeeperOperations

/// The config tables owned by modules, composed by the CLI: every command loads the file with all of them, so a
/// table is never "unknown" to one command and known to another.
enum ConfigSections {
    /// `[metrics]` (KeeperOperations), `[api]` (KeeperAPI).
    static let all: [any ConfigSection.Type] = [MetricsSettings.self, APISettings.self]
}
