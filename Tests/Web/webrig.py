"""Fixtures for the stakers' app and the public read API (issue 18): one local chain, one keeper, one browser.

- `rig` (session): the local chain (Tests/LocalChain, a block every second on top of automine), mock VVV, mock
  Venice staking and the ExpansionTreasury deployed as the other tests do (scenario.py; the keeper's key imported
  with `expansion-keeper keys import`), three background stakers (10000 bps, 5000 bps, 7500 bps without allowance)
  whose claims the keeper routes or skips, and `expansion-keeper run` with an [api] section serving deploy/web.
- `proven_rig` (session, only when a test asks for it): the same on its own chain with the ProvenExpansionTreasury
  (issue 19; `running_rig(kind="proven")`, the keeper's `[treasury] kind = "proven"`): anyone may route a proven
  claim. `Rig.pause()`/`Rig.resume()` create and remove the keeper's pause file (new batches stop; ingestion goes on).
- `browser` (session): Playwright driving Debian's chromium (/usr/bin/chromium, or $EXPANSION_KEEPER_CHROMIUM).
- `TestWallet`: an EIP-1193 provider injected into the page (announced through EIP-6963 as two wallets with names
  and icons, and as window.ethereum) that forwards reads to the local chain and signs transactions in Python.
- `guard_requests`: intercepts every request of a browser context; any request that is neither to the app's
  origin nor to the chain RPC is aborted and recorded, and the test fails.

The daemon: $EXPANSION_KEEPER_BIN, else `swift build --show-bin-path`/expansion-keeper (deploy/dev/test.sh builds it).
Artefacts (screenshots, keeper log): $EXPANSION_KEEPER_ARTEFACTS, else /tmp/expansion-keeper-web-artefacts.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PY = os.environ.get("EXPANSION_KEEPER_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
WEB_ROOT = os.path.join(ROOT, "deploy", "web")
ARTEFACTS = os.environ.get("EXPANSION_KEEPER_ARTEFACTS") or "/tmp/expansion-keeper-web-artefacts"
DOC_IMAGES = os.path.join(ROOT, "deploy", "docs", "images")
CHROMIUM = os.environ.get("EXPANSION_KEEPER_CHROMIUM") or "/usr/bin/chromium"
CHAIN_ID = 1337
EXPLORER = "https://explorer.invalid"
sys.path.insert(0, os.path.join(ROOT, "Tests", "LocalChain"))

import scenario as sc  # noqa: E402
from eth_account import Account  # noqa: E402
from ethtools import RPC, RPCFailure, checksum, hexint, sign_tx  # noqa: E402


def binary() -> str:
    path = os.environ.get("EXPANSION_KEEPER_BIN")
    if not path:
        r = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        path = os.path.join(r.stdout.strip(), "expansion-keeper")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: run `swift build` first (deploy/dev/test.sh does) or set EXPANSION_KEEPER_BIN")
    return path


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def get_json(url: str):
    status, _, body = http_get(url)
    assert status == 200, f"{url}: HTTP {status} {body[:300]!r}"
    return json.loads(body)


def wait_for(pred, timeout: float, what: str, interval: float = 0.25):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = pred()
        except (OSError, AssertionError, KeyError, RPCFailure) as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class Rig(types.SimpleNamespace):
    """What the session fixture set up: urls, addresses, the scenario state, a chain driver."""

    def api(self, path: str):
        return get_json(self.base + path)

    def call(self, name: str, address: str, fn: str, *args):
        return self.d.call(name, address, fn, *args)

    # registration/contributed/opt_in have the same signatures on both treasuries: the ExpansionTreasury ABI serves both
    def registration(self, who: str) -> tuple[int, int]:
        return tuple(self.call("ExpansionTreasury", self.treasury, "registration", checksum(who)))

    def allowance(self, who: str) -> int:
        return self.call("MockVVV", self.vvv, "allowance", checksum(who), self.treasury)

    def contributed(self, who: str) -> int:
        return self.call("ExpansionTreasury", self.treasury, "contributed", checksum(who))

    def new_staker(self, stake: int = 1000 * 10**18) -> dict:
        """A fresh key with ETH and `stake` VVV staked in the mock staking contract; not opted in, no allowance."""
        key = secrets.randbits(255) | 1
        acct = Account.from_key(key.to_bytes(32, "big"))
        self.d.send(sc.DEPLOYER_KEY, acct.address, b"", gas=21_000, value=100 * 10**18)
        self.d.transact(sc.DEPLOYER_KEY, "MockVVV", self.vvv, "mint", acct.address, stake)
        self.d.transact(key, "MockVVV", self.vvv, "approve", self.staking, stake)
        self.d.transact(key, "MockVeniceStaking", self.staking, "stake", acct.address, stake)
        return {"address": acct.address, "key": key}

    def claim(self, staker: dict, advance: int = 60) -> dict:
        """The staker claims its staking rewards; returns the Claim (amount, block, log index) of the Claimed log."""
        if advance:
            self.d.rpc.call("evm_increaseTime", advance)
        rc = self.d.transact(staker["key"], "MockVeniceStaking", self.staking, "claim")
        claims = sc.claims_in(self.d, {"staking": self.staking}, rc)
        assert len(claims) == 1, claims
        return claims[0]

    def pause(self) -> None:
        """The keeper's pause file: no new batch is sent while it exists (ingestion and planning go on)."""
        open(self.pause_file, "w").close()

    def resume(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.pause_file)

    def keeper_caught_up(self) -> bool:
        """The keeper has ingested up to the confirmed target (head − confirmations) and nothing waits."""
        head = hexint(self.d.rpc.call("eth_blockNumber"))
        st = self.api("/api/v1/stats")
        return st["block"] is not None and st["block"] >= head - self.confirmations - 1


@pytest.fixture(scope="session")
def rig(tmp_path_factory):
    with running_rig(tmp_path_factory.mktemp("web-rig")) as rg:
        yield rg


@pytest.fixture(scope="session")
def proven_rig(tmp_path_factory):
    with running_rig(tmp_path_factory.mktemp("web-rig-proven"), kind="proven") as rg:
        yield rg


@contextlib.contextmanager
def running_rig(tmp: pathlib.Path, kind: str = "keeper"):
    """Chain + contracts + background stakers + `expansion-keeper run` with [api]; stops both on exit. `kind` is the
    treasury: "keeper" (ExpansionTreasury, the keeper's key holds the keeper role) or "proven"
    (ProvenExpansionTreasury(vvv, owner, reward_source = staking, reward_topic = Claimed), no keeper role)."""
    assert kind in ("keeper", "proven"), kind
    os.makedirs(ARTEFACTS, exist_ok=True)
    exe = binary()
    chain = subprocess.Popen([PY, os.path.join(ROOT, "Tests/LocalChain/localchain.py"), "serve", "--port", "0",
                              "--chain-id", str(CHAIN_ID), "--block-time", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    keeper = None
    log = None
    try:
        line = chain.stdout.readline()
        assert line, "the local chain did not start"
        url = json.loads(line)["url"]
        d = sc.Driver(url)

        # The keeper's key in a keystore (the daemon's own `keys import`), a fresh random key.
        (tmp / "key.hex").write_text(secrets.token_hex(32) + "\n")
        (tmp / "password").write_text("web-tests-password\n")
        os.chmod(tmp / "password", 0o600)
        r = subprocess.run([exe, "keys", "import", "--keystore-dir", str(tmp / "ks"), "--password-file",
                            str(tmp / "password"), "--private-key-file", str(tmp / "key.hex"), "--light"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        keeper_addr = r.stdout.split()[0]
        keystore = next(str(tmp / "ks" / f) for f in os.listdir(tmp / "ks") if not f.startswith("."))
        (tmp / "key.hex").unlink()

        state = sc.cmd_deploy(d, types.SimpleNamespace(emission=10**18, cooldown=None, keeper=keeper_addr,
                                                         no_treasury=kind == "proven"))
        if kind == "proven":
            d.abis["ProvenExpansionTreasury"] = sc.ContractABI(sc.load_artifact("ProvenExpansionTreasury")["abi"])
            state["treasury"] = d.deploy(sc.DEPLOYER_KEY, "ProvenExpansionTreasury", state["vvv"], state["owner"]["address"],
                                         state["staking"], d.abis["MockVeniceStaking"].topic0("Claimed"))
        d.send(sc.DEPLOYER_KEY, keeper_addr, b"", gas=21_000, value=10 * 10**18)
        # full share, half share, no allowance (its claims wait: the keeper sends nothing it sees would be skipped),
        # and one whose allowance is revoked while a route is in the pool (a skip on chain: RouteSkipped)
        for shares, allowance in (("10000,5000", "max"), ("7500", "0"), ("2500", "max")):
            state = sc.cmd_stakers(d, state, types.SimpleNamespace(shares=shares, allowance=allowance, stake=10**21,
                                                                   wallet=0, treasury=None))
        claims = sc.cmd_claim(d, state, types.SimpleNamespace(only=None, rounds=2, advance=60, compound=False))["claims"]

        port = free_port()
        cfg = tmp / "keeper.toml"
        cfg.write_text(f"""
[chain]
rpc_urls = ["{url}"]
chain_id = {CHAIN_ID}
confirmations = 2
poll_interval_ms = 200
start_block = {state["deploy_block"]}
reorg_window = 16

[contracts]
staking = "{state["staking"]}"
staking_abi = "{ROOT}/ABI/MockVeniceStaking.json"
treasury = "{state["treasury"]}"
treasury_deploy_block = {state["deploy_block"]}

[keeper]
data_dir = "{tmp}/data"
keystore = "{keystore}"
password_file = "{tmp}/password"
max_fee_per_gas_gwei = 50.0

[metrics]
listen = "127.0.0.1:0"

[treasury]
kind = "{kind}"

[api]
listen = "127.0.0.1:{port}"
allow_remote = false
rate_limit_per_second = 1000000
explorer_url = "{EXPLORER}"
rpc_url = "{url}"
web_root = "{WEB_ROOT}"
""")
        log_path = os.path.join(ARTEFACTS, "keeper.log" if kind == "keeper" else f"keeper-{kind}.log")
        log = open(log_path, "w")
        keeper = subprocess.Popen([exe, "run", "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"

        def up():
            assert keeper.poll() is None, f"the keeper exited: {open(log_path).read()[-3000:]}"
            return http_get(base + "/api/v1/stats")[0] == 200

        wait_for(up, 60, "the keeper's API")
        rg = Rig(url=url, base=base, d=d, state=state, treasury=state["treasury"], vvv=state["vvv"],
                 staking=state["staking"], deploy_block=state["deploy_block"], confirmations=2, keeper=keeper_addr,
                 stakers=state["stakers"], claims=claims, log_path=log_path, config=str(cfg), kind=kind,
                 pause_file=str(tmp / "data" / "PAUSE"))
        # The background stakers' claims: 3 stakers × 2 rounds routed; the one without allowance waits.
        wait_for(lambda: rg.api("/api/v1/stats")["routes"] >= 6, 90, "the keeper to route the background claims")
        skip_on_chain(rg, state["stakers"][3])
        wait_for(lambda: rg.api("/api/v1/stats")["skips"] >= 1, 60, "the keeper to record the skip")
        yield rg
    finally:
        if keeper is not None and keeper.poll() is None:
            keeper.send_signal(signal.SIGTERM)
            try:
                keeper.wait(20)
            except subprocess.TimeoutExpired:
                keeper.kill()
        if log is not None:
            log.close()
        chain.send_signal(signal.SIGTERM)
        try:
            chain.wait(10)
        except subprocess.TimeoutExpired:
            chain.kill()


def skip_on_chain(rg: Rig, staker: dict) -> None:
    """A RouteSkipped on chain, as it happens in life: the staker claims, the keeper simulates the route (fine) and
    broadcasts it, and the staker's revoke (approve 0, a higher tip) is mined first in the same block, so the route
    skips the claim with NO_ALLOWANCE. Mining is held (automine and interval mining off) for the race."""
    rpc, key = rg.d.rpc, int(staker["private_key"], 16)
    skipped = "0x" + rg.d.abis["ProvenExpansionTreasury" if rg.kind == "proven" else "ExpansionTreasury"].topic0("RouteSkipped").hex()
    rpc.call("evm_setIntervalMining", 0)
    rpc.call("evm_setAutomine", False)
    try:
        rpc.call("evm_increaseTime", 60)
        rg.d.mine = True
        claim_rc = rg.d.transact(key, "MockVeniceStaking", rg.staking, "claim")
        rg.d.mine = False
        assert sc.claims_in(rg.d, {"staking": rg.staking}, claim_rc)
        rpc.call("evm_mine", {"blocks": rg.confirmations})

        def keeper_tx():
            for sender, txs in rpc.call("txpool_content")["pending"].items():
                if sender.lower() == rg.keeper.lower():
                    return next(iter(txs.values()))
            return None

        route = wait_for(keeper_tx, 60, "the keeper's route in the pool")
        nonce = hexint(rpc.call("eth_getTransactionCount", staker["address"], "pending"))
        tip = hexint(route.get("maxPriorityFeePerGas") or route["gasPrice"]) * 10 + 10**9
        tx = {"type": 2, "chainId": CHAIN_ID, "nonce": nonce, "gas": 100_000, "maxFeePerGas": tip * 2,
              "maxPriorityFeePerGas": tip, "value": 0, "to": rg.vvv,
              "data": rg.d.abis["MockVVV"].encode_call("approve", rg.treasury, 0)}
        revoke = rpc.call("eth_sendRawTransaction", "0x" + sign_tx(key.to_bytes(32, "big"), tx).hex())
        rpc.call("evm_mine")
        rc = rpc.call("eth_getTransactionReceipt", route["hash"])
        assert rc is not None and rc["status"] == "0x1", rc
        assert rpc.call("eth_getTransactionReceipt", revoke)["blockNumber"] == rc["blockNumber"]
        assert any(lg["topics"][0] == skipped for lg in rc["logs"]), "the route did not skip the claim"
    finally:
        rg.d.mine = False
        rpc.call("evm_setAutomine", True)
        rpc.call("evm_setIntervalMining", 1000)


# ------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run deploy/dev/setup.sh (installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}

ICON_A = ("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAzMiAzMiI+"
          "PHJlY3Qgd2lkdGg9IjMyIiBoZWlnaHQ9IjMyIiByeD0iOCIgZmlsbD0iIzBiNTdkMCIvPjwvc3ZnPg==")
ICON_B = ("data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAzMiAzMiI+"
          "PGNpcmNsZSBjeD0iMTYiIGN5PSIxNiIgcj0iMTYiIGZpbGw9IiNmMGE0MDAiLz48L3N2Zz4=")

# The provider a wallet extension would inject: EIP-1193 request/on, announced by EIP-6963 as two wallets
# (both backed by the same Python wallet), and window.ethereum for pages without EIP-6963.
PROVIDER_JS = """
(() => {
  const wallets = [
    {uuid: "6b1d2c1e-0000-4000-8000-000000000001", name: "Test Wallet", icon: %(icon_a)s, rdns: "invalid.test.wallet"},
    {uuid: "6b1d2c1e-0000-4000-8000-000000000002", name: "Second Wallet", icon: %(icon_b)s, rdns: "invalid.test.second"},
  ];
  const listeners = {};
  const emit = (ev, arg) => (listeners[ev] || []).forEach((f) => { try { f(arg); } catch (e) {} });
  const provider = {
    async request(args) {
      const r = await window.__testWallet(args.method, args.params === undefined ? [] : args.params);
      if (r.error) { const e = new Error(r.error.message); e.code = r.error.code; if (r.error.data !== undefined) e.data = r.error.data; throw e; }
      if (r.chainChanged) emit("chainChanged", r.chainChanged);
      return r.result;
    },
    on(ev, f) { (listeners[ev] = listeners[ev] || []).push(f); return provider; },
    removeListener(ev, f) { listeners[ev] = (listeners[ev] || []).filter((g) => g !== f); return provider; },
  };
  const announce = () => wallets.forEach((info) => window.dispatchEvent(new CustomEvent("eip6963:announceProvider",
    {detail: Object.freeze({info: Object.freeze(info), provider})})));
  if (%(eip6963)s) {
    window.addEventListener("eip6963:requestProvider", announce);
    announce();
  }
  window.ethereum = provider;
  // every state the page's tx-status goes through, in order (read by the tests)
  window.__txStates = [];
  new MutationObserver(() => {
    const t = document.querySelector('[data-testid="tx-status"]');
    const s = t && t.dataset.state;
    if (s && window.__txStates[window.__txStates.length - 1] !== s) window.__txStates.push(s);
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-state"]});
})();
"""


class TestWallet:
    """The Python side of the injected provider: one account, a current chain (starts on chain 1, which the page
    must ask to switch away from), signing with eth_account, everything else forwarded to the local chain."""

    __test__ = False

    def __init__(self, rig: Rig, staker: dict, chain_id: int = 1):
        self.rig, self.staker = rig, staker
        self.address = staker["address"]
        self.chain_id = chain_id
        self.known = {1}
        self.reject_next = False
        self.requests: list[tuple[str, list]] = []
        self.added: list[dict] = []
        self.sent: list[str] = []
        self.unsimulated: list[dict] = []  # transactions the page sent without an eth_call of the same call first
        self.rpc = RPC(rig.url)
        self.lock = threading.Lock()

    def handle(self, method: str, params: list) -> dict:
        with self.lock:
            self.requests.append((method, params))
            try:
                return self._handle(method, params)
            except RPCFailure as e:
                err = {"code": e.code, "message": e.message}
                if e.data is not None:
                    err["data"] = e.data
                return {"error": err}

    def _handle(self, method: str, params: list) -> dict:
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [self.address]}
        if method == "eth_chainId":
            return {"result": hex(self.chain_id)}
        if method == "wallet_switchEthereumChain":
            want = int(params[0]["chainId"], 16)
            if want not in self.known:
                return {"error": {"code": 4902, "message": f"Unrecognized chain ID {params[0]['chainId']}."}}
            self.chain_id = want
            return {"result": None, "chainChanged": hex(want)}
        if method == "wallet_addEthereumChain":
            self.added.append(params[0])
            self.known.add(int(params[0]["chainId"], 16))
            return {"result": None}
        if self.chain_id != CHAIN_ID:
            return {"error": {"code": 4901, "message": f"test wallet: no node for chain {self.chain_id}"}}
        if method == "eth_sendTransaction":
            tx = params[0]
            assert tx["from"].lower() == self.address.lower(), tx
            calls = [p[0] for m, p in self.requests[:-1] if m == "eth_call"]
            if not calls or (calls[-1].get("to", "").lower(), calls[-1].get("data"), calls[-1].get("from", "").lower()) \
                    != (tx["to"].lower(), tx.get("data"), tx["from"].lower()):
                self.unsimulated.append(tx)
            if self.reject_next:
                self.reject_next = False
                return {"error": {"code": 4001, "message": "User rejected the request."}}
            call = {"from": self.address, "to": tx["to"], "data": tx.get("data", "0x")}
            gas = int(hexint(self.rpc.call("eth_estimateGas", call)) * 1.3) + 10_000
            nonce = hexint(self.rpc.call("eth_getTransactionCount", self.address, "pending"))
            base = hexint(self.rpc.call("eth_getBlockByNumber", "pending", False)["baseFeePerGas"])
            signed = {"type": 2, "chainId": CHAIN_ID, "nonce": nonce, "gas": gas, "maxFeePerGas": 2 * base + 10**9,
                      "maxPriorityFeePerGas": 10**9, "value": 0, "to": checksum(tx["to"]),
                      "data": bytes.fromhex(tx.get("data", "0x")[2:])}
            h = self.rpc.call("eth_sendRawTransaction", "0x" + sign_tx(self.staker["key"].to_bytes(32, "big"), signed).hex())
            self.sent.append(h)
            return {"result": h}
        return {"result": self.rpc.call(method, *params)}

    def install(self, context, eip6963: bool = True) -> None:
        """Injects the provider: announced by EIP-6963 as two wallets, or (eip6963=False) only as the legacy
        window.ethereum."""
        context.expose_function("__testWallet", self.handle)
        context.add_init_script(PROVIDER_JS % {"icon_a": json.dumps(ICON_A), "icon_b": json.dumps(ICON_B),
                                               "eip6963": "true" if eip6963 else "false"})


class RequestGuard:
    """Routes every request of a context: the app's origin passes, the chain RPC passes (the local chain sends no
    CORS headers, as public RPCs do, so they are added here), anything else is aborted and recorded."""

    def __init__(self, rig: Rig, cors: bool = True):
        self.rig, self.cors = rig, cors
        self.allowed = (rig.base + "/", rig.url.rstrip("/") + "/", rig.url)
        self.foreign: list[str] = []
        self.seen: list[str] = []

    def __call__(self, route):
        req = route.request
        url = req.url
        self.seen.append(f"{req.method} {url}")
        if url.startswith(self.rig.base + "/"):
            return route.continue_()
        if url == self.rig.url or url.startswith(self.rig.url.rstrip("/") + "/"):
            cors = {"access-control-allow-origin": "*", "access-control-allow-headers": "content-type",
                    "access-control-allow-methods": "POST, OPTIONS"}
            if not self.cors:  # the chain's own answers: no CORS headers (the local chain, many private nodes)
                return route.continue_()
            if req.method == "OPTIONS":
                return route.fulfill(status=204, headers=cors)
            try:
                resp = route.fetch()
                return route.fulfill(response=resp, headers={**resp.headers, **cors})
            except Exception as e:  # the page or its context closed while the request was in flight
                if "closed" in str(e) or "disposed" in str(e):
                    return None
                raise
        self.foreign.append(f"{req.method} {url}")
        return route.abort()


def new_context(browser, rig: Rig, wallet: TestWallet | None = None, eip6963: bool = True, cors: bool = True):
    ctx = browser.new_context(**PHONE)
    guard = RequestGuard(rig, cors)
    ctx.route("**/*", guard)
    if wallet is not None:
        wallet.install(ctx, eip6963)
    ctx.set_default_timeout(20_000)
    return ctx, guard


def close_context(ctx) -> None:
    """Closes a context without tripping over chain reads still in flight in the route handler."""
    ctx.unroute_all(behavior="ignoreErrors")
    ctx.close()


def axe_serious(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in res.response["violations"] if v["impact"] in ("serious", "critical")]


DOC_SHOTS = {"01-landing", "03-wrong-chain", "05-registered", "06-contribution", "08-error", "10-read-only",
             "12-route-myself"}


def screenshot(page, name: str) -> str:
    """A 390×844 viewport screenshot in the artefact folder; the guide's images (DOC_SHOTS) are also written to
    deploy/docs/images/ when missing, or always with EXPANSION_KEEPER_DOC_IMAGES=1."""
    path = os.path.join(ARTEFACTS, f"{name}.png")
    page.screenshot(path=path)
    if name in DOC_SHOTS:
        dest = os.path.join(DOC_IMAGES, f"stakers-app-{name}.png")
        if os.environ.get("EXPANSION_KEEPER_DOC_IMAGES") == "1" or not os.path.exists(dest):
            os.makedirs(DOC_IMAGES, exist_ok=True)
            shutil.copyfile(path, dest)
    return path
