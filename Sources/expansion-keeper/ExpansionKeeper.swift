// expansion-keeper — the operator CLI and (later) the daemon. One file per subcommand group
// (`ABICommands.swift`, `KeysCommands.swift`, `TxCommands.swift`, `LogsCommand.swift`, …).
// Owns: argument parsing, output formatting, exit codes. May import every library module; holds no
// protocol logic of its own (that lives in the libraries, where it is tested without a process).
import ArgumentParser

/// The root command.
@main
struct ExpansionKeeper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expansion-keeper",
        abstract: "Routes opted-in Venice (VVV) staking rewards into the ExpansionTreasury, exactly once.",
        version: ExpansionKeeper.version,
        subcommands: ExpansionKeeper.groups
    )

    /// The version printed by `--version` (and later exported as build_info).
    static let version = "0.1.0"
}
