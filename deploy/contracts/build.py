#!/usr/bin/env python3
"""Compile the Vyper contracts into committed artifacts.

    .venv/bin/python deploy/contracts/build.py          # (re)write the artifacts
    .venv/bin/python deploy/contracts/build.py --check  # exit 1 if any artifact differs from the sources

Writes, for every contract in src/ (the product) and test/ (test doubles) — modules such as
src/receipt_proof.vy are compiled into the contracts that import them and have no artifact of their own:
    deploy/contracts/out/<Name>.json  = {"abi": [...], "bytecode": "0x...", "source": "<path>", "compiler": "vyper 0.4.3"}
    ABI/<Name>.json                   = the plain ABI array
The compiler version is pinned in deploy/dev/requirements.txt; sources pin it with `# pragma version`.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SOURCES = [
    ("src", "ExpansionTreasury"),
    ("src", "ProvenExpansionTreasury"),
    ("test", "MockVVV"),
    ("test", "MockVeniceStaking"),
    ("test", "MockFalseToken"),
    ("test", "MockNoReturnToken"),
    ("test", "MockLyingToken"),
    ("test", "MockFeeToken"),
    ("test", "ProofHarness"),
]
# Vyper modules (imported, not deployed): src/receipt_proof.vy (RLP, Merkle-Patricia proofs, receipts) is
# compiled into ProvenExpansionTreasury and ProofHarness; imports resolve against src/.
MODULE_PATHS = ["src"]


def _dump(obj) -> str:
    return json.dumps(obj, indent=2) + "\n"


def compile_all() -> dict[str, str]:
    """path (relative to the repo) -> file content, for every artifact."""
    from pathlib import Path

    import vyper
    from vyper.compiler.input_bundle import FilesystemInputBundle

    bundle = FilesystemInputBundle([Path(HERE) / m for m in MODULE_PATHS])
    files: dict[str, str] = {}
    for folder, name in SOURCES:
        rel = f"deploy/contracts/{folder}/{name}.vy"
        with open(os.path.join(REPO, rel)) as fh:
            src = fh.read()
        out = vyper.compile_code(src, contract_path=rel, output_formats=["abi", "bytecode"],
                                 input_bundle=bundle)
        files[f"deploy/contracts/out/{name}.json"] = _dump(
            {"abi": out["abi"], "bytecode": out["bytecode"], "source": rel, "compiler": f"vyper {vyper.__version__}"}
        )
        files[f"ABI/{name}.json"] = _dump(out["abi"])
    return files


def differences() -> list[str]:
    diffs = []
    for rel, content in compile_all().items():
        path = os.path.join(REPO, rel)
        try:
            with open(path) as fh:
                if fh.read() == content:
                    continue
        except FileNotFoundError:
            pass
        diffs.append(rel)
    return diffs


def main(argv: list[str]) -> int:
    if "--check" in argv:
        diffs = differences()
        for rel in diffs:
            print(f"stale artifact: {rel} (run deploy/contracts/build.py)", file=sys.stderr)
        return 1 if diffs else 0
    for rel, content in compile_all().items():
        path = os.path.join(REPO, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(content)
        os.replace(tmp, path)
        print(rel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
