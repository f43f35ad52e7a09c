#!/usr/bin/env python3
"""Gas and calldata per routed claim: ProvenExpansionTreasury.route_proven beside ExpansionTreasury.route, the
same rewards, the same run (py-evm, Prague rules).

    .venv/bin/python Tests/ContractTests/bench_proven_gas.py [--json] [--filler 150] [--cases 1x1,10x1,10x10,100x1,100x10]

A case NxB routes N claims paid in B blocks (N/B per block, distinct stakers). Real flow: the stakers fund,
approve both treasuries with a finite allowance, opt in to both at 50% and stake in MockVeniceStaking; time
passes; each claims (a real Claimed event, in its own transaction). `--filler K` adds K plain ETH transfers to
each reward block, so the receipts trie has the depth of a busy block (K = 150: a full 16-way root and a
second level, as on Base). Each treasury routes every claim once ("first-time": each staker's first route and a
fresh treasury) and, after the stakers claim again, once more ("returning"). Figures: receipt gasUsed / N,
calldata bytes / N and the calldata's share of the gas / N.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "LocalChain")]

from proven_env import ProvenEnv  # noqa: E402
from treasury_env import FIRST_STAKER, KEEPER  # noqa: E402

FILLER_SENDER = 1  # the treasury owner's account sends the filler transfers (it does nothing else here)
ROUTER = 3


def calldata_gas(data: bytes) -> int:
    return sum(4 if b == 0 else 16 for b in data)


def setup(n_max: int) -> tuple[ProvenEnv, list]:
    env = ProvenEnv(accounts=FIRST_STAKER + n_max)
    stakers = list(range(FIRST_STAKER, FIRST_STAKER + n_max))
    with env.one_block():
        for i in stakers:
            env.submit(env.vvv, "mint", env.addr(i), 10**24, sender=0)
    with env.one_block():
        for i in stakers:
            env.submit(env.vvv, "approve", env.treasury.address, 10**26, sender=i)
            env.submit(env.vvv, "approve", env.proven.address, 10**26, sender=i)
            env.submit(env.vvv, "approve", env.staking.address, 10**22, sender=i)
            env.submit(env.treasury, "opt_in", 5000, sender=i)
            env.submit(env.proven, "opt_in", 5000, sender=i)
    for start in range(0, n_max, 128):
        with env.one_block():
            for i in stakers[start:start + 128]:
                env.submit(env.staking, "stake", env.addr(i), 10**22, sender=i)
    return env, stakers


def claim(env: ProvenEnv, stakers: list, blocks: int, filler: int) -> list:
    """Each staker claims once; the claims are spread over `blocks` blocks, each padded with `filler` transfers."""
    env.chain.increase_time(3600)
    per = -(-len(stakers) // blocks)
    hashes = []
    for b in range(blocks):
        with env.one_block():
            for k in range(filler):
                env.send(FILLER_SENDER, env.addr(0), b"", gas=21_000, value=1)
            for i in stakers[b * per:(b + 1) * per]:
                hashes.append(env.submit(env.staking, "claim", sender=i, gas=200_000))
    out = []
    for h in hashes:
        rc = env.receipt(h)
        assert rc.status == 1
        out.extend(env.reward_claims(rc))
    assert len(out) == len(stakers)
    return out


def keeper_claims(env: ProvenEnv, claims: list) -> list:
    return [("0x" + c.staker.hex(), c.amount, c.block, c.log_index, env.chain.blocks[c.block].hash) for c in claims]


def measure(n: int, blocks: int, filler: int = 0) -> dict:
    env, stakers = setup(n)
    row = {"claims": n, "blocks": blocks, "filler_txs_per_block": filler}
    for label in ("first_time", "returning"):
        claims = claim(env, stakers, blocks, filler)
        # ExpansionTreasury: the keeper's word
        rc = env.route(keeper_claims(env, claims), sender=KEEPER)
        assert [o[0] for o in env.outcomes(rc)] == ["routed"] * n, env.outcomes(rc)[:3]
        data = env.treasury.abi.encode_call("route", keeper_claims(env, claims))
        row[f"keeper_{label}_gas_per_claim"] = round(rc.gas_used / n)
        row[f"keeper_{label}_calldata_bytes_per_claim"] = round(len(data) / n)
        # ProvenExpansionTreasury: proofs, sent by anyone
        args = env.route_args(claims)
        data = env.proven.abi.encode_call("route_proven", *args)
        rc = env.route_proven(claims, sender=ROUTER, args=args)
        assert env.results(rc) == [c.amount // 2 for c in claims], env.results(rc)[:3]
        row[f"proven_{label}_gas_per_claim"] = round(rc.gas_used / n)
        row[f"proven_{label}_calldata_bytes_per_claim"] = round(len(data) / n)
        row[f"proven_{label}_calldata_gas_per_claim"] = round(calldata_gas(data) / n)
        row[f"proven_{label}_pool_bytes"] = len(args[1])
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--filler", type=int, default=150)
    ap.add_argument("--cases", default="1x1,10x1,10x10,100x1,100x10")
    a = ap.parse_args(argv)
    rows = []
    for case in a.cases.split(","):
        n, b = (int(x) for x in case.split("x"))
        t = time.time()
        row = measure(n, b, a.filler)
        row["seconds"] = round(time.time() - t, 1)
        rows.append(row)
        if not a.json:
            print(row, flush=True)
    if a.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
