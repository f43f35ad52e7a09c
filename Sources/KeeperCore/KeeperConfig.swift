// KeeperCore — what every part of the keeper shares: the validated configuration (KeeperConfig), the contract
// bindings (the reward event, the treasury's events and functions), the chain reader interface, the engine's
// errors and the text/JSON output helpers. Imports EthereumCore, EthereumABI, JSONRPC, TOMLKit; nothing of the
// store, the daemon or operations.
import EthereumCore
import Foundation
import JSONRPC
import TOMLKit

/// The keeper's configuration (every key in deploy/docs/operator-guide.md, "Configuration reference"), validated completely
/// before anything starts: unknown keys are errors, every problem names its key (and line), addresses must
/// be EIP-55 checksummed, and the staking ABI must have the configured reward event and fields.
public struct KeeperConfig: Sendable {
    /// How deep a block must be before the keeper acts on it.
    public enum Confirmations: Sendable, Equatable, CustomStringConvertible {
        /// `head − n`.
        case blocks(UInt64)
        /// The node's `safe` block.
        case safe
        /// The node's `finalized` block.
        case finalized

        /// The TOML form: the depth as a bare number, or `"safe"` / `"finalized"` quoted.
        public var description: String {
            switch self {
            case let .blocks(n): return "\(n)"
            case .safe: return "\"safe\""
            case .finalized: return "\"finalized\""
            }
        }
    }

    /// Which treasury contract routes (`[treasury] kind`).
    public enum TreasuryKind: String, Sendable, Equatable, CaseIterable {
        /// `ExpansionTreasury`: routes claims a keeper with the keeper role reports (the keeper is trusted).
        case keeper
        /// `ProvenExpansionTreasury`: routes only claims proven against the block's receipts (anyone may route).
        case proven
    }

    /// `[treasury]`.
    public struct Treasury: Sendable, Equatable {
        /// `kind`: "keeper" (default) or "proven".
        public var kind: TreasuryKind = .keeper
        /// The default table.
        public init(kind: TreasuryKind = .keeper) { self.kind = kind }
    }

    /// `[store] backend`: where the keeper keeps its state.
    public enum StoreBackend: String, Sendable, Equatable, CaseIterable {
        /// One SQLite file in `data_dir` (the default, no setup).
        case sqlite
        /// A PostgreSQL database (`postgres_url`): several keepers, one leader (`[ha]`).
        case postgres
    }

    /// `[store]`.
    public struct Store: Sendable, Equatable {
        /// `backend`: "sqlite" (default) or "postgres".
        public var backend: StoreBackend = .sqlite
        /// `postgres_url`: postgresql://USER@HOST:PORT/DATABASE?sslmode=… (no password; required with "postgres").
        public var postgresURL: String?
        /// The default table (SQLite).
        public init(backend: StoreBackend = .sqlite, postgresURL: String? = nil) { self.backend = backend; self.postgresURL = postgresURL }
    }

    /// `[ha]`: several keepers on one PostgreSQL database, one leader holding a fenced lease.
    public struct HA: Sendable, Equatable {
        /// `enabled` (default false).
        public var enabled = false
        /// `instance`: this keeper's name, unique among the keepers sharing the database.
        public var instance = ""
        /// `lease_seconds` (default 5): how long a lease lasts without renewal.
        public var leaseSeconds: UInt64 = 5
        /// The default table (off).
        public init(enabled: Bool = false, instance: String = "", leaseSeconds: UInt64 = 5) {
            self.enabled = enabled; self.instance = instance; self.leaseSeconds = leaseSeconds
        }
    }

    /// The environment variable holding the PostgreSQL password (before the systemd credential `pg-password`).
    public static let pgPasswordVariable = "EXPANSION_KEEPER_PG_PASSWORD"
    /// The systemd credential holding the PostgreSQL password (`LoadCredential=pg-password:…`).
    public static let pgCredentialName = "pg-password"

    /// `[chain]`.
    public struct Chain: Sendable {
        /// Endpoints, the first is the primary (`rpc_urls`).
        public var rpcURLs: [String]
        /// A second provider set whose log sets must agree with the first before a range commits (`verify_rpc_urls`).
        public var verifyRPCURLs: [String]
        /// The chain id every endpoint must report (`chain_id`).
        public var chainID: UInt64
        /// `confirmations`: a depth in blocks, or "safe" / "finalized".
        public var confirmations: Confirmations
        /// Poll interval of `run` (`poll_interval_ms`).
        public var pollIntervalMs: UInt64
        /// First block to ingest when the store is empty (`start_block`).
        public var startBlock: UInt64
        /// Stored blocks checked when walking back on a reorg (`reorg_window`).
        public var reorgWindow: UInt64
        /// Largest `eth_getLogs` range (`max_logs_range`).
        public var maxLogsRange: UInt64
        /// Largest range one store transaction covers (`max_ingest_range`).
        public var maxIngestRange: UInt64
    }

    /// `[contracts]`.
    public struct Contracts: Sendable {
        /// The staking contract (`staking`).
        public var staking: Address
        /// Absolute path of its JSON ABI (`staking_abi`, relative to the config file's folder).
        public var stakingABI: String
        /// The reward event's name (`reward_event`).
        public var rewardEvent: String
        /// The reward event's staker field (`reward_staker_field`).
        public var rewardStakerField: String
        /// The reward event's amount field (`reward_amount_field`).
        public var rewardAmountField: String
        /// The ExpansionTreasury (`treasury`).
        public var treasury: Address
        /// Block the treasury was deployed in (`treasury_deploy_block`); `audit` starts there.
        public var treasuryDeployBlock: UInt64
    }

    /// `[keeper]`.
    public struct Keeper: Sendable {
        /// The store's folder (`data_dir`).
        public var dataDir: String
        /// The keeper's keystore (`keystore`); required unless `dry_run`.
        public var keystore: String?
        /// The keystore password file (`password_file`); required unless `dry_run`.
        public var passwordFile: String?
        /// Plan and simulate, never sign (`dry_run`).
        public var dryRun: Bool
        /// Claims per routing transaction, 1...256 (`max_batch`).
        public var maxBatch: Int
        /// Fee cap in gwei (`max_fee_per_gas_gwei`).
        public var maxFeePerGasGwei: Double
        /// Contributions below this many wei are skipped by policy (`min_route_wei`).
        public var minRouteWei: UInt256
        /// While this file exists, submission stops (`pause_file`, default `<data_dir>/PAUSE`: one path whether
        /// the key is set or not, so the runbook's `touch` always pauses).
        public var pauseFile: String
        /// Cap on wei routed per rolling 24 h, none when absent (`max_routed_per_day` in tokens, or
        /// `max_routed_per_day_wei` in wei).
        public var maxRoutedPerDayWei: UInt256?
        /// The `from` of `plan`'s simulations (`simulate_from`); when nil, plan uses the keystore's `address` field.
        public var simulateFrom: Address?
        /// Blocks without a receipt before a transaction is replaced with bumped fees (`replace_after_blocks`, default 3).
        public var replaceAfterBlocks: UInt64 = 3
        /// Cap on wei routed per transaction, none when absent (`max_routed_per_tx` in tokens, or
        /// `max_routed_per_tx_wei` in wei).
        public var maxRoutedPerTxWei: UInt256? = nil
        /// A warning below this keeper ETH balance, in wei (`min_balance_eth`, default 0.01 ETH).
        public var minBalanceWei: UInt256 = KeeperConfig.defaultMinBalanceWei
        /// Reverted batches before a claim is parked (`max_revert_attempts`, default 3).
        public var maxRevertAttempts: Int = 3
        /// Nonces in flight at once (`max_in_flight`, default 4).
        public var maxInFlight: Int = 4
    }

    /// The `[chain]` table: endpoints, chain id, confirmations and ingestion ranges.
    public var chain: Chain
    /// The `[contracts]` table: the staking contract, its ABI and reward event, and the treasury.
    public var contracts: Contracts
    /// The `[keeper]` table: store folder, keys, batching, fee cap and routing policy.
    public var keeper: Keeper
    /// The `[treasury]` table: which treasury contract `contracts.treasury` is.
    public var treasury = Treasury()
    /// The `[store]` table: SQLite (default) or PostgreSQL.
    public var store = Store()
    /// The `[ha]` table: high availability on PostgreSQL (off by default).
    public var ha = HA()
    /// The file it was loaded from.
    public var path: String
    /// The tables owned by modules outside KeeperCore (`[metrics]` by KeeperOperations, `[api]` by KeeperAPI), by name,
    /// as parsed from the file; a table absent from the file is absent here (its module applies its defaults).
    public var sections: [String: any ConfigSection] = [:]
    /// The module-owned section types this configuration was loaded with, in order (a reload uses the same).
    public var sectionTypes: [any ConfigSection.Type] = []

    /// The parsed `S` table, nil when the file (and the environment) did not set it.
    public func section<S: ConfigSection>(_ type: S.Type) -> S? { sections[S.name] as? S }

    /// The environment-variable prefix of overrides: `EXPANSION_KEEPER_<SECTION>_<KEY>`.
    public static let envPrefix = "EXPANSION_KEEPER_"

    /// The default of `pause_file`: `PAUSE` inside `data_dir` (on the systemd layout /var/lib/expansion-keeper/PAUSE,
    /// which survives reboots, so a pause is lifted only by whoever removes it).
    public static func defaultPauseFile(dataDir: String) -> String {
        (dataDir as NSString).appendingPathComponent("PAUSE")
    }

    /// The environment variable naming a keystore password file (before `password_file`; not a config override).
    public static let passwordFileVariable = "EXPANSION_KEEPER_PASSWORD_FILE"
    /// The systemd credential holding the keystore password (`LoadCredential=keeper-password:…`).
    public static let credentialName = "keeper-password"

    /// 0.01 ETH in wei, the default of `min_balance_eth`.
    public static let defaultMinBalanceWei = UInt256(UInt64(10_000_000_000_000_000))

    /// A token amount with 18 decimals, written as a decimal string ("1", "0.5", "1000.000000000000000001"),
    /// to wei exactly; nil for anything else (signs, exponents, blanks, more than 18 fractional digits, > 2^256-1).
    public static func parseTokenAmount(_ text: String) -> UInt256? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let frac = parts.count > 1 ? String(parts[1]) : ""
        guard !whole.isEmpty, parts.count == 1 || !frac.isEmpty, frac.count <= 18,
              frac.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return try? UInt256(decimal: whole + frac + String(repeating: "0", count: 18 - frac.count))
    }

    /// Wei as a token amount with 18 decimals, trailing zeros dropped ("1", "0.01"); the inverse of `parseTokenAmount`.
    public static func formatTokenAmount(_ wei: UInt256) -> String {
        let digits = wei.decimalString
        let padded = String(repeating: "0", count: max(0, 19 - digits.count)) + digits
        let whole = padded.dropLast(18)
        var frac = padded.suffix(18)
        while frac.last == "0" { frac = frac.dropLast() }
        return frac.isEmpty ? String(whole) : "\(whole).\(frac)"
    }

    /// Loads and validates `path` (with environment overrides); throws `.config` listing every problem.
    /// `checkKeys` also requires keystore/password_file (when not dry-run) and checks they are readable.
    /// `sections` are the module-owned tables the caller composes (the CLI: all of them); a table of another
    /// module is an unknown section.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            checkKeys: Bool = true, sections: [any ConfigSection.Type] = []) throws(EngineError) -> KeeperConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .config([ConfigIssue(key: "file", message: "cannot read \(path): \(Self.ioReason(path))")])
        }
        return try parse(text, path: path, environment: environment, checkKeys: checkKeys, sections: sections)
    }

    static func ioReason(_ path: String) -> String {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) { return "no such file" }
        if isDir.boolValue { return "is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return "not UTF-8 text"
    }

    /// Parses and validates config text (`path` locates relative paths and names the file in messages).
    public static func parse(_ text: String, path: String, environment: [String: String] = [:],
                             checkKeys: Bool = true, sections: [any ConfigSection.Type] = []) throws(EngineError) -> KeeperConfig {
        var parser = ConfigParser(text: text, path: path, environment: environment, sectionTypes: sections)
        return try parser.run(checkKeys: checkKeys)
    }
}

/// One raw value with where it came from.
struct RawSetting {
    enum Value { case string(String), int(Int), double(Double), bool(Bool), array([Value]), other(String) }
    var value: Value
    var line: Int?
    var fromEnv: String?
}

/// The allowed keys of KeeperCore's own tables: section → keys (the tables every layer reads). Module-owned tables
/// (`ConfigSection`) add theirs at parse time. Unknown keys are errors.
enum ConfigSchema {
    static let sections: [String: [String]] = [
        "chain": ["rpc_urls", "verify_rpc_urls", "chain_id", "confirmations", "poll_interval_ms", "start_block",
                  "reorg_window", "max_logs_range", "max_ingest_range"],
        "contracts": ["staking", "staking_abi", "reward_event", "reward_staker_field", "reward_amount_field",
                      "treasury", "treasury_deploy_block"],
        "keeper": ["data_dir", "keystore", "password_file", "dry_run", "max_batch", "max_fee_per_gas_gwei",
                   "min_route_wei", "pause_file", "max_routed_per_day", "max_routed_per_day_wei", "max_routed_per_tx",
                   "max_routed_per_tx_wei", "simulate_from", "replace_after_blocks", "min_balance_eth",
                   "max_revert_attempts", "max_in_flight"],
        "treasury": ["kind"],
        "store": ["backend", "postgres_url"],
        "ha": ["enabled", "instance", "lease_seconds"],
    ]
    static let arrayKeys: Set<String> = ["chain.rpc_urls", "chain.verify_rpc_urls"]

    /// Why an `EXPANSION_KEEPER_…` variable that names no section looks like a misspelt override (nil when it
    /// looks like one of the tool's other variables, e.g. EXPANSION_KEEPER_PASSWORD_FILE): its first word is
    /// within two edits of a section name, or the rest is a config key without its section.
    static func misspeltOverride(_ rest: String, sections: [String: [String]]) -> String? {
        let names = sections.keys.sorted()
        let expected = "expected EXPANSION_KEEPER_<SECTION>_<KEY> with SECTION one of \(names.map { $0.uppercased() }.joined(separator: ", "))"
        let first = String(rest.prefix { $0 != "_" })
        // The tool's own variables are not overrides (EXPANSION_KEEPER_RPC_TIMEOUT must not read as a misspelt
        // API_…); a short first word must match a section exactly (`rpc` is two edits from `api`).
        if toolVariables.contains(where: { rest == $0 || rest.hasPrefix($0 + "_") }) { return nil }
        if first.count >= 4, let near = names.first(where: { editDistance($0, first) <= 2 }) {
            return "unknown override section \"\(first)\" (did you mean \(near.uppercased())?): \(expected); the variable is not applied"
        }
        if let owner = names.first(where: { sections[$0]?.contains(rest) == true }) {
            return "no section: \(rest) is a key of [\(owner)], so the override is EXPANSION_KEEPER_\(owner.uppercased())_\(rest.uppercased())"
        }
        return nil
    }

    /// Variables of the tool and its tests that are not config overrides (lower case, without the prefix).
    static let toolVariables = ["rpc_timeout", "password_file", "python", "soak", "bin", "seed", "test", "fuzz", "doc_images",
                                "artefacts", "sign_bench_child", "chromium", "log_level", "log_format", "bench_preloaded", "pg_password"]

    /// Levenshtein distance of two short ASCII words.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        var row = Array(0...y.count)
        for i in 1...max(1, x.count) where !x.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in stride(from: 1, through: y.count, by: 1) {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (x[i - 1] == y[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return x.isEmpty ? y.count : row[y.count]
    }
}

struct ConfigParser {
    let text: String
    let path: String
    let environment: [String: String]
    let sectionTypes: [any ConfigSection.Type]
    /// Every allowed table and its keys: KeeperCore's and the composed modules'.
    let schema: [String: [String]]
    var issues: [ConfigIssue] = []
    var settings: [String: RawSetting] = [:]  // "section.key"
    var lines: [String: Int] = [:]

    init(text: String, path: String, environment: [String: String], sectionTypes: [any ConfigSection.Type] = []) {
        self.text = text; self.path = path; self.environment = environment; self.sectionTypes = sectionTypes
        var schema = ConfigSchema.sections
        for t in sectionTypes { schema[t.name] = t.keys }
        self.schema = schema
        lines = Self.keyLines(text)
    }

    /// Where each `section.key` (and `[section]` header) appears: a scan of the text for headers and `key =`.
    static func keyLines(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        var section = ""
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                section = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] \t"))
                if out[section] == nil { out[section] = i + 1 }
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
                let full = section.isEmpty ? key : "\(section).\(key)"
                if out[full] == nil { out[full] = i + 1 }
            }
        }
        return out
    }

    mutating func issue(_ key: String, _ message: String) {
        let line = settings[key]?.fromEnv == nil ? (settings[key]?.line ?? lines[key]) : nil
        let label = settings[key]?.fromEnv.map { "\(key) (from \($0))" } ?? key
        issues.append(ConfigIssue(key: label, line: line, message: message))
    }

    static func convert(_ v: TOMLValueConvertible) -> RawSetting.Value {
        switch v.type {
        case .string: return .string(v.string ?? "")
        case .int: return .int(v.int ?? 0)
        case .double: return .double(v.double ?? 0)
        case .bool: return .bool(v.bool ?? false)
        case .array:
            if let a = v.array { return .array(a.map { convert($0) }) }
            return .other("array")
        default: return .other(v.type.description)
        }
    }

    mutating func run(checkKeys: Bool) throws(EngineError) -> KeeperConfig {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw .config([ConfigIssue(key: "file", line: e.source.begin.line, message: "\(path) is not valid TOML: \(e.description)")])
        } catch {
            throw .config([ConfigIssue(key: "file", message: "\(path) is not valid TOML")])
        }
        for key in root.keys.sorted() {
            guard let value = root[key] else { continue }
            guard let allowed = schema[key] else {
                let known = schema.keys.sorted().map { "[\($0)]" }.joined(separator: ", ")
                issues.append(ConfigIssue(key: key, line: lines[key], message: "unknown section (expected one of \(known))"))
                continue
            }
            guard let table = value.table else {
                issues.append(ConfigIssue(key: key, line: lines[key], message: "expected a table [\(key)]"))
                continue
            }
            for sub in table.keys.sorted() {
                let full = "\(key).\(sub)"
                guard allowed.contains(sub) else {
                    issues.append(ConfigIssue(key: full, line: lines[full], message: "unknown key (allowed in [\(key)]: \(allowed.joined(separator: ", ")))"))
                    continue
                }
                if let v = table[sub] { settings[full] = RawSetting(value: Self.convert(v), line: lines[full]) }
            }
        }
        applyEnvironment()
        return try build(checkKeys: checkKeys)
    }

    /// `EXPANSION_KEEPER_<SECTION>_<KEY>` overrides; an override naming a known section but an unknown key is an error.
    mutating func applyEnvironment() {
        for (name, value) in environment.sorted(by: { $0.key < $1.key })
        where name.hasPrefix(KeeperConfig.envPrefix) && name != KeeperConfig.passwordFileVariable {
            let rest = name.dropFirst(KeeperConfig.envPrefix.count).lowercased()
            guard let section = schema.keys.first(where: { rest.hasPrefix($0 + "_") }) else {
                if let problem = ConfigSchema.misspeltOverride(String(rest), sections: schema) { issues.append(ConfigIssue(key: name, message: problem)) }
                continue
            }
            let key = String(rest.dropFirst(section.count + 1))
            let full = "\(section).\(key)"
            guard schema[section]?.contains(key) == true else {
                issues.append(ConfigIssue(key: name, message: "unknown override: [\(section)] has no key \(key)"))
                continue
            }
            let parsed: RawSetting.Value
            if ConfigSchema.arrayKeys.contains(full) {
                parsed = .array(value.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
            } else {
                parsed = .string(value)
            }
            settings[full] = RawSetting(value: parsed, line: nil, fromEnv: name)
        }
    }

    // MARK: typed getters (each records an issue and returns nil on a bad value)

    mutating func string(_ key: String, required: Bool = true) -> String? {
        guard let s = settings[key] else {
            if required { issue(key, "missing (required)") }
            return nil
        }
        guard case let .string(v) = s.value else { issue(key, "expected a string"); return nil }
        if v.isEmpty { issue(key, "must not be empty"); return nil }
        return v
    }

    mutating func uint(_ key: String, default def: UInt64?, range: ClosedRange<UInt64> = 0...UInt64.max) -> UInt64? {
        guard let s = settings[key] else {
            if def == nil { issue(key, "missing (required)") }
            return def
        }
        let v: UInt64?
        switch s.value {
        case let .int(i): v = i >= 0 ? UInt64(i) : nil
        case let .string(t) where s.fromEnv != nil: v = UInt64(t)
        default: v = nil
        }
        guard let v, range.contains(v) else {
            issue(key, "expected an integer in \(range.lowerBound)...\(range.upperBound == .max ? "2^64-1" : "\(range.upperBound)")")
            return nil
        }
        return v
    }

    mutating func double(_ key: String, default def: Double) -> Double? {
        guard let s = settings[key] else { return def }
        let v: Double?
        switch s.value {
        case let .double(d): v = d
        case let .int(i): v = Double(i)
        case let .string(t) where s.fromEnv != nil: v = Double(t)
        default: v = nil
        }
        guard let v, v > 0, v.isFinite else { issue(key, "expected a positive number"); return nil }
        return v
    }

    mutating func bool(_ key: String, default def: Bool) -> Bool? {
        guard let s = settings[key] else { return def }
        switch s.value {
        case let .bool(b): return b
        case let .string(t) where s.fromEnv != nil && (t == "true" || t == "false"): return t == "true"
        default: issue(key, "expected true or false"); return nil
        }
    }

    mutating func wei(_ key: String) -> UInt256?? {
        guard let s = settings[key] else { return .some(nil) }
        switch s.value {
        case let .int(i) where i >= 0: return .some(UInt256(UInt64(i)))
        case let .string(t):
            if let v = try? UInt256(decimal: t) { return .some(v) }
            issue(key, "expected a decimal amount in wei (an integer or a string of digits)")
            return nil
        default:
            issue(key, "expected a decimal amount in wei (an integer or a string of digits)")
            return nil
        }
    }

    /// A token amount (18 decimals) as a decimal string, or a non-negative integer of whole tokens.
    mutating func tokens(_ key: String) -> UInt256?? {
        guard let s = settings[key] else { return .some(nil) }
        let expected = "expected a token amount as a decimal string with at most 18 decimals (e.g. \"0.5\")"
        switch s.value {
        case let .int(i) where i >= 0:
            return .some(UInt256(UInt64(i)).multipliedReportingOverflow(by: UInt256(UInt64(1_000_000_000_000_000_000))).partialValue)
        case let .string(t):
            if let v = KeeperConfig.parseTokenAmount(t) { return .some(v) }
            issue(key, "\(expected), got \"\(t)\"")
            return nil
        case .double:
            issue(key, "\(expected); quote it (\"0.5\", not 0.5) so it is exact")
            return nil
        default:
            issue(key, expected)
            return nil
        }
    }

    /// A cap given either in tokens (`tokensKey`) or in wei (`weiKey`), not both.
    mutating func cap(tokens tokensKey: String, wei weiKey: String) -> UInt256?? {
        let t = tokens(tokensKey)
        let w = wei(weiKey)
        if settings[tokensKey] != nil && settings[weiKey] != nil {
            issue(tokensKey, "set either \(tokensKey.dropFirst("keeper.".count)) (tokens) or \(weiKey.dropFirst("keeper.".count)) (wei), not both")
            return nil
        }
        guard let t, let w else { return nil }
        return .some(t ?? w)
    }

    mutating func urls(_ key: String, required: Bool) -> [String]? {
        guard let s = settings[key] else {
            if required { issue(key, "missing (required): a list of http(s) URLs") }
            return required ? nil : []
        }
        guard case let .array(items) = s.value else { issue(key, "expected a list of http(s) URLs"); return nil }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case let .string(u) = item, u.hasPrefix("http://") || u.hasPrefix("https://"), u.count > 8 else {
                issue(key, "entry \(i + 1) is not an http(s) URL")
                return nil
            }
            out.append(u)
        }
        if required && out.isEmpty { issue(key, "needs at least one URL"); return nil }
        return out
    }

    mutating func address(_ key: String, required: Bool = true) -> Address? {
        guard let text = string(key, required: required) else { return nil }
        let a: Address
        do { a = try Address(text) } catch {
            issue(key, "\"\(text)\" is not an address: \(error)")
            return nil
        }
        guard a.checksummed == text else {
            issue(key, "\"\(text)\" is not in EIP-55 checksummed form (expected \(a.checksummed))")
            return nil
        }
        return a
    }

    /// A password source that takes precedence over `password_file`: the file named by
    /// `EXPANSION_KEEPER_PASSWORD_FILE`, or `$CREDENTIALS_DIRECTORY/keeper-password` when it exists.
    func passwordAlternative() -> String? {
        if let p = environment[KeeperConfig.passwordFileVariable], !p.isEmpty { return p }
        if let dir = environment["CREDENTIALS_DIRECTORY"], !dir.isEmpty {
            let p = (dir as NSString).appendingPathComponent(KeeperConfig.credentialName)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }

    func resolve(_ p: String) -> String {
        if p.hasPrefix("/") { return p }
        let base = (URL(fileURLWithPath: path).deletingLastPathComponent().path)
        return URL(fileURLWithPath: base).appendingPathComponent(p).standardizedFileURL.path
    }

    mutating func readableFile(_ key: String, _ p: String) {
        let resolved = resolve(p)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDir) {
            issue(key, "\(resolved): no such file")
        } else if isDir.boolValue {
            issue(key, "\(resolved): is a directory, expected a file")
        } else if !FileManager.default.isReadableFile(atPath: resolved) {
            issue(key, "\(resolved): not readable (permission denied)")
        }
    }

    mutating func build(checkKeys: Bool) throws(EngineError) -> KeeperConfig {
        // [chain]
        let rpc = urls("chain.rpc_urls", required: true)
        let verify = urls("chain.verify_rpc_urls", required: false)
        let chainID = uint("chain.chain_id", default: nil, range: 1...UInt64.max)
        var confirmations: KeeperConfig.Confirmations? = .blocks(3)
        if let s = settings["chain.confirmations"] {
            switch s.value {
            case let .int(i) where i >= 0 && i <= 1_000_000: confirmations = .blocks(UInt64(i))
            case .string("safe"): confirmations = .safe
            case .string("finalized"): confirmations = .finalized
            case let .string(t) where s.fromEnv != nil && UInt64(t) != nil: confirmations = .blocks(UInt64(t) ?? 0)
            default:
                issue("chain.confirmations", "expected a block count (0...1000000) or \"safe\" or \"finalized\"")
                confirmations = nil
            }
        }
        let poll = uint("chain.poll_interval_ms", default: 2000, range: 10...3_600_000)
        let start = uint("chain.start_block", default: 0)
        let window = uint("chain.reorg_window", default: 256, range: 1...100_000)
        let maxLogs = uint("chain.max_logs_range", default: 10_000, range: 1...10_000_000)
        let maxIngest = uint("chain.max_ingest_range", default: 10_000, range: 1...10_000_000)
        if case let .blocks(n)? = confirmations, let window, n >= window {
            issue("chain.reorg_window", "must be larger than confirmations (\(n)): the window is where reorgs are repaired")
        }

        // [contracts]
        let staking = address("contracts.staking")
        let stakingABI = string("contracts.staking_abi")
        let rewardEvent = string("contracts.reward_event", required: false) ?? "Claimed"
        let stakerField = string("contracts.reward_staker_field", required: false) ?? "user"
        let amountField = string("contracts.reward_amount_field", required: false) ?? "amount"
        let treasury = address("contracts.treasury")
        let deployBlock = uint("contracts.treasury_deploy_block", default: 0)
        var abiPath: String?
        if let stakingABI {
            let resolved = resolve(stakingABI)
            abiPath = resolved
            do {
                _ = try Bindings.rewardEvent(abiPath: resolved, event: rewardEvent, stakerField: stakerField, amountField: amountField)
            } catch {
                issue(error.key, error.message)
            }
        }

        // [keeper]
        let dataDir = string("keeper.data_dir")
        let dryRun = bool("keeper.dry_run", default: false)
        let keystore = string("keeper.keystore", required: false)
        let passwordFile = string("keeper.password_file", required: false)
        if checkKeys {
            // The CLI reads the password from EXPANSION_KEEPER_PASSWORD_FILE or the unit's credential before
            // password_file (PasswordSource.forKeystore): either one stands in for it here too.
            let alternative = passwordAlternative()
            if dryRun == false {
                if keystore == nil && settings["keeper.keystore"] == nil { issue("keeper.keystore", "missing (required unless dry_run = true)") }
                if passwordFile == nil && settings["keeper.password_file"] == nil && alternative == nil {
                    issue("keeper.password_file", "missing (required unless dry_run = true, \(KeeperConfig.passwordFileVariable) is set "
                          + "or the systemd credential \(KeeperConfig.credentialName) is loaded)")
                }
            }
            if let keystore { readableFile("keeper.keystore", keystore) }
            if let passwordFile, alternative == nil {
                if FileManager.default.fileExists(atPath: resolve(passwordFile)) {
                    readableFile("keeper.password_file", passwordFile)
                } else {
                    issue("keeper.password_file", "\(resolve(passwordFile)): no such file (a systemd credential exists only inside the unit: "
                          + "outside it set \(KeeperConfig.passwordFileVariable)=FILE, e.g. /etc/expansion-keeper/keeper-password, as root)")
                }
            }
        }
        let maxBatch = uint("keeper.max_batch", default: 100, range: 1...256)
        let maxFee = double("keeper.max_fee_per_gas_gwei", default: 5.0)
        let minRoute = wei("keeper.min_route_wei")
        let pauseFile = string("keeper.pause_file", required: false)
        let perDay = cap(tokens: "keeper.max_routed_per_day", wei: "keeper.max_routed_per_day_wei")
        let perTx = cap(tokens: "keeper.max_routed_per_tx", wei: "keeper.max_routed_per_tx_wei")
        let replaceAfter = uint("keeper.replace_after_blocks", default: 3, range: 1...10_000)
        let minBalance = tokens("keeper.min_balance_eth")
        let maxReverts = uint("keeper.max_revert_attempts", default: 3, range: 1...1_000)
        let maxInFlight = uint("keeper.max_in_flight", default: 4, range: 1...256)
        let simulateFrom = settings["keeper.simulate_from"] == nil ? Address?.none : address("keeper.simulate_from")

        // [treasury]
        var treasuryKind: KeeperConfig.TreasuryKind? = .keeper
        if let k = string("treasury.kind", required: false) {
            treasuryKind = KeeperConfig.TreasuryKind(rawValue: k)
            if treasuryKind == nil {
                issue("treasury.kind", "\"\(k)\" is not a treasury kind: expected \"keeper\" (ExpansionTreasury, the keeper role routes) "
                      + "or \"proven\" (ProvenExpansionTreasury, routes only claims proven against the block's receipts)")
            }
        }

        // [store] and [ha]
        var store: KeeperConfig.Store? = KeeperConfig.Store()
        if let b = string("store.backend", required: false) {
            if let backend = KeeperConfig.StoreBackend(rawValue: b) { store?.backend = backend } else {
                issue("store.backend", "\"\(b)\" is not a store backend: expected \"sqlite\" (one file in data_dir, the default) or \"postgres\" (postgres_url)")
                store = nil
            }
        }
        if let url = string("store.postgres_url", required: false) {
            if let problem = KeeperConfig.postgresURLProblem(url) { issue("store.postgres_url", problem); store = nil } else { store?.postgresURL = url }
        }
        if store?.backend == .postgres && store?.postgresURL == nil {
            issue("store.postgres_url", "missing (required with store.backend = \"postgres\"): postgresql://USER@HOST:PORT/DATABASE?sslmode=verify-full")
            store = nil
        }
        let haEnabled = bool("ha.enabled", default: false)
        let haLease = uint("ha.lease_seconds", default: 5, range: 2...300)
        var ha: KeeperConfig.HA? = KeeperConfig.HA()
        let instance = string("ha.instance", required: haEnabled == true)
        if let instance {
            if instance.isEmpty || instance.count > 64 || !instance.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
                issue("ha.instance", "\"\(instance)\" is not an instance name: 1-64 of A-Z a-z 0-9 - _ . (unique per keeper)")
                ha = nil
            }
        }
        if haEnabled == true && (store?.backend ?? .postgres) != .postgres {
            issue("ha.enabled", "high availability needs the lease and the journal in one shared database: set [store] backend = \"postgres\"")
            ha = nil
        }
        if let haEnabled, let haLease, ha != nil { ha = KeeperConfig.HA(enabled: haEnabled, instance: instance ?? "", leaseSeconds: haLease) } else { ha = nil }

        // The module-owned tables present in the file or the environment, each parsed by its own module.
        var owned: [String: any ConfigSection] = [:]
        for t in sectionTypes where lines[t.name] != nil || settings.keys.contains(where: { $0.hasPrefix(t.name + ".") }) {
            var reader = ConfigSectionReader(parser: self, section: t.name)
            let parsed = t.parse(&reader)
            issues = reader.parser.issues
            if let parsed { owned[t.name] = parsed }
        }

        guard issues.isEmpty, let rpc, let verify, let chainID, let confirmations, let poll, let start, let window, let maxLogs,
              let maxIngest, let staking, let abiPath, let treasury, let deployBlock, let dataDir, let dryRun, let maxBatch,
              let maxFee, let minRoute, let perDay, let perTx, let replaceAfter, let minBalance, let maxReverts,
              let maxInFlight, let treasuryKind, let store, let ha else {
            if issues.isEmpty { issues.append(ConfigIssue(key: "file", message: "invalid configuration")) }
            throw .config(issues)
        }
        return KeeperConfig(
            chain: .init(rpcURLs: rpc, verifyRPCURLs: verify, chainID: chainID, confirmations: confirmations, pollIntervalMs: poll,
                         startBlock: start, reorgWindow: window, maxLogsRange: maxLogs, maxIngestRange: maxIngest),
            contracts: .init(staking: staking, stakingABI: abiPath, rewardEvent: rewardEvent, rewardStakerField: stakerField,
                             rewardAmountField: amountField, treasury: treasury, treasuryDeployBlock: deployBlock),
            keeper: .init(dataDir: resolve(dataDir), keystore: keystore.map(resolve), passwordFile: passwordFile.map(resolve),
                          dryRun: dryRun, maxBatch: Int(maxBatch), maxFeePerGasGwei: maxFee, minRouteWei: minRoute ?? .zero,
                          pauseFile: resolve(pauseFile ?? KeeperConfig.defaultPauseFile(dataDir: resolve(dataDir))), maxRoutedPerDayWei: perDay, simulateFrom: simulateFrom,
                          replaceAfterBlocks: replaceAfter, maxRoutedPerTxWei: perTx,
                          minBalanceWei: minBalance ?? KeeperConfig.defaultMinBalanceWei, maxRevertAttempts: Int(maxReverts),
                          maxInFlight: Int(maxInFlight)),
            treasury: .init(kind: treasuryKind), store: store, ha: ha, path: path, sections: owned, sectionTypes: sectionTypes)
    }
}

extension KeeperConfig {
    /// The effective configuration as TOML, with secrets redacted (RPC URLs keep scheme and host only).
    public func renderTOML() -> String {
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func list(_ a: [String]) -> String { "[" + a.map { q(EndpointName.redact($0)) }.joined(separator: ", ") + "]" }
        var out = "# effective configuration of \(path) (defaults filled in, overrides applied, secrets redacted)\n"
        out += "[chain]\nrpc_urls = \(list(chain.rpcURLs))\nverify_rpc_urls = \(list(chain.verifyRPCURLs))\n"
        out += "chain_id = \(chain.chainID)\nconfirmations = \(chain.confirmations)\npoll_interval_ms = \(chain.pollIntervalMs)\n"
        out += "start_block = \(chain.startBlock)\nreorg_window = \(chain.reorgWindow)\nmax_logs_range = \(chain.maxLogsRange)\n"
        out += "max_ingest_range = \(chain.maxIngestRange)\n\n"
        out += "[contracts]\nstaking = \(q(contracts.staking.checksummed))\nstaking_abi = \(q(contracts.stakingABI))\n"
        out += "reward_event = \(q(contracts.rewardEvent))\nreward_staker_field = \(q(contracts.rewardStakerField))\n"
        out += "reward_amount_field = \(q(contracts.rewardAmountField))\ntreasury = \(q(contracts.treasury.checksummed))\n"
        out += "treasury_deploy_block = \(contracts.treasuryDeployBlock)\n\n"
        out += "[keeper]\ndata_dir = \(q(keeper.dataDir))\n"
        out += "keystore = \(keeper.keystore.map(q) ?? "# not set")\npassword_file = \(keeper.passwordFile.map(q) ?? "# not set")\n"
        out += "dry_run = \(keeper.dryRun)\nmax_batch = \(keeper.maxBatch)\nmax_fee_per_gas_gwei = \(keeper.maxFeePerGasGwei)\n"
        out += "min_route_wei = \(q(keeper.minRouteWei.decimalString))\npause_file = \(q(keeper.pauseFile))\n"
        out += "max_routed_per_day_wei = \(keeper.maxRoutedPerDayWei.map { q($0.decimalString) } ?? "# not set (no cap)")\n"
        out += "max_routed_per_tx_wei = \(keeper.maxRoutedPerTxWei.map { q($0.decimalString) } ?? "# not set (no cap)")\n"
        out += "replace_after_blocks = \(keeper.replaceAfterBlocks)\n"
        out += "min_balance_eth = \(q(KeeperConfig.formatTokenAmount(keeper.minBalanceWei)))\n"
        out += "max_revert_attempts = \(keeper.maxRevertAttempts)\nmax_in_flight = \(keeper.maxInFlight)\n"
        out += "simulate_from = \(keeper.simulateFrom.map { q($0.checksummed) } ?? "# not set (plan simulates from the keystore's address)")\n"
        out += "\n[treasury]\nkind = \(q(treasury.kind.rawValue))\n"
        out += "\n[store]\nbackend = \(q(store.backend.rawValue))\npostgres_url = \(store.postgresURL.map(q) ?? "# not set")\n"
        out += "\n[ha]\nenabled = \(ha.enabled)\ninstance = \(ha.enabled || !ha.instance.isEmpty ? q(ha.instance) : "# not set")\nlease_seconds = \(ha.leaseSeconds)\n"
        for t in sectionTypes { out += "\n" + t.render(any: sections[t.name]) }
        return out
    }
}

extension KeeperConfig {
    /// Why `url` cannot be `[store] postgres_url` (nil when its shape is right; the store checks the rest when it connects).
    public static func postgresURLProblem(_ url: String) -> String? {
        guard let c = URLComponents(string: url), c.scheme == "postgresql" || c.scheme == "postgres" else {
            return "\"\(url)\" is not a postgresql:// URL (expected postgresql://USER@HOST:PORT/DATABASE?sslmode=verify-full)"
        }
        if c.password != nil {
            return "holds a password: remove it; the keeper reads it from \(pgPasswordVariable) or the systemd credential \(pgCredentialName), never from the file"
        }
        if (c.user ?? "").isEmpty { return "names no user (postgresql://USER@HOST:PORT/DATABASE)" }
        if (c.host ?? "").isEmpty { return "names no host (postgresql://USER@HOST:PORT/DATABASE)" }
        if c.path.count <= 1 { return "names no database (postgresql://USER@HOST:PORT/DATABASE)" }
        return nil
    }
}
