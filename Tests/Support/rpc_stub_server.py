#!/usr/bin/env python3
"""Scripted JSON-RPC HTTP stub for the JSONRPC Swift tests (stdlib only).

Start: ``python rpc_stub_server.py [--port N] [--tls CERT KEY]`` prints one JSON line ``{"url": "http://127.0.0.1:PORT"}``
when ready and serves until SIGTERM. HTTP/1.1 keep-alive, Nagle disabled, gzip when the client accepts it.

Behaviour is chosen by the URL path, a list of ``/``-separated directives, so each test owns a fresh
path (start it with a unique token) and its own counters:

  429xN / 503xN       the first N requests on this path get HTTP 429 / 503 (``ra=S`` adds Retry-After: S)
  dropxN              the first N requests: connection closed without an answer
  truncxN             the first N requests: Content-Length announced, half the body sent, connection closed
  cutxN               the first N requests: no Content-Length, half the body, connection closed
  down=A-B            requests number A..B (1-based) on this path are dropped (an endpoint that dies and returns)
  slow=MS             every answer is delayed MS milliseconds
  huge=BYTES          answers with a valid JSON-RPC string result of about BYTES bytes
  bad=NAME            answers with the malformed body NAME (see BAD below), always
  chain=N             eth_chainId answers N
  head=N              the synthetic chain's head (default 5000)
  rangecap=N          eth_getLogs refuses more than N blocks
  resultcap=N         eth_getLogs refuses answers with more than N logs
  style=S             the refusal texts: infura | alchemy | quicknode | geth | ankr (see refuse())
  batchmissing        batch answers omit the item of the last request
  batchreverse        batch answers come in reverse order
  ping                logs look like a real event: topic0 = keccak("Ping(uint256,uint256)"), topic1 = the
                      block number, data = one word (needs eth_utils, i.e. the project venv)
  forkxN              the first N requests on this path: eth_getLogs logs carry a wrong (other-fork) blockHash

Synthetic chain: block b has (b * 7 + 3) % 4 logs; everything derives from b, so ground truth is
``stub_allLogs(from, to)`` (no caps). ``stub_requests`` lists the eth_getLogs ranges asked on this path;
``web3_clientVersion`` answers the Accept-Encoding header it received.
"""
import argparse
import gzip
import hashlib
import json
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}     # path -> requests seen
REQUESTS = {}   # path -> [(from, to)] of eth_getLogs

BAD = {
    "notjson": b"<html>502 Bad Gateway</html>",
    "empty": b"",
    "array": b"[]",
    "noresult": b'{"jsonrpc":"2.0","id":1}',
    "both": b'{"jsonrpc":"2.0","id":1,"result":"0x1","error":{"code":1,"message":"x"}}',
    "wrongid": b'{"jsonrpc":"2.0","id":999999,"result":"0x1"}',
    "number": b'{"jsonrpc":"2.0","id":1,"result":12}',
    "badhex": b'{"jsonrpc":"2.0","id":1,"result":"0xzz"}',
    "null": b'{"jsonrpc":"2.0","id":1,"result":null}',
    "trailing": b'{"jsonrpc":"2.0","id":1,"result":"0x1"} x',
    "deep": b'{"jsonrpc":"2.0","id":1,"result":' + b"[" * 5000 + b"]" * 5000 + b"}",
    "logmissing": b'{"jsonrpc":"2.0","id":1,"result":[{"address":"0x' + b"11" * 20 + b'","topics":[],"data":"0x"}]}',
    "logtype": b'{"jsonrpc":"2.0","id":1,"result":[{"address":"0x' + b"11" * 20 + b'","topics":"0x","data":"0x",'
               b'"blockNumber":"0x1","blockHash":"0x' + b"22" * 32 + b'","transactionHash":"0x' + b"33" * 32 +
               b'","transactionIndex":"0x0","logIndex":"0x0"}]}',
    "errornocode": b'{"jsonrpc":"2.0","id":1,"error":{"message":"boom"}}',
    "truncated": b'{"jsonrpc":"2.0","id":1,"result":[{"address":"0x1111',
}


def q(n):
    return hex(n)


def block_hash(b):
    return "0x" + hashlib.sha256(b"block" + str(b).encode()).hexdigest()


def ping_topic():
    from eth_utils import keccak
    return "0x" + keccak(text="Ping(uint256,uint256)").hex()


def logs_of_block(b, ping=False):
    out = []
    for i in range((b * 7 + 3) % 4):
        tx = "0x" + hashlib.sha256(b"tx" + str(b).encode() + bytes([i])).hexdigest()
        out.append({
            "address": "0x" + ("ab" if i % 2 else "cd") * 20,
            "topics": [ping_topic() if ping else "0x" + hashlib.sha256(b"topic").hexdigest(), "0x" + format(b, "064x")],
            "data": "0x" + format(b * 1000 + i, "064x"),
            "blockNumber": q(b), "blockHash": block_hash(b), "transactionHash": tx,
            "transactionIndex": q(i), "logIndex": q(i), "removed": False,
        })
    return out


def refuse(style, kind, lo, hi, cap, suggest_to):
    if style == "alchemy":
        return -32602, ("Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no "
                        "limit on the response size, or you can request any block range with a cap of 10K logs in the "
                        f"response. Based on your parameters, this block range should work: [{q(lo)}, {q(suggest_to)}]")
    if style == "quicknode":
        return -32614, f"eth_getLogs is limited to a {cap} range" if kind == "range" else "eth_getLogs response too large"
    if style == "geth":
        return -32000, (f"exceed maximum block range: {cap}" if kind == "range" else "query timeout exceeded")
    if style == "ankr":
        return -32062, ("block range is too wide" if kind == "range" else f"too many logs in response, more than {cap}")
    # infura
    if kind == "range":
        return -32602, f"query block range exceeds limit of {cap}"
    return -32005, f"query returned more than {cap} results. Try with this block range [{q(lo)}, {q(suggest_to)}]."


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = self.path
        directives = {}
        for part in path.strip("/").split("/"):
            if "=" in part:
                k, v = part.split("=", 1)
                directives[k] = v
            elif "x" in part and part.split("x", 1)[1].isdigit():
                k, v = part.split("x", 1)
                directives[k + "x"] = int(v)
            else:
                directives[part] = True
        with LOCK:
            COUNTS[path] = COUNTS.get(path, 0) + 1
            n = COUNTS[path]
        self.n = n
        if "slow" in directives:
            time.sleep(int(directives["slow"]) / 1000)
        if "down" in directives:
            a, b = (int(x) for x in directives["down"].split("-"))
            if a <= n <= b:
                return self.drop()
        for code in ("429", "503"):
            if n <= directives.get(code + "x", 0):
                headers = {"Retry-After": directives["ra"]} if "ra" in directives else {}
                return self.send(code_status=int(code), body=b'{"error":"slow down"}', headers=headers)
        if n <= directives.get("dropx", 0):
            return self.drop()
        body = self.answer(raw, directives, path)
        if n <= directives.get("truncx", 0):
            return self.partial(body, with_length=True)
        if n <= directives.get("cutx", 0):
            return self.partial(body, with_length=False)
        self.send(200, body)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def partial(self, body, with_length):
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if with_length:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.drop()

    def send(self, code_status, body, headers=None):
        if "gzip" in (self.headers.get("Accept-Encoding") or "") and len(body) > 0 and code_status == 200:
            body = gzip.compress(body, compresslevel=1)
            headers = dict(headers or {}, **{"Content-Encoding": "gzip"})
        self.send_response(code_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def answer(self, raw, d, path):
        if "bad" in d:
            return BAD[d["bad"]]
        try:
            req = json.loads(raw)
        except ValueError:
            return json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}).encode()
        if isinstance(req, list):
            out = [self.one(r, d, path) for r in req]
            if "batchmissing" in d and out:
                out = out[:-1]
            if "batchreverse" in d:
                out.reverse()
            return json.dumps(out).encode()
        return json.dumps(self.one(req, d, path)).encode()

    def one(self, req, d, path):
        rid = req.get("id")
        try:
            return {"jsonrpc": "2.0", "id": rid, "result": self.method(req["method"], req.get("params", []), d, path)}
        except RPCFail as e:
            err = {"code": e.code, "message": e.message}
            if e.data is not None:
                err["data"] = e.data
            return {"jsonrpc": "2.0", "id": rid, "error": err}

    def method(self, m, p, d, path):
        head = int(d.get("head", 5000))
        if "huge" in d:
            return "x" * int(d["huge"])
        if m == "eth_chainId":
            return q(int(d.get("chain", 1337)))
        if m == "eth_blockNumber":
            return q(head)
        if m == "web3_clientVersion":
            return self.headers.get("Accept-Encoding") or ""
        if m == "eth_getBlockByNumber":
            b = int(p[0], 16)
            if b > head:
                return None
            return {"number": q(b), "hash": block_hash(b), "parentHash": block_hash(b - 1) if b else "0x" + "00" * 32,
                    "timestamp": q(1700000000 + b), "gasLimit": q(30000000), "gasUsed": q(0), "baseFeePerGas": q(7),
                    "miner": "0x" + "00" * 20, "transactions": []}
        if m == "eth_call":
            raise RPCFail(3, "execution reverted: nope", "0x08c379a0" + "00" * 31 + "20" + "00" * 31 + "04" + "6e6f7065" + "00" * 28)
        if m == "eth_estimateGas":
            raise RPCFail(-32602, "invalid argument 0: json: cannot unmarshal hex string without 0x prefix")
        if m == "stub_allLogs":
            return [lg for b in range(int(p[0]), int(p[1]) + 1) for lg in logs_of_block(b)]
        if m == "stub_requests":
            with LOCK:
                return REQUESTS.get(path, [])
        if m == "eth_getLogs":
            f = p[0]
            lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            with LOCK:
                REQUESTS.setdefault(path, []).append([lo, hi])
            if lo > hi or hi > head:
                raise RPCFail(-32602, "invalid block range params")
            style = d.get("style", "infura")
            if "rangecap" in d and hi - lo + 1 > int(d["rangecap"]):
                cap = int(d["rangecap"])
                code, msg = refuse(style, "range", lo, hi, cap, lo + cap - 1)
                raise RPCFail(code, msg)
            logs = [lg for b in range(lo, hi + 1) for lg in logs_of_block(b, "ping" in d)]
            wanted = f.get("address")
            if wanted is not None:
                wanted = {a.lower() for a in (wanted if isinstance(wanted, list) else [wanted])}
                logs = [lg for lg in logs if lg["address"] in wanted]
            if "resultcap" in d and len(logs) > int(d["resultcap"]):
                cap = int(d["resultcap"])
                # the last block such that lo..to holds at most cap logs (at least lo)
                count, to = 0, lo
                for b in range(lo, hi + 1):
                    count += len(logs_of_block(b))
                    if count > cap:
                        break
                    to = b
                code, msg = refuse(style, "results", lo, hi, cap, to)
                raise RPCFail(code, msg)
            if self.n <= d.get("forkx", 0):
                for lg in logs:
                    lg["blockHash"] = "0x" + "ee" * 32
            return logs
        raise RPCFail(-32601, f"the method {m} does not exist/is not available")


class RPCFail(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def main():
    # A parent that launched us from a thread with signals blocked (Foundation.Process from a Swift
    # concurrency thread) passes its mask on: unblock what we must react to.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2])
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate and key")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    scheme = "http"
    if args.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    print(json.dumps({"url": f"{scheme}://127.0.0.1:{server.server_address[1]}"}), flush=True)

    def watch_parent():  # the test process holds our stdin: when it exits (even killed), we exit too
        sys.stdin.read()
        server.shutdown()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_parent, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
