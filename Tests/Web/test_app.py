"""The stakers' app in headless Chromium against the local chain and a running keeper (issue 18, "Prove it").

One staker goes through the whole life: connect (two EIP-6963 wallets listed) → wrong chain → switch (the wallet does
not know the chain: wallet_addEthereumChain with the public rpc_url) → opt in at 25 % → approve a cap → claim on the
mock staking contract → the keeper routes → the contribution row shows the amount → change share → a rejected
signature (4001) → opt out → a reverting call (opt out again: the simulation reverts, the wallet is never asked) →
revoke. After each write the page AND the chain are checked. Then a second staker does every action with the
keyboard alone, and the read-only view shows another staker's record without a wallet. On every screen: axe-core
finds no serious or critical violation, a 390×844 screenshot is saved, and no request leaves the app's origin and
the chain RPC.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webrig import EXPLORER, TestWallet, axe_serious, close_context, new_context, screenshot, wait_for

CONFIRM_TIMEOUT = 30_000


@pytest.fixture(scope="module")
def app(rig, browser):
    staker = rig.new_staker()
    wallet = TestWallet(rig, staker)
    ctx, guard = new_context(browser, rig, wallet)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(rig.base + "/")
    yield {"page": page, "wallet": wallet, "staker": staker, "guard": guard, "errors": errors}
    assert guard.foreign == [], f"requests outside the app's origin and the chain RPC: {guard.foreign}"
    assert errors == [], f"uncaught errors in the page: {errors}"
    assert wallet.unsimulated == [], f"sent without simulating the same call first: {wallet.unsimulated}"
    assert len(wallet.sent) == 5, wallet.sent  # opt in, approve, change share, opt out, revoke (none rejected or reverted)
    close_context(ctx)


def vvv(wei: int) -> str:
    """The page's amount format (formatUnits in deploy/web/eth.js)."""
    whole, rem = divmod(wei, 10**18)
    frac = str(rem).rjust(18, "0")[:6].rstrip("0")
    return f"{whole:,}" + (f".{frac}" if frac else "") + " VVV"


def tid(page, name):
    return page.get_by_test_id(name)


def check_screen(page, name: str) -> None:
    """Accessibility (no serious/critical axe violation) and the 390×844 screenshot of one screen."""
    bad = axe_serious(page)
    screenshot(page, name)
    assert bad == [], f"axe on {name}: {bad}"


def accessible(page, role: str, name: str, testid: str) -> None:
    """The control is reachable by its accessible name, and it is the one with that data-testid."""
    loc = page.get_by_role(role, name=name, exact=True)
    expect(loc).to_have_count(1)
    assert loc.get_attribute("data-testid") == testid


def confirmed(page) -> None:
    expect(tid(page, "tx-status")).to_have_attribute("data-state", "confirmed", timeout=CONFIRM_TIMEOUT)
    expect(tid(page, "error")).to_be_hidden()


def test_landing(app, rig):
    page = app["page"]
    expect(tid(page, "connect")).to_be_visible()
    accessible(page, "button", "Connect a wallet", "connect")
    stats = rig.api("/api/v1/stats")
    expect(page.locator("#t-counts")).to_have_text(f"{stats['routes']} · {stats['skips']}", timeout=10_000)
    expect(page.locator("#t-address a")).to_have_attribute("href", f"{EXPLORER}/address/{rig.treasury}")
    check_screen(page, "01-landing")


def test_connect_lists_every_wallet(app):
    page = app["page"]
    tid(page, "connect").click()
    options = tid(page, "wallet-option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_text("Connect Test Wallet")
    expect(options.nth(1)).to_have_text("Connect Second Wallet")
    for i in range(2):
        assert options.nth(i).locator("img").get_attribute("src").startswith("data:image/svg+xml")
    accessible(page, "button", "Connect Second Wallet", "wallet-option")
    check_screen(page, "02-wallets")
    options.nth(0).click()
    expect(page.locator("#wallet-state")).to_contain_text(app["staker"]["address"])


def test_wrong_chain_then_switch(app, rig):
    page, wallet = app["page"], app["wallet"]
    sw = tid(page, "switch-chain")
    expect(sw).to_be_visible()
    expect(page.locator("#chain-state")).to_contain_text("(chain 1);")
    expect(tid(page, "opt-in")).to_be_hidden()
    accessible(page, "button", "Switch to Local dev chain (chain 1337)", "switch-chain")
    check_screen(page, "03-wrong-chain")
    sw.click()
    expect(sw).to_be_hidden()
    assert wallet.chain_id == 1337
    # The wallet did not know chain 1337 (4902): the page offered it with the public rpc_url from /api/v1/stats.
    assert len(wallet.added) == 1 and wallet.added[0]["chainId"] == "0x539"
    assert wallet.added[0]["rpcUrls"] == [rig.url]
    assert wallet.added[0]["blockExplorerUrls"] == [EXPLORER]
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "false")
    expect(tid(page, "staker-contributed")).to_have_attribute("data-wei", "0")
    for role, name, t in [("slider", "Share of each reward", "share-input"), ("button", "Opt in", "opt-in"),
                          ("button", "Opt out", "opt-out"), ("textbox", "Allowance cap, in whole VVV", "approve-amount"),
                          ("button", "Approve cap", "approve"), ("button", "Revoke allowance", "revoke")]:
        accessible(page, role, name, t)
    check_screen(page, "04-connected")


def test_opt_in_at_25_percent(app, rig):
    page, who = app["page"], app["staker"]["address"]
    share = tid(page, "share-input")
    assert share.get_attribute("type") == "range"
    share.fill("25")
    expect(page.locator("#share-out")).to_have_text("25 % (2500 bps)")
    page.evaluate("window.__txStates = []")
    tid(page, "opt-in").click()
    confirmed(page)
    expect(tid(page, "tx-status")).to_contain_text("Registered at 25 %")
    assert page.evaluate("window.__txStates") == ["simulating", "pending", "mined", "confirmed"]
    bps, since = rig.registration(who)
    assert bps == 2500 and since > 0
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "true")
    expect(tid(page, "staker-share")).to_have_attribute("data-bps", "2500")
    expect(page.locator("#since")).to_have_text(str(since))
    expect(tid(page, "change-share")).to_be_visible()
    accessible(page, "button", "Change share", "change-share")
    expect(tid(page, "opt-in")).to_be_hidden()
    # The keeper's API follows once the registration is `confirmations` deep.
    wait_for(lambda: rig.api(f"/api/v1/stakers/{who}")["share_bps"] == 2500, 30, "the API to show the opt-in")


def test_approve_a_bounded_cap(app, rig):
    page, who = app["page"], app["staker"]["address"]
    amount = tid(page, "approve-amount")
    # A proposal from the expected rewards over the chosen period (1 month by default) at the share: never unlimited.
    rate = rig.call("MockVeniceStaking", rig.staking, "emissionRatePerSecond")
    staked = rig.call("MockVeniceStaking", rig.staking, "balanceOf", who)
    total = rig.call("MockVeniceStaking", rig.staking, "totalSupply")
    expected = -(-(rate * 30 * 86400 * staked // total * 2500 // 10000) // 10**18)
    expect(amount).to_have_value(str(expected))
    page.locator("#period").select_option("7")
    week = -(-(rate * 7 * 86400 * staked // total * 2500 // 10000) // 10**18)
    expect(amount).to_have_value(str(week))
    expect(page.locator("#proposal")).to_contain_text(f"Proposed cap: {week:,} VVV")
    # the balance, the allowance and pending staking rewards as the chain has them
    expect(page.locator("#balance")).to_have_text(vvv(rig.call("MockVVV", rig.vvv, "balanceOf", who)))
    expect(page.locator("#allowance")).to_have_text("0 VVV")
    expect(page.locator("#pending-rewards")).to_have_text(re.compile(r"^[\d,.]+ VVV$"))
    amount.fill("1000")
    tid(page, "approve").click()
    confirmed(page)
    assert rig.allowance(who) == 1000 * 10**18
    expect(page.locator("#allowance")).to_have_text("1,000 VVV")
    check_screen(page, "05-registered")


def test_claim_is_routed_and_listed(app, rig):
    page, staker = app["page"], app["staker"]
    claim = rig.claim(staker, advance=60)
    want = int(claim["amount"]) * 2500 // 10000
    assert want > 0
    row = page.locator(f'[data-testid="contribution-row"][data-claim-block="{claim["block_number"]}"]'
                       f'[data-claim-log-index="{claim["log_index"]}"]')
    expect(row).to_have_count(1, timeout=45_000)
    expect(row).to_have_attribute("data-kind", "routed")
    expect(row).to_have_attribute("data-wei", str(want))
    assert rig.contributed(staker["address"]) == want
    expect(tid(page, "staker-contributed")).to_have_attribute("data-wei", str(want), timeout=15_000)
    item = rig.api(f"/api/v1/stakers/{staker['address']}/contributions")["items"][0]
    assert item["contributed_wei"] == str(want) and item["kind"] == "routed"
    expect(row.locator("a")).to_have_attribute("href", f"{EXPLORER}/tx/{item['tx_hash']}")
    row.scroll_into_view_if_needed()
    check_screen(page, "06-contribution")


def test_change_share(app, rig):
    page, who = app["page"], app["staker"]["address"]
    page.evaluate("window.scrollTo(0, 0)")
    tid(page, "share-input").fill("50")
    tid(page, "change-share").click()
    confirmed(page)
    assert rig.registration(who)[0] == 5000
    expect(tid(page, "staker-share")).to_have_attribute("data-bps", "5000")


def test_rejected_signature(app, rig):
    page, wallet, who = app["page"], app["wallet"], app["staker"]["address"]
    sent = len(wallet.sent)
    wallet.reject_next = True
    tid(page, "share-input").fill("60")
    tid(page, "change-share").click()
    expect(tid(page, "tx-status")).to_have_attribute("data-state", "rejected")
    expect(tid(page, "error")).to_be_visible()
    expect(tid(page, "error")).to_contain_text("You declined the request in your wallet. Nothing was sent.")
    assert len(wallet.sent) == sent and rig.registration(who)[0] == 5000
    expect(tid(page, "staker-share")).to_have_attribute("data-bps", "5000")
    check_screen(page, "07-rejected")


def test_opt_out(app, rig):
    page, who = app["page"], app["staker"]["address"]
    tid(page, "opt-out").click()
    confirmed(page)
    assert rig.registration(who) == (0, 0)
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "false")
    expect(tid(page, "staker-share")).to_have_attribute("data-bps", "0")
    expect(tid(page, "opt-in")).to_be_visible()


def test_reverting_call_is_explained_before_the_wallet_is_asked(app, rig):
    page, wallet = app["page"], app["wallet"]
    asked = sum(1 for m, _ in wallet.requests if m == "eth_sendTransaction")
    tid(page, "opt-out").click()  # not registered any more: opt_out() reverts "not registered"
    expect(tid(page, "tx-status")).to_have_attribute("data-state", "reverted")
    expect(tid(page, "error")).to_contain_text("You are not opted in, so there is nothing to opt out of.")
    assert sum(1 for m, _ in wallet.requests if m == "eth_sendTransaction") == asked
    simulated = [p for m, p in wallet.requests if m == "eth_call" and p[0].get("data") == "0xd904a8f6"]
    assert simulated and simulated[-1][0]["from"].lower() == app["staker"]["address"].lower()
    check_screen(page, "08-error")


def test_revoke(app, rig):
    page, who = app["page"], app["staker"]["address"]
    tid(page, "revoke").click()
    confirmed(page)
    assert rig.allowance(who) == 0
    expect(page.locator("#allowance")).to_have_text("0 VVV")
    # a bad cap is refused in words before anything is simulated
    tid(page, "approve-amount").fill("12.5")
    tid(page, "approve").click()
    expect(tid(page, "error")).to_contain_text("Enter a whole number of VVV")


def test_keyboard_only(rig, browser):
    """A second staker does every action with Tab, Enter, Space, arrows and typing: nothing needs a pointer."""
    staker = rig.new_staker()
    wallet = TestWallet(rig, staker)
    ctx, guard = new_context(browser, rig, wallet)
    page = ctx.new_page()
    page.goto(rig.base + "/")
    kb = page.keyboard

    def focus(testid: str, nth: int = 0) -> None:
        for _ in range(80):
            at = page.evaluate("(() => { const a = document.activeElement; if (!a || !a.dataset.testid) return null;"
                               " const all = [...document.querySelectorAll(`[data-testid='${a.dataset.testid}']`)];"
                               " return [a.dataset.testid, all.indexOf(a)]; })()")
            if at == [testid, nth]:
                return
            kb.press("Tab")
        pytest.fail(f"{testid} is not reachable with Tab")

    def press(testid: str, key: str = "Enter") -> None:
        focus(testid)
        kb.press(key)

    press("connect")
    expect(tid(page, "wallet-option")).to_have_count(2)
    press("wallet-option", "Space")
    expect(tid(page, "switch-chain")).to_be_visible()
    press("switch-chain")
    expect(tid(page, "opt-in")).to_be_visible()
    focus("share-input")
    for _ in range(5):
        kb.press("ArrowRight")  # 25 → 30 %
    expect(page.locator("#share-out")).to_have_text("30 % (3000 bps)")
    press("opt-in")
    confirmed(page)
    assert rig.registration(staker["address"])[0] == 3000
    focus("approve-amount")
    kb.press("Control+A")
    kb.type("200")
    press("approve")
    confirmed(page)
    assert rig.allowance(staker["address"]) == 200 * 10**18
    focus("share-input")
    kb.press("End")
    expect(page.locator("#share-out")).to_have_text("100 % (10000 bps)")
    press("change-share", "Space")
    confirmed(page)
    assert rig.registration(staker["address"])[0] == 10000
    press("opt-out")
    confirmed(page)
    assert rig.registration(staker["address"]) == (0, 0)
    press("revoke")
    confirmed(page)
    assert rig.allowance(staker["address"]) == 0
    check_screen(page, "09-keyboard")
    assert guard.foreign == [], guard.foreign
    close_context(ctx)


def test_legacy_window_ethereum(rig, browser):
    """A browser whose wallet does not speak EIP-6963: the page offers window.ethereum; already on the right chain."""
    staker = rig.new_staker(stake=10**18)
    wallet = TestWallet(rig, staker, chain_id=1337)
    ctx, guard = new_context(browser, rig, wallet, eip6963=False)
    page = ctx.new_page()
    page.goto(rig.base + "/")
    tid(page, "connect").click()
    options = tid(page, "wallet-option")
    expect(options).to_have_count(1)
    expect(options).to_have_text("Connect Browser wallet")
    options.click()
    expect(page.locator("#wallet-state")).to_contain_text(staker["address"])
    expect(tid(page, "switch-chain")).to_be_hidden()
    expect(tid(page, "opt-in")).to_be_visible()
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "false")
    assert guard.foreign == [], guard.foreign
    close_context(ctx)


def test_read_only_view(rig, browser):
    """/?address=… shows another staker's public record with no wallet at all (no provider injected)."""
    other = rig.stakers[0]["address"]  # a background staker at 10000 bps whose claims the keeper routed
    ctx, guard = new_context(browser, rig)
    page = ctx.new_page()
    page.goto(rig.base + "/")
    lookup = page.get_by_role("textbox", name="Staker address")
    lookup.fill(other)
    lookup.press("Enter")  # the form navigates to the read-only link
    page.wait_for_url(f"{rig.base}/?address={other}")
    expect(page.locator("#readonly")).to_be_visible()
    expect(tid(page, "connect")).to_be_hidden()
    expect(tid(page, "opt-in")).to_be_hidden()
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "true")
    expect(tid(page, "staker-share")).to_have_attribute("data-bps", "10000")
    expect(tid(page, "staker-contributed")).to_have_attribute("data-wei", str(rig.contributed(other)))
    items = rig.api(f"/api/v1/stakers/{other}/contributions?limit=500")["items"]
    assert items
    rows = tid(page, "contribution-row")
    expect(rows).to_have_count(len(items))
    for i, it in enumerate(items):
        expect(rows.nth(i)).to_have_attribute("data-claim-block", str(it["claim_block"]))
        expect(rows.nth(i)).to_have_attribute("data-claim-log-index", str(it["claim_log_index"]))
        expect(rows.nth(i)).to_have_attribute("data-kind", it["kind"])
    # chain reads through the public rpc_url
    expect(page.locator("#balance")).to_have_text(re.compile(r"^[\d,.]+ VVV$"))
    expect(page.locator("#csv")).to_have_attribute("href", f"/api/v1/stakers/{other}/contributions?format=csv")
    check_screen(page, "10-read-only")
    assert any(r.startswith(f"POST {rig.url}") for r in guard.seen), "the read-only view made no chain read"

    # a skipped contribution is explained in words (the staker who revoked while a route was in flight)
    skipper = rig.stakers[3]["address"]
    page.goto(f"{rig.base}/?address={skipper}")
    first = tid(page, "contribution-row").first
    expect(first).to_have_attribute("data-kind", "skipped")
    expect(first).to_contain_text("allowance")
    first.scroll_into_view_if_needed()
    check_screen(page, "11-read-only-skips")

    # a malformed address is refused in words, and so is a mistyped checksum (by the API)
    page.goto(f"{rig.base}/?address=0x1234")
    expect(tid(page, "error")).to_contain_text("That is not an address")
    typo = other[:-1] + ("a" if other[-1] != "a" else "b") if other[-1].isalpha() else other[:2] + other[2:].swapcase()
    page.goto(f"{rig.base}/?address={typo}")
    expect(tid(page, "error")).to_contain_text("The keeper's API refused the address")
    assert guard.foreign == [], guard.foreign
    close_context(ctx)


def test_read_only_view_without_a_usable_rpc(rig, browser):
    """An rpc_url that does not answer browsers (no CORS, as the local chain itself): the record still comes from the
    keeper's API, the chain-only figures say they need a chain connection, and nothing throws."""
    other = rig.stakers[1]["address"]
    ctx, guard = new_context(browser, rig, cors=False)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{rig.base}/?address={other}")
    api = rig.api(f"/api/v1/stakers/{other}")
    expect(tid(page, "staker-registered")).to_have_attribute("data-value", "true")
    expect(tid(page, "staker-share")).to_have_attribute("data-bps", str(api["share_bps"]))
    expect(tid(page, "staker-contributed")).to_have_attribute("data-wei", api["contributed_wei"])
    expect(page.locator("#balance")).to_have_text("— (needs a chain connection)")
    expect(tid(page, "contribution-row")).to_have_count(api["routes"] + api["skips"])
    assert errors == [] and guard.foreign == []
    close_context(ctx)
