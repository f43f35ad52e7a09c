"""Route it yourself (issue 19 in the stakers' app), against a real keeper running the ProvenExpansionTreasury.

The keeper is paused (its pause file: no new batch; it still ingests and plans), so a fresh staker at 25 % has two
claims waiting. Then:
- the API: `waiting` lists both (oldest first, what would be taken), `/api/v1/claims/{block}-{log_index}/route`
  answers the transaction (equal to `expansion-keeper prove --claim`, located as the chain has the log) and refuses
  malformed claims (400 bad_claim) and logs that are not staking rewards (404 no_such_claim); schemathesis on the path;
- the read-only view lists the waiting claims without a button; a held claim says why;
- the staker's page: the newer claim first is refused in words (the treasury routes a staker's claims in chain order);
  the older one is routed from the wallet (fetched, simulated with eth_call from the staker, sent, pending → mined →
  confirmed); the chain's contributed() grows by exactly floor(reward × 2500 / 10000); once the keeper ingests, the
  API lists the claim as routed with the staker's own transaction and it leaves `waiting`;
- the same claim offered again (a keeper that has not ingested yet: the page's staker record is answered stale) is
  explained — the simulation says nothing would be taken — and the wallet is never asked; by keyboard alone;
- the keeper, resumed, routes the other claim and never the staker's twice;
- with the keeper's ExpansionTreasury (`rig`), the page offers no route button at all.
On every screen axe-core finds no serious or critical violation, and no request leaves the app's origin and the RPC.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from eth_utils import keccak
from playwright.sync_api import expect

from webrig import ARTEFACTS, PY, ROOT, TestWallet, binary, close_context, http_get, new_context, wait_for
from test_app import check_screen, confirmed, tid, vvv

SHARE = 2500
ROUTE_PROVEN = "0x" + keccak(text="route_proven(bytes[],bytes,(uint8,uint32,uint32,uint256)[])")[:4].hex()
T_ROUTED = "0x" + keccak(text="Routed(address,uint64,uint32,uint32,uint256,uint256,uint16)").hex()


@pytest.fixture(scope="module")
def flow(proven_rig):
    """A staker at 25 % with a bounded allowance and two claims the paused keeper has planned but not sent."""
    rg = proven_rig
    assert rg.api("/api/v1/stats")["treasury_kind"] == "proven"
    staker = rg.new_staker()
    opt_in = rg.d.transact(staker["key"], "ExpansionTreasury", rg.treasury, "opt_in", SHARE)
    rg.d.transact(staker["key"], "MockVVV", rg.vvv, "approve", rg.treasury, 1000 * 10**18)
    rg.pause()
    try:
        claims = [rg.claim(staker), rg.claim(staker)]
        who = staker["address"]
        wait_for(lambda: len(rg.api(f"/api/v1/stakers/{who}")["waiting"]) == 2, 60, "the keeper to plan both claims")
        yield {"rig": rg, "staker": staker, "claims": claims, "opt_in": opt_in,
               "want": [int(c["amount"]) * SHARE // 10000 for c in claims], "state": {}}
    finally:
        rg.resume()


def claim_id(c: dict) -> str:
    return f"{c['block_number']}-{c['log_index']}"


def staker_if(rg, who: str, pred):
    """The API's record of `who` when `pred` holds for it, else None (for wait_for)."""
    s = rg.api(f"/api/v1/stakers/{who}")
    return s if pred(s) else None


def item(page, c: dict):
    return page.locator(f'[data-testid="waiting-item"][data-claim-block="{c["block_number"]}"]'
                        f'[data-claim-log-index="{c["log_index"]}"]')


def connect(browser, rg, staker: dict):
    wallet = TestWallet(rg, staker, chain_id=1337)
    ctx, guard = new_context(browser, rg, wallet)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(rg.base + "/")
    tid(page, "connect").click()
    tid(page, "wallet-option").first.click()
    expect(page.locator("#wallet-state")).to_contain_text(staker["address"])
    return ctx, page, wallet, guard, errors


def test_held_claims_say_why(proven_rig, browser):
    """The background staker without allowance: the keeper holds its claims (its simulation says they would be
    skipped: no allowance). Before `flow` pauses the keeper: a paused keeper simulates nothing, so they show pending."""
    rg = proven_rig
    who = rg.stakers[2]["address"]
    waiting = wait_for(lambda: staker_if(rg, who, lambda s: s["waiting"] and all(w["state"] == "held" for w in s["waiting"])),
                       30, "the keeper to hold the claims of the staker without allowance")["waiting"]
    assert all("allowance" in (w["reason"] or "").lower() for w in waiting), json.dumps(waiting)
    ctx, guard = new_context(browser, rg)
    page = ctx.new_page()
    page.goto(f"{rg.base}/?address={who}")
    expect(tid(page, "waiting-item")).to_have_count(len(waiting))
    first = tid(page, "waiting-item").first
    expect(first).to_have_attribute("data-state", "held")
    expect(first).to_contain_text("The keeper is holding it: ")
    expect(first).to_contain_text("allowance")
    expect(tid(page, "route-myself")).to_have_count(0)
    first.scroll_into_view_if_needed()
    check_screen(page, "15-read-only-held")
    assert guard.foreign == [], guard.foreign
    close_context(ctx)


def test_waiting_claims_in_the_api(flow):
    rg, who = flow["rig"], flow["staker"]["address"]
    st = rg.api(f"/api/v1/stakers/{who}")
    assert st["registered"] and st["share_bps"] == SHARE and st["routes"] == 0
    assert [(w["claim_block"], w["claim_log_index"]) for w in st["waiting"]] == \
        [(c["block_number"], c["log_index"]) for c in flow["claims"]]  # oldest first
    for w, c, want in zip(st["waiting"], flow["claims"], flow["want"]):
        assert w["reward_wei"] == c["amount"] and w["expected_wei"] == str(want) and want > 0
        assert w["claim_block_hash"] == c["block_hash"]
        assert w["state"] == "pending" and w["reason"] is None  # paused: planned, not sent
    flow["state"]["waiting"] = st["waiting"]


def test_route_endpoint_answers_the_transaction(flow):
    rg, c = flow["rig"], flow["claims"][0]
    status, headers, body = http_get(f"{rg.base}/api/v1/claims/{claim_id(c)}/route")
    assert status == 200 and headers["content-type"].startswith("application/json"), (status, body[:300])
    r = json.loads(body)
    assert set(r) >= {"to", "data", "claims"}
    assert r["to"] == rg.treasury and r["data"].startswith(ROUTE_PROVEN)
    rc = rg.d.rpc.call("eth_getTransactionReceipt", c["tx"])
    position = next(i for i, lg in enumerate(rc["logs"]) if int(lg["logIndex"], 16) == c["log_index"])
    assert r["claims"] == [{"block": c["block_number"], "log_index": c["log_index"], "block_hash": c["block_hash"],
                            "tx_index": int(rc["transactionIndex"], 16), "log_position": position,
                            "staker": flow["staker"]["address"], "amount": c["amount"]}]
    # the same transaction as the CLI's (`prove --claim BLOCK:LOG_INDEX`)
    cli = subprocess.run([binary(), "prove", "--config", rg.config, "--claim", f"{c['block_number']}:{c['log_index']}"],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == r
    # and it is only a proposal: nothing moved
    assert rg.contributed(flow["staker"]["address"]) == 0


def test_route_endpoint_refuses_what_is_not_a_reward(flow):
    rg, c = flow["rig"], flow["claims"][0]
    for bad in ("abc", "1-", "-1", "1-2-3", "0x10-1", "1.5-1", "99999999999999999999999-1", "1-99999999999"):
        status, _, body = http_get(f"{rg.base}/api/v1/claims/{bad}/route")
        assert status == 400 and json.loads(body)["error"]["code"] == "bad_claim", (bad, status, body[:300])
    # logs that exist but are not the staking contract's reward: the treasury's OptedIn, the token's Approval/Transfer
    # in the claim's own receipt (the mock's claim mints), and a log index past the block's logs
    opted = flow["opt_in"]["logs"][0]
    not_rewards = [f"{int(opted['blockNumber'], 16)}-{int(opted['logIndex'], 16)}", f"{c['block_number']}-999"]
    rc = rg.d.rpc.call("eth_getTransactionReceipt", c["tx"])
    not_rewards += [f"{c['block_number']}-{int(lg['logIndex'], 16)}" for lg in rc["logs"]
                    if int(lg["logIndex"], 16) != c["log_index"]]
    for nr in not_rewards:
        status, _, body = http_get(f"{rg.base}/api/v1/claims/{nr}/route")
        assert status == 404, (nr, status, body[:300])
        err = json.loads(body)["error"]
        assert err["code"] == "no_such_claim" and err["message"], (nr, err)


def test_route_endpoint_for_a_block_not_yet_mined_is_a_404(flow):
    """A block beyond the chain's head holds no reward: a client's mistake (404 no_such_claim), not a node failure."""
    rg = flow["rig"]
    head = int(rg.d.rpc.call("eth_blockNumber"), 16)
    for claim in (f"{head + 1000}-0", f"{2**64 - 1}-0"):
        status, _, body = http_get(f"{rg.base}/api/v1/claims/{claim}/route")
        assert status == 404 and json.loads(body)["error"]["code"] == "no_such_claim", (claim, status, body[:300])


def test_schemathesis_on_the_route_path(flow):
    """The new path on the proven keeper (real block fetches): no 5xx, nothing outside the document; bounded."""
    rg = flow["rig"]
    out = os.path.join(ARTEFACTS, "schemathesis-proven")
    os.makedirs(out, exist_ok=True)
    st = os.path.join(os.path.dirname(PY), "schemathesis")
    checks = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
              "response_schema_conformance,negative_data_rejection")
    r = subprocess.run([st, "run", f"{rg.base}/api/v1/openapi.json", "--url", rg.base, "--checks", checks,
                        "--include-operation-id", "claimRoute",
                        "--max-examples", "30", "--max-time", "30", "--seed", "19", "--workers", "1",
                        "--generation-database", "none", "--request-timeout", "10", "--no-color",
                        "--suppress-health-check", "all", "--report", "junit", "--report-dir", out],
                       capture_output=True, text=True, timeout=90, cwd=ROOT)
    open(os.path.join(out, "output.txt"), "w").write(r.stdout + r.stderr)
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]


def test_read_only_view_lists_waiting_claims_without_buttons(flow, browser):
    rg, who = flow["rig"], flow["staker"]["address"]
    ctx, guard = new_context(browser, rg)
    page = ctx.new_page()
    page.goto(f"{rg.base}/?address={who}")
    expect(tid(page, "waiting-list")).to_be_visible()
    expect(tid(page, "waiting-item")).to_have_count(2)
    for c, want in zip(flow["claims"], flow["want"]):
        expect(item(page, c)).to_have_attribute("data-state", "pending")
        expect(item(page, c)).to_contain_text(f"{vvv(want)} of a {vvv(int(c['amount']))} reward would be taken")
    expect(tid(page, "route-myself")).to_have_count(0)
    expect(page.locator("#waiting-note")).to_contain_text("anyone may route them")
    expect(page.locator("#t-kind")).to_have_text("Anyone, with a proof from the chain")
    page.locator("#waiting").scroll_into_view_if_needed()
    check_screen(page, "14-read-only-waiting")
    assert guard.foreign == [], guard.foreign
    close_context(ctx)


def test_route_it_myself(flow, browser):
    rg, staker = flow["rig"], flow["staker"]
    older, newer = flow["claims"]
    ctx, page, wallet, guard, errors = connect(browser, rg, staker)
    expect(tid(page, "waiting-item")).to_have_count(2)
    buttons = tid(page, "route-myself")
    expect(buttons).to_have_count(2)
    expect(page.get_by_role("button", name="Route it myself", exact=True)).to_have_count(2)
    expect(page.locator("#waiting-note")).to_contain_text("Route the oldest first")
    page.locator("#waiting").scroll_into_view_if_needed()
    check_screen(page, "12-route-myself")

    # the newer one first: refused in words (routing it would leave the older one unroutable), nothing asked
    item(page, newer).get_by_test_id("route-myself").click()
    expect(tid(page, "error")).to_contain_text(f"Route the older reward first (block {older['block_number']}")
    assert not [m for m, p in wallet.requests if m == "eth_sendTransaction" or
                (m == "eth_call" and p[0].get("data", "").startswith(ROUTE_PROVEN))]

    before = rg.contributed(staker["address"])
    page.evaluate("window.__txStates = []")
    item(page, older).get_by_test_id("route-myself").click()
    confirmed(page)
    assert page.evaluate("window.__txStates") == ["simulating", "pending", "mined", "confirmed"]
    assert len(wallet.sent) == 1 and wallet.unsimulated == [], (wallet.sent, wallet.unsimulated)
    sims = [p[0] for m, p in wallet.requests if m == "eth_call" and p[0].get("data", "").startswith(ROUTE_PROVEN)]
    assert sims and sims[-1]["from"].lower() == staker["address"].lower() and sims[-1]["to"].lower() == rg.treasury.lower()
    want = flow["want"][0]
    assert rg.contributed(staker["address"]) - before == want == int(older["amount"]) * SHARE // 10000
    rc = rg.d.rpc.call("eth_getTransactionReceipt", wallet.sent[0])
    assert rc["status"] == "0x1" and rc["from"].lower() == staker["address"].lower()
    routed = [lg for lg in rc["logs"] if lg["topics"][0] == T_ROUTED]
    assert len(routed) == 1 and int(routed[0]["data"][2 + 4 * 64:2 + 5 * 64], 16) == want
    expect(tid(page, "tx-status")).to_contain_text(f"The treasury took {vvv(want)} of the {vvv(int(older['amount']))} reward")

    # the keeper ingests the staker's own route: routed with the staker's transaction, no longer waiting
    who = staker["address"]

    def ingested():
        items = rg.api(f"/api/v1/stakers/{who}/contributions")["items"]
        return [i for i in items if (i["claim_block"], i["claim_log_index"]) == (older["block_number"], older["log_index"])]

    mine = wait_for(ingested, 45, "the keeper to ingest the staker's route")
    assert len(mine) == 1 and mine[0]["kind"] == "routed" and mine[0]["tx_hash"] == wallet.sent[0]
    assert mine[0]["contributed_wei"] == str(want) and mine[0]["share_bps"] == SHARE
    st = wait_for(lambda: staker_if(rg, who, lambda s: len(s["waiting"]) == 1), 30, "the routed claim to leave `waiting`")
    assert (st["waiting"][0]["claim_block"], st["waiting"][0]["claim_log_index"]) == (newer["block_number"], newer["log_index"])
    expect(tid(page, "waiting-item")).to_have_count(1, timeout=15_000)
    expect(item(page, newer)).to_have_count(1)
    row = page.locator(f'[data-testid="contribution-row"][data-claim-block="{older["block_number"]}"]'
                       f'[data-claim-log-index="{older["log_index"]}"]')
    expect(row).to_have_attribute("data-kind", "routed", timeout=15_000)
    expect(row).to_have_attribute("data-wei", str(want))
    flow["state"]["sent"] = wallet.sent[0]
    assert guard.foreign == [] and errors == [], (guard.foreign, errors)
    close_context(ctx)


def test_already_routed_claim_is_explained_not_sent(flow, browser):
    """The keeper has not ingested the staker's route yet (its staker record is answered as it was before): the
    page offers the claim again; by keyboard alone, the route is simulated, would take nothing, and is not sent."""
    rg, staker = flow["rig"], flow["staker"]
    older = flow["claims"][0]
    stale = flow["state"]["waiting"][0]
    assert "sent" in flow["state"], "needs test_route_it_myself"
    ctx, page, wallet, guard, errors = connect(browser, rg, staker)

    def lagging(route):
        resp = route.fetch(headers={k: v for k, v in route.request.headers.items() if k.lower() != "if-none-match"})
        j = resp.json()
        if not any((w["claim_block"], w["claim_log_index"]) == (stale["claim_block"], stale["claim_log_index"]) for w in j["waiting"]):
            j["waiting"].insert(0, stale)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(j))

    page.route(f"{rg.base}/api/v1/stakers/{staker['address']}", lagging)
    expect(item(page, older)).to_have_count(1)
    expect(tid(page, "contribution-row")).to_have_count(1)
    before = rg.contributed(staker["address"])
    kb = page.keyboard
    for _ in range(80):
        at = page.evaluate("(() => { const a = document.activeElement; const li = a && a.closest('li');"
                           " return a && a.dataset.testid === 'route-myself' ? li.dataset.claimBlock : null; })()")
        if at == str(older["block_number"]):
            break
        kb.press("Tab")
    else:
        pytest.fail("the route button is not reachable with Tab")
    kb.press("Enter")
    expect(tid(page, "tx-status")).to_have_attribute("data-state", "rejected", timeout=20_000)
    err = tid(page, "error")
    expect(err).to_contain_text("The simulation shows the treasury would take nothing for this reward.")
    expect(err).to_contain_text("This reward was already routed (tx")
    expect(err).to_contain_text("Nothing was sent to your wallet.")
    assert not [m for m, _ in wallet.requests if m == "eth_sendTransaction"]
    sims = [p[0] for m, p in wallet.requests if m == "eth_call" and p[0].get("data", "").startswith(ROUTE_PROVEN)]
    assert sims and sims[-1]["from"].lower() == staker["address"].lower()
    assert rg.contributed(staker["address"]) == before
    check_screen(page, "13-route-nothing-to-take")
    assert guard.foreign == [] and errors == [], (guard.foreign, errors)
    close_context(ctx)


def test_keeper_resumed_routes_the_rest_and_never_twice(flow):
    rg, staker = flow["rig"], flow["staker"]
    who = staker["address"]
    rg.resume()
    st = wait_for(lambda: staker_if(rg, who, lambda s: not s["waiting"] and s["routes"] == 2), 60,
                  "the keeper to route the other claim")
    items = rg.api(f"/api/v1/stakers/{who}/contributions")["items"]
    assert [(i["claim_block"], i["claim_log_index"], i["kind"]) for i in items] == \
        [(c["block_number"], c["log_index"], "routed") for c in reversed(flow["claims"])]
    assert items[1]["tx_hash"] == flow["state"]["sent"] and items[0]["tx_hash"] != flow["state"]["sent"]
    assert st["contributed_wei"] == str(sum(flow["want"])) == str(rg.contributed(who))


def test_keeper_treasury_offers_no_route_button(rig, browser):
    """With the ExpansionTreasury only the keeper routes: a staker whose claims wait (held: no allowance) sees no
    waiting list and no route button, connected or read-only; the treasury says who routes."""
    s = rig.stakers[2]
    assert rig.api("/api/v1/stats")["treasury_kind"] == "keeper"
    assert rig.api(f"/api/v1/stakers/{s['address']}")["waiting"], "the staker without allowance has no waiting claim"
    ctx, page, wallet, guard, errors = connect(browser, rig, {"address": s["address"], "key": int(s["private_key"], 16)})
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "true")
    expect(page.locator("#t-kind")).to_have_text("Only the keeper")
    expect(page.locator("#waiting")).to_be_hidden()
    expect(tid(page, "route-myself")).to_have_count(0)
    page.goto(f"{rig.base}/?address={s['address']}")
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "true")
    expect(page.locator("#waiting")).to_be_hidden()
    expect(tid(page, "waiting-item")).to_have_count(0)
    assert guard.foreign == [] and errors == [], (guard.foreign, errors)
    close_context(ctx)
