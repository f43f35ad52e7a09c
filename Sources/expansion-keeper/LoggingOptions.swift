import ArgumentParser
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperSubmission
import Logging

/// `--log-format text|json` and `--log-level LEVEL`, shared by the commands that log (operator guide, "Logs").
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log line format: text (default) or json (one JSON object per line).")
    var logFormat: String = "text"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    /// Validates both values and bootstraps swift-log with the keeper's handler (stderr, no secrets).
    func bootstrap() throws {
        guard let format = LogSetup.format(logFormat) else { throw CLIError("--log-format \(logFormat): expected text or json") }
        guard let level = LogSetup.level(logLevel) else {
            throw CLIError("--log-level \(logLevel): unknown level (trace, debug, info, notice, warning, error, critical)")
        }
        LogSetup.bootstrap(format: format, level: level)
    }
}
