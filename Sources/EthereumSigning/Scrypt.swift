import Crypto
import _CryptoExtras

/// scrypt (RFC 7914) for the parameter sets BoringSSL refuses. BoringSSL (swift-crypto) and OpenSSL enforce
/// RFC 7914's `N < 2^(128·r/8)`, but eth-keyfile/web3.py write scrypt keystores with r = 1, p = 8 and
/// n = 262144 by default (and ethereum/tests' scrypt vector uses exactly that), which that rule forbids.
/// Keystores inside the rule go to BoringSSL; the rest come here: ROMix/BlockMix/Salsa20/8 over
/// swift-crypto's PBKDF2-HMAC-SHA256 (one iteration), as RFC 7914 §5–§6 define them.
/// Callers check memory and work limits first (`Keystore.checkParameters`).
enum Scrypt {
    /// True when BoringSSL accepts these parameters (r ≥ 16, or N < 2^(16·r)).
    static func boringSSLAccepts(n: Int, r: Int) -> Bool { r >= 4 || n < (1 << (16 * r)) }

    /// Derives `length` bytes. `n` is a power of two > 1; r, p ≥ 1 (checked by the caller).
    static func derive(password: [UInt8], salt: [UInt8], n: Int, r: Int, p: Int, length: Int) throws(SigningError) -> [UInt8] {
        let blockWords = 32 * r                      // one 128·r-byte block as UInt32 words
        var b = try pbkdf2(password, salt, length: p * 128 * r)
        defer { zeroize(&b) }
        let v = UnsafeMutablePointer<UInt32>.allocate(capacity: n * blockWords)
        let x = UnsafeMutablePointer<UInt32>.allocate(capacity: blockWords)
        let y = UnsafeMutablePointer<UInt32>.allocate(capacity: blockWords)
        defer {
            zeroize(UnsafeMutableRawBufferPointer(start: v, count: n * blockWords * 4)); v.deallocate()
            zeroize(UnsafeMutableRawBufferPointer(start: x, count: blockWords * 4)); x.deallocate()
            zeroize(UnsafeMutableRawBufferPointer(start: y, count: blockWords * 4)); y.deallocate()
        }
        b.withUnsafeMutableBytes { raw in
            for chunk in 0..<p {
                let base = raw.baseAddress! + chunk * 128 * r
                for i in 0..<blockWords { x[i] = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
                romix(x, y, v, n: n, r: r)
                for i in 0..<blockWords { base.storeBytes(of: x[i].littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            }
        }
        return try pbkdf2(password, b, length: length)
    }

    private static func pbkdf2(_ password: [UInt8], _ salt: [UInt8], length: Int) throws(SigningError) -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt, using: .sha256, outputByteCount: length,
                                                        unsafeUncheckedRounds: 1)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .crypto(operation: "scrypt (pbkdf2 step)", reason: "\(error)")
        }
    }

    /// RFC 7914 §5 scryptROMix on `x` (32·r words), with scratch `y` and table `v` (n·32·r words).
    private static func romix(_ x: UnsafeMutablePointer<UInt32>, _ y: UnsafeMutablePointer<UInt32>, _ v: UnsafeMutablePointer<UInt32>,
                              n: Int, r: Int) {
        let words = 32 * r
        for i in 0..<n {
            (v + i * words).update(from: x, count: words)
            blockMix(x, y, r: r)
        }
        let mask = UInt64(n - 1)
        for _ in 0..<n {
            // Integerify: the first 8 bytes of the last 64-byte block, little-endian.
            let last = x + (2 * r - 1) * 16
            let j = Int((UInt64(last[0]) | UInt64(last[1]) << 32) & mask)
            let vj = v + j * words
            for k in 0..<words { x[k] ^= vj[k] }
            blockMix(x, y, r: r)
        }
    }

    /// RFC 7914 §4 scryptBlockMix: `b` (2·r 64-byte blocks) in place, `y` scratch.
    private static func blockMix(_ b: UnsafeMutablePointer<UInt32>, _ y: UnsafeMutablePointer<UInt32>, r: Int) {
        var t = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
                 UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        withUnsafeMutableBytes(of: &t) { raw in
            let x = raw.baseAddress!.assumingMemoryBound(to: UInt32.self)
            x.update(from: b + (2 * r - 1) * 16, count: 16)
            for i in 0..<(2 * r) {
                let bi = b + i * 16
                for k in 0..<16 { x[k] ^= bi[k] }
                salsa20_8(x)
                // Even blocks go to the first half, odd blocks to the second.
                (y + ((i & 1) * r + (i >> 1)) * 16).update(from: x, count: 16)
            }
        }
        b.update(from: y, count: 32 * r)
    }

    @inline(__always) private static func rotl(_ a: UInt32, _ s: UInt32) -> UInt32 { (a &<< s) | (a &>> (32 &- s)) }

    /// Salsa20/8 core (RFC 7914 §3) on 16 words in place.
    private static func salsa20_8(_ b: UnsafeMutablePointer<UInt32>) {
        var x0 = b[0], x1 = b[1], x2 = b[2], x3 = b[3], x4 = b[4], x5 = b[5], x6 = b[6], x7 = b[7]
        var x8 = b[8], x9 = b[9], x10 = b[10], x11 = b[11], x12 = b[12], x13 = b[13], x14 = b[14], x15 = b[15]
        for _ in 0..<4 {
            x4 ^= rotl(x0 &+ x12, 7); x8 ^= rotl(x4 &+ x0, 9); x12 ^= rotl(x8 &+ x4, 13); x0 ^= rotl(x12 &+ x8, 18)
            x9 ^= rotl(x5 &+ x1, 7); x13 ^= rotl(x9 &+ x5, 9); x1 ^= rotl(x13 &+ x9, 13); x5 ^= rotl(x1 &+ x13, 18)
            x14 ^= rotl(x10 &+ x6, 7); x2 ^= rotl(x14 &+ x10, 9); x6 ^= rotl(x2 &+ x14, 13); x10 ^= rotl(x6 &+ x2, 18)
            x3 ^= rotl(x15 &+ x11, 7); x7 ^= rotl(x3 &+ x15, 9); x11 ^= rotl(x7 &+ x3, 13); x15 ^= rotl(x11 &+ x7, 18)
            x1 ^= rotl(x0 &+ x3, 7); x2 ^= rotl(x1 &+ x0, 9); x3 ^= rotl(x2 &+ x1, 13); x0 ^= rotl(x3 &+ x2, 18)
            x6 ^= rotl(x5 &+ x4, 7); x7 ^= rotl(x6 &+ x5, 9); x4 ^= rotl(x7 &+ x6, 13); x5 ^= rotl(x4 &+ x7, 18)
            x11 ^= rotl(x10 &+ x9, 7); x8 ^= rotl(x11 &+ x10, 9); x9 ^= rotl(x8 &+ x11, 13); x10 ^= rotl(x9 &+ x8, 18)
            x12 ^= rotl(x15 &+ x14, 7); x13 ^= rotl(x12 &+ x15, 9); x14 ^= rotl(x13 &+ x12, 13); x15 ^= rotl(x14 &+ x13, 18)
        }
        b[0] &+= x0; b[1] &+= x1; b[2] &+= x2; b[3] &+= x3; b[4] &+= x4; b[5] &+= x5; b[6] &+= x6; b[7] &+= x7
        b[8] &+= x8; b[9] &+= x9; b[10] &+= x10; b[11] &+= x11; b[12] &+= x12; b[13] &+= x13; b[14] &+= x14; b[15] &+= x15
    }
}
