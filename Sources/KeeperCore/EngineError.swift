// The keeper's modules (KeeperCore, KeeperIngest, KeeperPlanning, KeeperSubmission, KeeperOperations) talk
// to the chain only through `ChainReader` (implemented over JSONRPC by `RPCChainReader`) and to disk only
// through KeeperStore. None imports ArgumentParser or the CLI.
import EthereumCore

/// The one error type of the keeper's modules. Messages name the key, block, log or contract involved and never
/// contain key material or passwords.
public enum EngineError: Error, Sendable, CustomStringConvertible {
    /// The configuration has problems (each names its key and, where known, its line).
    case config([ConfigIssue])
    /// The staking/treasury ABI does not have what the config names.
    case binding(String)
    /// The chain answered something the keeper cannot use (wrong chain id, malformed log, missing block).
    case chain(String)
    /// A reorg deeper than the stored window: ingestion stops instead of diverging silently.
    case reorgTooDeep(storedTip: UInt64, checkedDownTo: UInt64, window: UInt64)
    /// A second provider disagrees about a confirmed range's logs.
    case providerDisagreement(from: UInt64, to: UInt64, details: String)
    /// A store failure, with what the engine was doing.
    case store(operation: String, underlying: String)

    /// The operator message: each config issue on its own line, or the error's text with its remedy.
    public var description: String {
        switch self {
        case let .config(issues):
            return issues.map(\.description).joined(separator: "\n")
        case let .binding(text):
            return text
        case let .chain(text):
            return text
        case let .reorgTooDeep(tip, down, window):
            return "reorg deeper than reorg_window (\(window) blocks): stored block \(tip) is no longer canonical and no stored "
                + "block down to \(down) is; ingestion halted (check the providers, then run with --resync to rebuild from the chain)"
        case let .providerDisagreement(from, to, details):
            return "providers disagree about the logs of blocks \(from)...\(to): \(details); ingestion halted"
        case let .store(operation, underlying):
            return "\(operation): \(underlying)"
        }
    }
}

/// One configuration problem: the key (`section.key`), the line when known, and what was expected.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// `section.key` (or `section` for a whole table, or the environment variable name).
    public var key: String
    /// The 1-based line in the config file, when known.
    public var line: Int?
    /// What is wrong and what was expected.
    public var message: String

    /// An issue from its parts.
    public init(key: String, line: Int? = nil, message: String) { self.key = key; self.line = line; self.message = message }

    /// `config: <key> (line N): <message>`, the line part only when it is known.
    public var description: String {
        "config: \(key)\(line.map { " (line \($0))" } ?? ""): \(message)"
    }
}
