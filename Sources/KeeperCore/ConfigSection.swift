import EthereumCore
import Foundation

/// A config table owned by the module that reads it (`[metrics]` by KeeperOperations, `[api]` by KeeperAPI): the
/// module names its keys and parses and validates them with the shared reader, so every problem still names its key
/// and line and an environment override (`EXPANSION_KEEPER_<SECTION>_<KEY>`) works as for KeeperCore's tables. The
/// CLI composes the modules by passing their types to `KeeperConfig.load(…, sections:)`.
///
/// KeeperCore keeps `[chain]`, `[contracts]` and `[keeper]`: every layer reads them (the store its `data_dir`, the
/// CLI its keys, planning and submission its policy).
public protocol ConfigSection: Sendable {
    /// The table's name, e.g. `metrics`.
    static var name: String { get }
    /// Its allowed keys; any other key in the table is an error.
    static var keys: [String] { get }
    /// Parses the table (absent keys take their defaults); records every problem on the reader and returns nil on any.
    static func parse(_ reader: inout ConfigSectionReader) -> Self?
    /// The effective table as TOML (header included, defaults filled in, secrets redacted) for `config show`;
    /// `value` is nil when the file did not set the table.
    static func renderTOML(_ value: Self?) -> String
}

extension ConfigSection {
    /// `renderTOML` for a value of unknown section type (nil or another type renders the defaults).
    public static func render(any value: (any ConfigSection)?) -> String { renderTOML(value as? Self) }
}

/// The typed getters of the config parser, for one module-owned table: keys are given without the section, and every
/// problem is recorded against `section.key` with its line (or the environment variable that set it).
public struct ConfigSectionReader {
    var parser: ConfigParser
    /// The table being read.
    public let section: String

    init(parser: ConfigParser, section: String) {
        self.parser = parser
        self.section = section
    }

    private func full(_ key: String) -> String { "\(section).\(key)" }

    /// Whether the file or the environment set `key`.
    public func isSet(_ key: String) -> Bool { parser.settings[full(key)] != nil }
    /// Records a problem with `key`.
    public mutating func issue(_ key: String, _ message: String) { parser.issue(full(key), message) }
    /// Records problems found by a shared validator (e.g. `MetricsListen.parse`'s `.config` issues), keys as given.
    public mutating func record(_ error: EngineError) {
        if case let .config(found) = error { for i in found { parser.issue(i.key, i.message) } } else { issue("file", "\(error)") }
    }
    /// A non-empty string; nil (and an issue when `required`) when absent or not a string.
    public mutating func string(_ key: String, required: Bool = false) -> String? { parser.string(full(key), required: required) }
    /// A string that may be empty; `def` when absent.
    public mutating func text(_ key: String, default def: String) -> String? {
        guard let s = parser.settings[full(key)] else { return def }
        guard case let .string(v) = s.value else { issue(key, "expected a string"); return nil }
        return v
    }
    /// An unsigned integer within `range`; `def` when absent (nil `def` = required).
    public mutating func uint(_ key: String, default def: UInt64?, range: ClosedRange<UInt64> = 0...UInt64.max) -> UInt64? {
        parser.uint(full(key), default: def, range: range)
    }
    /// `true` or `false`; `def` when absent.
    public mutating func bool(_ key: String, default def: Bool) -> Bool? { parser.bool(full(key), default: def) }
    /// An EIP-55 address.
    public mutating func address(_ key: String, required: Bool = false) -> Address? { parser.address(full(key), required: required) }
    /// A listener table's `listen` (default `def`) and `allow_remote` (default false), `listen` checked against the
    /// loopback rule (`MetricsListen.parse`; `what` says what a remote address would expose). Nil, with every
    /// problem recorded, when either is bad.
    public mutating func listener(default def: String, exposes what: String) -> (listen: String, allowRemote: Bool)? {
        let listen = string("listen") ?? (isSet("listen") ? nil : def)
        let allowRemote = bool("allow_remote", default: false)
        guard let listen, let allowRemote else { return nil }
        do { _ = try MetricsListen.parse(listen, allowRemote: allowRemote, section: section, what: what) } catch {
            record(error)
            return nil
        }
        return (listen, allowRemote)
    }

    /// A path relative to the config file's folder, made absolute.
    public func resolve(_ path: String) -> String { parser.resolve(path) }
}
