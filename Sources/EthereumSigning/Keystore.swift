import Crypto
import _CryptoExtras
import EthereumCore
import Foundation

/// swift-crypto's KDF namespace (our `Keystore.KDF` shadows the name inside the type).
private typealias CryptoKDF = KDF

/// A Web3 Secret Storage v3 keystore (https://ethereum.org/developers/docs/data-structures-and-encoding/web3-secret-storage/):
/// a private key encrypted with AES-128-CTR under a key derived from a password by scrypt or
/// PBKDF2-HMAC-SHA256, authenticated by `keccak256(derivedKey[16..<32] ‖ ciphertext)`.
/// Reading accepts any scrypt n/r/p/dklen and PBKDF2 c within `Limits`; writing uses scrypt.
public struct Keystore: Sendable, Equatable {
    /// The key-derivation function and its cost parameters.
    public enum KDF: Sendable, Equatable {
        /// scrypt with cost n (a power of two), block size r and parallelism p.
        case scrypt(n: Int, r: Int, p: Int)
        /// PBKDF2 with HMAC-SHA256 and c iterations.
        case pbkdf2(c: Int)

        /// go-ethereum's standard scrypt parameters (n=262144, r=8, p=1): ~0.8 s and 256 MiB per derivation.
        public static let standard = KDF.scrypt(n: 262_144, r: 8, p: 1)
        /// go-ethereum's light scrypt parameters (n=4096, r=8, p=6): for small machines and tests.
        public static let light = KDF.scrypt(n: 4096, r: 8, p: 6)
    }

    /// Bounds checked before any KDF runs, so a hostile file cannot make us allocate gigabytes or spin for hours.
    public struct Limits: Sendable {
        /// Largest scrypt working memory, 128·r·(n + p) bytes (default 1 GiB; geth standard needs 256 MiB).
        public var maxScryptMemoryBytes: Int
        /// Largest scrypt work n·r·p (default 2^24, 8× geth standard).
        public var maxScryptWork: Int
        /// Most PBKDF2 iterations (default 10,000,000).
        public var maxPBKDF2Iterations: Int
        /// Largest derived-key length (default 128 bytes; 32 is what the format uses).
        public var maxDerivedKeyLength: Int
        /// Defaults that admit every keystore geth, Foundry and eth-keyfile write.
        public static let `default` = Limits(maxScryptMemoryBytes: 1 << 30, maxScryptWork: 1 << 24,
                                             maxPBKDF2Iterations: 10_000_000, maxDerivedKeyLength: 128)
        /// Bounds from each field.
        public init(maxScryptMemoryBytes: Int, maxScryptWork: Int, maxPBKDF2Iterations: Int, maxDerivedKeyLength: Int) {
            self.maxScryptMemoryBytes = maxScryptMemoryBytes
            self.maxScryptWork = maxScryptWork
            self.maxPBKDF2Iterations = maxPBKDF2Iterations
            self.maxDerivedKeyLength = maxDerivedKeyLength
        }
    }

    /// KDF and its parameters.
    public var kdf: KDF
    /// Derived-key length in bytes (at least 32).
    public var dklen: Int
    /// KDF salt.
    public var salt: [UInt8]
    /// AES-128-CTR initial counter block (16 bytes).
    public var iv: [UInt8]
    /// The encrypted 32-byte private key.
    public var ciphertext: [UInt8]
    /// keccak256(derivedKey[16..<32] ‖ ciphertext).
    public var mac: Bytes32
    /// The file's `address` field, when present.
    public var address: Address?
    /// The file's `id` field (a UUID), when present.
    public var id: String?

    /// A keystore from its fields.
    public init(kdf: KDF, dklen: Int, salt: [UInt8], iv: [UInt8], ciphertext: [UInt8], mac: Bytes32, address: Address?, id: String?) {
        self.kdf = kdf; self.dklen = dklen; self.salt = salt; self.iv = iv
        self.ciphertext = ciphertext; self.mac = mac; self.address = address; self.id = id
    }

    // MARK: Decrypting

    /// Derives the key, verifies the MAC (a mismatch is `wrongPassword`), decrypts, and checks the
    /// result against the `address` field when there is one.
    public func decrypt(password: [UInt8], limits: Limits = .default) throws(SigningError) -> PrivateKey {
        var derived = try deriveKey(password: password, limits: limits)
        defer { zeroize(&derived) }
        guard Keystore.constantTimeEqual(Keystore.mac(derivedKey: derived, ciphertext: ciphertext), mac) else {
            throw .wrongPassword
        }
        var plain = try Keystore.aes128ctr(derivedKey: derived, iv: iv, data: ciphertext)
        defer { zeroize(&plain) }
        let key: PrivateKey
        do {
            key = try PrivateKey(bytes: plain)
        } catch {
            throw .corruptKeystore(field: "crypto.ciphertext", reason: "decrypts to an invalid private key (zero or not below the curve order)")
        }
        if let address, address != key.address {
            throw .addressMismatch(file: address, derived: key.address)
        }
        return key
    }

    /// Refuses parameters outside `limits` (before allocating), then runs the KDF.
    func deriveKey(password: [UInt8], limits: Limits) throws(SigningError) -> [UInt8] {
        try Keystore.checkParameters(kdf: kdf, dklen: dklen, saltCount: salt.count, limits: limits)
        let key: SymmetricKey
        do {
            switch kdf {
            case let .scrypt(n, r, p) where !Scrypt.boringSSLAccepts(n: n, r: r):
                return try Scrypt.derive(password: password, salt: salt, n: n, r: r, p: p, length: dklen)
            case let .scrypt(n, r, p):
                key = try CryptoKDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: dklen, rounds: n, blockSize: r, parallelism: p)
            case let .pbkdf2(c):
                key = try CryptoKDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt, using: .sha256, outputByteCount: dklen,
                                                        unsafeUncheckedRounds: c)
            }
        } catch let error as SigningError {
            throw error
        } catch {
            throw .crypto(operation: "key derivation", reason: "\(error)")
        }
        return key.withUnsafeBytes { Array($0) }
    }

    /// Validates KDF parameters without running anything.
    static func checkParameters(kdf: KDF, dklen: Int, saltCount: Int, limits: Limits) throws(SigningError) {
        guard dklen >= 32 else { throw .kdfParametersRejected(reason: "dklen \(dklen) is below 32") }
        guard dklen <= limits.maxDerivedKeyLength else {
            throw .kdfParametersRejected(reason: "dklen \(dklen) exceeds \(limits.maxDerivedKeyLength)")
        }
        guard saltCount <= 1024 else { throw .kdfParametersRejected(reason: "salt of \(saltCount) bytes exceeds 1024") }
        switch kdf {
        case let .scrypt(n, r, p):
            guard n > 1, n & (n - 1) == 0 else { throw .kdfParametersRejected(reason: "scrypt n \(n) is not a power of two above 1") }
            guard r >= 1, p >= 1 else { throw .kdfParametersRejected(reason: "scrypt r \(r) and p \(p) must be at least 1") }
            // Working memory is 128·r·(n + p) bytes: the n-entry table plus the p blocks scrypt mixes.
            let (nr, o1) = n.multipliedReportingOverflow(by: r)
            let (np, o2) = n.addingReportingOverflow(p)
            let (rnp, o3) = np.multipliedReportingOverflow(by: r)
            let (memory, o4) = rnp.multipliedReportingOverflow(by: 128)
            guard !o1, !o2, !o3, !o4, memory <= limits.maxScryptMemoryBytes else {
                throw .kdfParametersRejected(reason: "scrypt n \(n), r \(r), p \(p) needs more than \(limits.maxScryptMemoryBytes >> 20) MiB")
            }
            let (work, o5) = nr.multipliedReportingOverflow(by: p)
            guard !o5, work <= limits.maxScryptWork else {
                throw .kdfParametersRejected(reason: "scrypt work n·r·p = \(n)·\(r)·\(p) exceeds \(limits.maxScryptWork)")
            }
        case let .pbkdf2(c):
            guard c >= 1, c <= limits.maxPBKDF2Iterations else {
                throw .kdfParametersRejected(reason: "pbkdf2 c \(c) is outside 1...\(limits.maxPBKDF2Iterations)")
            }
        }
    }

    // MARK: Encrypting

    /// Encrypts `key` under `password` with a fresh random salt (32 bytes) and IV (16 bytes).
    public static func encrypt(_ key: PrivateKey, password: [UInt8], kdf: KDF = .standard, id: String? = nil,
                               limits: Limits = .default) throws(SigningError) -> Keystore {
        var rng = SystemRandomNumberGenerator()
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let iv = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var store = Keystore(kdf: kdf, dklen: 32, salt: salt, iv: iv, ciphertext: [], mac: .zero, address: key.address,
                             id: id ?? UUID().uuidString.lowercased())
        var derived = try store.deriveKey(password: password, limits: limits)
        defer { zeroize(&derived) }
        store.ciphertext = try key.withUnsafeKeyBytes { (raw) throws(SigningError) in
            var plain = Array(raw)
            defer { zeroize(&plain) }
            return try aes128ctr(derivedKey: derived, iv: iv, data: plain)
        }
        store.mac = mac(derivedKey: derived, ciphertext: store.ciphertext)
        return store
    }

    static func mac(derivedKey: [UInt8], ciphertext: [UInt8]) -> Bytes32 {
        var hasher = Keccak256()
        derivedKey.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[16..<32])) }
        hasher.update(ciphertext)
        return hasher.finalize()
    }

    /// AES-128-CTR under the first 16 bytes of the derived key (swift-crypto copies them into its zeroising storage).
    static func aes128ctr(derivedKey: [UInt8], iv: [UInt8], data: [UInt8]) throws(SigningError) -> [UInt8] {
        do {
            let out = try AES._CTR.encrypt(data, using: SymmetricKey(data: derivedKey[0..<16]), nonce: try AES._CTR.Nonce(nonceBytes: iv))
            return Array(out)
        } catch {
            throw .crypto(operation: "aes-128-ctr", reason: "\(error)")
        }
    }

    static func constantTimeEqual(_ a: Bytes32, _ b: Bytes32) -> Bool {
        ((a.w0 ^ b.w0) | (a.w1 ^ b.w1) | (a.w2 ^ b.w2) | (a.w3 ^ b.w3)) == 0
    }
}
