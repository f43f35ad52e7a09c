"""The public read API of `expansion-keeper run` ([api]) against the chain it reports on (issue 18, "Prove it").

- /api/v1/stats, /stakers/{a} and /stakers/{a}/contributions equal what the treasury's events say (eth_getLogs);
- pagination returns every item exactly once, newest first; ?format=csv equals the JSON;
- /api/v1/openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator) and a bounded property-based run of
  schemathesis finds no 5xx and no response outside the document;
- hostile paths, query strings and methods get a 4xx answer (the exact one the issue names where it names one),
  never a 5xx and never a dropped connection.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import socket
import subprocess
from urllib.parse import urlparse

import pytest
from eth_utils import keccak, to_checksum_address

from webrig import ARTEFACTS, PY, ROOT, get_json, http_get, wait_for

REASONS = {1: "NOT_REGISTERED", 2: "BEFORE_OPT_IN", 3: "DUPLICATE", 4: "FUTURE", 5: "ORPHANED", 6: "ZERO_CONTRIBUTION",
           7: "NO_ALLOWANCE", 8: "NO_BALANCE", 9: "TRANSFER_FAILED", 10: "OVERFLOW"}
T_ROUTED = "0x" + keccak(text="Routed(address,uint64,uint32,uint256,uint256,uint16)").hex()
T_SKIPPED = "0x" + keccak(text="RouteSkipped(address,uint64,uint32,uint8)").hex()
T_IN = "0x" + keccak(text="OptedIn(address,uint16,uint64)").hex()
T_OUT = "0x" + keccak(text="OptedOut(address)").hex()
CSV_HEADER = "kind,claim_block,claim_log_index,claim_block_hash,reward_wei,contributed_wei,share_bps,tx_hash,block,reason"


def words(data: str) -> list[int]:
    d = data[2:]
    return [int(d[i:i + 64], 16) for i in range(0, len(d), 64)]


def chain_view(rig, upto: int) -> dict:
    """Per staker, from the treasury's logs up to block `upto`: items (newest first), registration, totals."""
    logs = rig.d.rpc.call("eth_getLogs", {"address": rig.treasury, "fromBlock": hex(rig.deploy_block), "toBlock": hex(upto)})
    out: dict = {}
    totals = {"routes": 0, "skips": 0, "contributed": 0}
    for lg in logs:
        t0 = lg["topics"][0]
        if t0 not in (T_ROUTED, T_SKIPPED, T_IN, T_OUT):
            continue
        who = to_checksum_address("0x" + lg["topics"][1][-40:])
        s = out.setdefault(who, {"items": [], "share": 0, "since": None})
        w = words(lg["data"])
        if t0 == T_IN:
            s["share"], s["since"] = w[0], w[1]
        elif t0 == T_OUT:
            s["share"], s["since"] = 0, None
        else:
            routed = t0 == T_ROUTED
            s["items"].append({"kind": "routed" if routed else "skipped", "claim_block": w[0], "claim_log_index": w[1],
                               "reward_wei": str(w[2]) if routed else None, "contributed_wei": str(w[3]) if routed else "0",
                               "share_bps": w[4] if routed else None, "tx_hash": lg["transactionHash"],
                               "block": int(lg["blockNumber"], 16), "reason_code": None if routed else REASONS[w[2]]})
            totals["routes" if routed else "skips"] += 1
            totals["contributed"] += w[3] if routed else 0
    for s in out.values():
        s["items"].sort(key=lambda i: (i["claim_block"], i["claim_log_index"]), reverse=True)
    return {"stakers": out, **totals}


def settled(rig) -> tuple[dict, dict]:
    """Stats and the chain's view at the block the keeper last ingested (stable across the two reads)."""
    wait_for(rig.keeper_caught_up, 60, "the keeper to catch up")
    for _ in range(20):
        stats = rig.api("/api/v1/stats")
        view = chain_view(rig, stats["block"])
        if rig.api("/api/v1/stats")["block"] == stats["block"]:
            return stats, view
    return stats, view


def all_items(rig, addr: str, limit: int) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        q = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = rig.api(f"/api/v1/stakers/{addr}/contributions{q}")
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        assert pages < 1000
        if cursor is None:
            return items


def test_stats_equal_the_chain(rig):
    stats, view = settled(rig)
    assert stats["chain_id"] == 1337
    assert stats["treasury"] == to_checksum_address(rig.treasury) == rig.treasury
    assert stats["reward_token"] == rig.vvv and stats["staking"] == rig.staking
    assert stats["confirmations"] == rig.confirmations
    assert stats["rpc_url"] == rig.url and stats["explorer_url"] == "https://explorer.invalid"
    assert stats["routes"] == view["routes"] and stats["skips"] == view["skips"]
    assert stats["total_contributed_wei"] == str(view["contributed"])
    assert stats["stakers_registered"] == sum(1 for s in view["stakers"].values() if s["share"] > 0)
    assert view["routes"] >= 6 and view["skips"] >= 1


def test_stakers_and_contributions_equal_the_chain(rig):
    stats, view = settled(rig)
    assert len(view["stakers"]) >= 4
    for who, s in view["stakers"].items():
        for addr in (who, who.lower()):  # any case is accepted, the answer is EIP-55
            st = rig.api(f"/api/v1/stakers/{addr}")
            assert st["address"] == who
        assert st["registered"] == (s["share"] > 0)
        assert st["share_bps"] == s["share"] and st["since_block"] == s["since"]
        routed = [i for i in s["items"] if i["kind"] == "routed"]
        assert st["contributed_wei"] == str(sum(int(i["contributed_wei"]) for i in routed))
        assert st["routes"] == len(routed) and st["skips"] == len(s["items"]) - len(routed)
        assert isinstance(st["pending"], int) and st["pending"] >= 0
        assert isinstance(st["waiting"], list) and len(st["waiting"]) <= 100
        got = rig.api(f"/api/v1/stakers/{who}/contributions?limit=500")
        assert got["next_cursor"] is None
        assert len(got["items"]) == len(s["items"]), who
        for g, c in zip(got["items"], s["items"]):
            for k in ("kind", "claim_block", "claim_log_index", "contributed_wei", "tx_hash", "block"):
                assert g[k] == c[k], (who, k, g, c)
            if g["kind"] == "routed":
                assert g["reward_wei"] == c["reward_wei"] and g["share_bps"] == c["share_bps"] and g["reason"] is None
            else:
                assert g["reason_code"] == c["reason_code"] and isinstance(g["reason"], str) and g["reason"]
            block = rig.d.rpc.call("eth_getBlockByNumber", hex(g["claim_block"]), False)
            assert g["claim_block_hash"] == block["hash"]
    # one who never did anything: a record of zeros, not a 404
    nobody = to_checksum_address("0x" + "12" * 20)
    assert rig.api(f"/api/v1/stakers/{nobody}") == {"address": nobody, "registered": False, "share_bps": 0,
                                                     "since_block": None, "contributed_wei": "0", "routes": 0,
                                                     "skips": 0, "pending": 0, "waiting": []}
    assert rig.api(f"/api/v1/stakers/{nobody}/contributions") == {"items": [], "next_cursor": None}


def test_pagination_returns_every_item_once_and_csv_equals_json(rig):
    settled(rig)
    paged = 0
    for s in rig.stakers:
        full = rig.api(f"/api/v1/stakers/{s['address']}/contributions?limit=500")["items"]
        paged += bool(full)
        keys = [(i["claim_block"], i["claim_log_index"]) for i in full]
        assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
        assert rig.api(f"/api/v1/stakers/{s['address']}/contributions")["items"] == full[:50]
        for limit in (1, 2, 3):
            assert all_items(rig, s["address"], limit) == full
        status, headers, body = http_get(f"{rig.base}/api/v1/stakers/{s['address']}/contributions?format=csv")
        assert status == 200 and headers["content-type"].startswith("text/csv")
        text = body.decode()
        assert text.splitlines()[0] == CSV_HEADER
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == len(full)
        for r, j in zip(rows, full):
            for k in CSV_HEADER.split(","):
                v = j[k]
                assert r[k] == ("" if v is None else str(v)), (k, r, j)
    assert paged >= 3


def test_openapi_document_is_valid(rig):
    from openapi_spec_validator import validate

    spec = rig.api("/api/v1/openapi.json")
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    paths = set(spec["paths"])
    for p in ("/api/v1/stats", "/api/v1/stakers/{address}", "/api/v1/stakers/{address}/contributions",
              "/api/v1/openapi.json"):
        assert p in paths or p.replace("/api/v1", "") in paths, f"{p} not documented"
    # errors are documented with the one error shape
    err = spec["components"]["schemas"]["Error"]
    assert err["required"] == ["error"] and set(err["properties"]["error"]["required"]) == {"code", "message"}
    for p, item in spec["paths"].items():
        codes = set(item["get"]["responses"])
        assert {"200", "429"} <= codes, (p, codes)
        if "{address}" in p:
            assert "400" in codes, (p, codes)


def test_schemathesis_finds_no_5xx_and_nothing_outside_the_schema(rig):
    out = os.path.join(ARTEFACTS, "schemathesis")
    os.makedirs(out, exist_ok=True)
    st = os.path.join(os.path.dirname(PY), "schemathesis")
    checks = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
              "response_schema_conformance,negative_data_rejection,unsupported_method")
    r = subprocess.run([st, "run", f"{rig.base}/api/v1/openapi.json", "--url", rig.base, "--checks", checks,
                        "--max-examples", "40", "--max-time", "45", "--seed", "18", "--workers", "2",
                        "--generation-database", "none", "--request-timeout", "10", "--no-color",
                        "--suppress-health-check", "all",
                        "--report", "junit", "--report-dir", out], capture_output=True, text=True, timeout=120,
                       cwd=ROOT)
    open(os.path.join(out, "output.txt"), "w").write(r.stdout + r.stderr)
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]


def raw_request(rig, line: bytes, headers: bytes = b"") -> tuple[int, bytes, bytes]:
    """One request written by hand on a socket (paths a client library would normalise or refuse)."""
    u = urlparse(rig.base)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(line + b"\r\nHost: " + f"{u.hostname}:{u.port}".encode() + b"\r\n" + headers + b"Connection: close\r\n\r\n")
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            # the server answered and closed before reading all we sent (an overlong head): the kernel resets
            # the connection after the answer arrived; the answer is what counts
            if not data:
                raise
    assert data, f"no answer to {line[:80]!r}: the connection was dropped"
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head, body


HOSTILE = [
    "/api/v1/stakers/0x" + "g" * 40,
    "/api/v1/stakers/0x" + "1" * 39,
    "/api/v1/stakers/0x" + "1" * 41,
    "/api/v1/stakers/" + "1" * 40,
    "/api/v1/stakers/0x" + "1" * 38 + "%00%00",
    "/api/v1/stakers/%00",
    "/api/v1/stakers/0x%E2%82%AC%E2%82%AC" + "1" * 36,
    "/api/v1/stakers/\u00e9t\u00e9".encode().decode("latin-1"),
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?limit=0",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?limit=501",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?limit=-1",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?limit=abc",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?limit=1e3",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?limit=99999999999999999999999",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?cursor=%00",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?cursor=not-a-cursor",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?cursor=" + "A" * 3000,
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?cursor=%E2%82%AC",
    "/api/v1/stakers/0x" + "1" * 40 + "/contributions?format=xml",
    "/api/v1/stakers/..%2f..%2fetc%2fpasswd",
    "/api/v1/../../../etc/passwd",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/app.js%00.html",
    "/index.html%00",
    "/api/v1/nope",
    "/api/v2/stats",
    "/api/v1/stats/" + "x" * 2000,
    "/api/v1/claims/abc/route",
    "/api/v1/claims/1-/route",
    "/api/v1/claims/-1/route",
    "/api/v1/claims/1-2-3/route",
    "/api/v1/claims/0x10-1/route",
    "/api/v1/claims/%00-1/route",
    "/api/v1/claims/99999999999999999999999-1/route",
    "/api/v1/claims/1-99999999999/route",
    "/api/v1/claims/1-1/route/x",
    "/api/v1/claims/1-1",
]


@pytest.mark.parametrize("path", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_paths_get_4xx(rig, path):
    status, head, body = raw_request(rig, f"GET {path} HTTP/1.1".encode("latin-1"))
    assert 400 <= status < 500, (path, status, body[:300])
    assert b"root:x:" not in body
    if path.startswith("/api/") and path.isascii():  # raw non-ASCII bytes are not HTTP: the parser's bare 400
        err = json.loads(body)["error"]
        assert isinstance(err["code"], str) and isinstance(err["message"], str) and err["message"]
    if "/stakers/0x" in path and "contributions" not in path and path.count("/") == 4:
        assert status == 400, (path, status)
    if path.startswith("/api/v1/claims/") and path.endswith("/route") and path.count("/") == 5:
        assert status == 400 and json.loads(body)["error"]["code"] == "bad_claim", (path, status, body[:300])


def test_claim_route_on_the_keeper_treasury_is_404_not_proven_treasury(rig):
    """With the ExpansionTreasury only the keeper may route: no staker route is offered, for a real reward or not."""
    stats = rig.api("/api/v1/stats")
    assert stats["treasury_kind"] == "keeper"
    c = rig.claims[0]
    for claim in (f"{c['block_number']}-{c['log_index']}", "1-0"):
        status, headers, body = http_get(f"{rig.base}/api/v1/claims/{claim}/route")
        assert status == 404 and headers["content-type"].startswith("application/json"), (claim, status, body[:300])
        err = json.loads(body)["error"]
        assert err["code"] == "not_proven_treasury" and err["message"], err


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "QUERY", "OPTIONSX"])
def test_other_methods_get_405_with_allow(rig, method):
    for path in ("/api/v1/stats", "/api/v1/stakers/0x" + "1" * 40, "/api/v1/openapi.json"):
        status, head, body = raw_request(rig, f"{method} {path} HTTP/1.1".encode(), b"Content-Length: 0\r\n")
        assert status == 405, (method, path, status, body[:200])
        assert b"\r\nallow: " in head.lower() and b"GET" in head.split(b"llow: ", 1)[-1].split(b"\r\n")[0].upper()


def test_overlong_request_line_and_headers_are_answered(rig):
    for n in (17_000, 70_000):  # over the 8 KB request line and the 16 KB head
        status, _, body = raw_request(rig, b"GET /api/v1/stats?" + b"a" * n + b" HTTP/1.1")
        assert status == 414 and json.loads(body)["error"]["code"], body
        status, _, body = raw_request(rig, b"GET /api/v1/stats HTTP/1.1", b"X-Big: " + b"b" * n + b"\r\n")
        assert status == 431 and json.loads(body)["error"]["code"], body


def test_reads_are_cacheable_and_cors_open(rig):
    status, headers, body = http_get(rig.base + "/api/v1/stats", headers={"Origin": "https://elsewhere.invalid"})
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert headers.get("access-control-allow-origin") in ("*", "https://elsewhere.invalid")
    assert "cache-control" in headers and "etag" in headers
    status, headers2, body2 = http_get(rig.base + "/api/v1/stats", method="HEAD")
    assert status == 200 and body2 == b""
    st, h, _ = http_get(rig.base + "/api/v1/openapi.json", headers={"If-None-Match": http_get(rig.base + "/api/v1/openapi.json")[1]["etag"]})
    assert st == 304
    # the app itself is served at /
    status, headers, body = http_get(rig.base + "/")
    assert status == 200 and b'data-testid="connect"' in body
    for f in ("app.js", "constants.js", "eth.js", "wallet.js"):
        status, headers, _ = http_get(f"{rig.base}/{f}")
        assert status == 200 and "javascript" in headers["content-type"], (f, headers)
