#!/usr/bin/env python3
"""Scenario tool: drives the mechanism on a running chain over JSON-RPC (the local chain, or any dev node),
for tests and the demo. Every subcommand prints one JSON object on stdout; progress goes to stderr.

    scenario.py deploy  --rpc URL [--keeper ADDR] [--no-treasury] [--emission WEI_PER_S] [--cooldown S]
    scenario.py stakers --rpc URL --state FILE --shares 10000,5000,0 [--allowance WEI|max] [--stake WEI]
                        [--treasury ADDR]
    scenario.py claim   --rpc URL --state FILE [--advance S] [--rounds N] [--only ADDR,...] [--compound]
    scenario.py stake   --rpc URL --state FILE --staker ADDR --amount WEI [--advance S]
    scenario.py unstake --rpc URL --state FILE --staker ADDR --amount WEI [--advance S]
    scenario.py opt-in  --rpc URL --state FILE --staker ADDR --share BPS
    scenario.py opt-out --rpc URL --state FILE --staker ADDR
    scenario.py approve --rpc URL --state FILE --staker ADDR --allowance WEI|max
    scenario.py demo    --rpc URL [--keeper ADDR] [--no-treasury] [--state FILE]

`deploy` and `demo` write the state (addresses, keys of the accounts they use) to --state when given; the
other subcommands read it and update it. Accounts: the local chain's dev keys — deployer key 1, treasury
owner key 2, keeper key 3 (unless --keeper), stakers keys 5, 6, … (beyond key 10 fresh keys 1001, 1002, …
are funded with ETH by the deployer).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from eth_account import Account  # noqa: E402

from ethtools import RPC, ContractABI, checksum, hexint, load_artifact, sign_tx  # noqa: E402

MAX_UINT = 2**256 - 1
DEPLOYER_KEY, OWNER_KEY, KEEPER_KEY = 1, 2, 3
FIRST_STAKER_KEY = 5


def key_bytes(k: int) -> bytes:
    return k.to_bytes(32, "big")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Driver:
    def __init__(self, url: str, mine: bool = False):
        self.rpc = RPC(url)
        self.url = url
        self.chain_id = hexint(self.rpc.call("eth_chainId"))
        self.mine = mine
        self.abis = {n: ContractABI(load_artifact(n)["abi"]) for n in ("MockVVV", "MockVeniceStaking",
                                                                        "ExpansionTreasury")}

    def send(self, key: int, to, data: bytes, gas: int = 2_000_000, value: int = 0) -> dict:
        sender = Account.from_key(key_bytes(key)).address
        nonce = hexint(self.rpc.call("eth_getTransactionCount", sender, "pending"))
        tip = hexint(self.rpc.call("eth_maxPriorityFeePerGas"))
        base = hexint(self.rpc.call("eth_getBlockByNumber", "pending", False)["baseFeePerGas"])
        tx = {"type": 2, "chainId": self.chain_id, "nonce": nonce, "gas": gas, "maxFeePerGas": 2 * base + tip,
              "maxPriorityFeePerGas": tip, "value": value, "data": data}
        if to is not None:
            tx["to"] = checksum(to)
        h = self.rpc.call("eth_sendRawTransaction", "0x" + sign_tx(key_bytes(key), tx).hex())
        deadline = time.time() + 60
        while True:
            rc = self.rpc.call("eth_getTransactionReceipt", h)
            if rc is not None:
                if rc["status"] != "0x1":
                    raise SystemExit(f"transaction {h} reverted")
                return rc
            if time.time() > deadline:
                raise SystemExit(f"transaction {h} not mined after 60 s (automine off? pass --mine)")
            if self.mine:
                self.rpc.call("evm_mine")
            else:
                time.sleep(0.05)

    def deploy(self, key: int, name: str, *args) -> str:
        art = load_artifact(name)
        code = bytes.fromhex(art["bytecode"][2:]) + self.abis[name].encode_constructor(*args)
        rc = self.send(key, None, code, gas=8_000_000)
        return checksum(rc["contractAddress"])

    def transact(self, key: int, name: str, address: str, fn: str, *args, gas: int = 1_000_000) -> dict:
        return self.send(key, address, self.abis[name].encode_call(fn, *args), gas=gas)

    def call(self, name: str, address: str, fn: str, *args):
        data = self.abis[name].encode_call(fn, *args)
        out = self.rpc.call("eth_call", {"to": address, "data": "0x" + data.hex()}, "latest")
        return self.abis[name].decode_result(fn, bytes.fromhex(out[2:]))


def account(k: int) -> dict:
    acct = Account.from_key(key_bytes(k))
    return {"address": acct.address, "private_key": "0x" + key_bytes(k).hex()}


def staker_key(index: int) -> int:
    k = FIRST_STAKER_KEY + index
    return k if k <= 10 else 1000 + index


def load_state(path: str) -> dict:
    with open(path) as fh:
        return json.load(fh)


def save_state(path, state: dict) -> None:
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(state, fh, indent=2)
        os.replace(tmp, path)


def cmd_deploy(d: Driver, args) -> dict:
    head = hexint(d.rpc.call("eth_blockNumber"))
    vvv = d.deploy(DEPLOYER_KEY, "MockVVV")
    staking = d.deploy(DEPLOYER_KEY, "MockVeniceStaking", vvv, args.emission)
    d.transact(DEPLOYER_KEY, "MockVVV", vvv, "set_minter", staking, True)
    if args.cooldown is not None:
        d.transact(DEPLOYER_KEY, "MockVeniceStaking", staking, "setCooldownDuration", args.cooldown)
    keeper = checksum(args.keeper) if args.keeper else account(KEEPER_KEY)["address"]
    treasury = None
    if not args.no_treasury:
        treasury = d.deploy(DEPLOYER_KEY, "ExpansionTreasury", vvv, account(OWNER_KEY)["address"])
        d.transact(OWNER_KEY, "ExpansionTreasury", treasury, "set_keeper", keeper, True)
    log(f"deployed VVV {vvv}, staking {staking}, treasury {treasury}")
    return {
        "rpc": d.url, "chain_id": d.chain_id, "deploy_block": head + 1,
        "vvv": vvv, "staking": staking, "treasury": treasury,
        "deployer": account(DEPLOYER_KEY), "owner": account(OWNER_KEY),
        "keeper": account(KEEPER_KEY) if not args.keeper else {"address": keeper},
        "stakers": [],
    }


def since_block_of(d: Driver, treasury: str, rc: dict):
    """since_block from the OptedIn log of an opt_in receipt (the opt-in block + 1: consent starts the next
    block); None when opt_in was a no-op (the share already registered: no event)."""
    topic = "0x" + d.abis["ExpansionTreasury"].topic0("OptedIn").hex()
    for lg in rc["logs"]:
        if lg["address"].lower() == treasury.lower() and lg["topics"][0] == topic:
            _, v = d.abis["ExpansionTreasury"].decode_log([bytes.fromhex(t[2:]) for t in lg["topics"]],
                                                          bytes.fromhex(lg["data"][2:]))
            return v["since_block"]
    return None


def cmd_stakers(d: Driver, state: dict, args) -> dict:
    if args.treasury:
        state["treasury"] = checksum(args.treasury)
    treasury = state["treasury"]
    shares = [int(s) for s in args.shares.split(",") if s != ""]
    allowance = MAX_UINT if args.allowance == "max" else int(args.allowance)
    for share in shares:
        idx = len(state["stakers"])
        k = staker_key(idx)
        acct = account(k)
        if k > 10:  # fund a fresh key with gas money
            d.send(DEPLOYER_KEY, acct["address"], b"", gas=21_000, value=10**20)
        d.transact(DEPLOYER_KEY, "MockVVV", state["vvv"], "mint", acct["address"], args.stake + args.wallet)
        d.transact(k, "MockVVV", state["vvv"], "approve", state["staking"], args.stake)
        d.transact(k, "MockVeniceStaking", state["staking"], "stake", acct["address"], args.stake)
        entry = dict(acct, share_bps=0, wanted_share_bps=share, since_block=None,
                     allowance=str(allowance) if treasury else "0")
        if treasury and allowance:
            d.transact(k, "MockVVV", state["vvv"], "approve", treasury, allowance)
        if treasury and share:
            rc = d.transact(k, "ExpansionTreasury", treasury, "opt_in", share)
            entry["share_bps"] = share
            entry["since_block"] = since_block_of(d, treasury, rc)
        state["stakers"].append(entry)
        log(f"staker {acct['address']} share {share} bps")
    return state


def _key_of(state: dict, address: str) -> int:
    for s in state["stakers"]:
        if s["address"].lower() == address.lower():
            return int(s["private_key"], 16)
    raise SystemExit(f"unknown staker {address}")


def claims_in(d: Driver, state: dict, rc: dict) -> list[dict]:
    """The Claim structs of every Claimed log of a receipt (claim, claimAndStake, stake, initiateUnstake)."""
    topic = "0x" + d.abis["MockVeniceStaking"].topic0("Claimed").hex()
    out = []
    for lg in rc["logs"]:
        if lg["address"].lower() == state["staking"].lower() and lg["topics"][0] == topic:
            out.append({"staker": checksum("0x" + lg["topics"][1][-40:]), "amount": str(int(lg["data"], 16)),
                        "block_number": hexint(lg["blockNumber"]), "log_index": hexint(lg["logIndex"]),
                        "block_hash": lg["blockHash"], "tx": lg["transactionHash"]})
    return out


def cmd_claim(d: Driver, state: dict, args) -> dict:
    only = {a.lower() for a in args.only.split(",")} if args.only else None
    claims = []
    for _ in range(args.rounds):
        if args.advance:
            d.rpc.call("evm_increaseTime", args.advance)
        for s in state["stakers"]:
            if only is not None and s["address"].lower() not in only:
                continue
            fn = "claimAndStake" if args.compound else "claim"
            rc = d.transact(int(s["private_key"], 16), "MockVeniceStaking", state["staking"], fn)
            claims.extend(claims_in(d, state, rc))
    state.setdefault("claims", []).extend(claims)
    return {"claims": claims}


def cmd_stake_change(d: Driver, state: dict, args, unstake: bool) -> dict:
    """More stake or initiateUnstake: both pay pending rewards (Claimed) as a side effect."""
    k = _key_of(state, args.staker)
    if args.advance:
        d.rpc.call("evm_increaseTime", args.advance)
    if unstake:
        rc = d.transact(k, "MockVeniceStaking", state["staking"], "initiateUnstake", args.amount)
    else:
        d.transact(DEPLOYER_KEY, "MockVVV", state["vvv"], "mint", checksum(args.staker), args.amount)
        d.transact(k, "MockVVV", state["vvv"], "approve", state["staking"], args.amount)
        rc = d.transact(k, "MockVeniceStaking", state["staking"], "stake", checksum(args.staker), args.amount)
    claims = claims_in(d, state, rc)
    state.setdefault("claims", []).extend(claims)
    return {"staker": checksum(args.staker), "block": hexint(rc["blockNumber"]), "tx": rc["transactionHash"],
            "claims": claims}


def cmd_opt(d: Driver, state: dict, args, opt_in: bool) -> dict:
    k = _key_of(state, args.staker)
    if opt_in:
        rc = d.transact(k, "ExpansionTreasury", state["treasury"], "opt_in", args.share)
    else:
        rc = d.transact(k, "ExpansionTreasury", state["treasury"], "opt_out")
    for s in state["stakers"]:
        if s["address"].lower() == args.staker.lower():
            if opt_in:
                since = since_block_of(d, state["treasury"], rc)
                if since is not None:  # None: the share was already registered, nothing changed
                    s["share_bps"], s["since_block"] = args.share, since
            else:
                s["share_bps"], s["since_block"] = 0, None
    return {"staker": checksum(args.staker), "block": hexint(rc["blockNumber"]), "tx": rc["transactionHash"]}


def cmd_approve(d: Driver, state: dict, args) -> dict:
    k = _key_of(state, args.staker)
    amount = MAX_UINT if args.allowance == "max" else int(args.allowance)
    rc = d.transact(k, "MockVVV", state["vvv"], "approve", state["treasury"], amount)
    for s in state["stakers"]:
        if s["address"].lower() == args.staker.lower():
            s["allowance"] = str(amount)
    return {"staker": checksum(args.staker), "block": hexint(rc["blockNumber"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="scenario.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p, state_required):
        p.add_argument("--rpc", required=True)
        p.add_argument("--state", required=state_required, help="state JSON file")
        p.add_argument("--mine", action="store_true", help="call evm_mine while waiting (automine off)")

    p = sub.add_parser("deploy")
    common(p, False)
    p.add_argument("--keeper", help="keeper address to enable (default: dev key 3)")
    p.add_argument("--no-treasury", action="store_true", help="only the mocks (deploy the treasury elsewhere)")
    p.add_argument("--emission", type=int, default=10**18, help="VVV wei per second for all stakers")
    p.add_argument("--cooldown", type=int, default=None, help="unstake cooldown seconds (default 7 days)")
    p = sub.add_parser("stakers")
    common(p, True)
    p.add_argument("--shares", required=True, help="comma list of share_bps, 0 = stake without opting in")
    p.add_argument("--allowance", default="max", help="treasury allowance in wei, or max (0 = none)")
    p.add_argument("--stake", type=int, default=10**21, help="VVV wei staked by each")
    p.add_argument("--wallet", type=int, default=0, help="extra VVV wei left in each wallet")
    p.add_argument("--treasury", help="treasury address (if deployed elsewhere)")
    p = sub.add_parser("claim")
    common(p, True)
    p.add_argument("--advance", type=int, default=60, help="seconds to advance before each round")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--only", help="comma list of staker addresses")
    p.add_argument("--compound", action="store_true", help="claimAndStake instead of claim")
    for name in ("stake", "unstake"):
        p = sub.add_parser(name, help="more stake / initiateUnstake (both pay pending rewards: Claimed)")
        common(p, True)
        p.add_argument("--staker", required=True)
        p.add_argument("--amount", type=int, required=True, help="VVV wei")
        p.add_argument("--advance", type=int, default=0, help="seconds to advance first")
    for name in ("opt-in", "opt-out", "approve"):
        p = sub.add_parser(name)
        common(p, True)
        p.add_argument("--staker", required=True)
        if name == "opt-in":
            p.add_argument("--share", type=int, required=True)
        if name == "approve":
            p.add_argument("--allowance", required=True)
    p = sub.add_parser("demo", help="deploy + the demo roster (full, partial, leaves later, no allowance)")
    common(p, False)
    p.add_argument("--keeper")
    p.add_argument("--no-treasury", action="store_true")
    p.add_argument("--treasury", help="treasury address (with --no-treasury)")
    p.add_argument("--emission", type=int, default=10**18)
    p.add_argument("--cooldown", type=int, default=None)
    args = ap.parse_args(argv)

    d = Driver(args.rpc, mine=args.mine)
    if args.cmd == "deploy":
        out = state = cmd_deploy(d, args)
    elif args.cmd == "demo":
        state = cmd_deploy(d, args)
        if args.treasury:
            state["treasury"] = checksum(args.treasury)
        for shares, allowance in (("10000,5000,2500", "max"), ("7500", "0")):
            ns = argparse.Namespace(shares=shares, allowance=allowance, stake=10**21, wallet=0, treasury=None)
            state = cmd_stakers(d, state, ns)
        state["roles"] = {"full": 0, "partial": 1, "leaves_later": 2, "no_allowance": 3}
        out = state
    else:
        state = load_state(args.state)
        if args.cmd == "stakers":
            out = state = cmd_stakers(d, state, args)
        elif args.cmd == "claim":
            out = cmd_claim(d, state, args)
        elif args.cmd in ("stake", "unstake"):
            out = cmd_stake_change(d, state, args, args.cmd == "unstake")
        elif args.cmd in ("opt-in", "opt-out"):
            out = cmd_opt(d, state, args, args.cmd == "opt-in")
        else:
            out = cmd_approve(d, state, args)
    save_state(args.state, state)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
