#!/usr/bin/env bash
# Fuzzes the hostile-input decoders with libFuzzer + AddressSanitizer for a bounded time (opt-in, not CI):
# EthereumABI's decoder (with the signature parser) and EthereumCore's strict RLP decoder, each input that
# decodes also checked to round-trip exactly. Prints the executions run and any finding per decoder.
#
#   deploy/dev/fuzz.sh [SECONDS_PER_DECODER]      default 60; or FUZZ_SECONDS=…
#   FUZZ_TARGETS="abi rlp"                        which decoders (default both)
#   FUZZ_JOBS=N                                   parallel libFuzzer workers per decoder (default 1)
#
# Corpora live in .build-fuzz/corpus-<target> (seeded from eth-abi/rlp encodings when .venv exists) and
# grow across runs; crashes are written to .build-fuzz/findings-<target>/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seconds="${1:-${FUZZ_SECONDS:-60}}"
targets="${FUZZ_TARGETS:-abi rlp}"
jobs="${FUZZ_JOBS:-1}"
scratch="$root/.build-fuzz"

echo "== building KeeperFuzz (libFuzzer + ASan, release)" >&2
export EXPANSION_KEEPER_FUZZ=1
# --sanitize=fuzzer alone links libFuzzer but (Swift 6.3 on Linux) leaves the code without coverage
# feedback: the corpus never grows. Ask for libFuzzer's coverage kinds explicitly.
flags=(-c release --scratch-path "$scratch" --product KeeperFuzz --sanitize=fuzzer --sanitize=address
       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
swift build "${flags[@]}" --explicit-target-dependency-import-check error >&2
bin="$(swift build "${flags[@]}" --show-bin-path)/KeeperFuzz"

python="${EXPANSION_KEEPER_PYTHON:-$root/.venv/bin/python}"
seed_corpus() {  # $1 = target, $2 = corpus dir
    [ -x "$python" ] || return 0
    "$python" - "$1" "$2" <<'PY'
import os, sys
target, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
seeds = []
if target == "abi":
    from eth_abi import encode
    cases = [
        ("(uint256)", [2**256 - 1]), ("(int8,bool,address)", [-1, True, "0x" + "11" * 20]),
        ("(bytes,string)", [b"\x01\x02", "hi"]), ("(uint256[],bytes32[2])", [[1, 2, 3], [b"\xaa" * 32, b"\x00" * 32]]),
        ("((address,bytes)[],uint64)", [[("0x" + "22" * 20, b"x" * 40)], 7]),
        ("(string[][],int256)", [[["a", "b"], []], -5]), ("f(bytes3[2],(bool,uint8)[])", [[b"abc", b"def"], [(True, 9)]]),
        ("Transfer(address indexed from,address indexed to,uint256 value)", ["0x" + "33" * 20, "0x" + "44" * 20, 10]),
        ("((address,address,uint256)[3])", [[("0x" + "55" * 20, "0x" + "66" * 20, i) for i in range(3)]]),
    ]
    for sig, args in cases:
        body = sig[sig.index("("):]
        depth, cur, types = 0, "", []
        for ch in body[1:-1]:
            if ch == "," and depth == 0:
                types.append(cur.strip().split(" ")[0]); cur = ""; continue
            depth += ch == "("; depth -= ch == ")"; cur += ch
        if cur: types.append(cur.strip().split(" ")[0])
        seeds.append(sig.encode() + b"\x00" + encode(types, args))
else:
    import rlp
    for item in [b"", b"\x00", b"\x7f", b"\x80", b"dog", [b"cat", b"dog"], [], [[], [[]], [[], [[]]]], b"x" * 60,
                 [b"y" * 70, [b"z"] * 20], 2**64, [1024, b"\x01" * 55]]:
        seeds.append(rlp.encode(item))
for i, s in enumerate(seeds):
    open(os.path.join(out, "seed-%02d" % i), "wb").write(s)
PY
}

status=0
for target in $targets; do
    corpus="$scratch/corpus-$target"
    findings="$scratch/findings-$target"
    mkdir -p "$corpus" "$findings"
    seed_corpus "$target" "$corpus"
    log="$scratch/fuzz-$target.log"
    echo "== fuzzing $target for ${seconds}s (corpus $corpus)" >&2
    set +e
    parallel=()
    if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
    KEEPER_FUZZ_TARGET="$target" ASAN_OPTIONS="detect_leaks=0" "$bin" -max_total_time="$seconds" -print_final_stats=1 \
        -rss_limit_mb=2048 -timeout=10 "${parallel[@]}" -artifact_prefix="$findings/" "$corpus" >"$log" 2>&1
    rc=$?
    set -e
    execs="$( (grep -h 'stat::number_of_executed_units' "$log" "$root"/fuzz-*.log 2>/dev/null || true) | awk '{s += $2} END {print s + 0}')"
    found="$(find "$findings" -type f | wc -l)"
    cov="$( (grep -hoE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" || true) | tail -1)"
    echo "$target: $execs executions in ${seconds}s ($cov), exit $rc, $found finding(s) in $findings"
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        status=1
        grep -E 'ERROR|Fatal error|SUMMARY|Test unit written' "$log" | head -5 || true
    fi
    rm -f "$root"/fuzz-*.log
done
exit "$status"
