#!/usr/bin/env python3
"""A fast synthetic JSON-RPC chain for the keeper's catch-up benchmark (KeeperBench suite "catchup").

Building 100,000 blocks with 20,000 reward payments on py-evm takes far longer than the keeper needs to
ingest them, so this generator serves a deterministic chain directly: block headers (hash = keccak of the
seed and number, parent = previous hash), and the logs the keeper filters for — the staking contract's
`Claimed(address indexed user, uint256 amount)` and the treasury's `OptedIn`/`OptedOut`/`Routed` — encoded
exactly as a node would. Methods: eth_chainId, eth_blockNumber, eth_getBlockByNumber (numbers and tags),
eth_getLogs (address and topic0 filters, range cap like a provider), JSON-RPC batches, keep-alive.

    keeper_synthchain.py --blocks 100000 --rewards 20000 --stakers 200 [--max-range 10000]
prints one JSON line {"url", "chain_id", "staking", "treasury", "rewards", "blocks", "registrations", "routed"}
and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from eth_utils import keccak

CHAIN_ID = 8453
STAKING = "0x321b7ff75154472b18edb199033ff4d116f340ff"
TREASURY = "0xacfe6019ed1a7dc6f7b508c02d1b04ec88cc21bf"
T_CLAIMED = "0x" + keccak(text="Claimed(address,uint256)").hex()
T_OPTIN = "0x" + keccak(text="OptedIn(address,uint16,uint64)").hex()
T_ROUTED = "0x" + keccak(text="Routed(address,uint64,uint32,uint256,uint256,uint16)").hex()


def word(v: int) -> str:
    return v.to_bytes(32, "big").hex()


class Synth:
    def __init__(self, blocks: int, rewards: int, stakers: int, seed: int):
        rng = random.Random(seed)
        self.blocks = blocks
        self.hashes = ["0x" + keccak(seed.to_bytes(8, "big") + n.to_bytes(8, "big")).hex() for n in range(blocks + 1)]
        addrs = ["0x" + keccak(text=f"staker{i}")[:20].hex() for i in range(stakers)]
        logs = []  # (block, log dict without index)
        # half the stakers opt in during the first blocks
        for i, a in enumerate(addrs[: stakers // 2]):
            b = 1 + i % 50
            logs.append((b, TREASURY, [T_OPTIN, "0x" + "00" * 12 + a[2:]], "0x" + word(1 + (i * 37) % 10000) + word(b + 1)))  # since_block = opt-in block + 1
        reward_blocks = sorted(rng.randrange(100, blocks + 1) for _ in range(rewards))
        for b in reward_blocks:
            a = rng.choice(addrs)
            logs.append((b, STAKING, [T_CLAIMED, "0x" + "00" * 12 + a[2:]], "0x" + word(rng.randrange(10**15, 10**20))))
        logs.sort(key=lambda x: x[0])
        self.logs = []
        per_block: dict[int, int] = {}
        for b, address, topics, data in logs:
            i = per_block.get(b, 0)
            per_block[b] = i + 1
            self.logs.append({"address": address, "topics": topics, "data": data, "blockNumber": hex(b),
                              "blockHash": self.hashes[b], "transactionHash": "0x" + keccak(f"{b}:{i}".encode()).hex(),
                              "transactionIndex": hex(i), "logIndex": hex(i), "removed": False})
        self.log_blocks = [int(l["blockNumber"], 16) for l in self.logs]
        self.rewards = rewards
        self.registrations = stakers // 2

    def header(self, n: int):
        if n < 0 or n > self.blocks:
            return None
        return {"number": hex(n), "hash": self.hashes[n], "parentHash": self.hashes[n - 1] if n > 0 else "0x" + "00" * 32,
                "timestamp": hex(1_700_000_000 + 2 * n), "gasLimit": hex(30_000_000), "gasUsed": "0x0", "baseFeePerGas": "0x3b9aca00",
                "miner": "0x" + "00" * 20, "transactions": [], "stateRoot": "0x" + "00" * 32, "logsBloom": "0x" + "00" * 256,
                "extraData": "0x", "difficulty": "0x0", "size": "0x200", "nonce": "0x0000000000000000",
                "receiptsRoot": "0x" + "00" * 32, "transactionsRoot": "0x" + "00" * 32, "sha3Uncles": "0x" + "00" * 32,
                "mixHash": "0x" + "00" * 32, "uncles": []}

    def block_number(self, tag) -> int:
        if isinstance(tag, str) and tag.startswith("0x"):
            return int(tag, 16)
        return 0 if tag == "earliest" else self.blocks

    def call(self, method: str, params: list, max_range: int):
        if method == "eth_chainId":
            return hex(CHAIN_ID)
        if method == "eth_blockNumber":
            return hex(self.blocks)
        if method == "eth_getBlockByNumber":
            return self.header(self.block_number(params[0]))
        if method == "eth_getLogs":
            f = params[0]
            lo, hi = self.block_number(f.get("fromBlock", "latest")), self.block_number(f.get("toBlock", "latest"))
            if hi - lo + 1 > max_range:
                raise RPCErr(-32602, f"query block range exceeds limit: requested {hi - lo + 1} blocks, max {max_range}")
            addrs = f.get("address")
            addrs = {addrs.lower()} if isinstance(addrs, str) else {a.lower() for a in addrs} if addrs else None
            topics = f.get("topics") or []
            t0 = topics[0] if topics else None
            t0 = {t0} if isinstance(t0, str) else set(t0) if t0 else None
            a, b = bisect.bisect_left(self.log_blocks, lo), bisect.bisect_right(self.log_blocks, hi)
            return [l for l in self.logs[a:b] if (addrs is None or l["address"] in addrs) and (t0 is None or l["topics"][0] in t0)]
        raise RPCErr(-32601, f"the method {method} does not exist")


class RPCErr(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def serve(synth: Synth, max_range: int):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def one(req):
                try:
                    return {"jsonrpc": "2.0", "id": req.get("id"), "result": synth.call(req["method"], req.get("params", []), max_range)}
                except RPCErr as e:
                    return {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": e.code, "message": e.message}}
            out = json.dumps([one(r) for r in body] if isinstance(body, list) else one(body), separators=(",", ":")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"url": f"http://127.0.0.1:{srv.server_address[1]}", "chain_id": CHAIN_ID, "staking": STAKING,
                      "treasury": TREASURY, "rewards": synth.rewards, "blocks": synth.blocks,
                      "registrations": synth.registrations}), flush=True)
    srv.serve_forever()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--blocks", type=int, default=100_000)
    p.add_argument("--rewards", type=int, default=20_000)
    p.add_argument("--stakers", type=int, default=200)
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--max-range", type=int, default=10_000)
    a = p.parse_args()
    serve(Synth(a.blocks, a.rewards, a.stakers, a.seed), a.max_range)


if __name__ == "__main__":
    main()
