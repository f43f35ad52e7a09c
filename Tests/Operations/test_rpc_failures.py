"""A dead or lying RPC, seen from the real processes (issue 17, items 5 and 7).

A fault proxy stands between the keeper and the local chain (Tests/LocalChain) and switches, at run time,
between forwarding, a blackhole (accepts, reads the request, never answers) and an HTML page (HTTP 200,
text/html). Against it, with `--rpc-timeout 2`:

- `run --dry-run` (the file says dry_run = false): `expansion_keeper_dry_run 1`, `min_balance_eth` exported,
  the bound port of `listen = 127.0.0.1:0` logged;
- blackholed: each failing poll is logged with the endpoint and the reason, WATCHDOG=1 keeps coming,
  /readyz turns 503 and /healthz names the failing endpoint, within a few polls;
- `status` and `audit` answer within the bound, naming the failure (blackhole and HTML);
- SIGTERM while blackholed: exit 0 within 10 s;
- the final error of `run` is a JSON log line under --log-format json.

The binary: $EXPANSION_KEEPER_BIN, else <repo>/.build/debug/expansion-keeper (as test_operations.py).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_operations import PY, ROOT, NotifyListener, binary, chain, http, run, scenario, value  # noqa: F401

TIMEOUT = 2  # --rpc-timeout for every process here


class FaultProxy:
    """mode: 'forward' (to the chain), 'blackhole' (never answers) or 'html' (200 text/html)."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.mode = "forward"
        self.closed = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = proxy.mode
                if mode == "blackhole":
                    while proxy.mode == "blackhole" and not proxy.closed.is_set():
                        time.sleep(0.05)
                    self.close_connection = True
                    return
                if mode == "html":
                    page = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>Sign in</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                req = urllib.request.Request(proxy.upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=30) as r:
                    answer = r.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def proxy(chain):
    p = FaultProxy(chain["url"])
    yield p
    p.close()


def timed(args: list[str], env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    r = run(args, timeout=60, env=env)
    return time.monotonic() - start, r


def wait_until(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = pred()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"{what} not seen within {timeout} s (last: {last!r})")


def test_final_error_of_run_is_a_json_log_line(tmp_path):
    r = run([binary(), "run", "--config", str(tmp_path / "missing.toml"), "--log-format", "json"], timeout=30)
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines, r.stderr
    for l in lines:
        obj = json.loads(l)  # every line, the final error included, is JSON
    assert obj["level"] == "critical" and obj["msg"] == "exiting on error", obj
    assert "missing.toml" in obj["error"], obj


def test_dead_and_lying_rpc(chain, proxy, tmp_path):
    exe = binary()
    state = str(tmp_path / "state.json")
    (tmp_path / "key.hex").write_text(secrets.token_hex(32) + "\n")
    (tmp_path / "password").write_text("rpc-failures-password\n")
    os.chmod(tmp_path / "password", 0o600)
    r = run([exe, "keys", "import", "--keystore-dir", str(tmp_path / "ks"), "--password-file", str(tmp_path / "password"),
             "--private-key-file", str(tmp_path / "key.hex"), "--light"])
    assert r.returncode == 0, r.stderr
    keeper = r.stdout.split()[0]
    keystore = next(str(tmp_path / "ks" / f) for f in os.listdir(tmp_path / "ks") if not f.startswith("."))
    deployed = scenario(chain["url"], state, "deploy", "--keeper", keeper)
    cfg = tmp_path / "keeper.toml"
    cfg.write_text(f"""
[chain]
rpc_urls = ["{proxy.url}"]
chain_id = {chain["chain_id"]}
confirmations = 2
poll_interval_ms = 200
start_block = {deployed["deploy_block"]}

[contracts]
staking = "{deployed["staking"]}"
staking_abi = "{ROOT}/ABI/MockVeniceStaking.json"
treasury = "{deployed["treasury"]}"
treasury_deploy_block = {deployed["deploy_block"]}

[keeper]
data_dir = "{tmp_path}/data"
keystore = "{keystore}"
password_file = "{tmp_path}/password"
min_balance_eth = "0.25"

[metrics]
listen = "127.0.0.1:0"
""")
    notify = NotifyListener(str(tmp_path / "notify.sock"))
    log_path = tmp_path / "keeper.log"
    log = open(log_path, "w")
    env = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="30000000")
    daemon = subprocess.Popen([exe, "run", "--dry-run", "--config", str(cfg), "--log-format", "json", "--rpc-timeout", str(TIMEOUT)],
                              stdout=log, stderr=subprocess.STDOUT, env=env)

    def records():
        out = []
        for l in log_path.read_text().splitlines():
            if l.strip():
                out.append(json.loads(l))
        return out

    try:
        # The bound port of listen = 127.0.0.1:0 is logged.
        listening = wait_until(lambda: next((r for r in records() if r["msg"] == "metrics server listening"), None), 20,
                               "the 'metrics server listening' line")
        port = int(listening["port"])
        assert port > 0 and listening["host"] == "127.0.0.1"
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http(base + "/readyz")[0] == 200, 30, "/readyz 200")
        scrape = http(base + "/metrics")[1]
        assert value(scrape, "expansion_keeper_dry_run") == 1, "run --dry-run must export dry_run 1"
        assert value(scrape, "expansion_keeper_min_balance_eth") == 0.25

        # Blackholed: the next polls fail within the bound, logged with the endpoint and the reason.
        proxy.mode = "blackhole"
        cut = time.monotonic()
        body = wait_until(lambda: (lambda s: s[1] if s[0] == 503 and "no usable answer" in s[1] else None)(http(base + "/readyz")),
                          4 * TIMEOUT + 5, "/readyz 503 naming the failure")
        readyz_after = time.monotonic() - cut
        assert "no usable answer within 2 s" in body, body
        healthz = http(base + "/healthz")
        assert healthz[0] == 200 and f"degraded: RPC endpoint {proxy.url} failing" in healthz[1], healthz
        failed = wait_until(lambda: next((r for r in records() if r["msg"] == "ingest step failed; retrying"), None), 10,
                            "a logged failing poll")
        assert failed["rpc"] == proxy.url and proxy.url in failed["error"], failed
        assert failed["level"] == "error"
        pings_from = time.monotonic()
        wait_until(lambda: [t for t, m in list(notify.messages) if m == "WATCHDOG=1" and t > pings_from], 3 * TIMEOUT + 3,
                   "WATCHDOG=1 while the RPC is blackholed")
        print(f"blackholed: /readyz 503 after {readyz_after:.1f} s")

        # Operator commands answer within the bound, naming the failure.
        took, r = timed([exe, "status", "--config", str(cfg), "--rpc-timeout", str(TIMEOUT)])
        print(f"status against the blackhole: {took:.1f} s")
        assert took < TIMEOUT + 6, took
        assert "no usable answer within 2 s" in r.stdout + r.stderr, r.stdout + r.stderr
        took, r = timed([exe, "audit", "--config", str(cfg)], env=dict(os.environ, EXPANSION_KEEPER_RPC_TIMEOUT=str(TIMEOUT)))
        print(f"audit against the blackhole: {took:.1f} s (exit {r.returncode})")
        assert took < TIMEOUT + 6, took
        assert r.returncode == 2 and proxy.url in r.stderr and "no usable answer" in r.stderr, r.stdout + r.stderr

        # HTML instead of JSON-RPC: a named error, not a hang.
        proxy.mode = "html"
        took, r = timed([exe, "status", "--config", str(cfg), "--rpc-timeout", str(TIMEOUT)])
        print(f"status against the HTML page: {took:.1f} s")
        assert took < TIMEOUT + 6, took
        assert "answered HTML, not JSON-RPC" in r.stdout + r.stderr, r.stdout + r.stderr
        wait_until(lambda: "answered HTML, not JSON-RPC" in http(base + "/healthz")[1], 4 * TIMEOUT + 5,
                   "/healthz naming the HTML answer")
        assert http(base + "/readyz")[0] == 503

        # SIGTERM while the RPC never answers: out within 10 s.
        proxy.mode = "blackhole"
        time.sleep(0.5)
        assert daemon.poll() is None, ("the daemon exited before SIGTERM", daemon.returncode, log_path.read_text()[-3000:])
        start = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(15)
        took = time.monotonic() - start
        print(f"SIGTERM -> exit with a blackholed RPC: {took:.1f} s (exit {code})")
        assert took < 10 and code == 0, (took, code, log_path.read_text()[-3000:])
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()
        notify.close()
    for r in records():
        assert {"ts", "level", "label", "msg"} <= r.keys(), r
