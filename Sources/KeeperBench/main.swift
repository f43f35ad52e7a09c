// KeeperBench — benchmarks. Every figure is printed next to a reference measured in the same run.
// Build and run in release: `swift run -c release KeeperBench [--quick] [suite …]` (no suite = all).
// Suites live one per file (`KeccakBench.swift`, `ABIBench.swift`, …) and register in `suites` below.
//
// It fails like a tool: a suite that cannot run (no project Python, a local chain too slow to answer, …) prints
// one line on stderr, `KeeperBench <suite>: <what went wrong> — <what to do>`, and the next suite runs. The exit
// status is the sum of the failed suites' bits (keccak 1, abi 2, signing 4, catchup 8, rpc 16, submit 32, api, proofs and store
// 128 — 64 stays the usage error, EX_USAGE, and an exit status has 8 bits; 0 when every suite ran), 64 for a bad command line. stdout is line-buffered, so every figure printed is in the file or
// pipe it goes to at once, whatever happens later. `--quick` times one round per figure instead of the best of
// several (for smoke tests: the figures are noisy).
#if canImport(Glibc)
@preconcurrency import Glibc  // stdout and stderr are C globals
#endif

let suites: [(name: String, run: () throws -> Void)] = [
    ("keccak", keccakBench),
    ("abi", abiBench),
    ("signing", signingBench),
    ("catchup", catchupBench),
    ("rpc", rpcBench),
    ("submit", submitBench),
    ("api", apiBench),
    ("proofs", proofBench),
    ("store", storeBench),
]

setvbuf(stdout, nil, _IOLBF, 0)
AllocationCounter.preloadIfPossible()
let arguments = CommandLine.arguments.dropFirst().filter { $0 != "--quick" }
if let unknown = arguments.first(where: { name in !suites.contains { $0.name == name } }) {
    let names = suites.map(\.name).joined(separator: ", ")
    let usage = "usage: KeeperBench [--quick] [suite …] (suites: \(names); none = all)"
    if unknown == "--help" || unknown == "-h" { print(usage); exit(0) }
    fputs("KeeperBench: no suite \"\(unknown)\"; \(usage)\n", stderr)
    exit(64)
}
let wanted = Set(arguments)
var failed: Int32 = 0
for (index, suite) in suites.enumerated() where wanted.isEmpty || wanted.contains(suite.name) {
    print("== \(suite.name)")
    do {
        try suite.run()
    } catch {
        fputs("KeeperBench \(suite.name): \(BenchError.line(suite: suite.name, error))\n", stderr)
        failed |= ["api", "proofs", "store"].contains(suite.name) ? 128 : 1 << Int32(index)
    }
}
exit(failed)
