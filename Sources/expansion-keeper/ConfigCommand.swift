import ArgumentParser
import Foundation
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperStore
import KeeperSubmission

/// Options every keeper command shares: the config file and the output format.
struct KeeperOptions: ParsableArguments {
    @Option(name: .long, help: "The keeper's TOML config file.")
    var config: String

    @Flag(name: .long, help: "Print one JSON document instead of a table.")
    var json = false

    /// Loads and validates the config (the key checks are for `run`/`config check` only).
    func load(checkKeys: Bool = false) throws -> KeeperConfig {
        do { return try KeeperConfig.load(path: config, checkKeys: checkKeys, sections: ConfigSections.all) } catch {
            throw CLIError(firstLine("\(error)"))
        }
    }

    /// Prints `text` or, with `--json`, the JSON document.
    func emit(text: String, json doc: [String: Any]) {
        if json { print(JSONOut.render(doc)) } else { print(text, terminator: text.hasSuffix("\n") ? "" : "\n") }
    }
}

/// The first line of a (possibly multi-line) message.
func firstLine(_ text: String) -> String {
    String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
}

/// Runs async `body`, turning any library error into a one-line `CLIError`.
func reportingAsync<T>(_ context: String? = nil, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CLIError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        let text = firstLine(String(describing: error))
        throw CLIError(context.map { "\($0): \(text)" } ?? text)
    }
}

/// Opens the store of `config` read-only (another process may be writing it).
func openStoreReadOnly(_ config: KeeperConfig) throws -> KeeperStore {
    try StoreOpening.open(config, readOnly: true)
}

/// `expansion-keeper config check --config FILE`.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Keeper configuration tools.",
        subcommands: [Check.self])

    /// Validates the config completely; prints the effective configuration (secrets redacted) or every error.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a config file: print the effective configuration and exit 0, or print every error and exit 1.",
            discussion: "Beyond the file: data_dir writable, the keystore decrypting with the password source run would use "
                + "(--password-file is not needed: EXPANSION_KEEPER_PASSWORD_FILE, the unit's credential, then password_file), "
                + "a test-double staking ABI on a non-local chain (a warning), and unless --offline: with store.backend = postgres, "
                + "the database answering with the password run would use (EXPANSION_KEEPER_PG_PASSWORD or the credential "
                + "pg-password); the chain id, code at "
                + "contracts.staking and contracts.treasury, the treasury's is_keeper and the keeper's role (an unreachable "
                + "RPC is a warning).")

        @Option(name: .long, help: "The keeper's TOML config file.")
        var config: String

        @Flag(name: .long, help: "Skip the checks that ask the RPC endpoints (chain id, treasury code and interface, keeper role).")
        var offline = false

        func run() async throws {
            let cfg = try loadConfigPrintingEveryIssue(config, checkKeys: true)
            let findings = await ConfigChecks.findings(cfg, offline: offline)
            for f in findings { FileHandle.standardError.write(Data((f.line + "\n").utf8)) }
            if findings.contains(where: \.isError) { throw ExitCode.failure }
            print(cfg.renderTOML(), terminator: "")
        }
    }
}

/// Loads `path`; on config errors prints every one of them on stderr (one line each, naming its key) and exits 1.
func loadConfigPrintingEveryIssue(_ path: String, checkKeys: Bool) throws -> KeeperConfig {
    do {
        return try KeeperConfig.load(path: path, checkKeys: checkKeys, sections: ConfigSections.all)
    } catch let EngineError.config(issues) {
        for i in issues { FileHandle.standardError.write(Data((i.description + "\n").utf8)) }
        throw ExitCode.failure
    } catch {
        throw CLIError(firstLine("\(error)"))
    }
}
