"""Operations tests that need system tools or the built daemon (issue 8).

- promtool: `check rules` and `test rules` on deploy/prometheus/alerts.yml, `check config` on scrape.yml.
- systemd-analyze: `verify` on the unit pointed at the built binary; `security --offline=true` (exposure <= 2.0).
- End to end on the local chain (Tests/LocalChain): the real `expansion-keeper run` with a test NOTIFY_SOCKET and
  --log-format json: READY/STATUS/WATCHDOG; a scrape passes `promtool check metrics` and has exactly the golden
  families and types; values move with the scenario (rewards, stakers, routed claims == Routed logs on chain);
  /readyz flips when lagging, when the RPC endpoint fails and when halted by a reorg beyond the window, /healthz
  when the loop hangs (a slow RPC) and WATCHDOG stops meanwhile; SIGHUP re-reads the config (safe subset applied,
  other changes named); SIGTERM sends STOPPING=1 and exits 0; every
  log line is JSON and the keeper's private key (hex) appears nowhere in the run's output.

The daemon binary: $EXPANSION_KEEPER_BIN, else <repo>/.build/debug/expansion-keeper (deploy/dev/test.sh builds it).
Missing tools or binary FAIL the tests with a message (setup: deploy/dev/setup.sh installs prometheus and systemd).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PY = os.environ.get("EXPANSION_KEEPER_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
sys.path.insert(0, os.path.join(ROOT, "Tests", "LocalChain"))

from ethtools import RPC  # noqa: E402


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: run deploy/dev/setup.sh (installs the Debian packages prometheus and systemd)")
    return path


def binary() -> str:
    path = os.environ.get("EXPANSION_KEEPER_BIN") or os.path.join(ROOT, ".build", "debug", "expansion-keeper")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: run `swift build` first (deploy/dev/test.sh does) or set EXPANSION_KEEPER_BIN")
    return path


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


# ---------------------------------------------------------------- promtool / systemd-analyze


def test_alert_rules_check_and_unit_tests():
    promtool = tool("promtool")
    r = run([promtool, "check", "rules", os.path.join(ROOT, "deploy/prometheus/alerts.yml")])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 16 rules found" in r.stdout, r.stdout
    r = run([promtool, "test", "rules", os.path.join(ROOT, "deploy/prometheus/tests/alerts_test.yml")])
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_every_alert_has_summary_runbook_and_a_unit_test():
    text = open(os.path.join(ROOT, "deploy/prometheus/alerts.yml")).read()
    tests = open(os.path.join(ROOT, "deploy/prometheus/tests/alerts_test.yml")).read()
    runbook = open(os.path.join(ROOT, "deploy/docs/runbook.md")).read()
    alerts = re.findall(r"- alert: (\w+)", text)
    assert len(alerts) == 16
    for a in alerts:
        assert f"alertname: {a}\n" in tests, f"{a} has no promtool unit test"
        anchor = "alert-" + a.lower()
        assert f"deploy/docs/runbook.md#{anchor}" in text, f"{a} has no runbook link"
        assert f"#### Alert: {a}\n" in runbook, f"deploy/docs/runbook.md has no entry for {a}"
    assert text.count("summary:") == len(alerts)


def test_scrape_example_is_valid(tmp_path):
    promtool = tool("promtool")
    scrape = open(os.path.join(ROOT, "deploy/prometheus/scrape.yml")).read()
    shutil.copy(os.path.join(ROOT, "deploy/prometheus/alerts.yml"), tmp_path / "alerts.yml")
    (tmp_path / "scrape.yml").write_text(scrape.replace("/etc/prometheus/rules/expansion-keeper-alerts.yml", "alerts.yml"))
    r = run([promtool, "check", "config", str(tmp_path / "scrape.yml")])
    assert r.returncode == 0, r.stdout + r.stderr


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    analyze = tool("systemd-analyze")
    unit = open(os.path.join(ROOT, "deploy/systemd/expansion-keeper.service")).read()
    for needed in ["Type=notify", "WatchdogSec=", "LoadCredential=keeper-password:", "StateDirectory=", "ConfigurationDirectory=",
                   "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                   "PrivateDevices=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
                   "CapabilityBoundingSet=\n", "MemoryDenyWriteExecute=yes", "User=expansion-keeper"]:
        assert needed in unit, needed
    path = tmp_path / "expansion-keeper.service"
    path.write_text(unit.replace("/usr/local/bin/expansion-keeper", binary()))
    r = run([analyze, "verify", str(path)])
    assert r.returncode == 0 and r.stderr.strip() == "", r.stdout + r.stderr
    r = run([analyze, "security", "--offline=true", str(path)])
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    assert m, r.stdout[-2000:] + r.stderr
    print(f"systemd-analyze security exposure: {m.group(1)}")
    assert float(m.group(1)) <= 2.0, r.stdout[-3000:]
    # A unit that breaks a directive fails verify (the check can fail).
    path.write_text(unit.replace("Type=notify", "Type=notifyy").replace("/usr/local/bin/expansion-keeper", binary()))
    r = run([analyze, "verify", str(path)])
    assert "notifyy" in r.stdout + r.stderr


# ---------------------------------------------------------------- end to end


class NotifyListener:
    """A bound AF_UNIX datagram socket standing in for systemd: records (time, message)."""

    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def texts(self) -> list[str]:
        return [t for _, t in list(self.messages)]

    def wait_for(self, pred, timeout: float, what: str) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t in self.texts():
                if pred(t):
                    return t
            time.sleep(0.05)
        pytest.fail(f"no notify message {what} within {timeout}s; got {self.texts()[-10:]}")

    def close(self):
        self.stop = True
        self.thread.join(1)
        self.sock.close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def families(scrape: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^# TYPE (\S+) (\S+)$", scrape, flags=re.M)}


def value(scrape: str, series: str) -> float:
    m = re.search(r"^" + re.escape(series) + r" (\S+)$", scrape, flags=re.M)
    assert m, f"{series} not in scrape"
    return float(m.group(1))


def golden() -> dict[str, str]:
    out = {}
    for line in open(os.path.join(ROOT, "Tests/Operations/golden_metrics.txt")):
        if line.strip() and not line.startswith("#"):
            name, kind = line.split()
            out[name] = kind
    return out


def scenario(url: str, state: str, *args: str) -> dict:
    r = run([PY, os.path.join(ROOT, "Tests/LocalChain/scenario.py"), args[0], "--rpc", url, "--state", state, *args[1:]])
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


@pytest.fixture()
def chain():
    p = subprocess.Popen([PY, os.path.join(ROOT, "Tests/LocalChain/localchain.py"), "serve", "--port", "0", "--accounts", "12"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    assert line, "local chain did not start"
    info = json.loads(line)
    yield info
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def test_keeper_end_to_end(chain, tmp_path):
    exe, promtool = binary(), tool("promtool")
    url, rpc = chain["url"], RPC(chain["url"])
    state = str(tmp_path / "state.json")
    key_hex = secrets.token_hex(32)
    # The keeper's key: a fresh random one (so its hex can be grepped for in everything the run printed).
    (tmp_path / "key.hex").write_text(key_hex + "\n")
    (tmp_path / "password").write_text("ops-e2e-password\n")
    os.chmod(tmp_path / "password", 0o600)
    r = run([exe, "keys", "import", "--keystore-dir", str(tmp_path / "ks"), "--password-file", str(tmp_path / "password"),
             "--private-key-file", str(tmp_path / "key.hex"), "--light"])
    assert r.returncode == 0, r.stderr
    keeper = r.stdout.split()[0]
    keystore = next(str(tmp_path / "ks" / f) for f in os.listdir(tmp_path / "ks") if not f.startswith("."))
    (tmp_path / "key.hex").unlink()
    deployed = scenario(url, state, "deploy", "--keeper", keeper)
    r = run([PY, os.path.join(ROOT, "Tests/Support/submit_oracle.py"), "fund", "--url", url, "--to", keeper])
    assert r.returncode == 0, r.stderr
    st = scenario(url, state, "stakers", "--shares", "10000,5000,0")
    claims = scenario(url, state, "claim", "--advance", "60", "--rounds", "2")["claims"]
    assert len(claims) == 6

    port = free_port()
    cfg = tmp_path / "keeper.toml"
    cfg.write_text(f"""
[chain]
rpc_urls = ["{url}"]
chain_id = {chain["chain_id"]}
confirmations = 2
poll_interval_ms = 100
start_block = {deployed["deploy_block"]}
reorg_window = 8
max_ingest_range = 2

[contracts]
staking = "{deployed["staking"]}"
staking_abi = "{ROOT}/ABI/MockVeniceStaking.json"
treasury = "{deployed["treasury"]}"
treasury_deploy_block = {deployed["deploy_block"]}

[keeper]
data_dir = "{tmp_path}/data"
keystore = "{keystore}"
password_file = "{tmp_path}/password"
max_fee_per_gas_gwei = 50.0

[metrics]
listen = "127.0.0.1:{port}"
ready_max_lag_blocks = 4
""")
    notify = NotifyListener(str(tmp_path / "notify.sock"))
    log_path = tmp_path / "keeper.log"
    env = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="2000000")
    log = open(log_path, "w")
    daemon = subprocess.Popen([exe, "run", "--config", str(cfg), "--log-format", "json", "--log-level", "debug"],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = notify.wait_for(lambda t: t.startswith("READY=1"), 60, "READY=1")
        assert "\nSTATUS=" in ready
        notify.wait_for(lambda t: t == "WATCHDOG=1", 10, "WATCHDOG=1")

        def wait_http(path, status, timeout, contains=""):
            end = time.monotonic() + timeout
            last = None
            while time.monotonic() < end:
                last = http(base + path)
                if last[0] == status and contains in last[1]:
                    return last[1]
                time.sleep(0.1)
            pytest.fail(f"{path} did not answer {status} {contains!r} within {timeout}s: {last}")

        # Caught up and routing: every claim of an opted-in staker is routed on chain by the daemon.
        wait_http("/readyz", 200, 60)
        routed_on_chain = 0
        end = time.monotonic() + 90
        while time.monotonic() < end:
            head = int(rpc.call("eth_blockNumber"), 16)
            logs = rpc.call("eth_getLogs", {"address": deployed["treasury"], "fromBlock": hex(deployed["deploy_block"]), "toBlock": hex(head)})
            routed_on_chain = sum(1 for l in logs if len(l["data"]) >= 2 + 64 * 5)  # Routed carries 5 data words
            scrape = http(base + "/metrics")[1]
            if routed_on_chain >= 4 and value(scrape, 'expansion_keeper_routed_claims_total{outcome="routed"}') == routed_on_chain:
                break
            rpc.call("evm_mine")
            time.sleep(0.3)
        assert routed_on_chain == 4, f"expected the 4 claims of the two opted-in stakers routed, saw {routed_on_chain}"

        # The scrape: promtool-clean, exactly the golden families and types, values from the scenario.
        scrape = http(base + "/metrics")[1]
        r = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert families(scrape) == golden()
        assert value(scrape, 'expansion_keeper_routed_claims_total{outcome="routed"}') == routed_on_chain
        assert value(scrape, "expansion_keeper_reward_events_total") == len(claims)
        assert value(scrape, "expansion_keeper_registered_stakers") == 2
        assert value(scrape, "expansion_keeper_routed_tokens_total") > 0
        assert value(scrape, "expansion_keeper_dry_run") == 0
        assert value(scrape, "expansion_keeper_ready") == 1
        assert value(scrape, "expansion_keeper_chain_head_block") >= deployed["deploy_block"]
        assert value(scrape, "expansion_keeper_lag_blocks") <= 4
        assert value(scrape, f'expansion_keeper_endpoint_healthy{{endpoint="{url}"}}') == 1
        # Submission's calls go through the same instrumented client as ingestion's (at least one send: on a loaded
        # machine the 4 claims can ride in one batch; the log's "routing batch sent" lines are checked below).
        assert value(scrape, f'expansion_keeper_rpc_requests_total{{endpoint="{url}",method="eth_sendRawTransaction",outcome="ok"}}') >= 1
        assert value(scrape, f'expansion_keeper_rpc_requests_total{{endpoint="{url}",method="eth_getLogs",outcome="ok"}}') >= 1
        before_rewards = value(scrape, "expansion_keeper_reward_events_total")
        more = scenario(url, state, "claim", "--advance", "30", "--rounds", "1")["claims"]
        end = time.monotonic() + 30
        while value(http(base + "/metrics")[1], "expansion_keeper_reward_events_total") < before_rewards + len(more):
            assert time.monotonic() < end, "reward_events_total did not move with the scenario"
            rpc.call("evm_mine")
            time.sleep(0.2)

        # Lagging: 300 new blocks, ingested 2 per step behind a 20 ms RPC latency -> not ready, then ready again.
        rpc.call("test_setFaults", {"latency_ms": 20})
        rpc.call("evm_mine", {"blocks": 300})
        body = wait_http("/readyz", 503, 20, "lagging")
        assert "ready_max_lag_blocks = 4" in body
        rpc.call("test_setFaults", {"latency_ms": 0})
        wait_http("/readyz", 200, 60)

        # RPC down: every request answers 503 -> not ready (no healthy endpoint), still alive; back when it recovers.
        rpc.call("test_setFaults", {"http_503": 100000})
        wait_http("/readyz", 503, 30, "no healthy RPC endpoint")
        assert http(base + "/healthz")[0] == 200
        rpc.call("test_setFaults", {"http_503": 0})
        wait_http("/readyz", 200, 60)

        # A hung loop: each RPC answer takes 6 s -> WATCHDOG stops, /healthz turns 503 after the watchdog
        # interval (2 s); both come back once the latency is gone.
        rpc.call("test_setFaults", {"latency_ms": 6000})
        time.sleep(1.0)
        hung_from = time.monotonic()
        wait_http("/healthz", 503, 15, "has not completed an iteration")
        pings = [t for t, m in notify.messages if m == "WATCHDOG=1" and t > hung_from + 0.5]
        assert len(pings) <= 1, f"a hung loop kept pinging the watchdog: {len(pings)}"
        rpc.call("test_setFaults", {"latency_ms": 0})
        wait_http("/healthz", 200, 30)
        resumed = time.monotonic()
        end = time.monotonic() + 15
        while not [t for t, m in notify.messages if m == "WATCHDOG=1" and t > resumed]:
            assert time.monotonic() < end, "WATCHDOG did not resume"
            time.sleep(0.1)

        # Halted: a reorg deeper than reorg_window (8) -> halted, not ready, still alive and answering.
        wait_http("/readyz", 200, 60)
        rpc.call("test_reorg", {"depth": 20})
        body = wait_http("/readyz", 503, 30, "halted: reorg deeper than reorg_window")
        scrape = http(base + "/metrics")[1]
        assert value(scrape, "expansion_keeper_halted") == 1
        assert value(scrape, "expansion_keeper_ready") == 0
        assert http(base + "/healthz")[0] == 200
        notify.wait_for(lambda t: t.startswith("STATUS=halted: reorg deeper"), 10, "STATUS=halted")
        assert daemon.poll() is None, "a halt must not exit (systemd would restart it into the same halt)"
        end = time.monotonic() + 20  # the sampler reads the journal every 5 s
        while value(http(base + "/metrics")[1], "expansion_keeper_tx_sent_total") < 1:
            assert time.monotonic() < end, "tx_sent_total never counted the routing transactions"
            time.sleep(0.5)
        scrape = http(base + "/metrics")[1]
        assert value(scrape, "expansion_keeper_keeper_balance_eth") > 0
        assert value(scrape, "expansion_keeper_nonce_gap") == 0
        assert value(scrape, "expansion_keeper_paused") == 0

        # SIGHUP: the config is re-read; the safe subset applies, other changes are named as needing a restart.
        cfg.write_text(cfg.read_text().replace("ready_max_lag_blocks = 4", "ready_max_lag_blocks = 7")
                       .replace("poll_interval_ms = 100", "poll_interval_ms = 150"))
        daemon.send_signal(signal.SIGHUP)
        end = time.monotonic() + 10
        while "SIGHUP: configuration re-read" not in log_path.read_text():
            assert time.monotonic() < end, "no SIGHUP reload line"
            time.sleep(0.1)
        reload_line = next(json.loads(l) for l in log_path.read_text().splitlines() if "SIGHUP: configuration re-read" in l)
        assert reload_line["needs_restart"] == "chain.poll_interval_ms", reload_line
        assert reload_line["applied"] == "metrics.ready_max_lag_blocks"
        assert daemon.poll() is None, "SIGHUP must not stop the daemon"

        # Shutdown: SIGTERM -> STOPPING=1, exit 0.
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        notify.wait_for(lambda t: t.startswith("STOPPING=1"), 5, "STOPPING=1")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()
        notify.close()

    # Logs: every line is one JSON object; the claims' lines carry their identifiers; no key material anywhere.
    text = log_path.read_text()
    lines = [l for l in text.splitlines() if l.strip()]
    assert len(lines) > 20
    for l in lines:
        obj = json.loads(l)
        assert {"ts", "level", "label", "msg"} <= obj.keys(), l
    assert key_hex not in text.lower(), "the keeper's private key appeared in the logs"
    assert "ops-e2e-password" not in text
    records = [json.loads(l) for l in lines]
    sent = [r for r in records if r["msg"] == "routing batch sent"]
    assert sent and all("nonce" in r and "tx" in r for r in sent), sent[:2]
    routed = [r for r in records if r["msg"] == "claim routed on-chain"]
    assert len(routed) >= 4, routed
    assert all({"staker", "block", "log_index", "tx"} <= r.keys() for r in routed), routed[:2]
    # One claim's story by grep: its routing transaction was sent (and with which nonce).
    assert routed[0]["tx"] in {r["tx"] for r in sent}
