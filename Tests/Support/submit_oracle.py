#!/usr/bin/env python3
"""The submission tests' and the demo's independent view of the chain: what the keeper MUST have routed,
computed from the chain's logs and the treasury's state alone (never from the keeper's store).

    submit_oracle.py fund   --url URL --to ADDR [--eth 10]          -> {"tx": ...}   (dev key 1 pays)
    submit_oracle.py verify --url URL --state FILE [--json]         -> the verdict (see below)
    submit_oracle.py nonce  --url URL --address ADDR                -> {"latest": N, "pending": M}
    submit_oracle.py send   --url URL --to ADDR --data HEX [--key N] -> {"tx", "from", "status", "block"} (a stranger's call)

`verify` applies the treasury's rules (deploy/contracts/README.md, "Rules") to the logs: a reward log of staker S at block B is eligible
when S is registered at the end (last event OptedIn), its since_block <= B, floor(amount*share/10000) > 0 and
S's allowance to the treasury covers it. It reports claims routed more than once ("duplicates"), Routed
events that cite no real reward, the wrong amount or a staker not registered in force ("unexpected"),
eligible claims never routed ("missing"), and whether contributed(staker)/total_contributed() on chain equal
the sums of the Routed events. Exit status 0 either way; the JSON says "ok".
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LocalChain"))

from ethtools import RPC, ContractABI, checksum, hexint, load_artifact, sign_tx  # noqa: E402

MAX_UINT = 2**256 - 1


def logs(rpc: RPC, address: str, frm: int, to: int) -> list[dict]:
    out, b = [], frm
    while b <= to:
        e = min(to, b + 1999)
        out += rpc.call("eth_getLogs", {"address": address, "fromBlock": hex(b), "toBlock": hex(e)})
        b = e + 1
    return out


def call(rpc: RPC, abi: ContractABI, address: str, fn: str, *args):
    data = "0x" + abi.encode_call(fn, *args).hex()
    out = rpc.call("eth_call", {"to": address, "data": data}, "latest")
    return abi.decode_result(fn, bytes.fromhex(out[2:]))


def one(x):
    return x[0] if isinstance(x, (list, tuple)) else x


def cmd_fund(a) -> dict:
    rpc = RPC(a.url)
    key = (1).to_bytes(32, "big")
    from eth_account import Account
    sender = Account.from_key(key).address
    nonce = hexint(rpc.call("eth_getTransactionCount", sender, "pending"))
    tx = {"chainId": hexint(rpc.call("eth_chainId")), "nonce": nonce, "to": checksum(a.to), "value": int(a.eth * 10**18),
          "gas": 21000, "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9, "type": 2, "data": b""}
    h = rpc.call("eth_sendRawTransaction", "0x" + sign_tx(key, tx).hex().removeprefix("0x"))
    if rpc.call("eth_getTransactionReceipt", h) is None:
        rpc.call("evm_mine")
    return {"tx": h}


def cmd_send(a) -> dict:
    """A stranger's transaction (dev key --key, not the keeper's): e.g. a route_proven call anyone may send."""
    rpc = RPC(a.url)
    key = a.key.to_bytes(32, "big")
    from eth_account import Account
    sender = Account.from_key(key).address
    nonce = hexint(rpc.call("eth_getTransactionCount", sender, "pending"))
    tx = {"chainId": hexint(rpc.call("eth_chainId")), "nonce": nonce, "to": checksum(a.to), "value": 0,
          "gas": a.gas, "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9, "type": 2, "data": bytes.fromhex(a.data.removeprefix("0x"))}
    h = rpc.call("eth_sendRawTransaction", "0x" + sign_tx(key, tx).hex().removeprefix("0x"))
    if rpc.call("eth_getTransactionReceipt", h) is None:
        rpc.call("evm_mine")
    r = rpc.call("eth_getTransactionReceipt", h)
    return {"tx": h, "from": sender, "status": hexint(r["status"]) if r else None, "block": hexint(r["blockNumber"]) if r else None}


def cmd_nonce(a) -> dict:
    rpc = RPC(a.url)
    return {"latest": hexint(rpc.call("eth_getTransactionCount", a.address, "latest")),
            "pending": hexint(rpc.call("eth_getTransactionCount", a.address, "pending"))}


def cmd_verify(a) -> dict:
    with open(a.state) as fh:
        st = json.load(fh)
    rpc = RPC(a.url, timeout=120)
    head = hexint(rpc.call("eth_blockNumber"))
    treasury = st["treasury"]
    # The ProvenExpansionTreasury answers reward_source(); its events name a claim by (block, tx index, log position),
    # mapped here to the block-wide log index from the block's receipts (independently of the keeper's Swift mapping).
    try:
        proven = len(rpc.call("eth_call", {"to": treasury, "data": "0x" + ContractABI(load_artifact("ProvenExpansionTreasury")["abi"])
                                            .encode_call("reward_source").hex()}, "latest")) == 66
    except Exception:
        proven = False
    tre = ContractABI(load_artifact("ProvenExpansionTreasury" if proven else "ExpansionTreasury")["abi"])
    receipts_cache: dict[int, list] = {}

    def log_index(block: int, tx_index: int, position: int):
        if block not in receipts_cache:
            receipts_cache[block] = rpc.call("eth_getBlockReceipts", hex(block)) or [] if block <= head else []
        for r in receipts_cache[block]:
            if hexint(r["transactionIndex"]) == tx_index:
                return hexint(r["logs"][position]["logIndex"]) if position < len(r["logs"]) else None
        return None

    stk = ContractABI(load_artifact("MockVeniceStaking")["abi"])
    vvv = ContractABI(load_artifact("MockVVV")["abi"])
    frm = int(st.get("deploy_block", 0))
    claimed = stk.topic0("Claimed")
    rewards = {}
    for lg in logs(rpc, st["staking"], frm, head):
        t = [bytes.fromhex(x[2:]) for x in lg["topics"]]
        if t[0] != claimed:
            continue
        _, v = stk.decode_log(t, bytes.fromhex(lg["data"][2:]))
        rewards[(hexint(lg["blockNumber"]), hexint(lg["logIndex"]))] = (checksum(v["user"]), v["amount"])
    events = []
    for lg in logs(rpc, treasury, frm, head):
        t = [bytes.fromhex(x[2:]) for x in lg["topics"]]
        try:
            name, v = tre.decode_log(t, bytes.fromhex(lg["data"][2:]))
        except KeyError:
            continue
        if "claim_tx_index" in v:
            if name == "RouteSkipped" and v["reason"] in (4, 5, 11, 12):
                v["claim_log_index"] = None  # the header was not verified: the claim names no canonical block
            else:
                v["claim_log_index"] = log_index(v["claim_block"], v["claim_tx_index"], v["claim_log_position"])
        events.append(((hexint(lg["blockNumber"]), hexint(lg["logIndex"])), name, v))
    events.sort(key=lambda e: e[0])

    reg: dict[str, tuple] = {}  # staker -> (share, since) while registered
    routed_count: dict[tuple, int] = {}
    routed_sum: dict[str, int] = {}
    unexpected = []
    skipped = {}
    for pos, name, v in events:
        if name == "OptedIn":
            reg[checksum(v["staker"])] = (v["share_bps"], v["since_block"])
        elif name == "OptedOut":
            reg.pop(checksum(v["staker"]), None)
        elif name == "Routed":
            who = checksum(v["staker"])
            claim = (v["claim_block"], v["claim_log_index"])
            routed_count[claim] = routed_count.get(claim, 0) + 1
            routed_sum[who] = routed_sum.get(who, 0) + v["contributed"]
            r = rewards.get(claim)
            share = reg.get(who)
            why = None
            if r is None:
                why = "cites no reward log"
            elif r[0] != who or r[1] != v["reward"]:
                why = "staker/amount differ from the reward log"
            elif share is None or share[1] > claim[0]:
                why = "staker not registered in force for this claim"
            elif v["contributed"] != r[1] * share[0] // 10000 or v["share_bps"] != share[0]:
                why = "contribution is not floor(amount*share/10000) at the current share"
            if why:
                unexpected.append({"claim": f"{claim[0]}:{claim[1]}", "why": why})
        elif name == "RouteSkipped":
            skipped[(v["claim_block"], v["claim_log_index"])] = v["reason"]
    duplicates = [f"{c[0]}:{c[1]}" for c, n in sorted(routed_count.items()) if n > 1]

    allowance = {}
    eligible, missing = [], []
    per = {}
    for claim, (who, amount) in sorted(rewards.items()):
        p = per.setdefault(who, {"rewards": 0, "reward_wei": 0, "eligible": 0, "routed": 0, "expected_wei": 0})
        p["rewards"] += 1
        p["reward_wei"] += amount
        if claim in routed_count:
            p["routed"] += 1
        share = reg.get(who)
        if share is None or share[1] > claim[0] or amount * share[0] // 10000 == 0:
            continue
        if who not in allowance:
            allowance[who] = one(call(rpc, vvv, st["vvv"], "allowance", who, treasury))
        if allowance[who] == 0:
            continue
        eligible.append(claim)
        p["eligible"] += 1
        p["expected_wei"] += amount * share[0] // 10000
        if claim not in routed_count:
            missing.append(f"{claim[0]}:{claim[1]}")
    mismatch = []
    for who in set(routed_sum) | set(per):
        onchain = one(call(rpc, tre, treasury, "contributed", who))
        if onchain != routed_sum.get(who, 0):
            mismatch.append({"staker": who, "onchain": str(onchain), "events": str(routed_sum.get(who, 0))})
        if who in per:
            per[who]["contributed_wei"] = onchain
    total = one(call(rpc, tre, treasury, "total_contributed"))
    balance = one(call(rpc, vvv, st["vvv"], "balanceOf", treasury))
    if total != sum(routed_sum.values()):
        mismatch.append({"staker": "total_contributed", "onchain": str(total), "events": str(sum(routed_sum.values()))})
    ok = not duplicates and not unexpected and not missing and not mismatch
    return {"ok": ok, "treasury_kind": "proven" if proven else "keeper", "head": head, "rewards": len(rewards), "eligible": len(eligible), "routed": len(routed_count),
            "skipped_events": len(skipped), "duplicates": duplicates, "unexpected": unexpected, "missing": missing,
            "contributed_mismatch": mismatch, "total_contributed": str(total), "treasury_balance": str(balance),
            "routed_claims": sorted(f"{c[0]}:{c[1]}" for c in routed_count),
            "per_staker": {w: {k: (str(v) if isinstance(v, int) and v > 2**53 else v) for k, v in p.items()} for w, p in per.items()}}


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("fund"); x.add_argument("--url", required=True); x.add_argument("--to", required=True)
    x.add_argument("--eth", type=float, default=10)
    x = sub.add_parser("verify"); x.add_argument("--url", required=True); x.add_argument("--state", required=True)
    x = sub.add_parser("nonce"); x.add_argument("--url", required=True); x.add_argument("--address", required=True)
    x = sub.add_parser("send"); x.add_argument("--url", required=True); x.add_argument("--to", required=True)
    x.add_argument("--data", required=True); x.add_argument("--key", type=int, default=10); x.add_argument("--gas", type=int, default=3_000_000)
    a = p.parse_args()
    out = {"fund": cmd_fund, "verify": cmd_verify, "nonce": cmd_nonce, "send": cmd_send}[a.cmd](a)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
