// EthereumCore — pure Ethereum values with no I/O: hex, Address (EIP-55), UInt256/Int256, Bytes32,
// Keccak-256, RLP.
// Owns: value types and their canonical encodings. Must not import: Foundation, any I/O, any other
// project module, any C library. Everything here is deterministic and Sendable.
