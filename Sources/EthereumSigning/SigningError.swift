import EthereumCore

/// The one error type of EthereumSigning. Messages name the offending field or call and never contain
/// key material, passwords or derived keys.
public enum SigningError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A private key was 0, not below the curve order, or not 32 bytes.
    case invalidPrivateKey(reason: String)
    /// A signature was malformed (r/s out of range, bad recovery id, wrong length).
    case invalidSignature(reason: String)
    /// No public key could be recovered from the signature and digest.
    case recoveryFailed
    /// A libsecp256k1 call returned failure.
    case library(call: String, code: Int32)
    /// A transaction failed validation before signing.
    case invalidTransaction(reason: String)
    /// The keystore MAC did not match: the password is wrong (or the MAC/ciphertext was altered).
    case wrongPassword
    /// The keystore file is malformed: `field` names the JSON path.
    case corruptKeystore(field: String, reason: String)
    /// The keystore uses a KDF, cipher, PRF or version this tool does not implement.
    case unsupportedKeystore(field: String, value: String)
    /// KDF parameters were refused before any memory was allocated for them.
    case kdfParametersRejected(reason: String)
    /// The decrypted key's address differs from the file's `address` field.
    case addressMismatch(file: Address, derived: Address)
    /// A file-system operation failed.
    case io(path: String, reason: String)
    /// The underlying crypto library failed.
    case crypto(operation: String, reason: String)

    /// A one-line message naming the field or call, without key material; an unsupported keystore value is clipped to 40 characters.
    public var description: String {
        switch self {
        case let .invalidPrivateKey(reason): return "invalid private key: \(reason)"
        case let .invalidSignature(reason): return "invalid signature: \(reason)"
        case .recoveryFailed: return "no public key can be recovered from this signature"
        case let .library(call, code): return "libsecp256k1 \(call) failed (returned \(code))"
        case let .invalidTransaction(reason): return "invalid transaction: \(reason)"
        case .wrongPassword: return "wrong password (the keystore MAC does not match; if the password is right, the file's ciphertext or mac was altered)"
        case let .corruptKeystore(field, reason): return "corrupt keystore: \(field): \(reason)"
        case let .unsupportedKeystore(field, value): return "unsupported keystore: \(field) \"\(Self.clip(value))\" is not supported"
        case let .kdfParametersRejected(reason): return "keystore KDF parameters refused: \(reason)"
        case let .addressMismatch(file, derived):
            return "keystore address field \(file) does not match the decrypted key's address \(derived)"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .crypto(operation, reason): return "\(operation) failed: \(reason)"
        }
    }

    static func clip(_ text: String) -> String { text.count <= 40 ? text : String(text.prefix(37)) + "..." }
}
