import ArgumentParser
import EthereumCore
import EthereumSigning
import Foundation
import JSONRPC
import KeeperCore
import KeeperIngest
import KeeperOperations
import KeeperPlanning
import KeeperSubmission

/// The keeper's signing key, loaded from the config's `keystore` with the password from `password_file`
/// (or the usual password sources), adapted to the engine's `TransactionSigning`. The engine never sees
/// the key; the key never appears in a message.
struct KeeperKey: TransactionSigning {
    let key: PrivateKey
    var address: Address { key.address }

    func sign(_ tx: EthereumCore.Transaction) throws -> (raw: [UInt8], hash: Bytes32) {
        let signed = try key.sign(transaction: tx)
        return (signed.rawBytes, signed.hash)
    }

    /// Loads the key named by `config` (`keeper.keystore`), its password from `PasswordSource.forKeystore`
    /// (`--password-file`, the environment, the systemd credential, then `keeper.password_file`).
    static func load(_ config: KeeperConfig, passwordFile: String? = nil) throws -> KeeperKey {
        guard let path = config.keeper.keystore else { throw CLIError("keeper.keystore: missing (required to sign)") }
        let file = try reporting("keeper.keystore \(path)") { try KeystoreFile.read(path: path) }
        let source = try PasswordSource.forKeystore(option: passwordFile, configured: config.keeper.passwordFile)
        var password = try source.map { try PasswordSource.readFile($0.path) } ?? PasswordSource.prompt("Password of \(path): ", confirm: false)
        defer { password.resetBytes() }
        let key: PrivateKey
        do { key = try file.decrypt(password: password) } catch {
            if case .wrongPassword = error {
                throw CLIError("keeper.keystore \(path): the password from \(source?.name ?? "the prompt") does not decrypt it "
                    + "(wrong password file, or the keystore of another key)")
            }
            throw CLIError("keeper.keystore \(path): \(firstLine("\(error)"))")
        }
        return KeeperKey(key: key)
    }

    /// Reads the keystore at `path` and decrypts it with its password (`passwordFile`, else the other `PasswordSource`s,
    /// asked as "`purpose`: "); errors name the file as `named`. The one way every command opens an existing keystore.
    static func unlock(_ path: String, passwordFile: String?, named: String, purpose: String? = nil) throws -> (file: Keystore, key: PrivateKey) {
        let file = try reporting(named) { try KeystoreFile.read(path: path) }
        var password = try PasswordSource.existing(file: passwordFile, purpose: purpose ?? "Password of \(path)")
        defer { password.resetBytes() }
        return (file, try reporting(named) { try file.decrypt(password: password) })
    }

    /// Loads the keeper config of a command that signs (`contracts deploy`, `tx cancel|replace`). The key checks are
    /// `load`'s, which knows `--password-file`, the environment and the systemd credential (the config's own check
    /// would demand `password_file`). Errors are the config's first line.
    static func config(_ path: String) throws -> KeeperConfig {
        do { return try KeeperConfig.load(path: path, checkKeys: false, sections: ConfigSections.all) } catch { throw CLIError(firstLine("\(error)")) }
    }
}

/// `--keystore FILE [--password-file F]`: the key source of the commands that use an existing keystore as is
/// (`keys export`, `tx sign`). `keys change-password` names the same two options with other help (its password is
/// the *current* one) and so declares its own, opening the keystore with the same `KeeperKey.unlock`.
struct KeystoreOptions: ParsableArguments {
    @Option(help: "The keystore file.")
    var keystore: String

    @Option(help: "File whose first line is the password.")
    var passwordFile: String?

    /// The decrypted key (errors name `keystore FILE`).
    func unlock() throws -> PrivateKey {
        try KeeperKey.unlock(keystore, passwordFile: passwordFile, named: "keystore \(keystore)").key
    }
}

/// `--keystore-dir DIR` of the commands that write a new keystore (`keys new`, `keys import`). `keys list` names the
/// same option with other help (it only reads the directory) and declares its own.
struct NewKeystoreDirectory: ParsableArguments {
    @Option(help: "Directory of keystores (created with mode 0700 if missing).")
    var keystoreDir: String

    /// Creates the directory (mode 0700) if missing and returns its path.
    func prepare() throws -> String {
        try KeystoreFile.prepareDirectory(keystoreDir)
        return keystoreDir
    }
}

/// Small helpers shared by the commands that send transactions themselves (`contracts deploy`, `tx cancel|replace`).
enum SendSupport {
    /// Waits for the receipt of `hash` (up to `timeout` seconds).
    static func waitForReceipt(_ client: RPCClient, _ hash: Bytes32, timeout: Double = 120) async throws -> Receipt {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let r = try await client.transactionReceipt(hash) { return r }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("no receipt for \(hash.hexString) after \(Int(timeout)) s (it stays in the node's pool; check the fees)")
    }

    /// Signs and sends `tx`, returning its hash; fails on any refusal but `already known`.
    static func send(_ client: RPCClient, key: KeeperKey, _ tx: EthereumCore.Transaction, what: String) async throws -> Bytes32 {
        let (raw, hash) = try reporting(what) { try key.sign(tx) }
        switch await RPCSubmissionChain(client: client).broadcast(raw) {
        case .accepted, .alreadyKnown: return hash
        case let other: throw CLIError("\(what): the node refused the transaction: \(other)")
        }
    }
}
