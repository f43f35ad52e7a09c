#!/usr/bin/env python3
"""Where route_proven's gas goes, per routed claim, measured opcode by opcode on py-evm (issue 19).

    .venv/bin/python Tests/ContractTests/profile_proven_gas.py N BLOCKS FILLER     # e.g. 100 10 150

Same flow as bench_proven_gas.py (N distinct stakers, claims in BLOCKS blocks, FILLER transfers per block); the
second ("returning") route_proven is profiled. Every opcode executed by the treasury is charged to one part:
token calls (the CALL/STATICCALL including the token's execution), storage, events, keccak, memory expansion,
parsing (opcodes whose source line is in receipt_proof.vy), memory copies, other treasury code; plus calldata and
the 21,000 intrinsic gas. Slow (every opcode goes through a Python wrapper): ~10 minutes for 100 10 150.
"""

import collections
import os
import sys
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "LocalChain")]

from eth.vm.forks.prague.computation import PragueComputation  # noqa: E402

PARTS = collections.Counter()
PROFILED = [None]  # the treasury's address while the profiled call runs


def source_lines() -> dict:
    """pc -> (source id, line) of ProvenExpansionTreasury's runtime code (source id 0 = the receipt_proof module)."""
    import vyper
    from vyper.compiler.input_bundle import FilesystemInputBundle

    rel = "deploy/contracts/src/ProvenExpansionTreasury.vy"
    with open(os.path.join(REPO, rel)) as fh:
        src = fh.read()
    out = vyper.compile_code(src, contract_path=rel, output_formats=["source_map_runtime"],
                             input_bundle=FilesystemInputBundle([Path(REPO) / "deploy/contracts/src"]))
    sm = out["source_map_runtime"]
    ast_map, pos_map = sm["pc_ast_map"], sm["pc_pos_map"]
    return {int(pc): (ast_map[pc][0] if pc in ast_map else None, pos[0] if pos else None)
            for pc, pos in pos_map.items()}


LINES: dict = {}


def charge(computation, mnemonic: str, pc: int, gas_before: int, mem_before: int) -> None:
    used = gas_before - computation.get_gas_remaining()
    if mnemonic in ("CALL", "STATICCALL"):
        PARTS["token calls (transferFrom, balanceOf, incl. the token's execution)"] += used
    elif len(computation._memory._bytes) > mem_before:
        PARTS["memory expansion"] += used
    elif mnemonic in ("SHA3", "KECCAK256"):
        PARTS["keccak"] += used
    elif mnemonic in ("SSTORE", "SLOAD", "TLOAD", "TSTORE"):
        PARTS["storage"] += used
    elif mnemonic.startswith("LOG"):
        PARTS["events"] += used
    elif mnemonic == "BLOCKHASH":
        PARTS["blockhash"] += used
    elif LINES.get(pc, (None,))[0] == 0:
        PARTS["parsing (receipt_proof)"] += used
    elif mnemonic in ("MCOPY", "CALLDATACOPY", "CODECOPY"):
        PARTS["memory copies"] += used
    else:
        PARTS["other treasury code"] += used


def instrument() -> None:
    ops = dict(PragueComputation.opcodes)
    for k, fn in ops.items():
        mnemonic = getattr(fn, "mnemonic", None) or getattr(getattr(fn, "__wrapped__", None), "mnemonic", "?")

        def wrapped(computation, fn=fn, mnemonic=mnemonic):
            if PROFILED[0] is None or computation.msg.storage_address != PROFILED[0]:
                return fn(computation=computation)  # the token's own opcodes are inside its CALL
            pc = computation.code.program_counter - 1
            gas, mem = computation.get_gas_remaining(), len(computation._memory._bytes)
            try:
                return fn(computation=computation)
            finally:
                charge(computation, mnemonic, pc, gas, mem)

        ops[k] = wrapped
    PragueComputation.opcodes = ops


def main(argv) -> int:
    import bench_proven_gas as bench

    n, blocks, filler = (int(x) for x in argv[:3])
    LINES.update(source_lines())
    instrument()
    env, stakers = bench.setup(n)
    env.route_proven(bench.claim(env, stakers, blocks, filler), sender=bench.ROUTER)  # first time
    claims = bench.claim(env, stakers, blocks, filler)
    args = env.route_args(claims)
    data = env.proven.abi.encode_call("route_proven", *args)
    PROFILED[0] = env.proven.address
    rc = env.route_proven(claims, sender=bench.ROUTER, args=args)
    PROFILED[0] = None
    assert env.results(rc) == [c.amount // 2 for c in claims]
    PARTS["calldata"] = bench.calldata_gas(data)
    PARTS["intrinsic 21,000"] = 21_000
    print(f"gasUsed {rc.gas_used:,} = {sum(PARTS.values()):,} accounted; per claim {rc.gas_used / n:,.0f}")
    for part, gas in PARTS.most_common():
        print(f"  {part:70s} {gas / n:9,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
