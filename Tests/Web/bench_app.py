#!/usr/bin/env python3
"""The stakers' app's first load in headless Chromium (issue 18, "Benchmarks"), run by hand:

    .venv/bin/python Tests/Web/bench_app.py [--runs 7] [--base http://127.0.0.1:8547 --address 0x…]

Without --base it starts its own local chain, contracts, stakers and `expansion-keeper run` with [api] (as the
browser tests do; the daemon from $EXPANSION_KEEPER_BIN or `swift build --show-bin-path`). With --base it measures a
running keeper (e.g. the demo's) for the staker --address.

Prints, for a cold load (a fresh browser context each run) of the read-only view /?address=…:
- total bytes of the first load, uncompressed, everything included (HTML, CSS, JS modules, API answers, chain reads)
  and the app's own files alone (target ≤ 60 KB);
- time to the first rendered record (the staker's registration and first contribution row in the page), on the
  page's own clock from the start of the navigation, median and worst of the runs, beside references measured in the
  same run on the same clock: a blank same-origin page (navigation alone, answered by the test without a server) and
  the keeper's /api/v1/stats loaded as a page (one request to the same server), each to its load event.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import types
import pathlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from webrig import CHROMIUM, PHONE, RequestGuard, get_json, running_rig  # noqa: E402

APP_FILES = (".html", ".css", ".js", "/")
MARK_FIRST_RECORD = """
new MutationObserver((_, obs) => {
  if (document.querySelector('[data-testid="staker-registered"][data-value]')
      && document.querySelector('[data-testid="contribution-row"]')) { window.__firstRecord = performance.now(); obs.disconnect(); }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""
NAV_LOADED = "performance.getEntriesByType('navigation')[0].loadEventEnd"


def measure(browser, base: str, address: str, runs: int) -> dict:
    # Only the chain RPC the page reads (stats.rpc_url) is intercepted: the local chain sends no CORS headers and
    # the guard adds them (a public RPC sends its own). The app's origin is not intercepted: interception through
    # Playwright would add its own latency to every request.
    rpc = get_json(base + "/api/v1/stats")["rpc_url"]
    guard = RequestGuard(types.SimpleNamespace(base=base, url=rpc or base))
    first, blank, stats = [], [], []
    bytes_total = bytes_app = requests = 0
    for i in range(runs):
        ctx = browser.new_context(**PHONE)
        if rpc:
            ctx.route(rpc.rstrip("/") + "/**", guard)
            ctx.route(rpc, guard)
        ctx.route(f"{base}/__blank", lambda r: r.fulfill(status=200, content_type="text/html", body="<!doctype html><title>blank</title>"))
        # In-page clock (ms since navigation start): the first moment the record and a contribution row are in the DOM.
        ctx.add_init_script(MARK_FIRST_RECORD)
        sizes: list[tuple[str, int]] = []

        def on_response(resp):
            try:
                sizes.append((resp.url, len(resp.body())))
            except Exception:  # a preflight or an aborted request has no body
                pass

        page = ctx.new_page()
        page.on("response", on_response)
        page.goto(f"{base}/?address={address}", wait_until="commit")
        # (the page's CSP forbids eval, so no wait_for_function: poll; the time itself is the page's own)
        deadline = time.monotonic() + 30
        while (t := page.evaluate("window.__firstRecord")) is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"no record rendered for {address} within 30 s (it needs one contribution)")
            time.sleep(0.02)
        first.append(t / 1000)
        page.wait_for_load_state("networkidle")
        if i == 0:
            requests = len(sizes)
            bytes_total = sum(n for _, n in sizes)
            bytes_app = sum(n for u, n in sizes if u.startswith(base + "/") and u.split("?")[0].endswith(APP_FILES))
        page.goto(f"{base}/__blank", wait_until="load")
        blank.append(page.evaluate(NAV_LOADED) / 1000)
        page.goto(f"{base}/api/v1/stats", wait_until="load")
        stats.append(page.evaluate(NAV_LOADED) / 1000)
        ctx.unroute_all(behavior="ignoreErrors")
        ctx.close()
    return {"first": first, "blank": blank, "stats": stats, "bytes_total": bytes_total, "bytes_app": bytes_app,
            "requests": requests}


def report(m: dict) -> None:
    ms = lambda xs: f"median {statistics.median(xs) * 1000:7.1f} ms, worst {max(xs) * 1000:7.1f} ms"  # noqa: E731
    print(f"first load: {m['bytes_total']:,} bytes uncompressed in {m['requests']} requests "
          f"(the app's files: {m['bytes_app']:,} bytes; target ≤ 60 KB)")
    print(f"time to the first rendered record: {ms(m['first'])}  ({len(m['first'])} cold loads)")
    print(f"  reference, blank same-origin page: {ms(m['blank'])}")
    print(f"  reference, /api/v1/stats as a page: {ms(m['stats'])}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--base", help="a running keeper's API origin, e.g. http://127.0.0.1:8547")
    ap.add_argument("--address", help="with --base: the staker to show (one with at least one contribution)")
    args = ap.parse_args()
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            if args.base:
                if not args.address:
                    ap.error("--base needs --address")
                report(measure(browser, args.base.rstrip("/"), args.address, args.runs))
            else:
                with tempfile.TemporaryDirectory(prefix="expansion-keeper-bench-app.") as tmp:
                    with running_rig(pathlib.Path(tmp)) as rig:
                        print(f"keeper API at {rig.base}, chain {rig.url}; staker {rig.stakers[0]['address']}")
                        report(measure(browser, rig.base, rig.stakers[0]["address"], args.runs))
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
