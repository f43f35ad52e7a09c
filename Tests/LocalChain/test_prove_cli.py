"""`expansion-keeper prove` (the keeper's hand-written header encoding, receipt encoding and Merkle-Patricia trie)
against the independent Python reference (Tests/Support/receipt_proofs.py: pyrlp, py-trie, py-evm's headers) on a
real py-evm chain: blocks with one and with many transactions (legacy, EIP-1559 and reverted ones, several logs each),
node for node; and a node that lies about a receipt is refused, never proven."""

import json
import os
import subprocess
import sys

import pytest
from eth_account import Account

from ethtools import RPC, hexint
from localchain import LocalChainServer
from test_localchain_server import KEY1, KEY2, deploy_emitter, ping_data, send, tx

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Support"))
import receipt_proofs  # noqa: E402


def keeper_bin() -> str:
    path = os.environ.get("EXPANSION_KEEPER_BIN") or os.path.join(ROOT, ".build", "debug", "expansion-keeper")
    if not os.path.exists(path):
        pytest.fail(f"{path} not built: run `swift build` first (deploy/dev/test.sh does) or set EXPANSION_KEEPER_BIN")
    return path


def prove(url: str, block: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([keeper_bin(), "prove", "--rpc", url, "--block", str(block), *extra],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def chain():
    with LocalChainServer() as s:
        rpc = RPC(s.url)
        emitter = deploy_emitter(rpc)
        blocks = []
        # One block of 40 transactions from two senders: logs (0…5 per tx), a legacy one, a reverted one.
        rpc.call("evm_setAutomine", False)
        n1 = hexint(rpc.call("eth_getTransactionCount", Account.from_key(KEY1).address, "pending"))
        n2 = hexint(rpc.call("eth_getTransactionCount", Account.from_key(KEY2).address, "pending"))
        for i in range(20):
            send(rpc, tx(rpc, KEY1, to=emitter, data=ping_data(i % 6), nonce=n1 + i))
            send(rpc, tx(rpc, KEY2, to=emitter, data=ping_data((i * 7) % 5), nonce=n2 + i))
        rpc.call("evm_mine")
        rpc.call("evm_setAutomine", True)
        blocks.append(hexint(rpc.call("eth_blockNumber")))
        # A block of one transaction.
        send(rpc, tx(rpc, KEY1, to=emitter, data=ping_data(3)))
        blocks.append(hexint(rpc.call("eth_blockNumber")))
        s.rpc = rpc
        s.blocks = blocks
        yield s
        rpc.close()


def test_prove_equals_the_python_reference_node_for_node(chain):
    for block in chain.blocks:
        r = prove(chain.url, block)
        assert r.returncode == 0, r.stderr
        mine = json.loads(r.stdout)
        ref = receipt_proofs.block_proofs_from_rpc(chain.url, block)
        assert mine["block_hash"] == ref["hash"].lower()
        assert mine["header_rlp"] == ref["header_rlp"]
        assert mine["receipts_root"] == ref["receipts_root"]
        assert mine["receipts"] == len(ref["proofs"])
        assert len(mine["proofs"]) == len(ref["proofs"])
        for p in mine["proofs"]:
            assert p["nodes"] == ref["proofs"][str(p["transaction_index"])], (block, p["transaction_index"])
            # The py-trie verifier accepts our proof and yields the receipt we say it proves.
            got = receipt_proofs.verify_proof(bytes.fromhex(mine["receipts_root"][2:]), p["transaction_index"],
                                              [bytes.fromhex(n[2:]) for n in p["nodes"]])
            assert got is not None and "0x" + got.hex() == p["receipt"]
    assert len(json.loads(prove(chain.url, chain.blocks[0]).stdout)["proofs"]) == 40


def test_one_index_and_bad_requests(chain):
    r = prove(chain.url, chain.blocks[0], "--tx-index", "17")
    assert r.returncode == 0, r.stderr
    assert [p["transaction_index"] for p in json.loads(r.stdout)["proofs"]] == [17]
    r = prove(chain.url, chain.blocks[0], "--tx-index", "99")
    assert r.returncode == 1 and "no transaction at index 99" in r.stderr, r.stderr
    r = prove(chain.url, 10**9)
    assert r.returncode == 1 and r.stderr.strip(), r.stderr
    r = subprocess.run([keeper_bin(), "prove", "--rpc", chain.url, "--block", "twelve"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "--block twelve" in r.stderr, r.stderr


def test_a_node_lying_about_a_receipt_is_refused(chain):
    """A proxy that changes one log's data in eth_getBlockReceipts: the rebuilt root differs, nothing is printed."""
    import http.server
    import threading
    import urllib.request

    upstream = chain.url

    class Lying(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            req = json.loads(body)
            with urllib.request.urlopen(urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})) as r:
                answer = json.loads(r.read())
            if isinstance(req, dict) and req.get("method") == "eth_getBlockReceipts":
                for rc in answer["result"]:
                    for lg in rc["logs"]:
                        lg["data"] = "0x" + "00" * 31 + "63"
                        break
            out = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Lying)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        r = prove(f"http://127.0.0.1:{srv.server_address[1]}", chain.blocks[0])
        assert r.returncode == 1, r.stdout
        assert r.stdout == "" and "not the header's receiptsRoot" in r.stderr, r.stderr
    finally:
        srv.shutdown()
