func keccakBench() throws {}
