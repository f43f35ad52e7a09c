#!/usr/bin/env bash
# The one-command demo: installs what is needed (deploy/dev/setup.sh), builds expansion-keeper, starts the
# local chain (Tests/LocalChain), deploys mock VVV and mock Venice staking, creates a keeper key, deploys
# the ExpansionTreasury (or, with --treasury proven, the ProvenExpansionTreasury) with `expansion-keeper contracts deploy`, registers four stakers (full share,
# partial share, one who opts out later, one without allowance), runs the keeper daemon while the stakers
# claim rewards for a while, then prints what happened: each staker's rewards and contributions, the
# treasury balance, `audit`, the submission counters — and checks the routed amounts against an
# independent computation from the chain's logs (Tests/Support/submit_oracle.py).
# It stops everything it started (also on failure or Ctrl-C). Idempotent; a fresh temp dir each run.
# Options (env): DEMO_ROUNDS (claim rounds, default 8), DEMO_KEEP=1 keeps the temp dir, DEMO_BUILD_ARGS,
# DEMO_API_PORT (the stakers' app's port, default any free one), DEMO_SERVE=1 keeps the keeper, its app and the chain
# running after the demo until Ctrl-C (the default on a terminal).
# Arguments: --treasury keeper (default: ExpansionTreasury, the keeper role routes) or --treasury proven
# (ProvenExpansionTreasury: the keeper sends receipt proofs; anyone could route).
set -euo pipefail
kind=keeper
while [ $# -gt 0 ]; do
  case "$1" in
    --treasury) kind="${2:-}"; shift 2 || { echo "demo: --treasury needs keeper or proven" >&2; exit 64; } ;;
    --treasury=*) kind="${1#--treasury=}"; shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (expected --treasury keeper|proven)" >&2; exit 64 ;;
  esac
done
case "$kind" in keeper|proven) ;; *) echo "demo: --treasury $kind: expected keeper or proven" >&2; exit 64 ;; esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
deploy/dev/setup.sh
echo "== building expansion-keeper" >&2
# DEMO_BUILD_ARGS: extra `swift build` arguments (e.g. "--scratch-path .build-x"); empty by default.
read -r -a build_args <<<"${DEMO_BUILD_ARGS:-}"
swift build "${build_args[@]}" --product expansion-keeper >&2
bin="$(swift build "${build_args[@]}" --show-bin-path)/expansion-keeper"
py="$root/.venv/bin/python"
scenario=(env PYTHONUNBUFFERED=1 "$py" "$root/Tests/LocalChain/scenario.py")
oracle=("$py" "$root/Tests/Support/submit_oracle.py")
rounds="${DEMO_ROUNDS:-8}"

work="$(mktemp -d /tmp/expansion-keeper-demo.XXXXXX)"
chain_pid=""; keeper_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$keeper_pid" ] && kill -0 "$keeper_pid" 2>/dev/null; then kill -TERM "$keeper_pid" 2>/dev/null || true; wait "$keeper_pid" 2>/dev/null || true; fi
  if [ -n "$chain_pid" ] && kill -0 "$chain_pid" 2>/dev/null; then kill -TERM "$chain_pid" 2>/dev/null || true; wait "$chain_pid" 2>/dev/null || true; fi
  if [ "$status" -ne 0 ]; then
    echo "demo: FAILED (status $status); keeper log: $work/keeper.log" >&2
    [ -f "$work/keeper.log" ] && tail -n 20 "$work/keeper.log" >&2
  elif [ "${DEMO_KEEP:-0}" != 1 ]; then
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

jget() { "$py" -c 'import json,sys; v=json.load(open(sys.argv[1])); [v:=v[int(k)] if isinstance(v,list) else v[k] for k in sys.argv[2:]]; print(v)' "$@"; }
say() { printf '\n== %s\n' "$*"; }

say "starting the local chain (py-evm, chain id 1337)"
mkfifo "$work/chain.ready"
"$py" Tests/LocalChain/localchain.py serve --port 0 --chain-id 1337 >"$work/chain.ready" 2>"$work/chain.log" &
chain_pid=$!
read -r ready <"$work/chain.ready"
echo "$ready" >"$work/chain.json"
url="$(jget "$work/chain.json" url)"
echo "local chain at $url (pid $chain_pid)"

say "deploying mock VVV and mock Venice staking"
"${scenario[@]}" deploy --rpc "$url" --no-treasury >"$work/state.json" 2>>"$work/scenario.log"
echo "VVV $(jget "$work/state.json" vvv), staking $(jget "$work/state.json" staking)"

say "creating the keeper key (keys new --light) and funding it with 10 ETH"
umask 077
printf 'demo-password-%s\n' "$RANDOM$RANDOM" >"$work/password"
"$bin" keys new --keystore-dir "$work/keystore" --password-file "$work/password" --light >"$work/key.txt"
keeper="$(sed -n 1p "$work/key.txt")"; keystore="$(sed -n 2p "$work/key.txt")"
"${oracle[@]}" fund --url "$url" --to "$keeper" --eth 10 >/dev/null
echo "keeper $keeper"

write_config() {  # $1 treasury, $2 deploy block
  cat >"$work/keeper.toml" <<EOF
[chain]
rpc_urls = ["$url"]
chain_id = 1337
confirmations = 2
poll_interval_ms = 200
start_block = $(jget "$work/state.json" deploy_block)
reorg_window = 64

[contracts]
staking = "$(jget "$work/state.json" staking)"
staking_abi = "$root/ABI/MockVeniceStaking.json"
reward_event = "Claimed"
reward_staker_field = "user"
reward_amount_field = "amount"
treasury = "$1"
treasury_deploy_block = $2

[keeper]
data_dir = "$work/data"
keystore = "$keystore"
password_file = "$work/password"
max_batch = 100
max_fee_per_gas_gwei = 50.0

[treasury]
kind = "$kind"

[metrics]
listen = "127.0.0.1:0"

[api]
listen = "127.0.0.1:${DEMO_API_PORT:-0}"
rpc_url = "$url"
web_root = "$root/deploy/web"
EOF
}
write_config 0x0000000000000000000000000000000000000000 0

say "expansion-keeper contracts deploy --config keeper.toml --owner-is-keeper --kind $kind"
"$bin" contracts deploy --config "$work/keeper.toml" --owner-is-keeper --kind "$kind" | tee "$work/deploy.json"
treasury="$(jget "$work/deploy.json" address)"
write_config "$treasury" "$(jget "$work/deploy.json" deploy_block)"

say "registering stakers: full (10000 bps), partial (5000), leaves later (2500), no allowance (7500)"
"${scenario[@]}" stakers --rpc "$url" --state "$work/state.json" --treasury "$treasury" --shares 10000,5000,2500 >"$work/s1.json" 2>>"$work/scenario.log"
cp "$work/s1.json" "$work/state.json"
"${scenario[@]}" stakers --rpc "$url" --state "$work/state.json" --shares 7500 --allowance 0 >"$work/s2.json" 2>>"$work/scenario.log"
cp "$work/s2.json" "$work/state.json"
for i in 0 1 2 3; do echo "  staker $i: $(jget "$work/state.json" stakers $i address) share $(jget "$work/state.json" stakers $i wanted_share_bps) bps"; done

say "running the keeper daemon (expansion-keeper run --config keeper.toml; log in $work/keeper.log)"
"$bin" run --config "$work/keeper.toml" >"$work/keeper.log" 2>&1 &
keeper_pid=$!
sleep 1
kill -0 "$keeper_pid" || { echo "the keeper exited at start:" >&2; cat "$work/keeper.log" >&2; exit 1; }

leaver="$(jget "$work/state.json" stakers 2 address)"
for r in $(seq 1 "$rounds"); do
  "${scenario[@]}" claim --rpc "$url" --state "$work/state.json" --advance 60 >"$work/claim.json" 2>>"$work/scenario.log"
  n="$("$py" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["claims"]))' "$work/claim.json")"
  echo "round $r: $n rewards claimed"
  if [ "$r" -eq $((rounds / 2)) ]; then
    "${scenario[@]}" opt-out --rpc "$url" --state "$work/state.json" --staker "$leaver" >/dev/null 2>>"$work/scenario.log"
    echo "  $leaver opted out (its later rewards are not routed)"
  fi
  sleep 2
done

say "waiting for the keeper to route and settle everything"
deadline=$((SECONDS + 90))
while :; do
  PYTHONPATH="$root/Tests/LocalChain" "$py" -c 'import sys; from ethtools import RPC; RPC(sys.argv[1]).call("evm_mine", {"blocks": 1})' "$url"
  "$bin" status --config "$work/keeper.toml" --json >"$work/status.json" 2>/dev/null || true
  open="$("$py" -c 'import json,sys; s=json.load(open(sys.argv[1])); i=s["intents"]; print(i["pending"]+i["sent"]+s.get("in_flight_transactions",0))' "$work/status.json" 2>/dev/null || echo 1)"
  "${oracle[@]}" verify --url "$url" --state "$work/state.json" >"$work/verify.json"
  if [ "$open" = 0 ] && [ "$(jget "$work/verify.json" ok)" = True ]; then break; fi
  [ $SECONDS -lt $deadline ] || { echo "not settled after 90 s" >&2; cat "$work/verify.json" >&2; exit 1; }
  sleep 0.5
done

say "expansion-keeper registrations --config keeper.toml"
"$bin" registrations --config "$work/keeper.toml"
say "expansion-keeper status --config keeper.toml"
"$bin" status --config "$work/keeper.toml"
say "expansion-keeper audit --config keeper.toml   (exit 0 all justified, 1 findings, 2 could not audit)"
audit_status=0
"$bin" audit --config "$work/keeper.toml" || audit_status=$?
case "$audit_status" in
  0) echo "audit: exit 0 — every routed wei justified, no eligible reward missing" ;;
  1) echo "audit: exit 1 — FINDINGS above; the demo failed" >&2; exit 1 ;;
  *) echo "audit: exit $audit_status — could not audit; the demo failed" >&2; exit "$audit_status" ;;
esac

say "independent check (Tests/Support/submit_oracle.py: the treasury's rules applied to the chain's logs)"
"$py" - "$work/verify.json" "$work/state.json" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1])); st = json.load(open(sys.argv[2]))
roles = {s["address"]: r for s, r in zip(st["stakers"], ["full 10000 bps", "partial 5000 bps", "left later 2500 bps", "no allowance 7500 bps"])}
print(f"{'staker':44} {'role':22} {'rewards':>7} {'eligible':>8} {'routed':>6} {'reward VVV':>12} {'contributed VVV':>16}")
for who, p in v["per_staker"].items():
    print(f"{who:44} {roles.get(who, '?'):22} {p['rewards']:>7} {p['eligible']:>8} {p['routed']:>6} "
          f"{int(p['reward_wei'])/1e18:>12.6f} {int(p.get('contributed_wei', 0))/1e18:>16.6f}")
print(f"treasury VVV balance: {int(v['treasury_balance'])/1e18:.6f}   total_contributed(): {int(v['total_contributed'])/1e18:.6f}")
print(f"rewards {v['rewards']}, eligible {v['eligible']}, routed {v['routed']}; duplicates {len(v['duplicates'])}, "
      f"unexpected {len(v['unexpected'])}, missing {len(v['missing'])}, contribution mismatches {len(v['contributed_mismatch'])}")
assert v["ok"], v
assert int(v["treasury_balance"]) == int(v["total_contributed"])
EOF

say "metrics the keeper serves (/metrics on the port it logged: listen = 127.0.0.1:0) and the store's submission meta"
port="$(grep -m 1 -o 'metrics server listening.* port=[0-9]*' "$work/keeper.log" | grep -o '[0-9]*$' || true)"
[ -n "$port" ] || { echo "the keeper did not log its metrics port" >&2; exit 1; }
"$py" - "http://127.0.0.1:$port/metrics" <<'EOF'
import re, sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
wanted = re.compile(r"^expansion_keeper_(tx_sent_total|tx_replaced_total|tx_inflight|routed_claims_total|reward_events_total"
                    r"|registered_stakers|keeper_balance_eth|min_balance_eth|dry_run|ready|halted)\b")
for line in text.splitlines():
    if wanted.match(line):
        print(line)
EOF
"$py" - "$work/data/keeper.sqlite" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for k, v in db.execute("SELECT key, value FROM meta WHERE key LIKE 'submit_%' ORDER BY key"):
    print(f"store meta {k} = {v}")
for state, n in db.execute("SELECT state, COUNT(*) FROM transactions GROUP BY state ORDER BY state"):
    print(f"store journal: {n} transaction(s) {state}")
EOF
grep -m 6 -E 'routing batch sent|confirmed; claims settled|would be skipped' "$work/keeper.log" | cut -c1-220
say "the stakers' app and API (served by the keeper: [api] in keeper.toml)"
app="$(grep -m 1 -o 'api listening on http://[0-9.:]*' "$work/keeper.log" | grep -o 'http://.*' || true)"
[ -n "$app" ] || { echo "the keeper did not log its API address" >&2; exit 1; }
"$py" - "$app" "$work/state.json" <<'EOF'
import json, sys, urllib.request
app, state = sys.argv[1], json.load(open(sys.argv[2]))
get = lambda p: json.load(urllib.request.urlopen(app + p, timeout=5))
stats = get("/api/v1/stats")
print(f"stats: {stats['routes']} routes, {stats['skips']} skips, {stats['total_contributed_wei']} wei contributed, "
      f"{stats['stakers_registered']} stakers registered, block {stats['block']}")
total = 0
for s in state["stakers"]:
    me = get(f"/api/v1/stakers/{s['address']}")
    items = get(f"/api/v1/stakers/{s['address']}/contributions?limit=500")["items"]
    assert sum(int(i["contributed_wei"]) for i in items) == int(me["contributed_wei"]), (me, items)
    total += int(me["contributed_wei"])
    print(f"  {me['address']}: registered {me['registered']}, share {me['share_bps']} bps, contributed {me['contributed_wei']} wei, "
          f"{me['routes']} routed, {me['skips']} skipped, {me['pending']} pending")
assert total == int(stats["total_contributed_wei"]), (total, stats)
page = urllib.request.urlopen(app + "/", timeout=5).read().decode()
assert "<html" in page.lower(), page[:200]
print(f"stakers' app: {app}/   (read-only view of a staker: {app}/?address={state['stakers'][0]['address']})")
EOF
echo
echo "demo: ok"
if [ "${DEMO_SERVE:-0}" = 1 ] || { [ -t 0 ] && [ -t 1 ] && [ "${CI:-}" != true ]; }; then
  echo "the keeper and the local chain keep running: open $app/ in a browser (a wallet on chain 1337 at $url); Ctrl-C stops them"
  wait "$keeper_pid" || true
fi
