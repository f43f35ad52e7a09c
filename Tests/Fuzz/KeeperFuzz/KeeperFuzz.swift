// KeeperFuzz — libFuzzer target for the hostile-input decoders: EthereumABI's `ABIDecoder` and
// EthereumCore's `RLP.decode`. Built only by deploy/dev/fuzz.sh (EXPANSION_KEEPER_FUZZ=1 adds the target;
// -sanitize=fuzzer supplies main). `KEEPER_FUZZ_TARGET=abi|rlp` picks the decoder (default abi).
// Owns: nothing but this entry point. Must not import: Foundation, anything beyond EthereumCore/EthereumABI.
//
// Besides "no crash, no sanitizer report", each accepted input must round-trip exactly, because both
// decoders accept only canonical encodings: encode(decode(x)) == x. A mismatch traps (a finding).
import EthereumABI
import EthereumCore

#if canImport(Glibc)
import Glibc
#endif

/// Which decoder this process fuzzes, from `KEEPER_FUZZ_TARGET`.
let fuzzTarget: String = {
    guard let p = getenv("KEEPER_FUZZ_TARGET") else { return "abi" }
    return String(cString: p)
}()

/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func keeperFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if fuzzTarget == "rlp" { fuzzRLP(bytes) } else { fuzzABI(bytes) }
    return 0
}

/// RLP: strict decode; anything accepted re-encodes to the same bytes.
func fuzzRLP(_ input: [UInt8]) {
    guard let item = try? RLP.decode(input) else { return }
    let again = RLP.encode(item)
    if again != input { fatalError("RLP round trip differs for \(Hex.encode(input))") }
    if (try? RLP.decode(again)) != item { fatalError("RLP re-decode differs for \(Hex.encode(input))") }
}

/// ABI: the input is `signature-or-tuple` 0x00 `data`. The text exercises the signature parser; the data
/// is decoded as its parameter types. Anything accepted must re-encode to the same bytes, render as
/// canonical JSON, and that JSON must parse back (as `abi encode` arguments) to the same values.
func fuzzABI(_ input: [UInt8]) {
    let split = input.firstIndex(of: 0) ?? input.count
    let text = String(decoding: input[..<split], as: UTF8.self)
    guard let sig = try? ABISignature(parsing: text) else { return }
    let data = split < input.count ? Array(input[(split + 1)...]) : []
    guard let values = try? ABIDecoder.decode(sig.types, from: data) else { return }
    guard let again = try? ABIEncoder.encode(values, as: sig.types), again == data else {
        fatalError("ABI round trip differs for \(sig.canonical) \(Hex.encode(data))")
    }
    let json = ABIValue.canonicalJSON(values)
    guard let parsed = try? ABIValue.parseJSONArguments(json, types: sig.types), parsed == values else {
        fatalError("canonical JSON does not parse back for \(sig.canonical): \(json)")
    }
}
