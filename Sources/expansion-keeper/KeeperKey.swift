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
