import Foundation
import KeeperTesting

/// Suite "submit" (issue 7): the keeper's submission path end to end on the local py-evm chain
/// (Tests/LocalChain/localchain.py, interval mining every 0.5 s plus automine), driven like deploy/dev/demo.sh:
/// mocks from scenario.py, `keys new`, `contracts deploy`, stakers registered with a 100 % share, then the built
/// `expansion-keeper run` binary. A Python driver (embedded below) runs the chain side and records wall-clock
/// first sightings of new blocks (eth_blockNumber) and of intent state changes (the keeper's SQLite store, read
/// only, polled every 20 ms). An intent becomes `sent` in the same store transaction that journals the signed
/// transaction, just before the broadcast, so its first sighting is the broadcast time (±20 ms).
///  - Latency: from the claim's block + `confirmations` (2) being first seen to the route's broadcast (target
///    ≤ one poll interval + 1 s) and to its settlement (intent `routed`, from the receipt `confirmations` deep).
///  - Throughput: a backlog built while submissions are paused (the pause file), then released: claims routed
///    per minute, and where the time goes (pause → first send, send span, settlement tail, keeper vs chain CPU).
///  - Gas per routed claim from the receipts of the backlog's transactions (gasUsed / Routed logs), beside the
///    contracts benchmark (deploy/contracts/README.md: 24,055 gas/claim for 100 returning stakers).
/// Scaled down for py-evm: SUBMIT_STAKERS (100) × SUBMIT_LATENCY_ROUNDS (3) claims for latency and
/// × SUBMIT_BACKLOG_ROUNDS (10) for the backlog (the issue asks for 10,000). The daemon: EXPANSION_KEEPER_BIN, else
/// `expansion-keeper` beside this executable (built on the same scratch path and configuration if missing).
func submitBench() throws {
    let env = ProcessInfo.processInfo.environment
    let stakers = env["SUBMIT_STAKERS"].flatMap(Int.init) ?? 100
    let latencyRounds = env["SUBMIT_LATENCY_ROUNDS"].flatMap(Int.init) ?? 3
    let backlogRounds = env["SUBMIT_BACKLOG_ROUNDS"].flatMap(Int.init) ?? 10
    let pollMs = 500
    let repo = TestEnvironment.repoRoot
    let binary = try keeperBinary()
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-submit-bench-\(getpid()).py")
    try submitDriver.write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }
    print("  chain: py-evm local chain (0.5 s interval mining + automine), confirmations 2, poll_interval_ms \(pollMs), max_batch 100")
    print("  scaled down for py-evm: \(stakers) stakers; latency over \(stakers * latencyRounds) claims; "
          + "backlog of \(stakers * backlogRounds) claims (issue: 10,000)")
    // Issue 20: the same run on each store backend (SUBMIT_BACKENDS, default both); SQLite is the reference.
    let backends = (env["SUBMIT_BACKENDS"] ?? "sqlite,postgres").split(separator: ",").map(String.init)
    var perMinute: [(String, Double)] = []
    for backend in backends {
        print("  store backend: \(backend)\(backend == "postgres" ? " (a throwaway PostgreSQL 15 on loopback, pgserver.py)" : "")")
        let output = try benchPython([script.path, repo.path, binary, "\(stakers)", "\(latencyRounds)", "\(backlogRounds)", "\(pollMs)", backend])
        guard let r = try JSONSerialization.jsonObject(with: Data(output.stdoutText.utf8)) as? [String: Any] else {
            throw BenchError("submit driver: bad output \(output.stdoutText.prefix(300))")
        }
        perMinute.append((backend, try submitReport(r, stakers: stakers, pollMs: pollMs)))
    }
    if perMinute.count == 2 {
        print("  claims/min with a backlog: \(perMinute[1].0) \(fmt(perMinute[1].1, 0)) vs \(perMinute[0].0) \(fmt(perMinute[0].1, 0)) "
              + "(\(fmt(perMinute[1].1 / perMinute[0].1, 2)) x; the chain, py-evm, bounds both)")
    }
}

/// Prints one backend's figures; returns its claims per minute with a backlog.
private func submitReport(_ r: [String: Any], stakers: Int, pollMs: Int) throws -> Double {
    guard let latency = r["latency"] as? [[Any]], let txs = r["txs"] as? [[String: Any]] else {
        throw BenchError("submit driver: bad output \(r.keys.sorted())")
    }
    func num(_ key: String) -> Double { (r[key] as? NSNumber)?.doubleValue ?? .nan }
    func sum(_ key: String) -> Int { txs.reduce(0) { $0 + (($1[key] as? NSNumber)?.intValue ?? 0) } }

    let broadcast = latency.compactMap { ($0.first as? NSNumber)?.doubleValue }
    let settled = latency.compactMap { $0.count > 1 ? ($0[1] as? NSNumber)?.doubleValue : nil }
    let target = Double(pollMs) / 1000 + 1
    print("  latency (s, from the claim's block + 2 first seen; \(broadcast.count) of \(Int(num("latency_claims"))) claims)")
    print("    " + col("", 16) + col("p50", 8) + col("p90", 8) + col("max", 8) + "target")
    print("    " + col("to broadcast", 16) + percentiles(broadcast)
          + "<= \(fmt(target, 1)) (poll + 1 s); within: \(broadcast.filter { $0 <= target }.count)/\(broadcast.count)")
    print("    " + col("to settlement", 16) + percentiles(settled) + "(no target; receipt + 2 blocks at 0.5 s)")

    let backlog = num("backlog"), wall = num("t_last_routed")
    let routed = sum("routed"), skipped = sum("skipped"), gasUsed = sum("gas_used"), gasLimit = sum("gas_limit")
    let sizes = txs.compactMap { ($0["routed"] as? NSNumber)?.intValue }
    print("  throughput: backlog of \(Int(backlog)) claims (built in \(fmt(num("backlog_build_s"), 1)) s while paused); pause file removed at t=0")
    print("    routed \(routed) claims in \(txs.count) transactions (\(skipped) skipped), all settled at t=\(fmt(wall, 2)) s: "
          + "\(fmt(backlog / wall * 60, 0)) claims/min")
    print("    where the time goes: pause lifted -> first broadcast \(fmt(num("t_first_sent"), 2)) s; broadcasts span "
          + "\(fmt(num("t_last_sent") - num("t_first_sent"), 2)) s; last broadcast -> last settled \(fmt(wall - num("t_last_sent"), 2)) s")
    print("    cpu in that window: keeper \(fmt(num("keeper_cpu"), 2)) s, py-evm chain \(fmt(num("chain_cpu"), 2)) s (of \(fmt(wall, 2)) s wall)")
    let perClaim = routed > 0 ? Double(gasUsed) / Double(routed) : .nan
    print("  gas per routed claim (receipts): \(fmt(perClaim, 0))   (contracts benchmark: 24,055 at batch 100, 100 returning stakers, one claim each)")
    print("    batch sizes (Routed logs per tx): \(sizes.map(String.init).joined(separator: ", ")) (max_batch 100); "
          + "gas limit sent \(fmt(routed > 0 ? Double(gasLimit) / Double(routed) : .nan, 0))/claim (\(fmt(Double(gasLimit) / Double(max(1, gasUsed)), 2)) x used)")
    let stakersPerTx = txs.compactMap { ($0["stakers"] as? NSNumber)?.intValue }
    let repeats = zip(stakersPerTx, sizes).contains { $0 < $1 }
    print("    distinct stakers per tx: \(stakersPerTx.map(String.init).joined(separator: ", ")) of \(stakers)"
          + (repeats ? " (some stakers have several claims in one batch, unlike the contracts benchmark)" : " (one claim per staker per batch, as in the contracts benchmark)"))
    if let lt = r["latency_txs"] as? [[String: Any]] {
        func lsum(_ key: String) -> Int { lt.reduce(0) { $0 + (($1[key] as? NSNumber)?.intValue ?? 0) } }
        let n = lsum("routed"), sizes = lt.compactMap { ($0["routed"] as? NSNumber)?.intValue }.filter { $0 > 0 }.sorted()
        if n > 0, !sizes.isEmpty {
            print("  gas per routed claim, latency phase (claims trickling in): \(fmt(Double(lsum("gas_used")) / Double(n), 0)) over \(sizes.count) transactions, "
                  + "batch sizes median \(sizes[sizes.count / 2]), max \(sizes.last!)")
        }
    }
    if let other = (r["other"] as? NSNumber)?.intValue, other > 0 { print("    note: \(other) intents ended neither sent nor routed") }
    return backlog / wall * 60
}

private func percentiles(_ xs: [Double]) -> String {
    guard let last = xs.max() else { return col("-", 24) }
    let s = xs.sorted()
    func p(_ q: Double) -> Double { s[min(s.count - 1, Int((Double(s.count - 1) * q).rounded()))] }
    return col(fmt(p(0.5), 2), 8) + col(fmt(p(0.9), 2), 8) + col(fmt(last, 2), 8)
}

private func keeperBinary() throws -> String {
    if let b = ProcessInfo.processInfo.environment["EXPANSION_KEEPER_BIN"] { return b }
    let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let candidate = binDir.appendingPathComponent("expansion-keeper").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    // <scratch>/<triple>/<configuration>/KeeperBench: build the daemon on the same scratch path and configuration.
    let scratch = binDir.deletingLastPathComponent().deletingLastPathComponent().path
    let configuration = binDir.lastPathComponent == "debug" ? "debug" : "release"
    print("  building expansion-keeper (\(configuration), scratch path \(scratch))")
    let swift = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        .map { "\($0)/swift" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/swift"
    let out = try Subprocess.run(swift, ["build", "-c", configuration, "--scratch-path", scratch, "--product", "expansion-keeper"])
    guard out.status == 0, FileManager.default.isExecutableFile(atPath: candidate) else {
        throw BenchError("could not build expansion-keeper: \(out.stderrText.suffix(300))")
    }
    return candidate
}

/// The chain-side driver (argv: repo binary stakers latency_rounds backlog_rounds poll_ms); prints one JSON object.
private let submitDriver = #"""
import json, os, sqlite3, subprocess, sys, tempfile, threading, time
root, binpath = sys.argv[1], sys.argv[2]
n_stakers, lat_rounds, backlog_rounds, poll_ms = (int(x) for x in sys.argv[3:7])
backend = sys.argv[7] if len(sys.argv) > 7 else "sqlite"
sys.path.insert(0, os.path.join(root, "Tests", "LocalChain"))
from ethtools import RPC
from eth_utils import keccak
py = sys.executable
work = tempfile.mkdtemp(prefix="keeper-submit-bench-")
procs = []
def log(m): print(m, file=sys.stderr, flush=True)
def run(args, out=None):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0: raise SystemExit(f"{args[:3]} failed: {r.stderr[-800:]}")
    if out: open(os.path.join(work, out), "w").write(r.stdout)
    return r.stdout
def jload(name): return json.load(open(os.path.join(work, name)))
scen = [py, os.path.join(root, "Tests/LocalChain/scenario.py")]
oracle = [py, os.path.join(root, "Tests/Support/submit_oracle.py")]
try:
    chain = subprocess.Popen([py, os.path.join(root, "Tests/LocalChain/localchain.py"), "serve", "--port", "0", "--chain-id", "1337",
                              "--block-time", "0.5"], stdout=subprocess.PIPE, stderr=open(os.path.join(work, "chain.log"), "w"), text=True)
    procs.append(chain)
    url = json.loads(chain.stdout.readline())["url"]
    rpc = RPC(url)
    run(scen + ["deploy", "--rpc", url, "--no-treasury"], "state.json")
    pw = os.path.join(work, "password"); open(pw, "w").write("bench-password\n")
    keeper, keystore = run([binpath, "keys", "new", "--keystore-dir", os.path.join(work, "ks"), "--password-file", pw, "--light"]).split("\n")[:2]
    run(oracle + ["fund", "--url", url, "--to", keeper, "--eth", "1000"])
    st = jload("state.json"); data = os.path.join(work, "data"); cfg = os.path.join(work, "keeper.toml")
    keeper_env = dict(os.environ); store_cfg = ""
    if backend == "postgres":
        pgp = subprocess.Popen([py, os.path.join(root, "Tests/Support/pgserver.py"), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=open(os.path.join(work, "pg.log"), "w"), text=True)
        procs.append(pgp)
        pg = json.loads(pgp.stdout.readline())
        keeper_env["EXPANSION_KEEPER_PG_PASSWORD"] = pg["password"]
        store_cfg = f'\n[store]\nbackend = "postgres"\npostgres_url = "postgresql://keeper@127.0.0.1:{pg["port"]}/keeper?sslmode=disable"\n'
    class Store:
        """The keeper's store, read only: its SQLite file, or its PostgreSQL database (pg8000)."""
        def __init__(self, timeout=1):
            if backend == "postgres":
                import pg8000.dbapi
                self.c = pg8000.dbapi.connect(user="keeper", password=pg["password"], host="127.0.0.1", port=pg["port"], database="keeper",
                                              timeout=timeout)
                self.c.autocommit = True
            else:
                self.c = sqlite3.connect(f"file:{os.path.join(data, 'keeper.sqlite')}?mode=ro", uri=True, timeout=timeout)
        def execute(self, sql):
            cur = self.c.cursor(); cur.execute(sql); return cur.fetchall()
        def close(self): self.c.close()
    def write_config(treasury, block):
        open(cfg, "w").write(f'''[chain]
rpc_urls = ["{url}"]
chain_id = 1337
confirmations = 2
poll_interval_ms = {poll_ms}
start_block = {st["deploy_block"]}
reorg_window = 64

[contracts]
staking = "{st["staking"]}"
staking_abi = "{root}/ABI/MockVeniceStaking.json"
reward_event = "Claimed"
reward_staker_field = "user"
reward_amount_field = "amount"
treasury = "{treasury}"
treasury_deploy_block = {block}

[keeper]
data_dir = "{data}"
keystore = "{keystore}"
password_file = "{pw}"
max_batch = 100
max_fee_per_gas_gwei = 50.0

[metrics]
listen = "127.0.0.1:0"
''' + store_cfg)
    write_config("0x" + "0" * 40, 0)
    dep = json.loads(run([binpath, "contracts", "deploy", "--config", cfg, "--owner-is-keeper"]))
    treasury = dep["address"]; write_config(treasury, dep["deploy_block"])
    log(f"registering {n_stakers} stakers")
    t = time.time()
    run(scen + ["stakers", "--rpc", url, "--state", os.path.join(work, "state.json"), "--treasury", treasury,
                "--shares", ",".join(["10000"] * n_stakers)], "s1.json")
    os.replace(os.path.join(work, "s1.json"), os.path.join(work, "state.json"))
    log(f"  {time.time() - t:.1f} s")
    keeper_p = subprocess.Popen([binpath, "run", "--config", cfg], stdout=open(os.path.join(work, "keeper.log"), "w"), stderr=subprocess.STDOUT,
                                env=keeper_env)
    procs.append(keeper_p)
    time.sleep(1.0)
    if keeper_p.poll() is not None: raise SystemExit("keeper exited: " + open(os.path.join(work, "keeper.log")).read()[-800:])

    # Watcher: wall-clock first sightings of blocks (chain) and of intent states (the keeper's store).
    seen_block, sent_at, routed_at, other = {}, {}, {}, {}
    stop = threading.Event()
    def watch():
        w = RPC(url); db = None; last = -1
        while not stop.is_set():
            now = time.time()
            try:
                tip = int(w.call("eth_blockNumber"), 16)
                for b in range(last + 1, tip + 1): seen_block.setdefault(b, now)
                last = max(last, tip)
            except Exception: pass
            try:
                if db is None: db = Store()
                for cb, li, state in db.execute("SELECT claim_block, claim_log_index, state FROM intents WHERE state != 'pending'"):
                    k = (cb, li)
                    if state in ("sent", "routed"): sent_at.setdefault(k, now)
                    if state == "routed": routed_at.setdefault(k, now)
                    elif state != "sent": other.setdefault(k, state)
            except Exception: db = None
            time.sleep(0.02)
    th = threading.Thread(target=watch, daemon=True); th.start()
    def counts():
        db = Store(5)
        c = dict(db.execute("SELECT state, COUNT(*) FROM intents GROUP BY state")); db.close(); return c
    def wait_all_routed(total, limit):
        end = time.time() + limit
        while time.time() < end:
            c = counts()
            if c.get("routed", 0) + sum(v for k, v in c.items() if k not in ("pending", "sent", "routed")) >= total and not c.get("pending") and not c.get("sent"):
                return c
            time.sleep(0.1)
        raise SystemExit(f"not all routed after {limit} s: {counts()}")
    def claim(rounds):
        out = run(scen + ["claim", "--rpc", url, "--state", os.path.join(work, "state.json"), "--advance", "60", "--rounds", str(rounds)])
        return json.loads(out)["claims"]

    # Phase 1: latency, claims arriving while the keeper runs.
    log(f"latency phase: {lat_rounds} rounds x {n_stakers} claims")
    lat_claims = claim(lat_rounds)
    wait_all_routed(len(lat_claims), 300)
    time.sleep(0.3)
    lat = []
    for c in lat_claims:
        k = (c["block_number"], c["log_index"])
        d = seen_block.get(c["block_number"] + 2)
        if d is None or k not in sent_at: continue
        lat.append([sent_at[k] - d, routed_at[k] - d if k in routed_at else None])

    # Phase 2: throughput over a backlog built while submissions are paused (pause file).
    os.makedirs(data, exist_ok=True)
    pause = os.path.join(data, "PAUSE"); open(pause, "w").close()
    time.sleep(1.0)
    log(f"backlog phase: {backlog_rounds} rounds x {n_stakers} claims while paused")
    t = time.time(); back = claim(backlog_rounds); build_s = time.time() - t
    before = counts()
    total_routed_before = before.get("routed", 0)
    end = time.time() + 120
    while counts().get("pending", 0) < len(back) and time.time() < end: time.sleep(0.2)
    def cpu(pid):
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    db0 = Store(5); max_tx0 = db0.execute("SELECT COALESCE(MAX(id),0) FROM transactions")[0][0]; db0.close()
    k0, c0 = cpu(keeper_p.pid), cpu(chain.pid)
    t0 = time.time(); os.remove(pause)
    wait_all_routed(total_routed_before + len(back), 900)
    k1, c1 = cpu(keeper_p.pid), cpu(chain.pid)
    time.sleep(0.3)
    keys = [(c["block_number"], c["log_index"]) for c in back]
    first_sent = min(sent_at[k] for k in keys); last_sent = max(sent_at[k] for k in keys); last_routed = max(routed_at[k] for k in keys)
    stop.set()
    # Gas: receipts of the keeper's backlog transactions.
    routed_t = "0x" + keccak(text="Routed(address,uint64,uint32,uint256,uint256,uint16)").hex()
    skipped_t = "0x" + keccak(text="RouteSkipped(address,uint64,uint32,uint8)").hex()
    db = Store(5)
    txs = []
    lat_txs = []
    for tid, h, gl, state in db.execute("SELECT id, hash, gas_limit, state FROM transactions ORDER BY id"):
        rc = rpc.call("eth_getTransactionReceipt", "0x" + h.hex())
        if rc is None: continue
        mine = [lg for lg in rc["logs"] if lg["address"].lower() == treasury.lower()]
        r = [lg for lg in mine if lg["topics"][0] == routed_t]
        s = sum(1 for lg in mine if lg["topics"][0] == skipped_t)
        (txs if tid > max_tx0 else lat_txs).append({"gas_used": int(rc["gasUsed"], 16), "gas_limit": gl, "routed": len(r), "skipped": s,
            "stakers": len({lg["topics"][1] for lg in r}), "status": int(rc["status"], 16), "state": state})
    blocks = int(rpc.call("eth_blockNumber"), 16)
    print(json.dumps({"latency": lat, "latency_claims": len(lat_claims), "backlog": len(back), "backlog_build_s": build_s,
                      "t_first_sent": first_sent - t0, "t_last_sent": last_sent - t0, "t_last_routed": last_routed - t0,
                      "keeper_cpu": k1 - k0, "chain_cpu": c1 - c0, "txs": txs, "latency_txs": lat_txs, "other": len(other), "poll_ms": poll_ms,
                      "stakers": n_stakers, "blocks": blocks}))
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try: p.wait(10)
            except Exception: p.kill()
    if os.environ.get("SUBMIT_BENCH_KEEP") != "1":
        import shutil; shutil.rmtree(work, ignore_errors=True)
    else: log(f"kept {work}")
"""#
