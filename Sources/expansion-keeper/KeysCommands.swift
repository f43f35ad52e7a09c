import ArgumentParser
import EthereumCore
import EthereumSigning
import Foundation

/// `expansion-keeper keys …` — the keeper's signing key in Web3 Secret Storage v3 keystores that go-ethereum,
/// Foundry (`cast wallet`) and eth-keyfile also read. Passwords come from files, the environment, a systemd
/// credential or a no-echo prompt (see `PasswordSource`), never from the command line. Errors: exit status 1
/// and one line on stderr; a wrong password is reported as such, distinct from a corrupt file.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, import, list, re-encrypt and export keystores (Web3 Secret Storage v3).",
        subcommands: [New.self, Import.self, List.self, ShowAddress.self, ChangePassword.self, Export.self]
    )

    /// `keys new --keystore-dir DIR [--password-file F] [--light]`.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new key; prints its EIP-55 address, then the keystore path.")

        @OptionGroup var directory: NewKeystoreDirectory

        @Option(help: "File whose first line is the password (else EXPANSION_KEEPER_PASSWORD_FILE, the systemd credential keeper-password, or a prompt).")
        var passwordFile: String?

        @Flag(help: "Use the light scrypt profile (n=4096, p=6) instead of go-ethereum's standard (n=262144, r=8, p=1).")
        var light = false

        func run() throws {
            let (address, path): (Address, String) = try reporting {
                let keystoreDir = try directory.prepare()
                var password = try PasswordSource.new(file: passwordFile, purpose: "Password for the new key")
                defer { password.resetBytes() }
                let key = PrivateKey.generate()
                let path = try KeysCommand.storeNew(key, password: password, kdf: light ? .light : .standard, directory: keystoreDir)
                return (key.address, path)
            }
            print(address.checksummed)
            print(path)
        }
    }

    /// `keys import --keystore-dir DIR --password-file F (KEYSTORE_FILE | --private-key-file KEYFILE) [--light]`.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a keystore (checked by decrypting it) or a raw hex private key (encrypted); prints the address.")

        @OptionGroup var directory: NewKeystoreDirectory

        // --password-file and --light look like `keys new`'s but say other things in --help (whose password, which
        // input --light applies to), so each command declares its own.
        @Option(help: "File whose first line is the keystore's password (also the password for an imported raw key).")
        var passwordFile: String?

        @Option(help: "File holding a raw private key as 64 hex digits (optional 0x) to encrypt instead of a keystore.")
        var privateKeyFile: String?

        @Flag(help: "For --private-key-file: use the light scrypt profile (n=4096, p=6).")
        var light = false

        @Argument(help: "A keystore file from go-ethereum, cast wallet, eth-keyfile or this tool.")
        var keystoreFile: String?

        func run() throws {
            let address: Address = try reporting {
                let keystoreDir = try directory.prepare()
                switch (keystoreFile, privateKeyFile) {
                case let (file?, nil):
                    // Not `KeeperKey.unlock`: the password must outlive the decryption to check the stored copy.
                    let keystore = try reporting("keystore \(file)") { try KeystoreFile.read(path: file) }
                    var password = try PasswordSource.existing(file: passwordFile, purpose: "Password of \(file)")
                    defer { password.resetBytes() }
                    let key = try reporting("keystore \(file)") { try keystore.decrypt(password: password) }
                    try KeysCommand.refuseDuplicate(key.address, in: keystoreDir)
                    // Stored as read (same KDF, cipher parameters and id), with the address field filled in.
                    var stored = keystore
                    stored.address = key.address
                    _ = try KeystoreFile.writeNew(stored.jsonText, directory: keystoreDir, fileName: KeystoreFile.fileName(for: key.address)) {
                        tmp throws(SigningError) in
                        guard try KeystoreFile.read(path: tmp).decrypt(password: password).address == key.address else {
                            throw SigningError.io(path: tmp, reason: "re-read keystore does not decrypt to the imported key")
                        }
                    }
                    return key.address
                case let (nil, keyFile?):
                    let key = try KeysCommand.readRawKey(keyFile)
                    try KeysCommand.refuseDuplicate(key.address, in: keystoreDir)
                    var password = try PasswordSource.new(file: passwordFile, purpose: "Password for the imported key")
                    defer { password.resetBytes() }
                    _ = try KeysCommand.storeNew(key, password: password, kdf: light ? .light : .standard, directory: keystoreDir)
                    return key.address
                case (nil, nil):
                    throw CLIError("give a KEYSTORE_FILE to import or --private-key-file KEYFILE")
                default:
                    throw CLIError("give either a KEYSTORE_FILE or --private-key-file, not both")
                }
            }
            print(address.checksummed)
        }
    }

    /// `keys list --keystore-dir DIR`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per keystore: address, a space, the path.")

        @Option(help: "Directory of keystores.")
        var keystoreDir: String

        func run() throws {
            let entries = try reporting { try KeystoreFile.list(directory: keystoreDir) }
            for entry in entries { print("\(entry.address.checksummed) \(entry.path)") }
        }
    }

    /// `keys address --keystore FILE`.
    struct ShowAddress: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "address", abstract: "Print a keystore's address (from its address field; no password needed).")

        @Option(help: "The keystore file.")
        var keystore: String

        func run() throws {
            let address: Address = try reporting("keystore \(keystore)") {
                guard let address = try KeystoreFile.read(path: keystore).address else {
                    throw CLIError("keystore \(keystore) has no address field; import it (needs the password) to learn its address")
                }
                return address
            }
            print(address.checksummed)
        }
    }

    /// `keys change-password --keystore FILE --password-file OLD --new-password-file NEW [--light]`.
    struct ChangePassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt a keystore under a new password, atomically (the old file survives any failure).")

        @Option(help: "The keystore file.")
        var keystore: String

        @Option(help: "File whose first line is the current password.")
        var passwordFile: String?

        @Option(help: "File whose first line is the new password (else a prompt, asked twice).")
        var newPasswordFile: String?

        @Flag(help: "Re-encrypt with the light scrypt profile (n=4096, p=6) instead of the standard one.")
        var light = false

        func run() throws {
            let address: Address = try reporting {
                let (current, key) = try KeeperKey.unlock(keystore, passwordFile: passwordFile, named: "keystore \(keystore)",
                                                          purpose: "Current password of \(keystore)")
                var new = try PasswordSource.new(file: newPasswordFile, purpose: "New password", useEnvironment: false)
                defer { new.resetBytes() }
                let updated = try Keystore.encrypt(key, password: new, kdf: light ? .light : .standard, id: current.id)
                try KeystoreFile.replace(path: keystore, with: updated.jsonText) { tmp throws(SigningError) in
                    guard try KeystoreFile.read(path: tmp).decrypt(password: new).address == key.address else {
                        throw SigningError.io(path: tmp, reason: "re-read keystore does not decrypt to the same key")
                    }
                }
                return key.address
            }
            print(address.checksummed)
        }
    }

    /// `keys export --keystore FILE --password-file F --unsafe-print-private-key`.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the raw private key in hex (only with --unsafe-print-private-key).")

        @OptionGroup var key: KeystoreOptions

        @Flag(help: "Confirm that the private key may be printed to stdout.")
        var unsafePrintPrivateKey = false

        func run() throws {
            let hex: String = try reporting {
                guard unsafePrintPrivateKey else {
                    throw CLIError("refusing to print the private key without --unsafe-print-private-key")
                }
                return try key.unlock().unsafeHexForExport()
            }
            print(hex)
        }
    }

    /// Encrypts `key` and writes it as a new file in `directory` (temp 0600 → re-read → decrypt → link); returns the path.
    static func storeNew(_ key: PrivateKey, password: [UInt8], kdf: Keystore.KDF, directory: String) throws -> String {
        let keystore = try Keystore.encrypt(key, password: password, kdf: kdf)
        return try KeystoreFile.writeNew(keystore.jsonText, directory: directory, fileName: KeystoreFile.fileName(for: key.address)) {
            tmp throws(SigningError) in
            guard try KeystoreFile.read(path: tmp).decrypt(password: password).address == key.address else {
                throw SigningError.io(path: tmp, reason: "re-read keystore does not decrypt to the new key")
            }
        }
    }

    /// Refuses to store a second keystore for an address the directory already holds.
    static func refuseDuplicate(_ address: Address, in directory: String) throws {
        if let existing = try KeystoreFile.list(directory: directory).first(where: { $0.address == address }) {
            throw CLIError("a keystore for \(address.checksummed) already exists: \(existing.path)")
        }
    }

    /// Reads a raw hex private key file (first line; optional 0x; whitespace ignored). Errors never echo the key.
    static func readRawKey(_ path: String) throws -> PrivateKey {
        var bytes = try reporting("private key file \(path)") { try KeystoreFile.readBytes(path: path, limit: 4096) }
        defer { bytes.resetBytes() }
        var line = Array(bytes.prefix { $0 != 0x0a })
        defer { line.resetBytes() }
        return try reporting("private key file \(path)") { try PrivateKey(hex: String(decoding: line, as: UTF8.self)) }
    }
}

extension Array where Element == UInt8 {
    /// Overwrites the bytes with zeros (passwords, key text) before the array is released.
    mutating func resetBytes() {
        for i in indices { self[i] = 0 }
    }
}
