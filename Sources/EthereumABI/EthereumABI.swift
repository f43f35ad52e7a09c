// EthereumABI — the Solidity contract ABI, written by hand
// (https://docs.soliditylang.org/en/latest/abi-spec.html).
// Owns: the ABI type grammar and signature parser (`ABIType`, `ABISignature`, `ABIParameter`), the
// value model (`ABIValue`, `ABIList`) with its canonical JSON form and JSON argument parsing, the
// encoder, the bounds-checked, depth-limited, canonical-only decoder (`ABIDecoder`), function selectors
// and calls (`ABIFunction`), event topics and topic-checked log decoding (`ABIEvent`), and the JSON-ABI
// model (`ABIContract`). One error type: `ABIError`, every case carrying the byte offset or field.
// Must not import: Foundation, any I/O, any module other than EthereumCore (it knows nothing of transport).
//
// Design notes (deploy/docs/developer-guide.md, "EthereumABI"):
//  1. The decoder accepts only the canonical encoding: every offset must point exactly where the
//     canonical encoder puts that tail, padding must be zero, values must fit their type, and nothing may
//     follow the data. This rejects offset loops and aliasing outright (no exponential blow-up) and makes
//     decode(encode(x)) == x and encode(decode(d)) == d hold for every accepted input.
//  2. Static values are held inline (`UInt256`, `Int256`, `Address`, `Bytes32` carry no heap storage), and
//     arrays of static tuples decode into one flat buffer per nesting level shared by `ABIList` views, so
//     decoding `(address,address,uint256)[100]` allocates a constant number of buffers, not one per element.
//  3. Zero-sized types (`()` inside a type, `T[0]`) are rejected by the parser: every static type then
//     occupies at least one 32-byte word, so an array's claimed length is bounded by the bytes present.
