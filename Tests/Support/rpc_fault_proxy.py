#!/usr/bin/env python3
"""An HTTP forwarding proxy that can die and come back, for the JSONRPC failover tests (stdlib only).

``python rpc_fault_proxy.py UPSTREAM_URL [--port N]`` prints one JSON line ``{"url": …, "pid": …}`` when
ready. ``SIGUSR1``: the endpoint dies (listening socket closed, every open connection reset);
``SIGUSR2``: it comes back on the same port. SIGTERM (or the parent closing our stdin) ends it.
The local chain has no "endpoint down" knob, so this stands in front of it.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

OPEN = set()
DEAD = threading.Event()  # set while the endpoint is dead: requests on surviving connections are dropped
OPEN_LOCK = threading.Lock()
LOCAL = threading.local()


def make_handler(upstream):
    u = urlparse(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            with OPEN_LOCK:
                OPEN.add(self.connection)

        def finish(self):
            with OPEN_LOCK:
                OPEN.discard(self.connection)
            try:
                super().finish()
            except OSError:
                pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if DEAD.is_set():
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            conn = getattr(LOCAL, "conn", None)
            if conn is None:
                conn = LOCAL.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            headers = {"Content-Type": "application/json"}
            if self.headers.get("Accept-Encoding"):
                headers["Accept-Encoding"] = self.headers["Accept-Encoding"]
            try:
                conn.request("POST", u.path or "/", body, headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError:
                LOCAL.conn = None
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(resp.status)
            for k in ("Content-Type", "Content-Encoding", "Retry-After"):
                if resp.getheader(k):
                    self.send_header(k, resp.getheader(k))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main():
    # A parent that launched us from a thread with signals blocked (Foundation.Process from a Swift
    # concurrency thread) passes its mask on: unblock what we must react to.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2])
    ap = argparse.ArgumentParser()
    ap.add_argument("upstream")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    handler = make_handler(args.upstream)
    state = {"server": None}

    def start(port):
        s = ThreadingHTTPServer(("127.0.0.1", port), handler)
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        state["server"] = s
        return s.server_address[1]

    port = start(args.port)

    def die(*_):
        DEAD.set()
        s = state["server"]
        if s is None:
            return
        state["server"] = None
        s.shutdown()
        s.server_close()
        with OPEN_LOCK:
            for c in list(OPEN):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def revive(*_):
        if state["server"] is None:
            start(port)
        DEAD.clear()

    done = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: threading.Thread(target=die).start())
    signal.signal(signal.SIGUSR2, lambda *_: threading.Thread(target=revive).start())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(json.dumps({"url": f"http://127.0.0.1:{port}", "pid": os.getpid()}), flush=True)

    def watch_parent():
        sys.stdin.read()
        done.set()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_parent, daemon=True).start()
    while not done.wait(0.2):
        pass


if __name__ == "__main__":
    sys.exit(main())
