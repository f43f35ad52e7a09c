import ArgumentParser
import EthereumCore
import EthereumSigning
import Foundation

/// `expansion-keeper tx …` — offline transaction tools for rescue work (cancel a stuck nonce, move funds).
struct TxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx",
        abstract: "Offline transaction tools.",
        subcommands: [Sign.self, Cancel.self, Replace.self]
    )

    /// `tx sign --keystore FILE --password-file F TX_JSON`.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a transaction described as JSON; prints the raw signed transaction as 0x hex.",
            discussion: "TX_JSON is an object (or @FILE, or - for stdin) with: type (0, 1 or 2; default 2), chainId, nonce, gas, "
                + "to (omit or null to create a contract), value, data, gasPrice (types 0/1) or maxFeePerGas and "
                + "maxPriorityFeePerGas (type 2), accessList (types 1/2: [{\"address\": \"0x…\", \"storageKeys\": [\"0x…\"]}]). "
                + "Quantities are JSON numbers, decimal strings or 0x hex (use strings above 2^64). Unknown fields are refused.")

        @OptionGroup var key: KeystoreOptions

        @Argument(help: "The transaction as a JSON object, @FILE, or - to read it from stdin.")
        var txJSON: String

        func run() throws {
            let raw: String = try reporting {
                let text = try TransactionJSON.load(txJSON)
                let tx = try reporting("TX_JSON") { try TransactionJSON.parse(text) }
                return try key.unlock().sign(transaction: tx).rawBytes.hexString
            }
            print(raw)
        }
    }
}

/// The `tx sign` JSON object → `Transaction`. Unknown fields are refused (a misspelt `gasLimit` must not be ignored).
enum TransactionJSON {
    static let fields: Set<String> = ["type", "chainId", "nonce", "gas", "to", "value", "data", "gasPrice", "maxFeePerGas",
                                      "maxPriorityFeePerGas", "accessList"]

    /// The JSON text: the argument itself, `@FILE`, or `-` for stdin.
    static func load(_ argument: String) throws -> [UInt8] {
        if argument == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile().prefix(1 << 20)) }
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            return try reporting("TX_JSON file \(path)") { try KeystoreFile.readBytes(path: path, limit: 1 << 20) }
        }
        return Array(argument.utf8)
    }

    static func parse(_ text: [UInt8]) throws -> Transaction {
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any] else {
                throw CLIError("bad JSON: expected an object")
            }
            object = o
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("bad JSON: not valid JSON (truncated or malformed)")
        }
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw CLIError("unknown field \"\(unknown)\" (expected: \(fields.sorted().joined(separator: ", ")))")
        }
        let type = try object["type"].map { try quantity($0, "type") } ?? UInt256(2)
        guard type <= UInt256(2) else { throw CLIError("field type: \(type) is not 0, 1 or 2") }
        let chainId = try uint64(try required(object, "chainId"), "chainId")
        let nonce = try uint64(try required(object, "nonce"), "nonce")
        let gas = try uint64(try required(object, "gas"), "gas")
        let value = try object["value"].map { try quantity($0, "value") } ?? .zero
        var data: [UInt8] = []
        if let d = object["data"], !(d is NSNull) {
            guard let s = d as? String else { throw CLIError("field data: expected a 0x hex string") }
            do { data = try Hex.decode(s) } catch { throw CLIError("field data: \(error)") }
        }
        var to: Address?
        if let t = object["to"], !(t is NSNull) {
            guard let s = t as? String else { throw CLIError("field to: expected an address string or null") }
            do { to = try Address(s) } catch { throw CLIError("field to: \(error)") }
        }
        if to == nil && data.isEmpty {
            throw CLIError("field to is missing or null (a contract creation) but data is empty: give the recipient in \"to\", or init code in \"data\"")
        }
        let kind: Transaction.Kind
        switch type.l0 {
        case 0:
            try forbid(object, ["maxFeePerGas", "maxPriorityFeePerGas", "accessList"], type: 0, hint: "use gasPrice; access lists need type 1 or 2")
            kind = .legacy(gasPrice: try quantity(try required(object, "gasPrice"), "gasPrice"))
        case 1:
            try forbid(object, ["maxFeePerGas", "maxPriorityFeePerGas"], type: 1, hint: "use gasPrice, or type 2")
            kind = .accessList(gasPrice: try quantity(try required(object, "gasPrice"), "gasPrice"), accessList: try accessList(object["accessList"]))
        default:
            try forbid(object, ["gasPrice"], type: 2, hint: "use maxFeePerGas and maxPriorityFeePerGas, or type 0/1")
            kind = .dynamicFee(maxPriorityFeePerGas: try quantity(try required(object, "maxPriorityFeePerGas"), "maxPriorityFeePerGas"),
                               maxFeePerGas: try quantity(try required(object, "maxFeePerGas"), "maxFeePerGas"),
                               accessList: try accessList(object["accessList"]))
        }
        return Transaction(kind: kind, chainId: chainId, nonce: nonce, gasLimit: gas, to: to, value: value, data: data)
    }

    static func required(_ object: [String: Any], _ field: String) throws -> Any {
        guard let v = object[field], !(v is NSNull) else { throw CLIError("missing field \(field)") }
        return v
    }

    static func forbid(_ object: [String: Any], _ names: [String], type: Int, hint: String) throws {
        if let name = names.first(where: { object[$0] != nil }) {
            throw CLIError("field \(name) does not belong in a type \(type) transaction (\(hint))")
        }
    }

    /// A JSON number (an exact integer), a decimal string or 0x hex.
    static func quantity(_ value: Any, _ field: String) throws -> UInt256 {
        if let s = value as? String {
            do { return try UInt256(parsing: s) } catch { throw CLIError("field \(field): \(error)") }
        }
        if let n = value as? NSNumber {
            // Integers arrive exactly; anything else (fractions, exponents, > 2^64) prints in another form and is refused.
            let text = n.stringValue
            guard let v = try? UInt256(decimal: text) else {
                throw CLIError("field \(field): JSON number \(text) is not a non-negative integer below 2^64 (give large values as decimal strings)")
            }
            return v
        }
        throw CLIError("field \(field): expected a number, a decimal string or 0x hex")
    }

    static func uint64(_ value: Any, _ field: String) throws -> UInt64 {
        guard let v = try quantity(value, field).uint64 else { throw CLIError("field \(field): exceeds 2^64-1") }
        return v
    }

    static func accessList(_ value: Any?) throws -> [AccessListEntry] {
        guard let value, !(value is NSNull) else { return [] }
        guard let items = value as? [Any] else { throw CLIError("field accessList: expected an array") }
        return try items.enumerated().map { i, item in
            guard let entry = item as? [String: Any] else { throw CLIError("field accessList[\(i)]: expected an object") }
            if let extra = entry.keys.sorted().first(where: { $0 != "address" && $0 != "storageKeys" }) {
                throw CLIError("field accessList[\(i)]: unknown field \"\(extra)\"")
            }
            guard let a = entry["address"] as? String else { throw CLIError("field accessList[\(i)].address: missing or not a string") }
            let address: Address
            do { address = try Address(a) } catch { throw CLIError("field accessList[\(i)].address: \(error)") }
            let keys = entry["storageKeys"] as? [Any] ?? []
            if entry["storageKeys"] != nil && entry["storageKeys"] as? [Any] == nil {
                throw CLIError("field accessList[\(i)].storageKeys: expected an array")
            }
            return AccessListEntry(address: address, storageKeys: try keys.enumerated().map { k, key in
                guard let s = key as? String else { throw CLIError("field accessList[\(i)].storageKeys[\(k)]: expected a 0x string") }
                do { return try Bytes32(hex: s) } catch { throw CLIError("field accessList[\(i)].storageKeys[\(k)]: \(error)") }
            })
        }
    }
}
