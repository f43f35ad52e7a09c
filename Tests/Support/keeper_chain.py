#!/usr/bin/env python3
"""Drives the local chain (Tests/LocalChain) for the keeper's tests and benchmark, and computes what the
keeper must conclude from the chain's logs independently of the Swift code.

    keeper_chain.py deploy  --url URL                       -> JSON: addresses, deploy block, accounts
    keeper_chain.py drive   --url URL --state FILE --seed N --steps N [--route-every N] [--mine-max N]
    keeper_chain.py expect  --url URL --state FILE [--to-block N] [--min-route-wei W]
                                                            -> JSON: registrations and intents from logs alone
    keeper_chain.py dishonest --url URL --state FILE        -> deploys a lax treasury (no checks) and routes
                                                               three planted lies; prints its address/block
    keeper_chain.py snapshot/revert/mine --url URL [...]    -> test controls

Accounts (private key = index + 1): 0 deployer/minter, 1 treasury owner, 2 keeper, 3.. stakers.
Everything random is seeded (the seed is printed in the JSON) so a failing run can be repeated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LocalChain"))

from eth_account import Account  # noqa: E402
from eth_utils import keccak  # noqa: E402

from ethtools import RPC, ContractABI, checksum, hexint, load_artifact, sign_tx  # noqa: E402

MAX_UINT = 2**256 - 1
REASONS = {1: "NOT_REGISTERED", 2: "BEFORE_OPT_IN", 3: "DUPLICATE", 4: "FUTURE", 5: "ORPHANED",
           6: "ZERO_CONTRIBUTION", 7: "NO_ALLOWANCE", 8: "NO_BALANCE", 9: "TRANSFER_FAILED", 10: "OVERFLOW"}


def key(i: int) -> bytes:
    return (i + 1).to_bytes(32, "big")


def addr(i: int) -> str:
    return Account.from_key(key(i)).address


class Driver:
    def __init__(self, url: str):
        self.rpc = RPC(url, timeout=120)
        self.chain_id = hexint(self.rpc.call("eth_chainId"))
        self.nonces: dict[int, int] = {}
        self.abis = {n: ContractABI(load_artifact(n)["abi"]) for n in ("MockVVV", "MockVeniceStaking", "ExpansionTreasury")}

    def nonce(self, i: int) -> int:
        if i not in self.nonces:
            self.nonces[i] = hexint(self.rpc.call("eth_getTransactionCount", addr(i), "pending"))
        n = self.nonces[i]
        self.nonces[i] = n + 1
        return n

    def send(self, i: int, to, data: bytes, gas: int = 3_000_000) -> str:
        tx = {"chainId": self.chain_id, "nonce": self.nonce(i), "to": to, "data": data, "gas": gas, "value": 0,
              "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9, "type": 2}
        if to is None:
            del tx["to"]
        return self.rpc.call("eth_sendRawTransaction", "0x" + sign_tx(key(i), tx).hex().removeprefix("0x"))

    def receipt(self, h: str) -> dict:
        r = self.rpc.call("eth_getTransactionReceipt", h)
        if r is None:
            self.rpc.call("evm_mine")
            r = self.rpc.call("eth_getTransactionReceipt", h)
        if r is None or hexint(r["status"]) != 1:
            raise SystemExit(f"transaction {h} failed: {r}")
        return r

    def deploy(self, name: str, *args, sender: int = 0) -> str:
        art = load_artifact(name)
        code = bytes.fromhex(art["bytecode"].removeprefix("0x")) + self.abis[name].encode_constructor(*args)
        return checksum(self.receipt(self.send(sender, None, code, gas=8_000_000))["contractAddress"])

    def tx(self, i: int, contract: str, abi: str, fn: str, *args, wait: bool = True) -> str:
        h = self.send(i, contract, self.abis[abi].encode_call(fn, *args))
        if wait:
            self.receipt(h)
        return h

    def head(self) -> int:
        return hexint(self.rpc.call("eth_blockNumber"))


def cmd_deploy(a) -> dict:
    d = Driver(a.url)
    vvv = d.deploy("MockVVV", sender=0)
    deploy_block = d.head()
    staking = d.deploy("MockVeniceStaking", vvv, 10**18, sender=0)
    d.tx(0, vvv, "MockVVV", "set_minter", staking, True)
    treasury = d.deploy("ExpansionTreasury", vvv, addr(1), sender=0)
    treasury_block = d.head()
    d.tx(1, treasury, "ExpansionTreasury", "set_keeper", addr(2), True)
    stakers = []
    for i in range(3, 3 + a.stakers):
        d.tx(0, vvv, "MockVVV", "mint", addr(i), 10**30)
        d.tx(i, vvv, "MockVVV", "approve", staking, MAX_UINT)
        d.tx(i, vvv, "MockVVV", "approve", treasury, MAX_UINT)
        d.tx(i, staking, "MockVeniceStaking", "stake", addr(i), 10**21 * (i - 2))
        stakers.append(i)
    state = {"chain_id": d.chain_id, "vvv": vvv, "staking": staking, "treasury": treasury,
             "deploy_block": deploy_block, "treasury_deploy_block": treasury_block, "stakers": stakers,
             "keeper": addr(2), "head": d.head()}
    if a.state:
        with open(a.state, "w") as fh:
            json.dump(state, fh)
    return state


def load_state(path: str) -> dict:
    with open(path) as fh:
        return json.load(fh)


def fetch_logs(rpc: RPC, address: str, from_block: int, to_block: int) -> list[dict]:
    out = []
    step = 2000
    b = from_block
    while b <= to_block:
        e = min(to_block, b + step - 1)
        out += rpc.call("eth_getLogs", {"address": address, "fromBlock": hex(b), "toBlock": hex(e)})
        b = e + 1
    return out


def cmd_drive(a) -> dict:
    st = load_state(a.state)
    d = Driver(a.url)
    rng = random.Random(a.seed)
    stakers = st["stakers"]
    registered: dict[int, bool] = {i: False for i in stakers}
    claims: list[tuple] = []  # (staker index, amount, block, log index, block hash)
    routed_upto = 0
    counts = {"claim": 0, "opt_in": 0, "opt_out": 0, "stake": 0, "route": 0, "mine": 0}
    staking_topic = d.abis["MockVeniceStaking"].topic0("Claimed")
    for step in range(a.steps):
        r = rng.random()
        i = rng.choice(stakers)
        if r < 0.50:
            rc = d.receipt(d.tx(i, st["staking"], "MockVeniceStaking", "claim", wait=False))
            for lg in rc["logs"]:
                if lg["topics"][0] == "0x" + staking_topic.hex() and checksum(lg["address"]) == st["staking"]:
                    amount = int(lg["data"], 16)
                    claims.append((i, amount, hexint(lg["blockNumber"]), hexint(lg["logIndex"]), lg["blockHash"]))
            counts["claim"] += 1
        elif r < 0.58:
            d.tx(i, st["treasury"], "ExpansionTreasury", "opt_in", rng.choice([1, 250, 2500, 5000, 10000, rng.randint(1, 10000)]))
            registered[i] = True
            counts["opt_in"] += 1
        elif r < 0.62:
            if registered[i]:
                d.tx(i, st["treasury"], "ExpansionTreasury", "opt_out")
                registered[i] = False
                counts["opt_out"] += 1
        elif r < 0.68:
            d.tx(i, st["staking"], "MockVeniceStaking", "stake", addr(i), 10**20)  # pays a reward too
            counts["stake"] += 1
        elif r < 0.85 and a.route_every > 0 and step % a.route_every == 0 and routed_upto < len(claims):
            # the keeper routes a prefix of the claims seen so far (eligible or not: the treasury decides)
            batch = claims[routed_upto: routed_upto + rng.randint(1, 8)]
            routed_upto += len(batch)
            arg = [(addr(c[0]), c[1], c[2], c[3], bytes.fromhex(c[4][2:])) for c in batch]
            d.tx(2, st["treasury"], "ExpansionTreasury", "route", arg)
            counts["route"] += 1
        else:
            n = rng.randint(1, a.mine_max)
            d.rpc.call("evm_mine", {"blocks": n})
            counts["mine"] += 1
    return {"seed": a.seed, "steps": a.steps, "counts": counts, "claims": len(claims), "head": d.head()}


def cmd_expect(a) -> dict:
    """Registrations and intents from the chain's logs alone, by the treasury's rules (deploy/contracts/README.md, "Rules")."""
    st = load_state(a.state)
    rpc = RPC(a.url, timeout=120)
    to_block = a.to_block if a.to_block is not None else hexint(rpc.call("eth_blockNumber"))
    tre = ContractABI(load_artifact("ExpansionTreasury")["abi"])
    stk = ContractABI(load_artifact("MockVeniceStaking")["abi"])
    claimed = stk.topic0("Claimed")
    events = []
    for lg in fetch_logs(rpc, st["staking"], st["deploy_block"], to_block):
        t = [bytes.fromhex(x[2:]) for x in lg["topics"]]
        if t[0] != claimed:
            continue
        _, v = stk.decode_log(t, bytes.fromhex(lg["data"][2:]))
        events.append(((hexint(lg["blockNumber"]), hexint(lg["logIndex"])), "reward", checksum(v["user"]), v))
    for lg in fetch_logs(rpc, st["treasury"], st["deploy_block"], to_block):
        t = [bytes.fromhex(x[2:]) for x in lg["topics"]]
        try:
            name, v = tre.decode_log(t, bytes.fromhex(lg["data"][2:]))
        except KeyError:
            continue
        if name in ("OptedIn", "OptedOut", "Routed", "RouteSkipped"):
            events.append(((hexint(lg["blockNumber"]), hexint(lg["logIndex"])), name, checksum(v["staker"]), v))
    events.sort(key=lambda e: e[0])

    history: dict[str, list] = {}
    for pos, kind, who, v in events:
        if kind == "OptedIn":
            history.setdefault(who, []).append((pos, True, v["share_bps"], v["since_block"]))
        elif kind == "OptedOut":
            history.setdefault(who, []).append((pos, False, 0, 0))
    outcome: dict[tuple, tuple] = {}
    for pos, kind, who, v in events:
        c = (v.get("claim_block"), v.get("claim_log_index"))
        if kind == "Routed":
            outcome[c] = ("routed", v["contributed"], v["share_bps"], None)
        elif kind == "RouteSkipped" and outcome.get(c, ("",))[0] != "routed":
            outcome[c] = ("skipped", None, None, REASONS.get(v["reason"], f"REASON_{v['reason']}"))

    def in_force(who, pos):
        last = None
        for h in history.get(who, []):
            if h[0] < pos:
                last = h
        return last

    intents = {}
    for pos, kind, who, v in events:
        if kind != "reward":
            continue
        b = pos[0]
        amount = v["amount"]
        if pos in outcome:
            o = outcome[pos]
            if o[0] == "routed":
                intents[pos] = {"staker": who, "state": "routed", "expected": str(o[1]), "share_bps": o[2]}
            else:
                intents[pos] = {"staker": who, "state": "skipped", "reason": o[3]}
            continue
        final = history.get(who, [None])[-1]
        if final and final[1] and final[3] <= b:
            share = final[2]
            exp = amount * share // 10000
            state = "pending" if exp > 0 and exp >= a.min_route_wei else "policy_skipped"
            intents[pos] = {"staker": who, "state": state, "expected": str(exp), "share_bps": share}
            continue
        # eligible once: under the registration in force when it was paid (since_block from the OptedIn event;
        # an opt_in's since_block is its block + 1, so a registration never covers rewards of its own block)
        f = in_force(who, pos)
        ever = f is not None and f[1] and f[3] <= b
        if ever:
            intents[pos] = {"staker": who, "state": "lapsed"}

    stakers = {}
    for who, hs in history.items():
        last_in = [h for h in hs if h[1]]
        final = hs[-1]
        share, since = (last_in[-1][2], last_in[-1][3]) if last_in else (0, 0)
        contributed = sum(v["contributed"] for pos, kind, w, v in events if kind == "Routed" and w == who)
        seen = sum(1 for pos, kind, w, v in events if kind == "reward" and w == who)
        routed = sum(1 for p, i in intents.items() if i["staker"] == who and i["state"] == "routed")
        stakers[who] = {"registered": final[1], "share_bps": share, "since_block": since,
                        "total_contributed": str(contributed), "rewards_seen": seen, "rewards_routed": routed}
    return {"to_block": to_block, "stakers": stakers,
            "intents": {f"{p[0]}:{p[1]}": i for p, i in sorted(intents.items())}}


LAX_TREASURY = '''
# pragma version 0.4.3
# A dishonest treasury for audit tests: emits the real treasury's events with no checks at all.
event OptedIn:
    staker: indexed(address)
    share_bps: uint16
    since_block: uint64
event Routed:
    staker: indexed(address)
    claim_block: uint64
    claim_log_index: uint32
    reward: uint256
    contributed: uint256
    share_bps: uint16

event RouteSkipped:
    staker: indexed(address)
    claim_block: uint64
    claim_log_index: uint32
    reason: uint8

@external
def opt_in(share_bps: uint16):
    log OptedIn(staker=msg.sender, share_bps=share_bps, since_block=convert(block.number + 1, uint64))

@external
def routed(staker: address, claim_block: uint64, claim_log_index: uint32, reward: uint256, contributed: uint256, share_bps: uint16):
    log Routed(staker=staker, claim_block=claim_block, claim_log_index=claim_log_index, reward=reward,
               contributed=contributed, share_bps=share_bps)

@external
def skipped(staker: address, claim_block: uint64, claim_log_index: uint32, reason: uint8):
    log RouteSkipped(staker=staker, claim_block=claim_block, claim_log_index=claim_log_index, reason=reason)
'''


def cmd_dishonest(a) -> dict:
    """Deploys the lax treasury; a staker opts in, claims twice; the 'keeper' routes one honest claim and three lies."""
    import vyper
    st = load_state(a.state)
    d = Driver(a.url)
    out = vyper.compile_code(LAX_TREASURY, output_formats=["bytecode", "abi"])
    lax_abi = ContractABI(out["abi"])
    d.abis["Lax"] = lax_abi
    lax = checksum(d.receipt(d.send(0, None, bytes.fromhex(out["bytecode"][2:]), gas=3_000_000))["contractAddress"])
    lax_block = d.head()
    s, other = st["stakers"][0], st["stakers"][1]
    topic = d.abis["MockVeniceStaking"].topic0("Claimed")

    def claim(i):
        rc = d.receipt(d.tx(i, st["staking"], "MockVeniceStaking", "claim", wait=False))
        lg = next(lg for lg in rc["logs"] if lg["topics"][0] == "0x" + topic.hex())
        return hexint(lg["blockNumber"]), hexint(lg["logIndex"]), int(lg["data"], 16)

    early = claim(s)                 # paid before the opt-in
    d.tx(s, lax, "Lax", "opt_in", 5000)
    since = d.head() + 1  # as the real treasury: consent from the block after the opt_in
    good = claim(s)
    wrong = claim(s)
    lies = {}
    d.tx(2, lax, "Lax", "routed", addr(s), good[0], good[1], good[2], good[2] * 5000 // 10000, 5000)  # honest
    d.tx(2, lax, "Lax", "routed", addr(s), wrong[0], wrong[1], wrong[2] * 3, wrong[2] * 3 * 5000 // 10000, 5000)
    lies["wrong_amount"] = f"{wrong[0]}:{wrong[1]}"
    d.tx(2, lax, "Lax", "routed", addr(s), good[0], 999, 10**18, 5 * 10**17, 5000)
    lies["nonexistent_claim"] = f"{good[0]}:999"
    d.tx(2, lax, "Lax", "routed", addr(s), early[0], early[1], early[2], early[2] * 5000 // 10000, 5000)
    lies["before_since_block"] = f"{early[0]}:{early[1]}"
    d.tx(2, lax, "Lax", "skipped", addr(s), good[0], 998, 1)          # NOT_REGISTERED for a reward that never existed
    lies["skip_of_nonexistent"] = f"{good[0]}:998"
    d.tx(2, lax, "Lax", "skipped", addr(s), good[0], 997, 5)          # ORPHANED: what a re-mined transaction emits
    justified = {"orphaned_skip": f"{good[0]}:997"}
    return {"lax_treasury": lax, "lax_deploy_block": lax_block, "since_block": since, "honest": f"{good[0]}:{good[1]}",
            "lies": lies, "justified": justified, "staker": addr(s), "other": addr(other)}


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("deploy"); x.add_argument("--url", required=True); x.add_argument("--state"); x.add_argument("--stakers", type=int, default=6)
    x = sub.add_parser("drive"); x.add_argument("--url", required=True); x.add_argument("--state", required=True)
    x.add_argument("--seed", type=int, default=1); x.add_argument("--steps", type=int, default=100)
    x.add_argument("--route-every", type=int, default=5); x.add_argument("--mine-max", type=int, default=20)
    x = sub.add_parser("expect"); x.add_argument("--url", required=True); x.add_argument("--state", required=True)
    x.add_argument("--to-block", type=int); x.add_argument("--min-route-wei", type=int, default=0)
    x = sub.add_parser("dishonest"); x.add_argument("--url", required=True); x.add_argument("--state", required=True)
    x = sub.add_parser("rpc"); x.add_argument("--url", required=True); x.add_argument("method"); x.add_argument("params", nargs="*")
    a = p.parse_args()
    if a.cmd == "rpc":
        r = RPC(a.url).call(a.method, *[json.loads(v) for v in a.params])
        print(json.dumps(r))
        return
    result = {"deploy": cmd_deploy, "drive": cmd_drive, "expect": cmd_expect, "dishonest": cmd_dishonest}[a.cmd](a)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
