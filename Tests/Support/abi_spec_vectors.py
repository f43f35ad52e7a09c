#!/usr/bin/env python3
"""Regenerates Tests/EthereumABITests/Vectors/abi_spec_examples.json: the worked examples of the Solidity
ABI specification (https://docs.soliditylang.org/en/latest/abi-spec.html, "Examples" and "Use of Dynamic
Types"), encoded with eth-abi 6.0.0 as a cross-check of the hex the spec prints. Run with .venv/bin/python."""
import json, sys
from eth_abi import encode
from eth_utils import keccak

def sel(sig):
    return keccak(text=sig)[:4]

def h(b):
    return "0x" + b.hex()

cases = [
    # name, signature, python args (eth-abi), JSON args (our `abi encode` rules), canonical decode JSON
    ("baz(69,true)", "baz(uint32,bool)", [69, True], [69, True], ["69", True]),
    ("bar([abc,def])", "bar(bytes3[2])", [[b"abc", b"def"]], [["0x616263", "0x646566"]], [["0x616263", "0x646566"]]),
    ("sam(dave,true,[1,2,3])", "sam(bytes,bool,uint256[])", [b"dave", True, [1, 2, 3]],
     ["0x64617665", True, [1, 2, 3]], ["0x64617665", True, ["1", "2", "3"]]),
    ("f(0x123,[0x456,0x789],1234567890,Hello, world!)", "f(uint256,uint32[],bytes10,bytes)",
     [0x123, [0x456, 0x789], b"1234567890", b"Hello, world!"],
     ["0x123", ["0x456", "0x789"], "0x" + b"1234567890".hex(), "0x" + b"Hello, world!".hex()],
     ["291", ["1110", "1929"], "0x" + b"1234567890".hex(), "0x" + b"Hello, world!".hex()]),
    ("g([[1,2],[3]],[one,two,three])", "g(uint256[][],string[])", [[[1, 2], [3]], ["one", "two", "three"]],
     [[[1, 2], [3]], ["one", "two", "three"]], [[["1", "2"], ["3"]], ["one", "two", "three"]]),
]
out = []
for name, sig, pyargs, jsonargs, canonical in cases:
    types = sig[sig.index("(") + 1:-1].split(",")
    # split respecting no nested tuples in these examples
    enc = sel(sig) + encode(types, pyargs)
    out.append({"name": name, "signature": sig, "selector": h(sel(sig)), "args": jsonargs,
                "encoded": h(enc), "canonical": canonical})
doc = {
    "source": "Solidity ABI specification, Examples and Use of Dynamic Types, https://docs.soliditylang.org/en/latest/abi-spec.html#examples (hex re-derived with eth-abi 6.0.0 by Tests/Support/abi_spec_vectors.py; selectors as printed in the spec)",
    "vectors": out,
}
json.dump(doc, sys.stdout, indent=1)
print()
