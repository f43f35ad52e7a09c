import ArgumentParser
import EthereumABI
import EthereumCore

/// `expansion-keeper abi …` — inspect calldata and logs (the job of Foundry's `cast keccak`, `sig`,
/// `abi-encode`, `abi-decode`). Output is one line on stdout; any invalid input gives exit status 1 and
/// one line on stderr naming the problem.
struct ABICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abi",
        abstract: "ABI tools: keccak, selector, encode, decode, decode-log.",
        subcommands: [Keccak.self, Selector.self, Encode.self, Decode.self, DecodeLog.self]
    )

    /// `abi keccak 0xHEX` / `abi keccak --text STRING`.
    struct Keccak: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keccak-256 of 0x-hex bytes or of a UTF-8 string (--text); prints 0x + 64 hex digits.")

        @Argument(help: "The bytes to hash, as 0x hex.")
        var hex: String?

        @Option(help: "Hash this UTF-8 text instead of hex bytes.")
        var text: String?

        func run() throws {
            let digest: Bytes32 = try reporting {
                switch (hex, text) {
                case let (h?, nil): return Keccak256.hash(try reporting("input") { try Hex.decode(h) })
                case let (nil, t?): return Keccak256.hash(text: t)
                case (nil, nil): throw CLIError("give the bytes to hash as 0xHEX or the text with --text STRING")
                default: throw CLIError("give either 0xHEX or --text STRING, not both")
                }
            }
            print(digest.hexString)
        }
    }

    /// `abi selector SIGNATURE [--event]`.
    struct Selector: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The 4-byte function selector of a signature, or with --event the 32-byte event topic0.")

        @Argument(help: "A signature such as 'transfer(address,uint256)' (parameter names are allowed).")
        var signature: String

        @Flag(help: "Print the event topic0 (keccak256 of the canonical signature) instead.")
        var event = false

        func run() throws {
            let out: String = try reporting {
                event ? try ABIEvent(signature: signature).topic0.hexString : try ABIFunction(signature: signature).selectorHex
            }
            print(out)
        }
    }

    /// `abi encode SIGNATURE JSON_ARGS`.
    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "ABI-encode arguments: selector + arguments for 'f(…)', arguments only for a bare tuple '(…)'.",
            discussion: """
                JSON_ARGS is a JSON array with one element per parameter: integers as JSON numbers, decimal \
                strings or 0x hex strings; address, bytesN and bytes as 0x hex; bool as true/false; string as a \
                JSON string; arrays and tuples as JSON arrays.
                """)

        @Argument(help: "'f(uint256,address[])' or a bare tuple '(uint256,address[])'.")
        var signature: String

        @Argument(help: "The arguments as a JSON array.")
        var arguments: String

        func run() throws {
            let encoded: [UInt8] = try reporting {
                let sig = try ABISignature(parsing: signature)
                let values = try ABIValue.parseJSONArguments(arguments, types: sig.types)
                if sig.name != nil { return try ABIFunction(signature: signature).encodeCall(values) }
                return try ABIEncoder.encode(values, as: sig.types)
            }
            print(Hex.encode(encoded))
        }
    }

    /// `abi decode SIGNATURE 0xHEX`.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode ABI data into one line of canonical JSON (one array element per parameter).",
            discussion: """
                With a named signature the data must start with its 4-byte selector (checked, then skipped). \
                Integers print as decimal strings, addresses EIP-55 checksummed, bytes as lowercase 0x hex.
                """)

        @Argument(help: "'f(uint256,address[])' (calldata) or a bare tuple '(uint256,address[])'.")
        var signature: String

        @Argument(help: "The data as 0x hex.")
        var data: String

        func run() throws {
            let json: String = try reporting {
                let sig = try ABISignature(parsing: signature)
                let bytes = try reporting("data") { try Hex.decode(data) }
                if sig.name != nil {
                    return ABIValue.canonicalJSON(try ABIFunction(signature: signature).decodeCall(bytes))
                }
                return ABIValue.canonicalJSON(try ABIDecoder.decode(sig.types, from: bytes))
            }
            print(json)
        }
    }

    /// `abi decode-log EVENT_SIGNATURE --topic 0x… --data 0x…`.
    struct DecodeLog: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode-log",
            abstract: "Decode an event log into one line of JSON: an object from parameter name to canonical value.",
            discussion: """
                The first --topic must be the event's topic0 and the topic count must match its indexed \
                parameters. An indexed bytes/string/array/tuple value prints as its 32-byte topic hash; an \
                unnamed parameter prints as arg<index>.
                """)

        @Argument(help: "'Transfer(address indexed from,address indexed to,uint256 value)'.")
        var signature: String

        @Option(name: .customLong("topic"), help: "A 32-byte topic as 0x hex, in log order (repeat).")
        var topics: [String] = []

        @Option(help: "The log data as 0x hex.")
        var data: String = "0x"

        func run() throws {
            let json: String = try reporting {
                let event = try ABIEvent(signature: signature)
                var seen = Set<String>()
                for i in event.parameters.indices where !seen.insert(event.key(ofParameter: i)).inserted {
                    throw CLIError("parameter name \"\(event.key(ofParameter: i))\" appears twice in the signature")
                }
                var words: [Bytes32] = []
                for (i, t) in topics.enumerated() {
                    words.append(try reporting("topic \(i)") { try Bytes32(hex: t) })
                }
                let bytes = try reporting("data") { try Hex.decode(data) }
                return ABIValue.canonicalJSON(try event.decode(topics: words, data: bytes))
            }
            print(json)
        }
    }
}
