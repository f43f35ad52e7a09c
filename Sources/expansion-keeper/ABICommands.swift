import ArgumentParser

/// `expansion-keeper abi …` — placeholder until the ABI codec lands.
struct ABICommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "abi", abstract: "ABI tools: keccak, selector, encode, decode, decode-log.")
}
