// Small Ethereum helpers: ABI words, amounts, revert decoding and a JSON-RPC reader. No dependencies.
import { ERR, REVERTS, WALLET_ERRORS } from "./constants.js";

export const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
export const MAX_UINT = (1n << 256n) - 1n;
const word = (hex) => hex.padStart(64, "0");

export const encAddress = (a) => word(a.slice(2).toLowerCase());
export const encUint = (n) => word(BigInt(n).toString(16));
export const calldata = (fn, ...words) => fn.sel + words.join("");

/** The n-th 32-byte word of hex data as a BigInt (0n when absent). */
export function wordAt(data, n) {
  const w = (data || "0x").slice(2 + n * 64, 2 + (n + 1) * 64);
  return w.length === 64 ? BigInt("0x" + w) : 0n;
}

/** wei → "1,234.5678" with at most `frac` decimals (18-decimal token). */
export function formatUnits(wei, frac = 6) {
  const v = BigInt(wei);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / 10n ** 18n;
  let f = (a % 10n ** 18n).toString().padStart(18, "0").slice(0, frac).replace(/0+$/, "");
  const w = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (neg ? "-" : "") + w + (f ? "." + f : "");
}

/** Whole tokens typed by a person ("1,000", "250") → wei; throws Error with words otherwise. */
export function parseWholeTokens(text) {
  const t = String(text).trim().replace(/[,_\s]/g, "");
  if (!/^\d{1,60}$/.test(t)) throw new Error("Enter a whole number of VVV, for example 250.");
  const wei = BigInt(t) * 10n ** 18n;
  if (wei > MAX_UINT) throw new Error("That amount is larger than any token supply.");
  return wei;
}

export const shortHex = (h) => (h && h.length > 14 ? `${h.slice(0, 8)}…${h.slice(-6)}` : h || "");

/** Finds revert data (0x…) inside an EIP-1193 / JSON-RPC error of any wallet's shape. */
function revertData(err) {
  for (let e = err, i = 0; e && i < 5; i++) {
    const d = e.data;
    if (typeof d === "string" && /^0x[0-9a-fA-F]*$/.test(d)) return d;
    if (d && typeof d === "object" && typeof d.data === "string" && /^0x/.test(d.data)) return d.data;
    e = (d && (d.originalError || d.cause)) || e.error || e.cause;
  }
  return null;
}

function decodeString(data) {
  const off = Number(wordAt(data, 0));
  const len = Number(wordAt("0x" + data.slice(2 + off * 2), 0));
  const hex = data.slice(2 + off * 2 + 64, 2 + off * 2 + 64 + len * 2);
  const bytes = new Uint8Array(hex.match(/../g)?.map((b) => parseInt(b, 16)) || []);
  return new TextDecoder().decode(bytes);
}

/**
 * Explains an error from eth_call / eth_sendTransaction in words.
 * → {kind: "revert", reason, words} | {kind: "wallet", code, words} | {kind: "other", words}
 */
export function explainError(err) {
  const data = revertData(err);
  const msg = String((err && err.message) || err || "");
  if (data && data.length >= 10) {
    const sel = data.slice(0, 10).toLowerCase();
    if (sel === ERR.Error.sel) {
      const reason = decodeString("0x" + data.slice(10));
      return { kind: "revert", reason, words: REVERTS[reason] || `The contract refused: “${reason}”.` };
    }
    if (sel === ERR.Panic.sel) {
      return { kind: "revert", reason: "panic", words: `The contract failed (panic code ${wordAt("0x" + data.slice(10), 0)}).` };
    }
    return { kind: "revert", reason: sel, words: `The contract refused with an error this page does not know (${sel}).` };
  }
  const m = /execution reverted(?::\s*(.*))?/i.exec(msg);
  if (m || (err && (err.code === 3 || err.code === -32015))) {
    const reason = (m && m[1] ? m[1] : "").trim();
    return { kind: "revert", reason, words: REVERTS[reason] || (reason ? `The contract refused: “${reason}”.` : "The contract refused the call without a reason.") };
  }
  const code = err && err.code;
  if (code !== undefined && WALLET_ERRORS[code]) return { kind: "wallet", code, words: WALLET_ERRORS[code] };
  return { kind: "other", words: msg ? `Something went wrong: ${msg}` : "Something went wrong." };
}

/**
 * A JSON-RPC endpoint (the public rpc_url from stats) as an EIP-1193-like reader. Requests made in the same
 * tick go out as one JSON-RPC batch: one round trip (and one CORS preflight) per refresh.
 */
export function httpReader(url) {
  let id = 0, queue = [];
  async function flush() {
    const q = queue;
    queue = [];
    try {
      const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(q.map((x) => x.msg)) });
      if (!r.ok) throw new Error(`the chain endpoint answered HTTP ${r.status}`);
      const all = await r.json();
      const byId = new Map((Array.isArray(all) ? all : [all]).map((a) => [a.id, a]));
      for (const x of q) {
        const a = byId.get(x.msg.id);
        if (!a) x.reject(new Error("the chain endpoint did not answer"));
        else if (a.error) x.reject(Object.assign(new Error(a.error.message), { code: a.error.code, data: a.error.data }));
        else x.resolve(a.result);
      }
    } catch (e) {
      for (const x of q) x.reject(e);
    }
  }
  return {
    request({ method, params }) {
      return new Promise((resolve, reject) => {
        if (!queue.length) setTimeout(flush, 0);
        queue.push({ msg: { jsonrpc: "2.0", id: ++id, method, params: params || [] }, resolve, reject });
      });
    },
  };
}

/** eth_call to `to` with `data`; returns the hex result. */
export const ethCall = (reader, to, data, from) =>
  reader.request({ method: "eth_call", params: [from ? { from, to, data } : { to, data }, "latest"] });
