// EthereumSigning — secp256k1 keys and signatures over Debian's libsecp256k1, the local signer,
// EIP-191 personal messages, transaction signing and sender recovery, and Web3 Secret Storage v3 keystores.
// Owns: the one process-wide secp256k1 context, `PrivateKey` (zeroised, never printed), `Signature`,
// `PublicKey`, `Signer`, `PersonalMessage`, `Keystore` and its atomic file handling.
// Imports EthereumCore, CSecp256k1 (internal only: no C type in a public signature), swift-crypto
// (AES-128-CTR, scrypt, PBKDF2) and Foundation (files, JSON). Must not import JSONRPC, EthereumABI or the CLI.
internal import CSecp256k1
import EthereumCore

/// The one process-wide libsecp256k1 context, created with `SECP256K1_CONTEXT_NONE` and randomised once
/// (side-channel blinding). After randomisation it is only read, so concurrent use is safe.
final class Secp256k1Context: @unchecked Sendable {
    static let shared = Secp256k1Context()

    let raw: OpaquePointer

    private init() {
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("libsecp256k1: secp256k1_context_create returned NULL (out of memory)")
        }
        raw = context
        var seed = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<32 { seed[i] = rng.next() }
        do {
            try check(secp256k1_context_randomize(context, seed), "secp256k1_context_randomize")
        } catch {
            fatalError("libsecp256k1: \(error)")
        }
        zeroize(&seed)
    }

    deinit { secp256k1_context_destroy(raw) }
}

/// Every libsecp256k1 return code passes through here: 1 is success, anything else becomes `failure`
/// (by default `SigningError.library` naming the call).
@inline(__always)
func check(_ code: Int32, _ call: StaticString, failure: @autoclosure () -> SigningError? = nil) throws(SigningError) {
    guard code == 1 else { throw failure() ?? .library(call: "\(call)", code: code) }
}

/// Overwrites a byte array with zeros in place (best effort against copies the optimiser made elsewhere).
func zeroize(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { zeroize($0) }
}

/// Overwrites raw memory with zeros through a path the optimiser does not remove.
func zeroize(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    let p = base.assumingMemoryBound(to: UInt8.self)
    for i in 0..<buffer.count { p[i] = 0 }
    // An opaque read keeps the stores alive.
    _ = opaqueRead(p)
}

@inline(never) private func opaqueRead(_ p: UnsafeMutablePointer<UInt8>) -> UInt8 { p.pointee }
