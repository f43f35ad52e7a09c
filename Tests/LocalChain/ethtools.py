"""Small Ethereum helpers shared by the local chain's tests, the scenario tool and the gas benchmark:
a keep-alive JSON-RPC client, transaction signing (eth-account), ABI calls from the compiled artifacts
(eth-abi), and an in-process "Accounts on a Chain" driver for the contract tests. No web3.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
from typing import Any, Optional
from urllib.parse import urlparse

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# EXPANSION_CONTRACTS_OUT points the tests at other artifacts (used by Tests/ContractTests/mutants.py)
CONTRACTS_OUT = os.environ.get("EXPANSION_CONTRACTS_OUT") or os.path.join(REPO, "deploy", "contracts", "out")


class RPCFailure(Exception):
    def __init__(self, error: dict):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")


class HTTPStatusError(Exception):
    def __init__(self, status: int, body: bytes, headers: dict):
        super().__init__(f"HTTP {status}")
        self.status, self.body, self.headers = status, body, headers


class RPC:
    """Minimal JSON-RPC 2.0 client over one keep-alive HTTP/1.1 connection."""

    def __init__(self, url: str, timeout: float = 30, gzip_ok: bool = False):
        u = urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.timeout = timeout
        self.gzip_ok = gzip_ok
        self.conn: Optional[http.client.HTTPConnection] = None
        self._id = 0
        self.last_headers: dict = {}

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def raw(self, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if self.gzip_ok:
            headers["Accept-Encoding"] = "gzip"
        conn = self._connection()
        try:
            conn.request("POST", "/", body, headers)
            resp = conn.getresponse()
            data = resp.read()
        except Exception:
            self.close()
            raise
        self.last_headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        if self.last_headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        if resp.status != 200:
            raise HTTPStatusError(resp.status, data, self.last_headers)
        return json.loads(data) if data else None

    def call(self, method: str, *params) -> Any:
        self._id += 1
        resp = self.raw({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)})
        if "error" in resp:
            raise RPCFailure(resp["error"])
        return resp["result"]

    def batch(self, calls: list[tuple]) -> list:
        payload = []
        for m, *p in calls:
            self._id += 1
            payload.append({"jsonrpc": "2.0", "id": self._id, "method": m, "params": p})
        resp = self.raw(payload)
        by_id = {r["id"]: r for r in resp}
        return [by_id[p["id"]] for p in payload]


def hexint(x: str) -> int:
    return int(x, 16)


# ------------------------------------------------------------------------------------------ artifacts / ABI
def load_artifact(name: str) -> dict:
    with open(os.path.join(CONTRACTS_OUT, f"{name}.json")) as fh:
        return json.load(fh)


def _abi_type(inp: dict) -> str:
    t = inp["type"]
    if t.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in inp["components"])
        return f"({inner})" + t[len("tuple"):]
    return t


def fn_signature(entry: dict) -> str:
    return f"{entry['name']}({','.join(_abi_type(i) for i in entry['inputs'])})"


class ContractABI:
    """Encode calls and decode results/events of one contract from its JSON ABI."""

    def __init__(self, abi: list):
        self.abi = abi
        self.functions = {e["name"]: e for e in abi if e["type"] == "function"}
        self.events = {e["name"]: e for e in abi if e["type"] == "event"}
        self.constructor = next((e for e in abi if e["type"] == "constructor"), {"inputs": []})
        self.topics = {keccak(text=fn_signature(e)): e for e in self.events.values()}

    def encode_call(self, name: str, *args) -> bytes:
        e = self.functions[name]
        types = [_abi_type(i) for i in e["inputs"]]
        return keccak(text=fn_signature(e))[:4] + abi_encode(types, list(args))

    def encode_constructor(self, *args) -> bytes:
        return abi_encode([_abi_type(i) for i in self.constructor["inputs"]], list(args))

    def decode_result(self, name: str, data: bytes):
        e = self.functions[name]
        out = abi_decode([_abi_type(o) for o in e["outputs"]], data)
        return out[0] if len(out) == 1 else out

    def topic0(self, event: str) -> bytes:
        return keccak(text=fn_signature(self.events[event]))

    def decode_log(self, topics: list[bytes], data: bytes) -> tuple[str, dict]:
        e = self.topics.get(topics[0])
        if e is None:
            raise KeyError("unknown event")
        indexed = [i for i in e["inputs"] if i.get("indexed")]
        plain = [i for i in e["inputs"] if not i.get("indexed")]
        vals = {}
        for inp, t in zip(indexed, topics[1:]):
            vals[inp["name"]] = abi_decode([_abi_type(inp)], t)[0]
        for inp, v in zip(plain, abi_decode([_abi_type(i) for i in plain], data)):
            vals[inp["name"]] = v
        return e["name"], vals


def sign_tx(key: bytes, tx: dict) -> bytes:
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def checksum(a: bytes | str) -> str:
    return to_checksum_address(a)
