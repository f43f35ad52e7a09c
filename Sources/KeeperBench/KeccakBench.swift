import COpenSSL
import EthereumCore

/// Keccak-256 (ours) against OpenSSL's SHA3-256 through EVP with a reused context and a pre-fetched
/// digest — the same Keccak-f[1600] permutation, only the padding byte differs.
/// Target (issue 2): ≤ 1.10× OpenSSL up to 135 bytes, ≤ 1.20× beyond, zero heap allocations per hash.
func keccakBench() throws {
    guard let md = EVP_MD_fetch(nil, "SHA3-256", nil), let ctx = EVP_MD_CTX_new() else {
        throw BenchError("OpenSSL SHA3-256 unavailable")
    }
    defer { EVP_MD_CTX_free(ctx); EVP_MD_free(md) }
    print("\(col("bytes", 9))\(col("ours ns/op", 12))\(col("openssl ns/op", 15))\(col("ratio", 8))\(col("target", 8))\(col("allocs/op", 10))verdict")
    for size in [32, 64, 135, 136, 1024, 1 << 20] {
        let input = [UInt8]((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let iterations = max(4, 1_000_000 / max(size, 64))
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let (oursM, sslM) = input.withUnsafeBytes { buf in
            digest.withUnsafeMutableBufferPointer { outBuffer in
                let out = outBuffer
                let m = compare(iterations: iterations, rounds: 15, {
                    var acc: UInt64 = 0
                    for _ in 0..<iterations { acc ^= Keccak256.hash(buf).w0 }
                    blackHole(acc)
                }, {
                    for _ in 0..<iterations {
                        EVP_DigestInit_ex2(ctx, md, nil)
                        EVP_DigestUpdate(ctx, buf.baseAddress, buf.count)
                        EVP_DigestFinal_ex(ctx, out.baseAddress, &length)
                    }
                })
                return (m[0], m[1])
            }
        }
        let ratio = oursM.nsPerOp / sslM.nsPerOp
        let target = size <= 135 ? 1.10 : 1.20
        let allocs = oursM.allocsPerOp.map { fmt($0, 2) } ?? "n/a"
        let ok = ratio <= target && (oursM.allocsPerOp ?? 0) == 0
        print("\(col(String(size), 9))\(col(fmt(oursM.nsPerOp), 12))\(col(fmt(sslM.nsPerOp), 15))\(col(fmt(ratio, 3), 8))\(col("≤" + fmt(target, 2), 8))\(col(allocs, 10))\(ok ? "ok" : "MISSED")")
    }
}
