#!/usr/bin/env python3
"""Independent oracle for EthereumSigning's differential tests (eth-account 0.14, eth-keyfile 0.10, eth-keys).

Reads one JSON request per line on stdin and writes one JSON answer per line on stdout:
  {"op": "sign_tx", "key": "0x..", "tx": {eth-account fields}, "ours": "0x raw"}
      -> {"raw": eth-account's raw signed tx, "hash": its hash, "ours_sender": sender recovered from "ours",
          "ours_fields": decoded fields of "ours"}
  {"op": "keystore_create", "key": "0x..", "password": "..", "kdf": "scrypt"|"pbkdf2", "work": n or c}
      -> {"json": keystore text written by eth-keyfile}
  {"op": "keystore_decrypt", "json": "..", "password": ".."} -> {"key": "0x.."} or {"error": ".."}
  {"op": "personal_sign", "key": "0x..", "message": "0x.."} -> {"signature": "0x.." (r||s||v, v=27/28)}
  {"op": "recover_message", "message": "0x..", "signature": "0x.."} -> {"address": ".."}
  {"op": "scrypt", "password": "0x..", "salt": "0x..", "n": N, "r": r, "p": p, "dklen": len} -> {"key": "0x.."} (pycryptodome)
"""
import json
import sys

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.typed_transactions import TypedTransaction
from eth_keyfile import create_keyfile_json, decode_keyfile_json
from eth_keys import keys
from hexbytes import HexBytes


def b(h):
    return bytes.fromhex(h[2:] if h.startswith("0x") else h)


def sign_tx(req):
    tx = dict(req["tx"])
    for k in ("chainId", "nonce", "gas", "value", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas"):
        if k in tx:
            tx[k] = int(tx[k], 0) if isinstance(tx[k], str) else tx[k]
    if "type" in tx:
        tx["type"] = int(tx["type"])
    signed = Account.sign_transaction(tx, b(req["key"]))
    ours = req["ours"]
    sender = Account.recover_transaction(ours)
    raw = b(ours)
    if raw[0] >= 0xC0:
        fields = {"type": 0}
    else:
        fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        fields = {"type": raw[0], "chainId": fields["chainId"], "nonce": fields["nonce"]}
    return {"raw": "0x" + signed.raw_transaction.hex(), "hash": "0x" + signed.hash.hex(),
            "ours_sender": sender, "ours_fields": fields}


def main():
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "sign_tx":
                out = sign_tx(req)
            elif op == "keystore_create":
                out = {"json": json.dumps(create_keyfile_json(b(req["key"]), req["password"].encode(),
                                                              kdf=req["kdf"], iterations=req["work"]))}
            elif op == "keystore_decrypt":
                try:
                    key = decode_keyfile_json(json.loads(req["json"]), req["password"].encode())
                    out = {"key": "0x" + bytes(key).hex()}
                except Exception as e:  # report, the Swift side decides
                    out = {"error": f"{type(e).__name__}: {e}"}
            elif op == "personal_sign":
                signed = Account.sign_message(encode_defunct(primitive=b(req["message"])), b(req["key"]))
                out = {"signature": "0x" + signed.signature.hex()}
            elif op == "recover_message":
                out = {"address": Account.recover_message(encode_defunct(primitive=b(req["message"])),
                                                          signature=b(req["signature"]))}
            elif op == "scrypt":
                from Crypto.Protocol.KDF import scrypt
                out = {"key": "0x" + scrypt(b(req["password"]), b(req["salt"]), req["dklen"], N=req["n"], r=req["r"], p=req["p"]).hex()}
            elif op == "address":
                out = {"address": keys.PrivateKey(b(req["key"])).public_key.to_checksum_address()}
            else:
                out = {"error": f"unknown op {op}"}
        except Exception as e:
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
