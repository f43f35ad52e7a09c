// The stakers' app: reads the keeper's public API (same origin) and the chain (the wallet, or the public
// rpc_url from /api/v1/stats), and writes through the wallet after simulating every call with eth_call.
import { FN, EV, SKIPS } from "./constants.js";
import { ADDRESS_RE, MAX_UINT, calldata, encAddress, encUint, wordAt, formatUnits, parseWholeTokens,
  shortHex, explainError, httpReader, ethCall } from "./eth.js";
import { discoverWallets, chainIdOf, chainName, switchChain } from "./wallet.js";

const $ = (id) => document.getElementById(id);
const S = {
  stats: null, view: null, readonly: false, wallet: null, account: null, chainId: null,
  api: null, chain: {}, items: new Map(), cursor: null, busy: false, capEdited: false, refreshing: false,
  selfRouted: new Map(), // claim key → the block the staker's own route of it was mined in (this page, this view)
};

// ------------------------------------------------------------------ small UI helpers
function showError(words) {
  const e = $("error");
  e.textContent = words || "";
  e.hidden = !words;
}
function txStatus(state, words) {
  const t = $("tx-status");
  t.dataset.state = state;
  t.textContent = words;
  t.hidden = false;
}
const vvv = (wei) => `${formatUnits(wei)} VVV`;
const pct = (bps) => `${(bps / 100).toLocaleString("en", { maximumFractionDigits: 2 })} %`;
function el(tag, props = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("data-") || k === "href" || k === "class" || k.startsWith("aria-")) n.setAttribute(k, v);
    else n[k] = v;
  }
  for (const k of kids) if (k != null) n.append(k);
  return n;
}

async function api(path) {
  const r = await fetch(path, { cache: "no-cache", headers: { Accept: "application/json" } });
  const j = await r.json().catch(() => null);
  if (!r.ok) throw Object.assign(new Error((j && j.error && j.error.message) || `the keeper's API answered HTTP ${r.status}`), { status: r.status, code: j && j.error && j.error.code });
  return j;
}

// ------------------------------------------------------------------ chain reads
const onRightChain = () => S.account && S.stats && S.chainId === S.stats.chain_id;
function reader() {
  if (onRightChain()) return S.wallet.provider;
  if (S.stats && S.stats.rpc_url) return httpReader(S.stats.rpc_url);
  return null;
}

async function chainReads(addr) {
  const r = reader();
  if (!r) return {};
  const st = S.stats, a = encAddress(addr);
  const calls = {
    reg: [st.treasury, calldata(FN.registration, a)],
    contributed: [st.treasury, calldata(FN.contributed, a)],
    balance: [st.reward_token, calldata(FN.balanceOf, a)],
    allowance: [st.reward_token, calldata(FN.allowance, a, encAddress(st.treasury))],
  };
  if (st.staking) {
    Object.assign(calls, {
      pending: [st.staking, calldata(FN.pendingRewards, a)],
      staked: [st.staking, calldata(FN.stakedOf, a)],
      stakedTotal: [st.staking, calldata(FN.stakedTotal)],
      rate: [st.staking, calldata(FN.emissionRate)],
    });
  }
  const out = {};
  await Promise.all(Object.entries(calls).map(async ([k, [to, data]]) => {
    try { out[k] = await ethCall(r, to, data); } catch { out[k] = null; }
  }));
  const res = {};
  if (out.reg) { res.share = Number(wordAt(out.reg, 0)); res.since = Number(wordAt(out.reg, 1)); }
  for (const k of ["contributed", "balance", "allowance", "pending", "staked", "stakedTotal", "rate"]) {
    if (out[k]) res[k] = wordAt(out[k], 0);
  }
  return res;
}

// ------------------------------------------------------------------ loading
async function loadStats() {
  S.stats = await api("/api/v1/stats");
}

async function refresh() {
  if (S.refreshing) return;
  S.refreshing = true;
  try {
    const view = S.view;
    const tasks = [loadStats()];
    if (view) {
      const a = encodeURIComponent(view);
      tasks.push(api(`/api/v1/stakers/${a}`).then((j) => { S.api = j; }));
      tasks.push(api(`/api/v1/stakers/${a}/contributions?limit=50`).then((j) => {
        mergeItems(j.items);
        if (S.cursor === null && S.items.size <= j.items.length) S.cursor = j.next_cursor;
      }));
    }
    await Promise.all(tasks);
    if (view !== S.view) return;
    if (view && S.stats) {
      render(); // the keeper's record first; the chain's own reads follow
      const chain = await chainReads(view);
      if (view !== S.view) return;
      S.chain = chain;
    }
    if (S.error === "api") { showError(""); S.error = null; }
  } catch (e) {
    S.error = "api";
    showError(e.status === 400 ? `The keeper's API refused the address: ${e.message}.` : `Could not read the keeper's API: ${e.message}. Retrying…`);
  } finally {
    S.refreshing = false;
  }
  render();
}

function mergeItems(items) {
  for (const it of items || []) S.items.set(`${it.claim_block}:${it.claim_log_index}`, it);
}

async function loadMore() {
  if (!S.cursor || !S.view) return;
  try {
    const j = await api(`/api/v1/stakers/${encodeURIComponent(S.view)}/contributions?limit=50&cursor=${encodeURIComponent(S.cursor)}`);
    mergeItems(j.items);
    S.cursor = j.next_cursor;
    render();
  } catch (e) {
    showError(`Could not load older contributions: ${e.message}`);
  }
}

// ------------------------------------------------------------------ rendering
function record() {
  const c = S.chain, a = S.api || {};
  const hasChain = c.share !== undefined;
  const share = hasChain ? c.share : a.share_bps || 0;
  return {
    registered: hasChain ? c.share > 0 : !!a.registered,
    share,
    since: hasChain ? (c.share > 0 ? c.since : null) : a.since_block ?? null,
    contributed: c.contributed ?? (a.contributed_wei !== undefined ? BigInt(a.contributed_wei) : null),
  };
}

function render() {
  const st = S.stats, me = S.view && !S.readonly;
  $("readonly").hidden = !S.readonly;
  $("wallet").hidden = S.readonly;
  if (S.readonly) $("readonly-addr").textContent = S.view;

  // wallet and chain
  if (S.account) {
    $("wallet-state").replaceChildren(`Connected with ${S.wallet.name}: `, el("code", {}, S.account));
    $("connect").textContent = "Use another wallet";
  } else if (S.wallet) { // the wallet disconnected this site
    $("wallet-state").textContent = "Not connected. Connect to see your record and to opt in.";
    $("connect").textContent = "Connect a wallet";
  }
  const wrong = S.account && st && S.chainId !== st.chain_id;
  $("chain-state").hidden = !wrong;
  $("switch-chain").hidden = !wrong;
  if (wrong) {
    $("chain-state").textContent = `Your wallet is on ${chainName(S.chainId)}; the treasury is on ${chainName(st.chain_id)}. Switch to read and write on the right chain.`;
    $("switch-chain").textContent = `Switch to ${chainName(st.chain_id)}`;
  }

  // treasury totals
  if (st) {
    $("t-stakers").textContent = String(st.stakers_registered);
    $("t-total").textContent = vvv(st.total_contributed_wei);
    $("t-counts").textContent = `${st.routes} · ${st.skips}`;
    $("t-block").textContent = st.block == null ? "not started" : String(st.block);
    $("t-address").replaceChildren(link(st.explorer_url && `${st.explorer_url}/address/${st.treasury}`, st.treasury));
    $("t-kind").textContent = proven() ? "Anyone, with a proof from the chain" : "Only the keeper";
  }

  $("record").hidden = $("history").hidden = !S.view;
  $("actions").hidden = !me || wrong;
  if (!S.view) { $("waiting").hidden = true; return; }
  $("record-h").textContent = me ? "Your registration" : "Registration";
  const loaded = !!S.api || S.chain.share !== undefined;
  $("record").setAttribute("aria-busy", String(!loaded));
  if (!loaded) { // nothing known yet: no value and no data-* hook rather than a wrong one
    for (const id of ["registered", "share", "since", "contributed", "balance", "allowance", "pending-rewards", "counts"]) $(id).textContent = "…";
    for (const [id, k] of [["registered", "value"], ["share", "bps"], ["contributed", "wei"]]) delete $(id).dataset[k];
    $("record-note").textContent = "Loading…";
    $("waiting").hidden = true;
    return;
  }
  const r = record(), c = S.chain, a = S.api || {};
  const reg = $("registered");
  reg.dataset.value = String(r.registered);
  reg.textContent = r.registered ? "Yes" : "No";
  const sh = $("share");
  sh.dataset.bps = String(r.share);
  sh.textContent = r.registered ? `${pct(r.share)} (${r.share} bps)` : "—";
  $("since").textContent = r.since != null ? String(r.since) : "—";
  const co = $("contributed");
  co.dataset.wei = r.contributed != null ? r.contributed.toString() : "0";
  co.textContent = r.contributed != null ? vvv(r.contributed) : "—";
  const noChain = "— (needs a chain connection)";
  $("balance").textContent = c.balance != null ? vvv(c.balance) : noChain;
  $("allowance").textContent = c.allowance == null ? noChain : c.allowance >= MAX_UINT / 2n ? (me ? "Unlimited — consider revoking it and approving a cap" : "Unlimited") : vvv(c.allowance);
  $("pending-rewards").textContent = c.pending != null ? vvv(c.pending) : noChain;
  $("counts").textContent = S.api ? `${a.routes} · ${a.skips} · ${a.pending}` : "—";
  $("record-note").textContent = note(r);

  // actions
  $("opt-in").hidden = r.registered;
  $("change-share").hidden = !r.registered;
  for (const id of ["opt-in", "change-share", "opt-out", "approve", "revoke"]) $(id).disabled = S.busy;
  renderProposal(r);

  // contributions
  const items = [...S.items.values()].sort((x, y) => y.claim_block - x.claim_block || y.claim_log_index - x.claim_log_index);
  // rebuilt only when the list changed, so a refresh never takes the focus from a link in a row
  const sig = items.map((it) => `${it.claim_block}:${it.claim_log_index}:${it.kind}:${it.tx_hash}`).join() + (st && st.explorer_url);
  if (sig !== S.rowsSig) { S.rowsSig = sig; $("contributions").replaceChildren(...items.map(row)); }
  $("history-note").textContent = items.length ? "" : "No contributions yet: rewards appear here once the keeper has routed or skipped them.";
  $("more").hidden = !S.cursor;
  $("csv").href = `/api/v1/stakers/${encodeURIComponent(S.view)}/contributions?format=csv`;
  renderWaiting(r, me, wrong);
}

function note(r) {
  const a = S.api, c = S.chain;
  if (!r.registered) return "Not opted in: none of these rewards are routed.";
  const parts = [];
  if (a && (a.registered !== r.registered || (a.registered && a.share_bps !== r.share))) {
    parts.push(`The keeper sees this change once it is ${S.stats.confirmations} blocks deep.`);
  }
  if (c.allowance === 0n) parts.push("With no allowance, rewards are skipped, not taken: approve a cap to contribute.");
  return parts.join(" ");
}

function link(href, text) {
  return href ? el("a", { href, rel: "noopener noreferrer" }, text) : el("code", {}, text);
}

function row(it) {
  const routed = it.kind === "routed";
  const words = routed
    ? [el("strong", {}, vvv(it.contributed_wei)), ` of a ${vvv(it.reward_wei)} reward at ${pct(it.share_bps)}`]
    : [`Reward of ${vvv(it.reward_wei)} not taken: `, (it.reason_code && SKIPS[it.reason_code]) || it.reason || "no reason given."];
  const tx = link(S.stats && S.stats.explorer_url && `${S.stats.explorer_url}/tx/${it.tx_hash}`, `tx ${shortHex(it.tx_hash)}`);
  return el("li", {
    "data-testid": "contribution-row", "data-claim-block": String(it.claim_block),
    "data-claim-log-index": String(it.claim_log_index), "data-kind": it.kind, "data-wei": String(it.contributed_wei),
  },
  el("span", { class: `kind ${routed ? "routed" : "skipped"}` }, routed ? "Routed" : "Skipped"), " ", ...words,
  el("span", { class: "meta" }, `Reward paid in block ${it.claim_block} (log ${it.claim_log_index}) · treasury block ${it.block} · `, tx));
}

// ------------------------------------------------------------------ waiting claims, route it myself (proven treasury)
const proven = () => !!S.stats && S.stats.treasury_kind === "proven";
const claimKey = (c) => `${c.claim_block}:${c.claim_log_index}`;
const older = (a, b) => a.claim_block < b.claim_block || (a.claim_block === b.claim_block && a.claim_log_index < b.claim_log_index);
function skipWords(reason) { // a reason code in it ("UNVERIFIABLE: …") in words, else the keeper's own words
  const m = /\b[A-Z][A-Z_]{4,}\b/.exec(reason || ""), sim = /^simulation:\s*(.+)$/s.exec(reason || "");
  return (m && SKIPS[m[0]]) || (sim ? `its simulation says the treasury would skip it: ${sim[1]}.` : reason || "no reason given.");
}

function renderWaiting(r, me, wrong) {
  const list = (S.api && S.api.waiting) || [];
  const sec = $("waiting");
  sec.hidden = !proven() || !S.api || (!list.length && !r.registered);
  if (sec.hidden) return;
  const can = me && !wrong;
  $("waiting-note").textContent = !list.length
    ? "Nothing waiting: the keeper has routed or skipped every reward it has seen."
    : can ? "The keeper routes these on its own. On this treasury anyone may route a reward, so you can also send it from your wallet (you pay the gas): the treasury checks the reward against the chain and takes only your share, at most once. Route the oldest first. A reward older than the chain can verify (8,191 blocks on Base) stays with you."
    : me ? "Switch your wallet to the treasury's chain to route these yourself."
    : "Rewards of this staker the keeper has not routed yet. On this treasury anyone may route them: the staker can, from their own wallet on this page.";
  const sig = JSON.stringify([list, can, [...S.selfRouted]]);
  if (sig !== S.waitSig) {
    const had = sec.contains(document.activeElement);
    S.waitSig = sig;
    $("waiting-list").replaceChildren(...list.map((c) => waitingItem(c, can)));
    if (had && !sec.contains(document.activeElement)) $("waiting-h").focus(); // its item left: keep keyboard users here
  }
  for (const b of sec.querySelectorAll("button")) b.disabled = S.busy;
}

function waitingItem(c, can) {
  const id = `w-${c.claim_block}-${c.claim_log_index}`, mine = S.selfRouted.get(claimKey(c));
  const state = mine ? `You routed it in block ${mine}; it moves to the contributions once the keeper has seen it.`
    : c.state === "held" ? `The keeper is holding it: ${skipWords(c.reason)}`
    : c.state === "sent" ? "The keeper has sent it; waiting to be mined." : "The keeper will route it.";
  return el("li", { "data-testid": "waiting-item", "data-claim-block": String(c.claim_block),
    "data-claim-log-index": String(c.claim_log_index), "data-state": c.state },
  el("span", { id }, el("strong", {}, vvv(c.expected_wei)), ` of a ${vvv(c.reward_wei)} reward would be taken.`,
    el("span", { class: "meta" }, `Reward paid in block ${c.claim_block} (log ${c.claim_log_index}). ${state}`)),
  can && !mine ? el("button", { type: "button", class: "quiet", "data-testid": "route-myself", "aria-describedby": id,
    onclick: () => routeMyself(c) }, "Route it myself") : null);
}

function routeMyself(c) {
  showError("");
  const first = ((S.api && S.api.waiting) || []).find((o) => older(o, c) && !S.selfRouted.has(claimKey(o)) && !/^UNVERIFIABLE/.test(o.reason || ""));
  if (first) {
    showError(`Route the older reward first (block ${first.claim_block}, log ${first.claim_log_index}): the treasury routes your rewards in chain order, so routing this one first would leave that one unroutable.`);
    return;
  }
  const prepare = async () => {
    let r;
    try {
      r = await api(`/api/v1/claims/${c.claim_block}-${c.claim_log_index}/route`);
    } catch (e) {
      throw Object.assign(new Error(), { words: {
        not_proven_treasury: "On this keeper's treasury only the keeper routes: there is nothing to route yourself.",
        no_such_claim: `The keeper found no staking reward at block ${c.claim_block}, log ${c.claim_log_index}: ${e.message}.`,
        chain_unavailable: "The keeper could not read that block from its node just now: try again in a minute.",
      }[e.code] || `Could not get the proof from the keeper: ${e.message}.` });
    }
    const cl = (r.claims || [])[0];
    if (!r.to || r.to.toLowerCase() !== S.stats.treasury.toLowerCase() || !String(r.data).startsWith(FN.route_proven.sel)
        || !cl || String(cl.staker).toLowerCase() !== S.account.toLowerCase()) {
      throw Object.assign(new Error(), { words: "The keeper's answer is not a route of this reward of yours to the treasury." });
    }
    return r;
  };
  return write(`route the reward of block ${c.claim_block}`, null, null, routedWords, {
    prepare,
    check: (out) => (wordAt(out, 0) === 0n ? nothingWords(c) : null),
    mined: (rc) => { if (treasuryLog(rc, EV.ProvenRouted)) S.selfRouted.set(claimKey(c), Number(BigInt(rc.blockNumber))); },
  });
}

/** Why the simulation of a route says the treasury would take nothing, from what the page knows. */
function nothingWords(c) {
  const it = S.items.get(claimKey(c)), ch = S.chain, want = BigInt(c.expected_wei);
  const why = it && it.kind === "routed" ? `This reward was already routed (tx ${shortHex(it.tx_hash)}), and the treasury never takes a reward twice.`
    : ch.share === 0 ? "You are not opted in, so the treasury takes nothing."
    : ch.since > c.claim_block ? SKIPS.BEFORE_OPT_IN
    : ch.allowance != null && ch.allowance < want ? `Your allowance to the treasury is below the ${vvv(want)} it would take: approve more first.`
    : ch.balance != null && ch.balance < want ? `Your VVV balance is below the ${vvv(want)} it would take.`
    : "It has already been routed (by the keeper or anyone), or a later reward of yours has: the treasury routes each reward once, in chain order.";
  return `The simulation shows the treasury would take nothing for this reward. ${why}`;
}

const treasuryLog = (rc, ev) => (rc.logs || []).find((l) => l.topics && l.topics[0] === ev.topic
  && (l.address || "").toLowerCase() === S.stats.treasury.toLowerCase());

function routedWords(rc) {
  const ok = treasuryLog(rc, EV.ProvenRouted), skip = treasuryLog(rc, EV.ProvenRouteSkipped);
  if (ok) return `The treasury took ${vvv(wordAt(ok.data, 4))} of the ${vvv(wordAt(ok.data, 3))} reward.`;
  // SKIPS is in reason-code order (constants.js)
  if (skip) return `The treasury skipped it: ${SKIPS[Object.keys(SKIPS)[Number(wordAt(skip.data, 3)) - 1]] || "no reason given."}`;
  return "";
}

// ------------------------------------------------------------------ allowance proposal
function proposal(r) {
  const c = S.chain, days = Number($("period").value);
  if (c.rate == null || !c.stakedTotal || c.staked == null) return null;
  const share = BigInt(r.registered ? r.share : Number($("share-input").value) * 100);
  const rewards = (c.rate * BigInt(days * 86400) * c.staked) / c.stakedTotal;
  const take = (rewards * share) / 10000n;
  let whole = (take + 10n ** 18n - 1n) / 10n ** 18n;
  if (whole < 1n) whole = 1n;
  return { days, rewards, take, whole, share };
}

function renderProposal(r) {
  const p = proposal(r);
  if (!p) {
    $("proposal").textContent = "Enter a cap: no chain connection to estimate your rewards.";
    return;
  }
  $("proposal").textContent = `Your stake earns about ${vvv(p.rewards)} in ${$("period").selectedOptions[0].text}; at ${pct(Number(p.share))} the treasury would take about ${vvv(p.take)}. Proposed cap: ${p.whole.toLocaleString("en")} VVV.`;
  if (!S.capEdited) $("approve-amount").value = p.whole.toString();
}

// ------------------------------------------------------------------ writes
// opts.prepare: async () → {to, data} (throws an Error with `words` to stop); opts.check: the simulation's
// result → words when it must not be sent; opts.mined: called with the receipt of a successful transaction.
async function write(what, to, data, after, opts = {}) {
  if (S.busy) return;
  S.busy = true;
  showError("");
  render();
  const from = S.account, p = S.wallet.provider;
  try {
    if (opts.prepare) {
      txStatus("simulating", `Fetching the proof for “${what}” from the keeper…`);
      try {
        ({ to, data } = await opts.prepare());
      } catch (e) {
        txStatus("rejected", `Not sent: “${what}”.`);
        showError(e.words || explainError(e).words);
        return;
      }
    }
    txStatus("simulating", `Checking “${what}” with a simulation…`);
    let out;
    try {
      out = await ethCall(p, to, data, from);
    } catch (e) {
      const x = explainError(e);
      if (x.kind === "revert") {
        txStatus("reverted", `Not sent: “${what}” would fail.`);
        showError(`${x.words} Nothing was sent to your wallet.`);
      } else {
        txStatus("rejected", `Not sent: the simulation could not run.`);
        showError(x.words);
      }
      return;
    }
    const refuse = opts.check && opts.check(out);
    if (refuse) {
      txStatus("rejected", `Not sent: “${what}” would take nothing.`);
      showError(`${refuse} Nothing was sent to your wallet.`);
      return;
    }
    txStatus("simulating", `The simulation passed. Confirm “${what}” in your wallet…`);
    let hash;
    try {
      hash = await p.request({ method: "eth_sendTransaction", params: [{ from, to, data }] });
    } catch (e) {
      const x = explainError(e);
      txStatus(x.kind === "revert" ? "reverted" : "rejected", `Not sent: “${what}”.`);
      showError(x.words);
      return;
    }
    txStatus("pending", `“${what}” sent (${shortHex(hash)}); waiting to be mined…`);
    const rc = await poll(async () => p.request({ method: "eth_getTransactionReceipt", params: [hash] }));
    const block = Number(BigInt(rc.blockNumber));
    if (BigInt(rc.status) !== 1n) {
      txStatus("reverted", `“${what}” was mined in block ${block} but reverted.`);
      showError("The transaction reverted on chain: the state changed after the simulation. Check your record and try again.");
      return;
    }
    if (opts.mined) opts.mined(rc);
    txStatus("mined", `“${what}” mined in block ${block}. ${after ? after(rc) : ""} Waiting for ${S.stats.confirmations} confirmations…`);
    await refresh();
    const need = block + S.stats.confirmations;
    await poll(async () => (Number(BigInt(await p.request({ method: "eth_blockNumber", params: [] }))) >= need ? true : null));
    txStatus("confirmed", `“${what}” confirmed: block ${block} is ${S.stats.confirmations} blocks deep. ${after ? after(rc) : ""}`);
  } catch (e) {
    showError(explainError(e).words);
  } finally {
    S.busy = false;
    await refresh();
  }
}

async function poll(fn, ms = 1000, limit = 900) {
  for (let i = 0; i < limit; i++) {
    const v = await fn().catch(() => null);
    if (v) return v;
    await new Promise((r) => setTimeout(r, ms));
  }
  throw new Error("no answer from the chain after 15 minutes; check your wallet's activity");
}

function optedInWords(rc) {
  const lg = (rc.logs || []).find((l) => l.topics && l.topics[0] === EV.OptedIn.topic);
  if (!lg) return "Nothing changed: that share was already registered.";
  return `Registered at ${pct(Number(wordAt(lg.data, 0)))}, effective from block ${wordAt(lg.data, 1)}.`;
}

function optIn(label) {
  const bps = Number($("share-input").value) * 100;
  if (label === "change share" && record().share === bps) {
    showError(`Your share is already ${pct(bps)}: move the slider to choose another.`);
    return;
  }
  return write(`${label} at ${pct(bps)}`, S.stats.treasury, calldata(FN.opt_in, encUint(bps)), optedInWords);
}

function approve(wei, what) {
  return write(what, S.stats.reward_token, calldata(FN.approve, encAddress(S.stats.treasury), encUint(wei)),
    () => `The treasury may now take at most ${vvv(wei)} in total.`);
}

function onApprove() {
  let wei;
  try {
    wei = parseWholeTokens($("approve-amount").value);
  } catch (e) {
    showError(e.message);
    $("approve-amount").focus();
    return;
  }
  if (wei === 0n) {
    showError("A cap of 0 is a revoke: use “Revoke allowance”.");
    return;
  }
  return approve(wei, `approve a cap of ${vvv(wei)}`);
}

// ------------------------------------------------------------------ wallet
async function onConnect() {
  showError("");
  const list = await discoverWallets();
  const ul = $("wallets");
  if (!list.length) {
    ul.hidden = true;
    showError("No wallet found in this browser. Install one, or look up any address below without a wallet.");
    return;
  }
  ul.replaceChildren(...list.map((w) => el("li", {}, el("button", { type: "button", "data-testid": "wallet-option", onclick: () => useWallet(w) },
    w.icon ? el("img", { src: w.icon, alt: "", width: 28, height: 28 }) : null, `Connect ${w.name}`))));
  ul.hidden = false;
  ul.querySelector("button").focus();
}

async function useWallet(w) {
  try {
    const accounts = await w.provider.request({ method: "eth_requestAccounts" });
    if (!accounts || !accounts.length) throw new Error("the wallet shared no account");
    S.wallet = w;
    S.account = accounts[0];
    S.chainId = await chainIdOf(w.provider);
  } catch (e) {
    showError(explainError(e).words);
    return;
  }
  if (typeof w.provider.on === "function") {
    w.provider.on("accountsChanged", (acc) => { if (S.wallet === w) { S.account = acc[0] || null; setView(S.account); } });
    w.provider.on("chainChanged", (id) => { if (S.wallet === w) { S.chainId = Number(BigInt(id)); refresh(); } });
  }
  $("wallets").hidden = true;
  showError("");
  setView(S.account);
  $("wallet-h").focus(); // the wallet list is gone: keep keyboard users at the wallet section
}

function setView(addr) {
  S.view = addr;
  S.api = null; S.chain = {}; S.items = new Map(); S.cursor = null; S.capEdited = false; S.selfRouted = new Map();
  render();
  refresh();
}

async function onSwitch() {
  showError("");
  try {
    await switchChain(S.wallet.provider, S.stats.chain_id, S.stats.rpc_url, S.stats.explorer_url);
    S.chainId = await chainIdOf(S.wallet.provider);
    if (S.chainId !== S.stats.chain_id) throw new Error(`the wallet is still on ${chainName(S.chainId)}`);
    render();
    $("actions-h").focus(); // the switch button is gone: keep keyboard users where the actions are
  } catch (e) {
    showError(e.code === "unknown-chain" ? e.message : `Could not switch: ${explainError(e).words}`);
  }
  refresh();
}

// ------------------------------------------------------------------ start
function init() {
  const q = new URLSearchParams(location.search).get("address");
  if (q !== null) {
    if (ADDRESS_RE.test(q.trim())) {
      S.readonly = true;
      S.view = q.trim();
    } else {
      showError("That is not an address: expected 0x followed by 40 hexadecimal characters.");
    }
  }
  $("connect").onclick = onConnect;
  $("switch-chain").onclick = onSwitch;
  $("share-input").oninput = () => {
    const v = Number($("share-input").value);
    $("share-out").textContent = `${v} % (${v * 100} bps)`;
    renderProposal(record());
  };
  $("opt-in").onclick = () => optIn("opt in");
  $("change-share").onclick = () => optIn("change share");
  $("opt-out").onclick = () => write("opt out", S.stats.treasury, calldata(FN.opt_out),
    (rc) => ((rc.logs || []).some((l) => l.topics && l.topics[0] === EV.OptedOut.topic) ? "You are opted out: no later reward is taken." : ""));
  $("approve").onclick = onApprove;
  $("revoke").onclick = () => approve(0n, "revoke the allowance");
  $("approve-amount").oninput = () => { S.capEdited = true; };
  $("period").onchange = () => { S.capEdited = false; renderProposal(record()); };
  $("more").onclick = loadMore;
  $("lookup-form").onsubmit = (ev) => {
    ev.preventDefault(); // the server's CSP has form-action 'none': navigate instead of submitting
    const v = $("lookup-address").value.trim();
    if (ADDRESS_RE.test(v)) location.assign(`./?address=${v}`);
    else showError("That is not an address: expected 0x followed by 40 hexadecimal characters.");
  };
  for (const id of ["wallet-h", "actions-h", "waiting-h"]) $(id).tabIndex = -1;
  render();
  refresh();
  setInterval(() => { if (!document.hidden && !S.busy) refresh(); }, 4000);
}

init();
