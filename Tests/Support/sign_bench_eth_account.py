#!/usr/bin/env python3
"""Reference timings for KeeperBench's "signing" suite (eth-account 0.14, eth-keyfile 0.10).

stdin: one JSON object
  {"op": "sign", "key": "0x..", "tx": {eth-account fields}, "iterations": N, "rounds": R}
      -> {"us_per_tx": float, "raw": "0x.."}   (Account.sign_transaction, best of `rounds` rounds)
  {"op": "decrypt", "path": "keystore.json", "password": ".."}
      -> {"seconds": float, "peak_rss_kib": int (VmHWM)}   (eth_keyfile.extract_key_from_keyfile)
"""
import json
import sys
import time

req = json.loads(sys.stdin.read())
if req["op"] == "sign":
    from eth_account import Account
    tx = dict(req["tx"])
    for k in ("chainId", "nonce", "gas", "value", "maxFeePerGas", "maxPriorityFeePerGas"):
        tx[k] = int(tx[k], 0) if isinstance(tx[k], str) else tx[k]
    key = bytes.fromhex(req["key"][2:])
    raw = Account.sign_transaction(tx, key).raw_transaction
    best = float("inf")
    for _ in range(req.get("rounds", 3)):
        start = time.perf_counter()
        for _ in range(req["iterations"]):
            Account.sign_transaction(tx, key)
        best = min(best, (time.perf_counter() - start) / req["iterations"])
    print(json.dumps({"us_per_tx": best * 1e6, "raw": "0x" + raw.hex()}))
else:
    from eth_keyfile import extract_key_from_keyfile
    seconds = float("inf")
    for _ in range(3):  # best of three, like the Swift side
        start = time.perf_counter()
        extract_key_from_keyfile(req["path"], req["password"].encode())
        seconds = min(seconds, time.perf_counter() - start)
    # VmHWM: this process's own peak (ru_maxrss would include the spawning parent's peak).
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": seconds, "peak_rss_kib": peak}))
