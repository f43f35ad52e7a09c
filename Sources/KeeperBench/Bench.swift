import Foundation
import JSONRPC
import KeeperTesting
import MallocInterposerSwift

#if canImport(Glibc)
import Glibc
#endif

/// One benchmark figure: time per operation and heap allocations per operation.
struct Measurement {
    let nsPerOp: Double
    /// Heap allocations per operation (malloc/calloc/realloc calls counted by malloc-interposer),
    /// or nil when the interposer is not preloaded.
    let allocsPerOp: Double?
}

/// Measures `body` (which performs `iterations` operations): one warm-up, then the best of `rounds`.
/// Allocations are counted over one separate round with the interposer hooked.
func measure(iterations: Int, rounds: Int = 7, _ body: () -> Void) -> Measurement {
    withoutActuallyEscaping(body) { compare(iterations: iterations, rounds: rounds, $0).first! }
}

/// `--quick`: one timed round per figure (smoke tests of the benchmark itself; the figures are noisy).
let quickRun = CommandLine.arguments.dropFirst().contains("--quick")

/// Measures several bodies (each performing `iterations` operations) with their rounds interleaved,
/// so load from other processes affects all of them alike; reports the best round of each.
func compare(iterations: Int, rounds: Int = 7, _ bodies: () -> Void...) -> [Measurement] {
    let rounds = quickRun ? 1 : rounds
    for body in bodies { body() }
    var best = [Double](repeating: .infinity, count: bodies.count)
    for _ in 0..<rounds {
        for (i, body) in bodies.enumerated() {
            let start = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - start
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            best[i] = min(best[i], ns)
        }
    }
    return bodies.enumerated().map { i, body in
        Measurement(nsPerOp: best[i] / Double(iterations), allocsPerOp: countAllocations(iterations: iterations, body))
    }
}

/// Heap allocations per operation over one run of `body`, or nil without the interposer.
func countAllocations(iterations: Int, _ body: () -> Void) -> Double? {
    guard AllocationCounter.isActive else { return nil }
    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    body()
    MallocInterposerSwift.unhook()
    return Double(MallocInterposerSwift.getStatistics().mallocCount) / Double(iterations)
}

/// Whether malloc-interposer is really counting in this process (it must be LD_PRELOADed on Linux).
enum AllocationCounter {
    static let isActive: Bool = {
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        let probe = [Int](repeating: 7, count: 1000)
        MallocInterposerSwift.unhook()
        let counted = MallocInterposerSwift.getStatistics().mallocCount
        return probe.count == 1000 && counted > 0
    }()

    /// Re-executes this benchmark with the interposer preloaded, when it sits next to the executable
    /// and is not loaded yet. Returns only when no re-exec happened.
    static func preloadIfPossible() {
        let env = "EXPANSION_KEEPER_BENCH_PRELOADED"
        guard getenv(env) == nil else { return }
        let exe = CommandLine.arguments[0]
        guard let slash = exe.lastIndex(of: "/") else { return }
        let lib = String(exe[..<slash]) + "/libMallocInterposerSwift.so"
        guard access(lib, R_OK) == 0 else { return }
        setenv(env, "1", 1)
        setenv("LD_PRELOAD", lib, 1)
        var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        argv.append(nil)
        execv(exe, argv)
        // execv only returns on failure: carry on without allocation counts.
    }
}

/// Formats a number with a fixed number of decimals.
func fmt(_ value: Double, _ decimals: Int = 1) -> String {
    var s = String(Int((value * pow(10, Double(decimals))).rounded()))
    if decimals > 0 {
        while s.count <= decimals { s = "0" + s }
        s.insert(".", at: s.index(s.endIndex, offsetBy: -decimals))
    }
    return s
}

/// Pads a column.
func col(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Keeps a value alive so the optimiser cannot drop the work that produced it.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

/// Runs the project's Python (see `TestEnvironment.python()`) for a same-run reference, without the
/// malloc interposer this benchmark preloads (it would slow the reference and flatter our ratios).
/// A failure names the reference and Python's last stderr line (a traceback's exception) and says how to get the
/// project's Python.
func benchPython(_ arguments: [String], input: Data? = nil) throws -> ProcessOutput {
    var environment = ProcessInfo.processInfo.environment
    environment["LD_PRELOAD"] = nil
    let python = try TestEnvironment.python()
    let output = try Subprocess.run(python, arguments, input: input, environment: environment)
    guard output.status == 0 else {
        let script = arguments.first.map { $0 == "-c" ? "an inline script" : ($0 as NSString).lastPathComponent } ?? "python"
        let last = output.stderrText.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        throw BenchError("the Python reference (\(script) under \(python)) exited \(output.status): \(last.map(String.init) ?? "no message")",
                         fix: BenchError.pythonFix)
    }
    return output
}

/// A benchmark that could not run: what went wrong and, when known, what to do about it.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    let fix: String?
    init(_ description: String, fix: String? = nil) { self.description = description; self.fix = fix }

    /// How to get a Python with the pinned reference packages.
    static let pythonFix = "run deploy/dev/setup.sh (it creates .venv with the pinned Python packages) "
        + "or set EXPANSION_KEEPER_PYTHON to a Python that has them"

    /// The one stderr line for `suite` failing with `error`: what went wrong, then what to do.
    static func line(suite: String, _ error: any Error) -> String {
        var what = String(describing: error), fix: String?
        switch error {
        case let e as BenchError:
            what = e.description; fix = e.fix
        case let e as TestSupportError:  // the project's Python is missing; its message may already say what to do
            fix = e.description.contains("setup.sh") ? nil : pythonFix
        case is RPCError:
            fix = "the local chain answered too slowly or not at all (a busy machine?): run `KeeperBench \(suite)` again when it "
                + "is quieter" + (suite == "rpc" ? ", or serve and mine a chain yourself and set RPC_BENCH_URL (see RPCBench.swift)" : "")
        default:
            break
        }
        let flat = what.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: " ")
        let text = flat.count > 400 ? flat.prefix(400) + "…" : flat
        return fix.map { "\(text) — \($0)" } ?? String(text)
    }
}
