"""The interface is part of the product (SPEC §3): exact functions, events and fields; committed artifacts
match the sources; ABI/VeniceStaking.json carries the confirmed functions and the analogue events."""

import json
import os
import sys

from eth_utils import keccak

from ethtools import REPO, fn_signature

sys.path.insert(0, os.path.join(REPO, "deploy", "contracts"))
import build  # noqa: E402


def load_abi(name):
    with open(os.path.join(REPO, "ABI", f"{name}.json")) as fh:
        return json.load(fh)


def test_committed_artifacts_match_the_sources():
    assert build.differences() == [], "run: .venv/bin/python deploy/contracts/build.py"


def test_artifacts_are_abi_and_bytecode():
    for _, name in build.SOURCES:
        with open(os.path.join(REPO, "deploy", "contracts", "out", f"{name}.json")) as fh:
            art = json.load(fh)
        assert art["abi"] == load_abi(name)
        assert art["bytecode"].startswith("0x") and len(art["bytecode"]) > 100


CLAIM = "(address,uint256,uint64,uint32,bytes32)"
FUNCTIONS = {
    # name: (inputs, outputs, mutability)
    "opt_in": (["uint16"], [], "nonpayable"),
    "opt_out": ([], [], "nonpayable"),
    "registration": (["address"], ["uint16", "uint64"], "view"),
    "route": ([CLAIM + "[]"], ["uint256"], "nonpayable"),
    "reward_token": ([], ["address"], "view"),
    "owner": ([], ["address"], "view"),
    "paused": ([], ["bool"], "view"),
    "is_keeper": (["address"], ["bool"], "view"),
    "contributed": (["address"], ["uint256"], "view"),
    "total_contributed": ([], ["uint256"], "view"),
    "set_keeper": (["address", "bool"], [], "nonpayable"),
    "pause": ([], [], "nonpayable"),
    "unpause": ([], [], "nonpayable"),
    "withdraw": (["address", "uint256"], [], "nonpayable"),
    "transfer_ownership": (["address"], [], "nonpayable"),
    "accept_ownership": ([], [], "nonpayable"),
    # additions beyond the SPEC list (documented in deploy/contracts/README.md)
    "pending_owner": ([], ["address"], "view"),
    "total_withdrawn": ([], ["uint256"], "view"),
    "last_routed": (["address"], ["uint64", "uint32"], "view"),
}
EVENTS = {
    "OptedIn": [("staker", "address", True), ("share_bps", "uint16", False), ("since_block", "uint64", False)],
    "OptedOut": [("staker", "address", True)],
    "Routed": [("staker", "address", True), ("claim_block", "uint64", False), ("claim_log_index", "uint32", False),
               ("reward", "uint256", False), ("contributed", "uint256", False), ("share_bps", "uint16", False)],
    "RouteSkipped": [("staker", "address", True), ("claim_block", "uint64", False),
                     ("claim_log_index", "uint32", False), ("reason", "uint8", False)],
    "KeeperSet": [("keeper", "address", True), ("enabled", "bool", False)],
    "Paused": [("account", "address", False)],
    "Unpaused": [("account", "address", False)],
    "Withdrawn": [("to", "address", True), ("amount", "uint256", False)],
    "OwnershipTransferred": [("previous", "address", True), ("new", "address", True)],
    "OwnershipTransferStarted": [("previous", "address", True), ("new", "address", True)],
}


def _types(params):
    from ethtools import _abi_type

    return [_abi_type(p) for p in params]


def test_treasury_interface_is_exactly_the_spec():
    abi = load_abi("ExpansionTreasury")
    fns = {e["name"]: e for e in abi if e["type"] == "function"}
    assert set(fns) == set(FUNCTIONS)
    for name, (ins, outs, mut) in FUNCTIONS.items():
        e = fns[name]
        assert (_types(e["inputs"]), _types(e["outputs"]), e["stateMutability"]) == (ins, outs, mut), name
    claim = fns["route"]["inputs"][0]["components"]
    assert [c["name"] for c in claim] == ["staker", "amount", "block_number", "log_index", "block_hash"]
    assert [i["name"] for i in fns["opt_in"]["inputs"]] == ["share_bps"]
    ctor = next(e for e in abi if e["type"] == "constructor")
    assert _types(ctor["inputs"]) == ["address", "address"]
    evs = {e["name"]: e for e in abi if e["type"] == "event"}
    assert set(evs) == set(EVENTS)
    for name, fields in EVENTS.items():
        got = [(i["name"], i["type"], i["indexed"]) for i in evs[name]["inputs"]]
        assert got == fields, name
    # the selectors other components hard-code
    route = fns["route"]
    assert fn_signature(route) == f"route({CLAIM}[])"
    assert keccak(text="Routed(address,uint64,uint32,uint256,uint256,uint16)") == keccak(text=fn_signature(evs["Routed"]))


VENICE_FUNCTIONS = {
    "stake(address,uint256)": "adc9772e",
    "initiateUnstake(uint256)": "ae5ac921",
    "finalizeUnstake()": "0ea94341",
    "claim()": "4e71d92d",
    "claimAndStake()": "cb1a4fc0",
    "mintDiem(uint256,uint256)": "2006efcb",
    "burnDiem(uint256)": "4d44f110",
    "pendingRewards(address)": "31d7a262",
    "stakes(address)": "16934fc4",
    "cooldownDuration()": "35269315",
    "emissionRatePerSecond()": "a80152d6",
    "accRewardPerShare()": "939d6237",
}
VENICE_EVENTS = {
    "Staked(address,uint256)": "9e71bc8eea02a63969f509818f2dafb9254532904319f9dbda79b67bd34a5f3d",
    "UnstakeInitiated(address,uint256)": "c606a9f55fc42cd3159fcfc8ddcd749dd21c4574cca0b68a5a65d5f984b6c42c",
    "UnstakeFinalized(address,uint256)": "c819022d26707b1e41f61d9adc9481024e27272d949e34a1dfec4d7abf168a33",
    "Claimed(address,uint256)": "d8138f8a3f377c5259ca548e70e4c2de94f129f5a11036a15b69513cba2b426a",
    "EmissionRateUpdated(uint256)": "ffcc630bf88a67ba7c8b27440787c31777ae923aee1e9bbd0127feea56da2cd0",
}


def test_venice_staking_abi_matches_the_research_and_the_mock():
    abi = load_abi("VeniceStaking")
    sigs = {fn_signature(e): e for e in abi if e["type"] == "function"}
    for sig, sel in VENICE_FUNCTIONS.items():
        assert sig in sigs, sig
        assert keccak(text=sig)[:4].hex() == sel
    events = {fn_signature(e): e for e in abi if e["type"] == "event"}
    for sig, topic in VENICE_EVENTS.items():
        assert sig in events and keccak(text=sig).hex() == topic, sig
    claimed = events["Claimed(address,uint256)"]["inputs"]
    assert [(i["name"], i["indexed"]) for i in claimed] == [("user", True), ("amount", False)]
    # the mock emits exactly these events and has these functions (minus DIEM), so the keeper runs unchanged
    mock = load_abi("MockVeniceStaking")
    mock_events = {fn_signature(e) for e in mock if e["type"] == "event"}
    assert set(VENICE_EVENTS) <= mock_events
    mock_fns = {fn_signature(e) for e in mock if e["type"] == "function"}
    assert set(VENICE_FUNCTIONS) - {"mintDiem(uint256,uint256)", "burnDiem(uint256)"} <= mock_fns
