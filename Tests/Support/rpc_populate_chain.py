#!/usr/bin/env python3
"""Fills a running local chain (Tests/LocalChain) with events for the JSONRPC scanner tests.

``python rpc_populate_chain.py URL [--seed N] [--single N] [--multi N]`` deploys a tiny Vyper contract
that emits ``Ping(uint256 indexed seq, uint256 value)`` n times per call, then sends:
  1. ``--single`` transactions emitting one log each, with 0-3 empty blocks between them (part A: at
     most one log per block, fetchable even with a 1-result cap);
  2. ``--multi`` transactions emitting 2-48 logs each (each in its own block, so a 50-result cap can fetch every block), with 0-40 empty blocks between them (part B),
     then ``--tail`` empty blocks.
It prints one JSON object: the emitter address, the block ranges of both parts, and the ground truth —
every log read from the transactions' receipts (not from eth_getLogs), in (block, logIndex) order.
Seeded (the seed is printed in the output) so a failure reproduces.
"""
import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "LocalChain"))
from ethtools import RPC, sign_tx  # noqa: E402  (the local chain's helpers)

SOURCE = """
# @version ^0.4.0
event Ping:
    seq: indexed(uint256)
    value: uint256

@external
def emit_many(n: uint256, base: uint256):
    for i: uint256 in range(n, bound=64):
        log Ping(seq=base + i, value=i * i)
"""


def compile_emitter():
    from vyper import compile_code
    out = compile_code(SOURCE, output_formats=["bytecode"])
    return bytes.fromhex(out["bytecode"][2:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--single", type=int, default=80)
    ap.add_argument("--multi", type=int, default=64)
    ap.add_argument("--tail", type=int, default=600)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rpc = RPC(args.url)
    chain_id = int(rpc.call("eth_chainId"), 16)
    key = bytes.fromhex("00" * 31 + "07")  # dev account 7
    from eth_account import Account
    sender = Account.from_key(key).address
    nonce = int(rpc.call("eth_getTransactionCount", sender, "pending"), 16)

    def send(to, data, gas):
        nonlocal nonce
        tx = {"chainId": chain_id, "nonce": nonce, "to": to, "data": data, "value": 0, "gas": gas,
              "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9, "type": 2}
        if to is None:
            del tx["to"]
        h = rpc.call("eth_sendRawTransaction", "0x" + sign_tx(key, tx).hex())
        nonce += 1
        return h

    deploy = send(None, compile_emitter(), 1_000_000)
    from eth_utils import keccak, to_checksum_address
    emitter = to_checksum_address(rpc.call("eth_getTransactionReceipt", deploy)["contractAddress"])
    selector = keccak(text="emit_many(uint256,uint256)")[:4]
    hashes = []
    seq = 0

    def emit(n):
        nonlocal seq
        data = selector + n.to_bytes(32, "big") + seq.to_bytes(32, "big")
        seq += n
        hashes.append(send(emitter, data, 60_000 + 3_000 * n))

    start = int(rpc.call("eth_blockNumber"), 16) + 1
    for _ in range(args.single):
        gap = rng.randint(0, 3)
        if gap:
            rpc.call("hardhat_mine", hex(gap))
        emit(1)
    single_end = int(rpc.call("eth_blockNumber"), 16)
    for _ in range(args.multi):
        gap = rng.randint(0, 40)
        if gap:
            rpc.call("hardhat_mine", hex(gap))
        emit(rng.randint(2, 48))
    rpc.call("hardhat_mine", hex(args.tail))
    end = int(rpc.call("eth_blockNumber"), 16)
    logs = []
    for h in hashes:
        r = rpc.call("eth_getTransactionReceipt", h)
        assert r["status"] == "0x1", r
        for lg in r["logs"]:
            logs.append({k: lg[k] for k in ("address", "topics", "data", "blockNumber", "blockHash",
                                            "transactionHash", "transactionIndex", "logIndex")})
    logs.sort(key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
    print(json.dumps({"seed": args.seed, "emitter": emitter, "from": start, "single_end": single_end, "to": end,
                      "logs": logs}))


if __name__ == "__main__":
    sys.exit(main())
