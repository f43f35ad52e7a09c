#!/usr/bin/env python3
"""Local JSON-RPC chain for Expansion Keeper tests: py-evm behind a threaded HTTP/1.1 server on 127.0.0.1.

Start contract (see README.md):
    .venv/bin/python Tests/LocalChain/localchain.py serve --port 0 [--chain-id N] [fault options...]
prints exactly one JSON line when ready:
    {"url": "http://127.0.0.1:PORT", "chain_id": N, "accounts": [{"address": ..., "private_key": ...}, ...], ...}
and serves until SIGTERM/SIGINT (exit status 0).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chain import DEFAULT_CHAIN_ID, Chain  # noqa: E402
from rpc import PARSE_ERROR, Faults, Node, is_control  # noqa: E402

MAX_BODY = 64 * 1024 * 1024


def _json_bytes(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "LocalChain/1.0"
    node: Node  # set on the subclass by make_server

    def log_message(self, *args):  # quiet: the keeper's tests read our stdout/stderr
        pass

    def _send(self, status: int, body: bytes, extra: Optional[dict] = None, truncate: bool = False):
        use_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if use_gzip:
            body = gzip.compress(body, compresslevel=1)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self._abort_connection()
            return
        self.wfile.write(body)

    def _abort_connection(self):
        """Close the socket under the client (dropped connection / truncated body faults)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self._send(405, _json_bytes({"jsonrpc": "2.0", "id": None,
                                     "error": {"code": -32600, "message": "use POST"}}))

    def do_POST(self):
        node = self.node
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(413, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"body too large"}}')
            return
        raw = self.rfile.read(length)
        if (self.headers.get("Content-Encoding") or "") == "gzip":
            try:
                raw = gzip.decompress(raw)
            except OSError:
                raw = b"\xff"
        try:
            req = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            self._send(200, _json_bytes({"jsonrpc": "2.0", "id": None,
                                         "error": {"code": PARSE_ERROR, "message": "parse error"}}))
            return
        if isinstance(req, list):
            control = bool(req) and all(isinstance(r, dict) and is_control(r.get("method")) for r in req)
        else:
            control = isinstance(req, dict) and is_control(req.get("method"))

        truncate = False
        if not control:
            with node.lock:
                f = node.faults
                node.stats_http["requests"] += 1
                latency = f.latency_ms
                action = None
                if f.drop_connections > 0:
                    f.drop_connections -= 1
                    node.stats_http["dropped"] += 1
                    action = "drop"
                elif f.http_429 > 0:
                    f.http_429 -= 1
                    node.stats_http["http_429"] += 1
                    action = 429
                elif f.http_503 > 0:
                    f.http_503 -= 1
                    node.stats_http["http_503"] += 1
                    action = 503
                elif f.truncate_responses > 0:
                    f.truncate_responses -= 1
                    node.stats_http["truncated"] += 1
                    truncate = True
                retry_after = f.retry_after
            if latency:
                time.sleep(latency / 1000)
            if action == "drop":
                self._abort_connection()
                return
            if action in (429, 503):
                extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                if action == 429:
                    body = {"jsonrpc": "2.0", "id": None,
                            "error": {"code": -32005, "message": "Too Many Requests"}}
                else:
                    body = {"jsonrpc": "2.0", "id": None,
                            "error": {"code": -32603, "message": "Service Unavailable"}}
                self._send(action, _json_bytes(body), extra)
                return

        if isinstance(req, list):
            if not req:
                resp = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "empty batch"}}
            else:
                resp = [r for r in (node.handle(x) for x in req) if r is not None]
        else:
            resp = node.handle(req)
        if self.path.rstrip("/") == "/lying":
            _lie_about_amounts(req, resp)
        if resp is None or resp == []:
            self._send(200, b"", truncate=False)
            return
        self._send(200, _json_bytes(resp), truncate=truncate)


def _lie_about_amounts(req, resp) -> None:
    """The `/lying` endpoint (same chain, same node): a provider that alters data. In every eth_getLogs answer
    the first log with a data word gets its first word tripled — same block hash, log index and transaction,
    another amount. Everything else is answered honestly."""
    pairs = zip(req, resp) if isinstance(req, list) and isinstance(resp, list) else [(req, resp)]
    for q_, r in pairs:
        if not isinstance(q_, dict) or q_.get("method") != "eth_getLogs" or not isinstance(r, dict):
            continue
        for lg in r.get("result") or []:
            data = lg.get("data", "0x")
            if len(data) >= 66:
                lg["data"] = "0x" + format(int(data[2:66], 16) * 3 % 2**256, "064x") + data[66:]
                break


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(node: Node, host: str = "127.0.0.1", port: int = 0) -> Server:
    handler = type("BoundHandler", (Handler,), {"node": node})
    return Server((host, port), handler)


class LocalChainServer:
    """In-process server for Python tests: ``with LocalChainServer() as s: s.url``."""

    def __init__(self, chain: Optional[Chain] = None, faults: Optional[Faults] = None, **chain_kwargs):
        self.chain = chain or Chain(**chain_kwargs)
        self.node = Node(self.chain, faults)
        self.httpd = make_server(self.node)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.node.stop()
        self.httpd.shutdown()
        self.httpd.server_close()


def _add_fault_flags(p: argparse.ArgumentParser) -> None:
    for f in fields(Faults):
        flag = "--" + f.name.replace("_", "-")
        typ = str(f.type)
        if "bool" in typ:
            if f.default:
                p.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false",
                               default=None, help=f"fault knob {f.name}=false")
            else:
                p.add_argument(flag, dest=f.name, action="store_true", default=None,
                               help=f"fault knob {f.name}=true")
        elif "int" in typ:
            p.add_argument(flag, dest=f.name, type=int, default=None, metavar="N", help=f"fault knob {f.name}")
        else:
            p.add_argument(flag, dest=f.name, default=None, help=f"fault knob {f.name}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="localchain.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve a fresh chain over JSON-RPC until SIGTERM/SIGINT")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8545, help="0 picks a free port (read it from the ready line)")
    s.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    s.add_argument("--accounts", type=int, default=10, help="dev accounts with private keys 1..N")
    s.add_argument("--no-history-contract", action="store_true",
                   help="no EIP-2935 history contract (blockhash only reaches 256 blocks back)")
    s.add_argument("--no-automine", action="store_true", help="start with automine off")
    s.add_argument("--block-time", type=float, default=0,
                   help="also mine a block every SECONDS (interval mining), 0 = off")
    s.add_argument("--faults", default=None, metavar="JSON", help="fault knobs as one JSON object")
    _add_fault_flags(s)
    args = ap.parse_args(argv)

    faults = Faults()
    if args.faults:
        faults.update(json.loads(args.faults))
    faults.update({f.name: getattr(args, f.name) for f in fields(Faults) if getattr(args, f.name) is not None})

    chain = Chain(chain_id=args.chain_id, accounts=args.accounts, history_contract=not args.no_history_contract)
    chain.automine = not args.no_automine
    node = Node(chain, faults)
    if args.block_time > 0:
        node.m_evm_setIntervalMining(int(args.block_time * 1000))
    httpd = make_server(node, args.host, args.port)
    host, port = httpd.server_address[:2]
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    # A parent that spawned us from a thread with these signals blocked (Foundation's Process under
    # Swift concurrency does) passes the mask on; unblock them or SIGTERM would never stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    ready = {
        "url": f"http://{host}:{port}",
        "chain_id": chain.chain_id,
        "accounts": node.m_test_accounts(),
        "pid": os.getpid(),
        "history_contract": chain.history_contract,
        "automine": chain.automine,
        "faults": faults.as_dict(),
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    node.stop()
    httpd.shutdown()
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
