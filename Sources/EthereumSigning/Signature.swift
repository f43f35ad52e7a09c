import EthereumCore

/// A recoverable secp256k1 ECDSA signature: r, s and the recovery id (0 or 1).
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    /// r, big-endian.
    public let r: Bytes32
    /// s, big-endian (low-s when produced here).
    public let s: Bytes32
    /// The recovery id: 0 or 1 (the parity of the nonce point's y).
    public let recoveryId: UInt8

    init(uncheckedR r: Bytes32, s: Bytes32, recoveryId: UInt8) {
        self.r = r; self.s = s; self.recoveryId = recoveryId
    }

    /// From components; r and s must be in 1..<n and the recovery id 0 or 1.
    public init(r: Bytes32, s: Bytes32, recoveryId: UInt8) throws(SigningError) {
        guard recoveryId <= 1 else { throw .invalidSignature(reason: "recovery id \(recoveryId) is not 0 or 1") }
        let order = SignedTransaction.curveOrder
        guard !UInt256(word: r).isZero, UInt256(word: r) < order else { throw .invalidSignature(reason: "r is 0 or not below the curve order") }
        guard !UInt256(word: s).isZero, UInt256(word: s) < order else { throw .invalidSignature(reason: "s is 0 or not below the curve order") }
        self.init(uncheckedR: r, s: s, recoveryId: recoveryId)
    }

    /// From 65 bytes `r ‖ s ‖ v` with v in {0, 1, 27, 28}.
    public init(bytes: [UInt8]) throws(SigningError) {
        guard bytes.count == 65 else { throw .invalidSignature(reason: "expected 65 bytes (r ‖ s ‖ v), got \(bytes.count)") }
        let v = bytes[64]
        guard v <= 1 || v == 27 || v == 28 else { throw .invalidSignature(reason: "v = \(v) at byte 64 is not 0, 1, 27 or 28") }
        do {
            try self.init(r: try Bytes32(bytes[0..<32]), s: try Bytes32(bytes[32..<64]), recoveryId: v >= 27 ? v - 27 : v)
        } catch let error as SigningError {
            throw error
        } catch {
            throw .invalidSignature(reason: "\(error)")
        }
    }

    /// True when s ≤ n/2 (EIP-2); signatures made here always are.
    public var isLowS: Bool { UInt256(word: s) <= SignedTransaction.halfCurveOrder }

    /// 65 bytes `r ‖ s ‖ v` with v = the recovery id (0/1), as libsecp256k1 and typed transactions use it.
    public var bytes: [UInt8] { r.bytes + s.bytes + [recoveryId] }

    /// 65 bytes `r ‖ s ‖ v` with v = 27 + recovery id, as `personal_sign` / `eth_sign` return it.
    public var ethereumBytes: [UInt8] { r.bytes + s.bytes + [27 + recoveryId] }

    /// Recovers the signer's public key for `digest`.
    public func recoverPublicKey(digest: Bytes32) throws(SigningError) -> PublicKey {
        try Secp256k1.recover(digest: digest, signature: self)
    }

    /// Recovers the signer's address for `digest`.
    public func recoverAddress(digest: Bytes32) throws(SigningError) -> Address {
        try recoverPublicKey(digest: digest).address
    }

    /// True when this signature over `digest` verifies against `publicKey` (low-s only, as libsecp256k1 requires).
    public func verify(digest: Bytes32, publicKey: PublicKey) -> Bool {
        Secp256k1.verify(digest: digest, r: r, s: s, publicKey: publicKey)
    }

    /// `0x` hex of the 65-byte `r ‖ s ‖ v` (v = 27/28).
    public var description: String { Hex.encode(ethereumBytes) }
}
