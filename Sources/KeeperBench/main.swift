// KeeperBench — benchmarks. Every figure is printed next to a reference measured in the same run.
// Build and run in release: `swift run -c release KeeperBench [suite …]` (no suite = all).
// Suites live one per file (`KeccakBench.swift`, `ABIBench.swift`, …) and register in `suites` below.

let suites: [(name: String, run: () throws -> Void)] = [
    ("keccak", keccakBench),
    ("abi", abiBench),
    ("signing", signingBench),
    ("catchup", catchupBench),
    ("rpc", rpcBench),
    ("submit", submitBench),
]

AllocationCounter.preloadIfPossible()
let wanted = Set(CommandLine.arguments.dropFirst())
for suite in suites where wanted.isEmpty || wanted.contains(suite.name) {
    print("== \(suite.name)")
    try suite.run()
}
