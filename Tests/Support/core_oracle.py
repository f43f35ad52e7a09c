#!/usr/bin/env python3
"""Independent oracle for EthereumCore's differential tests.

Reads JSON requests, one per line, on stdin and answers one JSON line each on stdout, using
implementations that share no code with ours: pycryptodome (Keccak-256), pyrlp (RLP) and
Python's arbitrary-precision integers (UInt256 arithmetic).

Requests:
  {"op": "keccak", "hex": "..."}                    -> {"md": "<64 hex>"}
  {"op": "rlp_encode", "item": ITEM}                 -> {"out": "<hex>"}
      ITEM = "<hex string>" (bytes) | [ITEM, ...] (list)
  {"op": "rlp_decode", "hex": "..."}                 -> {"item": ITEM} or {"error": "..."}
  {"op": "uint", "a": "<dec>", "b": "<dec>", "shift": n}
      -> sums, differences, products mod 2^256 with overflow flags, quotient, remainder, shifts
"""
import json
import sys

import rlp
from Crypto.Hash import keccak

M = 1 << 256


def to_item(x):
    return [to_item(i) for i in x] if isinstance(x, list) else bytes.fromhex(x)


def from_item(x):
    return [from_item(i) for i in x] if isinstance(x, list) else x.hex()


def answer(req):
    op = req["op"]
    if op == "keccak":
        return {"md": keccak.new(digest_bits=256, data=bytes.fromhex(req["hex"])).hexdigest()}
    if op == "rlp_encode":
        return {"out": rlp.encode(to_item(req["item"])).hex()}
    if op == "rlp_decode":
        try:
            return {"item": from_item(rlp.decode(bytes.fromhex(req["hex"]), strict=True))}
        except Exception as e:  # noqa: BLE001 - any rejection counts as an error answer
            return {"error": type(e).__name__}
    if op == "uint":
        a, b, n = int(req["a"]), int(req["b"]), req["shift"]
        out = {
            "add": str((a + b) % M), "add_o": a + b >= M,
            "sub": str((a - b) % M), "sub_o": a < b,
            "mul": str((a * b) % M), "mul_o": a * b >= M,
            "shl": str((a << n) % M), "shr": str(a >> n),
            "hex": hex(a),
        }
        if b:
            out["div"], out["mod"] = str(a // b), str(a % b)
        return out
    if op == "mpt":
        # py-trie's HexaryTrie: the root of the pairs, and for each asked key its proof (every node, RLP-encoded).
        from trie import HexaryTrie

        t = HexaryTrie(db={})
        for k, v in req["pairs"]:
            t[bytes.fromhex(k)] = bytes.fromhex(v)
        return {"root": t.root_hash.hex(),
                "proofs": [[rlp.encode(n).hex() for n in t.get_proof(bytes.fromhex(k))] for k in req["keys"]]}
    raise ValueError(f"unknown op {op}")


def main():
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")


if __name__ == "__main__":
    main()
