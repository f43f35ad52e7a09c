#!/usr/bin/env python3
"""Reference receipt proofs (issue 19): block header RLP, receipt encoding, the receipts trie and its
Merkle-Patricia proofs, built with independent implementations (the `rlp` and `trie` packages on PyPI, py-evm's
header objects). The contract tests use it to build route_proven calls, and it is the oracle the keeper's
Swift implementation is cross-checked against.

    .venv/bin/python Tests/Support/receipt_proofs.py --rpc http://127.0.0.1:8545 --block 12
    -> {"block": 12, "hash": "0x…", "header_rlp": "0x…", "receipts_root": "0x…",
        "proofs": {"0": ["0x<root node>", …, "0x<leaf>"], …}}

It exits 1 if the header it encodes does not hash to the block hash or the trie's root differs from the header's
receiptsRoot (so the CLI doubles as a check of a node's answers).

Header field set (the RLP list, in this order; a field is present from its fork on, and the JSON-RPC block
object carries it exactly when the fork has it, so presence decides):
  parentHash, sha3Uncles, miner, stateRoot, transactionsRoot, receiptsRoot, logsBloom, difficulty, number,
  gasLimit, gasUsed, timestamp, extraData, mixHash, nonce,
  baseFeePerGas (London), withdrawalsRoot (Shanghai), blobGasUsed, excessBlobGas, parentBeaconBlockRoot
  (Cancun), requestsHash (Prague).
Receipt encoding: legacy = rlp([status or post-state root, cumulativeGasUsed, logsBloom, logs]); typed =
type byte ++ the same list; OP Stack deposit (0x7e) appends depositNonce and depositReceiptVersion when the
receipt has them. A log is [address, [topics…], data]. The trie key of receipt i is rlp(i).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Iterable, Optional, Sequence

import rlp
from eth_utils import keccak
from trie import HexaryTrie

BLANK_ROOT = keccak(rlp.encode(b""))

HEADER_FIELDS = [
    ("parentHash", "hash"), ("sha3Uncles", "hash"), ("miner", "hash"), ("stateRoot", "hash"),
    ("transactionsRoot", "hash"), ("receiptsRoot", "hash"), ("logsBloom", "hash"), ("difficulty", "int"),
    ("number", "int"), ("gasLimit", "int"), ("gasUsed", "int"), ("timestamp", "int"), ("extraData", "hash"),
    ("mixHash", "hash"), ("nonce", "hash"),
]
# fork-dependent tail, in order; each is present from its fork on
HEADER_TAIL = [("baseFeePerGas", "int"), ("withdrawalsRoot", "hash"), ("blobGasUsed", "int"),
               ("excessBlobGas", "int"), ("parentBeaconBlockRoot", "hash"), ("requestsHash", "hash")]


def _b(x: str) -> bytes:
    return bytes.fromhex(x[2:] if x.startswith("0x") else x)


def _i(x) -> int:
    return int(x, 16) if isinstance(x, str) else int(x)


# ------------------------------------------------------------------------------------------ headers
def header_rlp_from_pyevm(header) -> bytes:
    """The RLP of a py-evm block header (its fork's field set); keccak of it is the block hash."""
    return rlp.encode(header)


def header_rlp_from_json(block: dict) -> bytes:
    """The RLP of a JSON-RPC block object's header, fields chosen by presence (see the module doc)."""
    items: list = []
    for name, kind in HEADER_FIELDS:
        v = block[name]
        items.append(_i(v) if kind == "int" else _b(v))
    for name, kind in HEADER_TAIL:
        if block.get(name) is None:
            break  # the tail is ordered: a fork has all earlier fields
        v = block[name]
        items.append(_i(v) if kind == "int" else _b(v))
    return rlp.encode(items)


def header_number_and_root(header_rlp: bytes) -> tuple[int, bytes]:
    fields = rlp.decode(header_rlp)
    return int.from_bytes(fields[8], "big"), bytes(fields[5])


# ------------------------------------------------------------------------------------------ receipts
def encode_log(address: bytes, topics: Sequence[bytes], data: bytes) -> list:
    return [address, list(topics), data]


def encode_receipt(tx_type: int, status: bytes, cumulative_gas: int, bloom: bytes, logs: Iterable[list],
                   deposit_nonce: Optional[int] = None, deposit_receipt_version: Optional[int] = None) -> bytes:
    """Consensus encoding of a receipt (the trie's value). status: b"\\x01", b"" or a 32-byte post-state root."""
    items = [status, cumulative_gas, bloom, list(logs)]
    if tx_type == 0x7E:
        if deposit_nonce is not None:
            items.append(deposit_nonce)
            if deposit_receipt_version is not None:
                items.append(deposit_receipt_version)
    body = rlp.encode(items)
    return body if tx_type == 0 else bytes([tx_type]) + body


def receipt_bytes_from_pyevm(receipt) -> bytes:
    """py-evm receipts (legacy and typed) encode themselves as in the trie."""
    return receipt.encode()


def receipt_bytes_from_json(r: dict) -> bytes:
    ty = _i(r.get("type", "0x0"))
    if r.get("root"):
        status = _b(r["root"])
    else:
        status = b"\x01" if _i(r["status"]) == 1 else b""
    logs = [encode_log(_b(lg["address"]), [_b(t) for t in lg["topics"]], _b(lg["data"])) for lg in r["logs"]]
    dn = r.get("depositNonce")
    dv = r.get("depositReceiptVersion")
    return encode_receipt(ty, status, _i(r["cumulativeGasUsed"]), _b(r["logsBloom"]), logs,
                          None if dn is None else _i(dn), None if dv is None else _i(dv))


# ------------------------------------------------------------------------------------------ trie and proofs
def trie_key(index: int) -> bytes:
    return rlp.encode(index)


class ReceiptsTrie:
    """The receipts trie of one block: root and proofs (list of node bytes, root first, leaf last)."""

    def __init__(self, receipts: Sequence[bytes]):
        self.receipts = list(receipts)
        self.db: dict = {}
        self.trie = HexaryTrie(self.db)
        with self.trie.squash_changes() as t:
            for i, value in enumerate(self.receipts):
                t[trie_key(i)] = value

    @property
    def root(self) -> bytes:
        return self.trie.root_hash

    def proof(self, index: int) -> list[bytes]:
        nodes = [rlp.encode(n) for n in self.trie.get_proof(trie_key(index))]
        for n in nodes:
            # receipts tries never embed nodes (see receipt_proof.vy): every node is stored by its hash
            assert len(n) >= 32, "embedded node in a receipts trie"
        return nodes


def verify_proof(root: bytes, index: int, nodes: Sequence[bytes]) -> Optional[bytes]:
    """Independent check of a proof (the trie package's verifier): the receipt bytes, or None."""
    try:
        return HexaryTrie.get_from_proof(root, trie_key(index), [rlp.decode(n) for n in nodes]) or None
    except Exception:  # noqa: BLE001 - any malformed proof
        return None


# ------------------------------------------------------------------------------------------ calls
MAX_PROOF_NODES = 9


def pack_offsets(offsets: Sequence[int]) -> int:
    """ProvenClaim.proof: node i's offset in bits 24*i..24*i+23, the number of nodes in the top byte."""
    assert len(offsets) <= MAX_PROOF_NODES and all(0 <= o < 2**24 for o in offsets)
    return sum(o << (24 * i) for i, o in enumerate(offsets)) | (len(offsets) << 248)


def unpack_offsets(proof: int) -> list[int]:
    return [(proof >> (24 * i)) & 0xFFFFFF for i in range(min(proof >> 248, MAX_PROOF_NODES))]


class ProofPool:
    """Builds route_proven's arguments: headers (deduplicated), the node pool (each distinct node once) and
    per-claim (header index, tx index, log position, packed node offsets - see pack_offsets)."""

    def __init__(self):
        self.headers: list[bytes] = []
        self._header_index: dict[bytes, int] = {}
        self.pool = bytearray()
        self._offsets: dict[bytes, int] = {}
        self.claims: list[tuple] = []

    def header(self, header_rlp: bytes) -> int:
        if header_rlp not in self._header_index:
            self._header_index[header_rlp] = len(self.headers)
            self.headers.append(header_rlp)
        return self._header_index[header_rlp]

    def node(self, node: bytes) -> int:
        if node not in self._offsets:
            self._offsets[node] = len(self.pool)
            self.pool += node
        return self._offsets[node]

    def add(self, header_rlp: bytes, tx_index: int, log_position: int, nodes: Sequence[bytes]) -> tuple:
        claim = (self.header(header_rlp), tx_index, log_position, pack_offsets([self.node(n) for n in nodes]))
        self.claims.append(claim)
        return claim

    def args(self) -> tuple:
        return list(self.headers), bytes(self.pool), list(self.claims)


# ------------------------------------------------------------------------------------------ CLI
def block_proofs_from_rpc(url: str, number: int) -> dict:
    sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "LocalChain"))
    from ethtools import RPC  # noqa: E402

    rpc = RPC(url)
    block = rpc.call("eth_getBlockByNumber", hex(number), False)
    if block is None:
        raise SystemExit(f"block {number} not found")
    header = header_rlp_from_json(block)
    if "0x" + keccak(header).hex() != block["hash"].lower():
        raise SystemExit(f"header RLP does not hash to the block hash {block['hash']} (unknown fork fields?)")
    try:
        receipts = rpc.call("eth_getBlockReceipts", hex(number))
    except Exception:  # noqa: BLE001 - a node without eth_getBlockReceipts: one call per transaction
        receipts = [rpc.call("eth_getTransactionReceipt", h) for h in block["transactions"]]
    receipts = sorted(receipts or [], key=lambda r: _i(r["transactionIndex"]))
    t = ReceiptsTrie([receipt_bytes_from_json(r) for r in receipts])
    if "0x" + t.root.hex() != block["receiptsRoot"].lower():
        raise SystemExit(f"receipts trie root 0x{t.root.hex()} != header receiptsRoot {block['receiptsRoot']}")
    return {
        "block": number,
        "hash": block["hash"],
        "header_rlp": "0x" + header.hex(),
        "receipts_root": "0x" + t.root.hex(),
        "proofs": {str(i): ["0x" + n.hex() for n in t.proof(i)] for i in range(len(receipts))},
    }


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rpc", required=True, help="JSON-RPC URL")
    ap.add_argument("--block", required=True, type=int, help="block number")
    a = ap.parse_args(argv)
    print(json.dumps(block_proofs_from_rpc(a.rpc, a.block)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
