#!/usr/bin/env python3
"""Mutation check of the contract tests (opt-in, a few minutes): compile ExpansionTreasury with one rule
broken at a time and run Tests/ContractTests against it; every mutant must be killed (some test fails).

    .venv/bin/python Tests/ContractTests/mutants.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SRC = os.path.join(REPO, "deploy", "contracts", "src", "ExpansionTreasury.vy")

MUTANTS = [
    ("keeper check dropped", 'assert self._keepers[msg.sender], "not keeper"', "pass"),
    ("pause ignored", 'assert not self.paused, "paused"', "pass"),
    ("future claims allowed", "if bn >= now:", "if bn > now:"),
    ("blockhash not checked", "if blockhash(bn) != c.block_hash:", "if False:"),
    ("history not checked", "if served and h != c.block_hash:", "if False:"),
    ("since_block ignored", "elif bn < (packed >> SINCE_SHIFT) & U64_MASK:", "elif False:"),
    ("duplicate allowed at equal position", "elif pos <= (packed >> POS_SHIFT) & POS_MASK:",
     "elif pos < (packed >> POS_SHIFT) & POS_MASK:"),
    ("false return accepted", "ok = len(out) == 32 and extract32(out, 0, output_type=uint256) == 1", "ok = True"),
    ("longer return data accepted", "ok = len(out) == 32 and extract32(out, 0, output_type=uint256) == 1",
     "ok = extract32(out, 0, output_type=uint256) == 1"),
    ("asked amount counted, not what arrived", "arrived = unsafe_sub(after, bal)", "arrived = contrib"),
    ("pull that delivered nothing accepted", "if arrived == 0:\n                            ok = False",
     "if False:\n                            ok = False"),
    ("balance baseline not advanced after a rejected pull", "bal = after\n", "bal = after if ok else bal\n"),
    ("routed position not recorded", "| (pos << POS_SHIFT) | new_low", "| (packed & (POS_MASK << POS_SHIFT)) | new_low"),
    ("contribution rounds up", "unsafe_div(unsafe_mul(amount % MAX_BPS, share), MAX_BPS),",
     "unsafe_div(unsafe_mul(amount % MAX_BPS, share) + MAX_BPS - 1, MAX_BPS),"),
    ("opt_out keeps registration", "self._acct[msg.sender] = packed & KEEP_ROUTE_STATE\n    log OptedOut",
     "log OptedOut"),
    ("consent from the opt-in block itself", "since: uint64 = convert(block.number + 1, uint64)",
     "since: uint64 = convert(block.number, uint64)"),
    ("same-share opt_in restarts the registration",
     "if packed >> SHARE_SHIFT == convert(share_bps, uint256):\n        return", "if False:\n        return"),
    ("share change keeps old since", "| (convert(since, uint256) << SINCE_SHIFT)",
     "| (((packed >> SINCE_SHIFT) & U64_MASK if packed >> SHARE_SHIFT != 0 else convert(since, uint256)) << SINCE_SHIFT)"),
    ("total not stored", "self.total_contributed = total_before + total", "pass"),
    ("spill lost", "self._spill[c.staker] += low + arrived", "self._spill[c.staker] += arrived"),
    ("withdraw not counted", "self.total_withdrawn += amount", "pass"),
    ("withdraw trusts the token's answer", "assert before >= amount and after == unsafe_sub(before, amount)",
     "assert True or after == unsafe_sub(before, amount)"),
    ("ownership handover started silently", "    log OwnershipTransferStarted(previous=msg.sender, new=new_owner)\n", ""),
    ("anyone accepts ownership", 'assert msg.sender == self.pending_owner, "not pending owner"', "pass"),
    ("withdraw by anyone", '    self._only_owner()\n    assert to != empty(address), "to is zero"',
     '    assert to != empty(address), "to is zero"'),
]


def main() -> int:
    import vyper

    src = open(SRC).read()
    survivors = []
    for name, old, new in MUTANTS:
        assert src.count(old) >= 1, f"mutant {name!r}: pattern not found"
        mutated = src.replace(old, new, 1)
        out = tempfile.mkdtemp()
        try:
            for f in os.listdir(os.path.join(REPO, "deploy", "contracts", "out")):
                shutil.copy(os.path.join(REPO, "deploy", "contracts", "out", f), out)
            c = vyper.compile_code(mutated, output_formats=["abi", "bytecode"])
            with open(os.path.join(out, "ExpansionTreasury.json"), "w") as fh:
                json.dump({"abi": c["abi"], "bytecode": c["bytecode"]}, fh)
            env = dict(os.environ, EXPANSION_CONTRACTS_OUT=out, TREASURY_PROPERTY_NO_SHRINK="1")
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                "Tests/ContractTests", "--deselect",
                                "Tests/ContractTests/test_interface_and_artifacts.py::test_committed_artifacts_match_the_sources",
                                "--deselect",
                                "Tests/ContractTests/test_interface_and_artifacts.py::test_artifacts_are_abi_and_bytecode"],
                               cwd=REPO, env=env, capture_output=True, text=True)
            killed = r.returncode != 0
            print(f"{'killed  ' if killed else 'SURVIVED'} {name}", flush=True)
            if not killed:
                survivors.append(name)
        finally:
            shutil.rmtree(out)
    print(f"{len(MUTANTS) - len(survivors)}/{len(MUTANTS)} mutants killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
