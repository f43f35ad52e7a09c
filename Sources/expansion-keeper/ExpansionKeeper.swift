// expansion-keeper — the operator CLI and (later) the daemon. One file per subcommand group
// (`ABICommands.swift`, `KeysCommands.swift`, `TxCommands.swift`, `LogsCommand.swift`, …).
// Owns: argument parsing, output formatting, exit codes. May import every library module; holds no
// protocol logic of its own (that lives in the libraries, where it is tested without a process).
import ArgumentParser
import Foundation
import JSONRPC

/// The root command.
@main
struct ExpansionKeeper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expansion-keeper",
        abstract: "Routes opted-in Venice (VVV) staking rewards into the ExpansionTreasury, exactly once.",
        discussion: """
            Every command that reads the chain gives up on an RPC that does not answer usefully within \
            --rpc-timeout SECONDS (default 15; also EXPANSION_KEEPER_RPC_TIMEOUT), naming the endpoint and \
            the failure. The option may be given before or after the subcommand. `run` keeps its own bound.
            """,
        version: ExpansionKeeper.version,
        subcommands: ExpansionKeeper.groups
    )

    /// The version printed by `--version` (and later exported as build_info).
    static let version = "0.1.0"

    /// The default of `--rpc-timeout` for operator commands, in seconds (`run` uses 30 s unless it is given).
    static let defaultRPCTimeout = 15.0

    /// `--rpc-timeout` (or EXPANSION_KEEPER_RPC_TIMEOUT) when given; set once in `main` before any command runs.
    nonisolated(unsafe) static var rpcTimeoutGiven: Double?

    /// Takes `--rpc-timeout SECONDS` (or `--rpc-timeout=SECONDS`, or EXPANSION_KEEPER_RPC_TIMEOUT) out of the
    /// arguments and makes it the call deadline of every RPC client the commands build; then runs the command.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            rpcTimeoutGiven = try takeRPCTimeout(&arguments, environment: ProcessInfo.processInfo.environment)
            RPCSettings.processCallDeadline = rpcTimeoutGiven ?? defaultRPCTimeout
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }

    /// The RPC timeout from the arguments (removed from them) or the environment; nil when neither sets it.
    static func takeRPCTimeout(_ arguments: inout [String], environment: [String: String]) throws -> Double? {
        var text = environment["EXPANSION_KEEPER_RPC_TIMEOUT"]
        var origin = "EXPANSION_KEEPER_RPC_TIMEOUT"
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { break }
            if a == "--rpc-timeout" {
                guard i + 1 < arguments.count else { throw ValidationError("--rpc-timeout needs a value in seconds") }
                text = arguments[i + 1]; origin = "--rpc-timeout"
                arguments.removeSubrange(i...(i + 1))
            } else if a.hasPrefix("--rpc-timeout=") {
                text = String(a.dropFirst("--rpc-timeout=".count)); origin = "--rpc-timeout"
                arguments.remove(at: i)
            } else {
                i += 1
            }
        }
        guard let text else { return nil }
        guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
            throw ValidationError("\(origin) \(text): expected a number of seconds > 0")
        }
        return seconds
    }
}
