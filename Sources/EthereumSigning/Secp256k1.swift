internal import CSecp256k1
import EthereumCore

/// Raw libsecp256k1 operations over the shared context. Internal: callers use `PrivateKey`,
/// `Signature` and `PublicKey`. Pointers are to exactly 32 (key, digest) or 64 (compact signature) bytes.
enum Secp256k1 {
    /// True when `key` (32 bytes) is in 1..<n.
    static func isValidSecretKey(_ key: UnsafePointer<UInt8>) -> Bool {
        do {
            try check(secp256k1_ec_seckey_verify(Secp256k1Context.shared.raw, key), "secp256k1_ec_seckey_verify",
                      failure: .invalidPrivateKey(reason: "zero or not below the curve order"))
            return true
        } catch { return false }
    }

    /// The uncompressed public key (x, y) of a valid secret key.
    static func publicKey(secretKey: UnsafePointer<UInt8>) throws(SigningError) -> PublicKey {
        var pubkey = secp256k1_pubkey()
        try check(secp256k1_ec_pubkey_create(Secp256k1Context.shared.raw, &pubkey, secretKey), "secp256k1_ec_pubkey_create",
                  failure: .invalidPrivateKey(reason: "zero or not below the curve order"))
        return try serialize(&pubkey)
    }

    /// RFC 6979 deterministic, low-s recoverable signature of a 32-byte digest.
    static func sign(digest: Bytes32, secretKey: UnsafePointer<UInt8>) throws(SigningError) -> Signature {
        let ctx = Secp256k1Context.shared.raw
        var sig = secp256k1_ecdsa_recoverable_signature()
        var compact = (Bytes32.zero, Bytes32.zero)
        var recid: Int32 = 0
        var rc: Int32 = 0
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { msg in
            digest.store(to: msg.baseAddress!)
            rc = secp256k1_ecdsa_sign_recoverable(ctx, &sig, msg.baseAddress!.assumingMemoryBound(to: UInt8.self), secretKey, nil, nil)
        }
        try check(rc, "secp256k1_ecdsa_sign_recoverable")
        rc = withUnsafeMutableBytes(of: &compact) { out in
            secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &recid, &sig)
        }
        try check(rc, "secp256k1_ecdsa_recoverable_signature_serialize_compact")
        return withUnsafeBytes(of: &compact) { raw in
            Signature(uncheckedR: Bytes32(loadingFrom: raw, at: 0), s: Bytes32(loadingFrom: raw, at: 32), recoveryId: UInt8(truncatingIfNeeded: recid))
        }
    }

    /// Recovers the public key that produced `signature` over `digest`.
    static func recover(digest: Bytes32, signature: Signature) throws(SigningError) -> PublicKey {
        let ctx = Secp256k1Context.shared.raw
        var sig = secp256k1_ecdsa_recoverable_signature()
        var pubkey = secp256k1_pubkey()
        var buffer = (Bytes32.zero, Bytes32.zero, Bytes32.zero)  // r, s, digest
        // Both return codes leave the closure and go through `check` in order (recover runs only after a good parse).
        let (parsed, recovered): (Int32, Int32) = withUnsafeMutableBytes(of: &buffer) { raw in
            signature.r.store(to: raw.baseAddress!)
            signature.s.store(to: raw.baseAddress! + 32)
            digest.store(to: raw.baseAddress! + 64)
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let parsed = secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, p, Int32(signature.recoveryId))
            guard parsed == 1 else { return (parsed, 0) }
            return (parsed, secp256k1_ecdsa_recover(ctx, &pubkey, &sig, p + 64))
        }
        try check(parsed, "secp256k1_ecdsa_recoverable_signature_parse_compact",
                  failure: .invalidSignature(reason: "r or s is not below the curve order"))
        try check(recovered, "secp256k1_ecdsa_recover", failure: .recoveryFailed)
        return try serialize(&pubkey)
    }

    /// Verifies a (non-recoverable) signature against a public key; only low-s signatures verify.
    static func verify(digest: Bytes32, r: Bytes32, s: Bytes32, publicKey: PublicKey) -> Bool {
        let ctx = Secp256k1Context.shared.raw
        var sig = secp256k1_ecdsa_signature()
        var pubkey = secp256k1_pubkey()
        // One scratch buffer: r ‖ s (64) ‖ digest (32) ‖ 0x04 ‖ x ‖ y (65). Each call runs only after the previous succeeded.
        let codes: (Int32, Int32, Int32) = withUnsafeTemporaryAllocation(byteCount: 161, alignment: 8) { raw in
            let base = raw.baseAddress!
            r.store(to: base)
            s.store(to: base + 32)
            digest.store(to: base + 64)
            base.storeBytes(of: 4, toByteOffset: 96, as: UInt8.self)
            publicKey.x.store(to: base + 97)
            publicKey.y.store(to: base + 129)
            let p = base.assumingMemoryBound(to: UInt8.self)
            let a = secp256k1_ecdsa_signature_parse_compact(ctx, &sig, p)
            guard a == 1 else { return (a, 0, 0) }
            let b = secp256k1_ec_pubkey_parse(ctx, &pubkey, p + 96, 65)
            guard b == 1 else { return (a, b, 0) }
            return (a, b, secp256k1_ecdsa_verify(ctx, &sig, p + 64, &pubkey))
        }
        do {
            try check(codes.0, "secp256k1_ecdsa_signature_parse_compact", failure: .invalidSignature(reason: "r or s out of range"))
            try check(codes.1, "secp256k1_ec_pubkey_parse", failure: .invalidSignature(reason: "not a valid public key"))
            try check(codes.2, "secp256k1_ecdsa_verify", failure: .invalidSignature(reason: "does not verify"))
            return true
        } catch { return false }
    }

    private static func serialize(_ pubkey: inout secp256k1_pubkey) throws(SigningError) -> PublicKey {
        var length = 65
        let (rc, key): (Int32, PublicKey) = withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { raw in
            let rc = secp256k1_ec_pubkey_serialize(Secp256k1Context.shared.raw, raw.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                   &length, &pubkey, UInt32(SECP256K1_EC_UNCOMPRESSED))
            let bytes = UnsafeRawBufferPointer(raw)
            return (rc, PublicKey(x: Bytes32(loadingFrom: bytes, at: 1), y: Bytes32(loadingFrom: bytes, at: 33)))
        }
        try check(rc, "secp256k1_ec_pubkey_serialize")
        return key
    }
}
