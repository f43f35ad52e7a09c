import EthereumCore

/// Something that signs 32-byte digests for one address (a local key today; a remote signer could conform).
public protocol Signer: Sendable {
    /// The address whose key signs.
    var address: Address { get }
    /// RFC 6979 deterministic, low-s recoverable signature of `digest`.
    func sign(digest: Bytes32) throws(SigningError) -> Signature
}

extension Signer {
    /// Validates and signs a transaction (EIP-155 for legacy, EIP-2718 typed envelopes otherwise).
    public func sign(transaction: Transaction) throws(SigningError) -> SignedTransaction {
        do {
            try transaction.validate()
        } catch {
            throw .invalidTransaction(reason: error.description)
        }
        let signature = try sign(digest: transaction.signingHash)
        do {
            return try SignedTransaction(transaction: transaction, yParity: signature.recoveryId,
                                         r: UInt256(word: signature.r), s: UInt256(word: signature.s))
        } catch {
            throw .invalidSignature(reason: error.description)
        }
    }

    /// Signs an EIP-191 version 0x45 message (`personal_sign`).
    public func sign(personalMessage message: [UInt8]) throws(SigningError) -> Signature {
        try sign(digest: PersonalMessage.digest(message))
    }
}

extension SignedTransaction {
    /// The signature as a `Signature` value.
    public var signature: Signature {
        Signature(uncheckedR: r.word, s: s.word, recoveryId: yParity)
    }

    /// Recovers the sender's address from the signature over the signing hash.
    public func recoverSender() throws(SigningError) -> Address {
        try signature.recoverAddress(digest: transaction.signingHash)
    }
}

/// EIP-191 signed data, version 0x45 (`personal_sign`): Keccak-256 of
/// `"\u{19}Ethereum Signed Message:\n" + decimal length + message`.
public enum PersonalMessage {
    /// The digest that `personal_sign` signs.
    public static func digest(_ message: [UInt8]) -> Bytes32 {
        var hasher = Keccak256()
        hasher.update(text: "\u{19}Ethereum Signed Message:\n\(message.count)")
        hasher.update(message)
        return hasher.finalize()
    }

    /// The address that signed `message`.
    public static func recoverSigner(of message: [UInt8], signature: Signature) throws(SigningError) -> Address {
        try signature.recoverAddress(digest: digest(message))
    }
}
