import COpenSSL
internal import CSecp256k1
import EthereumCore
import EthereumSigning
import Foundation
import KeeperTesting
#if canImport(Glibc)
import Glibc
#endif

/// Suite "signing" (issue 3):
/// - sign a digest and recover a public key (+ address) through `EthereumSigning` against raw libsecp256k1
///   calls on a context of our own, in the same run (targets ≤ 1.03× and ≤ 1.05×);
/// - sign a complete EIP-1559 routing transaction (100 and 600 claims of calldata: RLP + keccak + sign +
///   encode) against eth-account on the same transactions (target ≥ 10× faster; bytes must match);
/// - decrypt a standard scrypt keystore (n=262144, r=8, p=1): seconds and peak memory, in a child process,
///   beside OpenSSL's bare scrypt KDF and eth-keyfile on the same file.
func signingBench() throws {
    if let job = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_SIGN_BENCH_CHILD"] {
        try signingDecryptChild(job)
        exit(0)
    }
    let key = try PrivateKey(hex: "0x" + String(repeating: "46", count: 32))
    try signAndRecoverBench(key)
    try transactionBench(key)
    try keystoreDecryptBench(key)
}

private func signAndRecoverBench(_ key: PrivateKey) throws {
    guard let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else { throw BenchError("secp256k1_context_create") }
    defer { secp256k1_context_destroy(ctx) }
    var seed = [UInt8](repeating: 7, count: 32)
    guard secp256k1_context_randomize(ctx, &seed) == 1 else { throw BenchError("secp256k1_context_randomize") }
    let secret = [UInt8](repeating: 0x46, count: 32)
    let digests = (0..<64).map { Keccak256.hash(text: "digest \($0)") }
    let digestBytes = digests.map(\.bytes)
    let iterations = 64

    var sink: UInt64 = 0
    let sign = compare(iterations: iterations, rounds: 301, {
        for i in 0..<iterations { sink ^= (try? key.sign(digest: digests[i & 63]))?.r.w0 ?? 0 }
    }, {
        var sig = secp256k1_ecdsa_recoverable_signature()
        var out = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        for i in 0..<iterations {
            _ = secp256k1_ecdsa_sign_recoverable(ctx, &sig, digestBytes[i & 63], secret, nil, nil)
            _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, &out, &recid, &sig)
            sink ^= UInt64(out[0])
        }
    })
    let signatures = try digests.map { try key.sign(digest: $0) }
    let compact = signatures.map { $0.r.bytes + $0.s.bytes }
    let recover = compare(iterations: iterations, rounds: 301, {
        for i in 0..<iterations { sink ^= (try? signatures[i & 63].recoverAddress(digest: digests[i & 63]))?.hi ?? 0 }
    }, {
        var sig = secp256k1_ecdsa_recoverable_signature()
        var pubkey = secp256k1_pubkey()
        var out = [UInt8](repeating: 0, count: 65)
        for i in 0..<iterations {
            var length = 65
            _ = secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, compact[i & 63], Int32(signatures[i & 63].recoveryId))
            _ = secp256k1_ecdsa_recover(ctx, &pubkey, &sig, digestBytes[i & 63])
            _ = secp256k1_ec_pubkey_serialize(ctx, &out, &length, &pubkey, UInt32(SECP256K1_EC_UNCOMPRESSED))
            let hash = out.withUnsafeBytes { Keccak256.hash(UnsafeRawBufferPointer(rebasing: $0[1..<65])) }
            sink ^= Address(lowBytesOf: hash).hi
        }
    })
    blackHole(sink)
    print("\(col("operation", 30))\(col("ours µs/op", 12))\(col("raw libsecp256k1 µs/op", 24))\(col("ratio", 8))\(col("target", 8))\(col("allocs/op", 10))verdict")
    for (name, m, target) in [("sign digest (RFC 6979, low-s)", sign, 1.03), ("recover public key + address", recover, 1.05)] {
        let ratio = m[0].nsPerOp / m[1].nsPerOp
        let allocs = m[0].allocsPerOp.map { fmt($0, 2) } ?? "n/a"
        print("\(col(name, 30))\(col(fmt(m[0].nsPerOp / 1000, 2), 12))\(col(fmt(m[1].nsPerOp / 1000, 2), 24))\(col(fmt(ratio, 3), 8))\(col("≤" + fmt(target, 2), 8))\(col(allocs, 10))\(ratio <= target ? "ok" : "MISSED")")
    }
}

/// `route(claims)` calldata with `claims` entries of (address, uint256, uint64, uint32, bytes32).
private func routingCalldata(claims: Int) -> [UInt8] {
    var data: [UInt8] = Array(Keccak256.hash(text: "route((address,uint256,uint64,uint32,bytes32)[])").bytes.prefix(4))
    data += UInt256(32).bigEndianBytes + UInt256(UInt64(claims)).bigEndianBytes
    for i in 0..<claims {
        data += Address(lowBytesOf: Keccak256.hash(text: "staker \(i)")).word.bytes
        data += UInt256(UInt64(1_000_000_000_000 + i)).bigEndianBytes
        data += UInt256(UInt64(20_000_000 + i)).bigEndianBytes
        data += UInt256(UInt64(i % 7)).bigEndianBytes
        data += Keccak256.hash(text: "block \(i)").bytes
    }
    return data
}

private func transactionBench(_ key: PrivateKey) throws {
    print("\(col("EIP-1559 tx", 30))\(col("ours µs/tx", 12))\(col("eth-account µs/tx", 24))\(col("speed-up", 10))\(col("target", 8))\(col("allocs/tx", 10))\(col("floor µs", 10))verdict")
    for claims in [100, 600] {
        let tx = Transaction(kind: .dynamicFee(maxPriorityFeePerGas: UInt256(1_000_000), maxFeePerGas: UInt256(2_000_000_000),
                                               accessList: []),
                             chainId: 8453, nonce: 42, gasLimit: UInt64(60_000 + 35_000 * claims),
                             to: try Address("0x321b7ff75154472B18EDb199033fF4D116F340Ff"), value: .zero,
                             data: routingCalldata(claims: claims))
        let iterations = claims == 100 ? 16 : 4
        var sink = 0
        let ours = measure(iterations: iterations, rounds: 151) {
            for _ in 0..<iterations { sink &+= (try? key.sign(transaction: tx))?.rawBytes.count ?? 0 }
        }
        blackHole(sink)
        // The floor no encoder can beat: Keccak-256 of the signing payload plus one ECDSA signature.
        let payload = tx.signingPayload
        let floor = measure(iterations: iterations, rounds: 151) {
            for _ in 0..<iterations { sink &+= Int((try? key.sign(digest: Keccak256.hash(payload)))?.recoveryId ?? 0) }
        }
        blackHole(sink)
        let raw = try key.sign(transaction: tx).rawBytes.hexString
        let request: [String: Any] = [
            "op": "sign", "key": key.unsafeHexForExport(), "iterations": claims == 100 ? 4 : 2, "rounds": 40,
            "tx": ["type": 2, "chainId": "8453", "nonce": "42", "gas": String(tx.gasLimit), "value": "0",
                   "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000", "to": tx.to!.checksummed,
                   "data": tx.data.hexString, "accessList": [[String: Any]]()],
        ]
        let reference = try runPythonReference(request)
        let theirs = (reference["us_per_tx"] as? Double) ?? .nan
        let same = (reference["raw"] as? String) == raw
        let speedup = theirs / (ours.nsPerOp / 1000)
        let allocs = ours.allocsPerOp.map { fmt($0, 1) } ?? "n/a"
        print("\(col("\(claims) claims (\(tx.data.count) B)", 30))\(col(fmt(ours.nsPerOp / 1000, 1), 12))\(col(fmt(theirs, 1), 24))\(col(fmt(speedup, 1) + "×", 10))\(col("≥10×", 8))\(col(allocs, 10))\(col(fmt(floor.nsPerOp / 1000, 1), 10))\(speedup >= 10 && same ? "ok" : "MISSED (best possible \(fmt(theirs / (floor.nsPerOp / 1000), 1))×)")\(same ? "" : " (raw bytes differ from eth-account!)")")
    }
}

private func keystoreDecryptBench(_ key: PrivateKey) throws {
    let dir = NSTemporaryDirectory() + "keeperbench-signing-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/standard.json"
    let keystore = try Keystore.encrypt(key, password: Array("bench password".utf8), kdf: .standard)
    try keystore.jsonText.write(toFile: path, atomically: true, encoding: .utf8)
    // Our decrypt and the bare KDF, each in a fresh child process so its peak RSS is its own.
    func child(_ job: String) throws -> [String: Double] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["signing"]
        var env = ProcessInfo.processInfo.environment
        env["EXPANSION_KEEPER_SIGN_BENCH_CHILD"] = "\(job):\(path)"
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double] else {
            throw BenchError("decrypt child printed no result")
        }
        return object
    }
    let ours = try child("decrypt"), kdf = try child("kdf"), idle = try child("idle")
    let python = try runPythonReference(["op": "decrypt", "path": path, "password": "bench password"])
    let theirsSeconds = (python["seconds"] as? Double) ?? .nan
    let theirsPeak = Double((python["peak_rss_kib"] as? Int) ?? 0)
    print("keystore decrypt, scrypt n=262144 r=8 p=1 (best of 3, each command in a fresh process; peak = VmHWM):")
    print("  ours (KDF + MAC + AES + key check): \(fmt(ours["seconds"] ?? .nan, 3)) s, peak \(fmt((ours["peak_kib"] ?? 0) / 1024, 0)) MiB (process baseline \(fmt((idle["peak_kib"] ?? 0) / 1024, 0)) MiB)")
    print("  bare OpenSSL scrypt KDF:            \(fmt(kdf["seconds"] ?? .nan, 3)) s, peak \(fmt((kdf["peak_kib"] ?? 0) / 1024, 0)) MiB  → ours / OpenSSL = \(fmt((ours["seconds"] ?? .nan) / (kdf["seconds"] ?? .nan), 3))")
    print("  eth-keyfile (pycryptodome):         \(fmt(theirsSeconds, 3)) s, peak \(fmt(theirsPeak / 1024, 0)) MiB  → ours / eth-keyfile = \(fmt((ours["seconds"] ?? .nan) / theirsSeconds, 3))")
}

/// Runs in the child: decrypts (or only derives the key, or nothing) and prints seconds and max RSS as JSON.
private func signingDecryptChild(_ job: String) throws {
    guard let colon = job.firstIndex(of: ":") else { throw BenchError("bad child job") }
    let kind = String(job[..<colon]), path = String(job[job.index(after: colon)...])
    let keystore = try KeystoreFile.read(path: path)
    let password = Array("bench password".utf8)
    var seconds = Double.infinity
    for _ in 0..<3 {  // best of three
        let start = ContinuousClock.now
        switch kind {
        case "decrypt":
            blackHole(try keystore.decrypt(password: password).address)
        case "kdf":
            guard case let .scrypt(n, r, p) = keystore.kdf else { throw BenchError("not scrypt") }
            var out = [UInt8](repeating: 0, count: 32)
            let rc = EVP_PBE_scrypt(password.map { CChar(bitPattern: $0) }, password.count, keystore.salt, keystore.salt.count,
                                    UInt64(n), UInt64(r), UInt64(p), 1 << 30, &out, 32)
            guard rc == 1 else { throw BenchError("OpenSSL EVP_PBE_scrypt failed") }
            blackHole(out)
        default:
            break
        }
        let elapsed = ContinuousClock.now - start
        seconds = min(seconds, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    print("{\"seconds\": \(seconds), \"peak_kib\": \(peakResidentKiB())}")
}

/// This process's peak resident set (VmHWM): unlike getrusage's ru_maxrss it is not inherited from the
/// parent across posix_spawn/exec, so a child's figure is its own.
func peakResidentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
}

/// Runs Tests/Support/sign_bench_eth_account.py with one JSON request.
private func runPythonReference(_ request: [String: Any]) throws -> [String: Any] {
    let output = try benchPython([TestEnvironment.supportScript("sign_bench_eth_account.py")],
                                 input: try JSONSerialization.data(withJSONObject: request))
    guard let object = try? JSONSerialization.jsonObject(with: output.stdout) as? [String: Any] else {
        throw BenchError("eth-account reference: no JSON answer", fix: BenchError.pythonFix)
    }
    return object
}
