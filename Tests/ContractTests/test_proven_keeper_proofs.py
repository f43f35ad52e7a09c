"""The keeper's own proofs on the real ProvenExpansionTreasury: `expansion-keeper prove --route` (hand-written header
encoding, receipt encoding, Merkle-Patricia trie and calldata packing in Swift) builds route_proven calls from a
py-evm chain served over JSON-RPC, a stranger sends them, and the contract routes exactly the proven shares; the same
call with a wrong log position routes nothing. The calldata also equals the Python reference's, byte for byte."""

import json
import os
import subprocess

import pytest

from localchain import LocalChainServer
from proven_env import ProvenEnv, rp
from treasury_env import FIRST_STAKER

A, B, C = range(FIRST_STAKER, FIRST_STAKER + 3)
STRANGER = FIRST_STAKER + 4
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def keeper_bin() -> str:
    path = os.environ.get("EXPANSION_KEEPER_BIN") or os.path.join(ROOT, ".build", "debug", "expansion-keeper")
    if not os.path.exists(path):
        pytest.fail(f"{path} not built: run `swift build` first (deploy/dev/test.sh does) or set EXPANSION_KEEPER_BIN")
    return path


@pytest.fixture(scope="module")
def penv():
    return ProvenEnv()


def paid(env, i, amount=10**21, wait=50):
    env.stake(i, amount)
    env.chain.increase_time(wait)
    return env.proven_claim(i)


def swift_calldata(url, block, routes):
    r = subprocess.run([keeper_bin(), "prove", "--rpc", url, "--block", str(block)]
                       + [a for c in routes for a in ("--route", f"{c.tx_index}:{c.log_position}")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return bytes.fromhex(json.loads(r.stdout)["route_proven_calldata"][2:])


def test_the_keepers_proofs_route_on_the_proven_treasury(penv):
    env = penv
    for i, bps in ((A, 2500), (B, 10_000), (C, 4000)):
        env.register_proven(i, bps)
    # A and B paid in one block (two transactions: a trie with two leaves under a branch), C in another.
    env.chain.automine = False
    env.stake(A, 10**21)
    env.stake(B, 3 * 10**21)
    env.chain.automine = True
    env.chain.mine(1)
    env.chain.increase_time(50)
    env.chain.automine = False
    ha = env.send(A, env.staking.address, env.staking.abi.encode_call("claim"), gas=300_000)
    hb = env.send(B, env.staking.address, env.staking.abi.encode_call("claim"), gas=300_000)
    env.chain.mine(1)
    env.chain.automine = True
    ca = env.reward_claims(env.receipt(ha))[0]
    cb = env.reward_claims(env.receipt(hb))[0]
    assert ca.block == cb.block and ca.tx_index != cb.tx_index
    cc = paid(env, C)
    before = {i: env.contributed(i, treasury=env.proven) for i in (A, B, C)}

    with LocalChainServer(chain=env.chain) as server:
        # The Swift calldata equals the Python reference's for the same claims.
        one_block = swift_calldata(server.url, ca.block, [ca, cb])
        assert one_block == env.proven.abi.encode_call("route_proven", *env.route_args([ca, cb]))
        # A stranger sends the keeper's call: permissionless, and it routes exactly the proven shares.
        h = env.send(STRANGER, env.proven.address, one_block, gas=3_000_000)
        env.chain.mine(1) if not env.chain.automine else None
        rc = env.receipt(h)
        assert rc is not None and rc.status == 1
        assert env.contributed(A, treasury=env.proven) - before[A] == ca.amount * 2500 // 10_000
        assert env.contributed(B, treasury=env.proven) - before[B] == cb.amount
        # A wrong log position in the keeper's call proves no reward: nothing moves.
        r = subprocess.run([keeper_bin(), "prove", "--rpc", server.url, "--block", str(cc.block), "--route",
                            f"{cc.tx_index}:{cc.log_position + 5}"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "has no log at position" in r.stderr, r.stderr
        other = swift_calldata(server.url, cc.block, [cc])
        h = env.send(STRANGER, env.proven.address, other, gas=3_000_000)
        assert env.receipt(h).status == 1
        assert env.contributed(C, treasury=env.proven) - before[C] == cc.amount * 4000 // 10_000
        # Sending the same call again routes nothing more (at-most-once on chain).
        h = env.send(STRANGER, env.proven.address, other, gas=3_000_000)
        assert env.receipt(h).status == 1
        assert env.contributed(C, treasury=env.proven) - before[C] == cc.amount * 4000 // 10_000
