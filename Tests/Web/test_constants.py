"""The stakers' app cannot drift from the contracts, and stays small and self-contained (no browser needed).

- every selector and topic in deploy/web/constants.js is keccak(signature) and the signature is declared in the ABI it
  names (ABI/*.json; the treasuries also in their build artifacts deploy/contracts/out/*.json);
- every revert string of both treasuries and of the token has words in REVERTS; every RouteSkipped reason constant of
  both treasuries has words in SKIPS, in code order (the page names a receipt's reason code by its place);
- no other module holds a selector or topic literal; every FN./EV. name used exists;
- the app is at most 60 KB uncompressed, everything included, and names no other origin.
"""

from __future__ import annotations

import json
import os
import re

from eth_utils import keccak

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WEB = os.path.join(ROOT, "deploy", "web")
CONSTANTS = open(os.path.join(WEB, "constants.js")).read()
ENTRY = re.compile(r'(\w+): \{ abi: (?:"(\w+)"|null), sig: "([^"]+)", (sel|topic): "(0x[0-9a-f]+)" \}')


def abi_signatures(path: str, kind: str) -> set[str]:
    data = json.load(open(path))
    abi = data["abi"] if isinstance(data, dict) else data

    def t(i):
        if i["type"].startswith("tuple"):
            return "(" + ",".join(t(c) for c in i["components"]) + ")" + i["type"][5:]
        return i["type"]

    return {f"{e['name']}({','.join(t(i) for i in e['inputs'])})" for e in abi if e["type"] == kind}


def block(name: str) -> str:
    m = re.search(r"export const " + name + r" = \{\n(.*?)\n\};", CONSTANTS, flags=re.S)
    assert m, f"{name} not found in constants.js"
    return m.group(1)


def entries(name: str) -> list[tuple]:
    body = block(name)
    found = ENTRY.findall(body)
    assert len(found) == len([l for l in body.splitlines() if l.strip()]), f"{name}: a line the test cannot read"
    return found


def test_selectors_and_topics_match_the_abis():
    checked = 0
    for group, kind in (("FN", "function"), ("EV", "event")):
        for key, abi, sig, what, value in entries(group):
            digest = keccak(text=sig)
            want = "0x" + (digest[:4] if what == "sel" else digest).hex()
            assert value == want, f"{group}.{key}: {sig} is {want}, constants.js says {value}"
            assert sig in abi_signatures(os.path.join(ROOT, "ABI", f"{abi}.json"), kind), f"{sig} not in ABI/{abi}.json"
            if abi in ("ExpansionTreasury", "ProvenExpansionTreasury"):
                art = os.path.join(ROOT, "deploy", "contracts", "out", f"{abi}.json")
                assert sig in abi_signatures(art, kind), f"{sig} not in the {abi} artifact"
            if abi == "VeniceStaking":  # the local chain runs the mock: it must have the same function
                assert sig in abi_signatures(os.path.join(ROOT, "ABI", "MockVeniceStaking.json"), kind), sig
            checked += 1
    for key, abi, sig, what, value in entries("ERR"):
        assert value == "0x" + keccak(text=sig)[:4].hex(), key
        checked += 1
    assert checked >= 15


def test_every_revert_string_and_skip_reason_has_words():
    words = set(re.findall(r'^\s+"([^"]+)": "', block("REVERTS"), flags=re.M))
    for src in ("deploy/contracts/src/ExpansionTreasury.vy", "deploy/contracts/src/ProvenExpansionTreasury.vy",
                "deploy/contracts/test/MockVVV.vy"):
        text = open(os.path.join(ROOT, src)).read()
        reverts = set(re.findall(r'^\s*assert .*, "([^"]+)"\s*$', text, flags=re.M))
        assert reverts, src
        assert reverts <= words, f"{src}: no words for {sorted(reverts - words)}"
    codes: dict[int, str] = {}
    for name, count in (("ExpansionTreasury", 10), ("ProvenExpansionTreasury", 16)):
        vy = open(os.path.join(ROOT, f"deploy/contracts/src/{name}.vy")).read()
        found = {int(n): r for r, n in re.findall(r"^(\w+): constant\(uint8\) = (\d+)$", vy, flags=re.M)}
        assert sorted(found) == list(range(1, count + 1)), name
        for n, r in found.items():
            assert codes.setdefault(n, r) == r, f"reason {n} is {r} in {name} but {codes[n]} in the other treasury"
    skips = re.findall(r"^\s+(\w+): \"", block("SKIPS"), flags=re.M)
    assert skips == [codes[n] for n in sorted(codes)], "SKIPS must list every reason, in code order"


def test_selectors_live_only_in_constants():
    names = {g: {e[0] for e in entries(g)} for g in ("FN", "EV", "ERR")}
    for f in os.listdir(WEB):
        if not f.endswith(".js") or f == "constants.js":
            continue
        text = open(os.path.join(WEB, f)).read()
        assert not re.search(r"0x[0-9a-fA-F]{8}", text), f"{f} holds a hex literal: selectors belong in constants.js"
        for group, key in re.findall(r"\b(FN|EV|ERR)\.(\w+)", text):
            assert key in names[group], f"{f} uses {group}.{key}, which constants.js does not define"


def test_small_and_self_contained():
    total = 0
    for f in sorted(os.listdir(WEB)):
        text = open(os.path.join(WEB, f), encoding="utf-8").read()
        total += len(text.encode())
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, flags=re.I), f"{f} names another origin"
        assert "@import" not in text and "url(" not in text, f"{f} loads a resource from CSS"
    assert total <= 60_000, f"deploy/web is {total} bytes, over the 60 KB budget"
    html = open(os.path.join(WEB, "index.html")).read()
    for ref in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert ref.startswith(("data:", "./")) or re.fullmatch(r"[\w.-]+\.(css|js)", ref), f"index.html loads {ref}"
    assert "script-src 'self'" in html  # Content-Security-Policy: no inline or foreign script
