"""The local chain over real HTTP: start contract, eth_ methods, txpool semantics, reorgs, fault knobs."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import vyper
from eth_account import Account

from ethtools import RPC, HTTPStatusError, RPCFailure, checksum, hexint, sign_tx
from localchain import LocalChainServer
from rpc import Faults

HERE = os.path.dirname(os.path.abspath(__file__))
KEY1 = (1).to_bytes(32, "big")
KEY2 = (2).to_bytes(32, "big")
ADDR1 = Account.from_key(KEY1).address
ADDR2 = Account.from_key(KEY2).address

EMITTER_SRC = """
event Ping:
    who: indexed(address)
    n: uint256

@external
def ping(n: uint256):
    for i: uint256 in range(n, bound=100):
        log Ping(who=msg.sender, n=i)

@external
def boom():
    raise "no way"
"""
_EMITTER = {}


def emitter_bytecode() -> bytes:
    if "b" not in _EMITTER:
        out = vyper.compile_code(EMITTER_SRC, output_formats=["bytecode"])
        _EMITTER["b"] = bytes.fromhex(out["bytecode"][2:])
    return _EMITTER["b"]


def tx(rpc, key, to=None, data=b"", nonce=None, gas=300_000, max_fee=None, tip=10**9, value=0):
    sender = Account.from_key(key).address
    if nonce is None:
        nonce = hexint(rpc.call("eth_getTransactionCount", sender, "pending"))
    if max_fee is None:
        max_fee = 2 * hexint(rpc.call("eth_gasPrice")) + tip
    t = {"type": 2, "chainId": hexint(rpc.call("eth_chainId")), "nonce": nonce, "gas": gas,
         "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip, "value": value, "data": data}
    if to is not None:
        t["to"] = checksum(to)
    return sign_tx(key, t)


def send(rpc, raw):
    return rpc.call("eth_sendRawTransaction", "0x" + raw.hex())


def deploy_emitter(rpc):
    h = send(rpc, tx(rpc, KEY1, data=emitter_bytecode(), gas=1_000_000))
    rc = rpc.call("eth_getTransactionReceipt", h)
    assert rc["status"] == "0x1"
    return rc["contractAddress"]


def ping_data(n):
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(text="ping(uint256)")[:4] + encode(["uint256"], [n])


@pytest.fixture
def server():
    with LocalChainServer() as s:
        s.rpc = RPC(s.url)
        yield s
        s.rpc.close()


# ------------------------------------------------------------------------------------------ start contract
def test_serve_start_contract_ready_line_and_clean_sigterm():
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "localchain.py"), "serve", "--port", "0",
                          "--chain-id", "8453", "--logs-max-range", "5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        ready = json.loads(line)
        assert ready["url"].startswith("http://127.0.0.1:")
        assert ready["chain_id"] == 8453
        assert len(ready["accounts"]) == 10
        assert ready["accounts"][0]["private_key"] == "0x" + "00" * 31 + "01"
        assert ready["accounts"][0]["address"].lower() == ADDR1.lower()
        assert ready["faults"]["logs_max_range"] == 5
        rpc = RPC(ready["url"])
        assert rpc.call("eth_chainId") == hex(8453)
        assert rpc.call("net_version") == "8453"
        rpc.close()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        assert p.stdout.read() == ""  # exactly one line on stdout
    finally:
        if p.poll() is None:
            p.kill()


# ------------------------------------------------------------------------------------------ eth_ methods
def test_basic_methods_and_encodings(server):
    rpc = server.rpc
    assert rpc.call("eth_blockNumber") == "0x0"
    blk = rpc.call("eth_getBlockByNumber", "latest", False)
    assert blk["number"] == "0x0" and len(blk["hash"]) == 66
    assert rpc.call("eth_getBlockByHash", blk["hash"], False)["hash"] == blk["hash"]
    assert rpc.call("eth_getBlockByNumber", "0x5", False) is None
    assert rpc.call("eth_getBlockByNumber", "pending", False)["number"] == "0x1"
    assert rpc.call("eth_getTransactionReceipt", "0x" + "11" * 32) is None
    assert rpc.call("eth_getTransactionByHash", "0x" + "11" * 32) is None
    bal = rpc.call("eth_getBalance", ADDR1, "latest")
    assert bal == hex(10**24) and not bal.startswith("0x0")
    assert rpc.call("eth_getCode", ADDR1, "latest") == "0x"
    # the EIP-2935 history contract is there by default (as on Base) and records parent hashes
    rpc.call("evm_mine", {"blocks": 3})
    history = "0x0000F90827F1C53a10cb7A02335B175320002935"
    assert rpc.call("eth_getCode", history, "latest") != "0x"
    parent = rpc.call("eth_getBlockByNumber", "0x2", False)["hash"]
    assert rpc.call("eth_call", {"to": history, "data": "0x" + (2).to_bytes(32, "big").hex()}, "latest") == parent
    with pytest.raises(RPCFailure) as e:
        rpc.call("eth_nope")
    assert e.value.code == -32601
    with pytest.raises(RPCFailure) as e:
        rpc.call("eth_getBalance", "0x1234", "latest")
    assert e.value.code == -32602
    # batch, answered by id
    out = rpc.batch([("eth_chainId",), ("eth_blockNumber",), ("eth_nope",)])
    assert out[0]["result"] == hex(1337) and out[1]["result"] == "0x3" and out[2]["error"]["code"] == -32601


def test_transactions_receipts_logs_call_estimate(server):
    rpc = server.rpc
    c = deploy_emitter(rpc)
    h = send(rpc, tx(rpc, KEY1, to=c, data=ping_data(3)))
    rc = rpc.call("eth_getTransactionReceipt", h)
    assert rc["status"] == "0x1" and len(rc["logs"]) == 3
    assert [lg["logIndex"] for lg in rc["logs"]] == ["0x0", "0x1", "0x2"]
    t = rpc.call("eth_getTransactionByHash", h)
    assert t["blockNumber"] == rc["blockNumber"] and t["from"].lower() == ADDR1.lower()
    logs = rpc.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest", "address": c})
    assert len(logs) == 3 and logs[0]["transactionHash"] == h
    assert rpc.call("eth_getLogs", {"blockHash": rc["blockHash"]}) == logs
    # topic filters: topic0 and an OR-list on topic1
    t0 = logs[0]["topics"][0]
    who = "0x" + "00" * 12 + ADDR1[2:].lower()
    assert len(rpc.call("eth_getLogs", {"fromBlock": "0x0", "topics": [t0, [who]]})) == 3
    assert rpc.call("eth_getLogs", {"fromBlock": "0x0", "topics": [t0, ["0x" + "00" * 32]]}) == []
    assert rpc.call("eth_getLogs", {"fromBlock": "0x0", "address": ADDR1}) == []
    # eth_call from an unfunded address, revert reason and data survive
    from eth_utils import keccak

    with pytest.raises(RPCFailure) as e:
        rpc.call("eth_call", {"from": "0x" + "99" * 20, "to": c, "data": "0x" + keccak(text="boom()")[:4].hex()},
                 "latest")
    assert e.value.code == 3 and e.value.message == "execution reverted: no way"
    assert e.value.data.startswith("0x08c379a0")
    gas = hexint(rpc.call("eth_estimateGas", {"from": ADDR1, "to": c, "data": "0x" + ping_data(3).hex()}))
    assert hexint(rc["gasUsed"]) <= gas <= hexint(rc["gasUsed"]) * 1.1
    fh = rpc.call("eth_feeHistory", "0x2", "latest", [10, 90])
    assert len(fh["baseFeePerGas"]) == 3 and len(fh["reward"]) == 2


# ------------------------------------------------------------------------------------------ reorgs
def test_snapshot_revert_is_a_real_reorg(server):
    rpc = server.rpc
    c = deploy_emitter(rpc)
    rpc.call("test_setFaults", {"reinject_on_revert": False})
    snap = rpc.call("evm_snapshot")
    base = hexint(rpc.call("eth_blockNumber"))
    h = send(rpc, tx(rpc, KEY1, to=c, data=ping_data(2)))
    old = rpc.call("eth_getBlockByNumber", hex(base + 1), False)
    assert len(rpc.call("eth_getLogs", {"fromBlock": hex(base + 1)})) == 2
    assert rpc.call("evm_revert", snap) is True
    assert rpc.call("eth_blockNumber") == hex(base)
    assert rpc.call("eth_getTransactionReceipt", h) is None
    assert rpc.call("eth_getTransactionByHash", h) is None
    assert rpc.call("eth_getBlockByHash", old["hash"], False) is None
    rpc.call("evm_mine")
    new = rpc.call("eth_getBlockByNumber", hex(base + 1), False)
    assert new["number"] == old["number"] and new["hash"] != old["hash"]
    assert rpc.call("eth_getLogs", {"fromBlock": hex(base + 1)}) == []
    # a snapshot can be reverted to again
    assert rpc.call("evm_revert", snap) is True


def test_revert_reinjects_orphaned_transactions(server):
    rpc = server.rpc
    snap = rpc.call("evm_snapshot")
    h = send(rpc, tx(rpc, KEY1, to=ADDR2, gas=21000, value=5))
    first = rpc.call("eth_getTransactionReceipt", h)["blockHash"]
    rpc.call("evm_revert", snap)
    assert rpc.call("eth_getTransactionReceipt", h) is None
    assert rpc.call("eth_getTransactionByHash", h)["blockHash"] is None  # back in the pool
    rpc.call("evm_mine")
    rc = rpc.call("eth_getTransactionReceipt", h)
    assert rc is not None and rc["blockHash"] != first


# ------------------------------------------------------------------------------------------ txpool
def test_txpool_semantics(server):
    rpc = server.rpc
    rpc.call("evm_setAutomine", False)
    n0 = hexint(rpc.call("eth_getTransactionCount", ADDR1, "latest"))
    fut = send(rpc, tx(rpc, KEY1, to=ADDR2, gas=21000, nonce=n0 + 1))  # gap: waits
    a = tx(rpc, KEY1, to=ADDR2, gas=21000, nonce=n0, max_fee=10**10, tip=10**9)
    ha = send(rpc, a)
    with pytest.raises(RPCFailure) as e:
        send(rpc, a)
    assert e.value.message == "already known"
    low = tx(rpc, KEY1, to=ADDR2, gas=21000, nonce=n0, max_fee=int(10**10 * 1.05), tip=int(10**9 * 1.05), value=1)
    with pytest.raises(RPCFailure) as e:
        send(rpc, low)
    assert e.value.message == "replacement transaction underpriced"
    bumped = tx(rpc, KEY1, to=ADDR2, gas=21000, nonce=n0, max_fee=11 * 10**9, tip=11 * 10**8, value=2)
    hb = send(rpc, bumped)
    assert rpc.call("eth_getTransactionByHash", ha) is None  # replaced
    assert rpc.call("eth_getTransactionCount", ADDR1, "pending") == hex(n0 + 2)
    assert rpc.call("eth_getTransactionCount", ADDR1, "latest") == hex(n0)
    rpc.call("evm_mine")
    assert rpc.call("eth_getTransactionReceipt", hb)["status"] == "0x1"
    assert rpc.call("eth_getTransactionReceipt", fut)["status"] == "0x1"  # unblocked by the gap filler
    with pytest.raises(RPCFailure) as e:
        send(rpc, tx(rpc, KEY1, to=ADDR2, gas=21000, nonce=n0))
    assert e.value.message.startswith("nonce too low")
    with pytest.raises(RPCFailure) as e:
        send(rpc, sign_tx(KEY1, {"type": 2, "chainId": 1, "nonce": n0 + 2, "gas": 21000, "maxFeePerGas": 10**10,
                                 "maxPriorityFeePerGas": 1, "to": ADDR2, "value": 0}))
    assert "invalid chain id" in e.value.message


# ------------------------------------------------------------------------------------------ faults
def test_fault_http_bursts_latency_drops_truncation(server):
    rpc = server.rpc
    rpc.call("test_setFaults", {"http_429": 2, "retry_after": 3, "http_503": 1})
    for status in (429, 429, 503):
        with pytest.raises(HTTPStatusError) as e:
            rpc.call("eth_blockNumber")
        assert e.value.status == status
        assert e.value.headers.get("retry-after") == "3"
    assert rpc.call("eth_blockNumber") == "0x0"
    rpc.call("test_setFaults", {"latency_ms": 150})
    t = time.monotonic()
    rpc.call("eth_blockNumber")
    assert time.monotonic() - t >= 0.15
    rpc.call("test_setFaults", {"latency_ms": 0, "drop_connections": 1, "truncate_responses": 1})
    with pytest.raises((ConnectionError, OSError, Exception)) as e:
        rpc.call("eth_blockNumber")
    assert not isinstance(e.value, RPCFailure)
    with pytest.raises(Exception) as e:  # truncated body: IncompleteRead or a JSON error
        rpc.call("eth_getBlockByNumber", "latest", False)
    assert not isinstance(e.value, RPCFailure)
    assert rpc.call("eth_blockNumber") == "0x0"
    st = rpc.call("test_stats")["http"]
    assert st["http_429"] == 2 and st["http_503"] == 1 and st["dropped"] == 1 and st["truncated"] == 1
    with pytest.raises(RPCFailure) as e:
        rpc.call("test_setFaults", {"no_such_knob": 1})
    assert e.value.message == "unknown fault knob: no_such_knob"


def test_fault_logs_limits(server):
    rpc = server.rpc
    c = deploy_emitter(rpc)
    for _ in range(4):
        send(rpc, tx(rpc, KEY1, to=c, data=ping_data(3)))  # 4 blocks x 3 logs
    head = hexint(rpc.call("eth_blockNumber"))
    rpc.call("test_setFaults", {"logs_max_range": 2})
    with pytest.raises(RPCFailure) as e:
        rpc.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head)})
    assert e.value.code == -32602 and "block range" in e.value.message and "exceeds limit" in e.value.message
    assert len(rpc.call("eth_getLogs", {"fromBlock": hex(head - 1), "toBlock": hex(head)})) == 6
    rpc.call("test_setFaults", {"logs_max_range": None, "logs_max_results": 5})
    with pytest.raises(RPCFailure) as e:
        rpc.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head)})
    assert e.value.code == -32005 and e.value.message == "query returned more than 5 results"
    # the suggested range fits: 3 logs per block -> one block
    sug = e.value.data
    assert len(rpc.call("eth_getLogs", {"fromBlock": sug["from"], "toBlock": sug["to"]})) <= 5
    rpc.call("test_setFaults", {"logs_error_style": "alchemy"})
    with pytest.raises(RPCFailure) as e:
        rpc.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head)})
    assert e.value.code == -32602 and "this block range should work: [0x0, " in e.value.message


def test_fault_mempool_drops_cheap_transactions_and_stalled_head(server):
    rpc = server.rpc
    rpc.call("test_setFaults", {"mempool_min_fee": 50 * 10**9})
    h = send(rpc, tx(rpc, KEY1, to=ADDR2, gas=21000, max_fee=2 * 10**9))
    assert len(h) == 66  # acknowledged ...
    rpc.call("evm_mine")
    assert rpc.call("eth_getTransactionReceipt", h) is None  # ... but never mined
    assert rpc.call("eth_getTransactionByHash", h) is None
    rpc.call("test_setFaults", {"mempool_min_fee": 0, "stall_head": True})
    seen = rpc.call("eth_blockNumber")
    rpc.call("evm_mine", {"blocks": 3})
    assert rpc.call("eth_blockNumber") == seen
    assert rpc.call("eth_getBlockByNumber", hex(hexint(seen) + 1), False) is None
    rpc.call("test_setFaults", {"stall_head": False})
    assert hexint(rpc.call("eth_blockNumber")) == hexint(seen) + 3


def test_gzip_and_keepalive(server):
    rpc = RPC(server.url, gzip_ok=True)
    assert rpc.call("eth_chainId") == hex(1337)
    assert rpc.last_headers.get("content-encoding") == "gzip"
    conn = rpc.conn
    rpc.call("eth_blockNumber")
    assert rpc.conn is conn  # same keep-alive connection
    rpc.close()


def test_time_controls(server):
    rpc = server.rpc
    t0 = hexint(rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"])
    rpc.call("evm_increaseTime", 3600)
    rpc.call("evm_mine")
    t1 = hexint(rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"])
    assert t1 >= t0 + 3600
    rpc.call("evm_mine", {"blocks": 100, "interval": 2})
    t2 = hexint(rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"])
    assert rpc.call("eth_blockNumber") == hex(101) and t2 - t1 == 200
    assert rpc.call("eth_getBlockByNumber", "finalized", False)["number"] == hex(101)
    rpc.call("test_setFaults", {"finalized_lag": 64, "safe_lag": 32})
    assert rpc.call("eth_getBlockByNumber", "finalized", False)["number"] == hex(101 - 64)
    assert rpc.call("eth_getBlockByNumber", "safe", False)["number"] == hex(101 - 32)


def test_batches_notifications_and_control_batches_skip_http_faults(server):
    rpc = server.rpc
    # a notification (no id) gets no answer; the rest of the batch is answered in order
    resp = rpc.raw([{"jsonrpc": "2.0", "method": "eth_blockNumber"},
                    {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId"},
                    {"jsonrpc": "2.0", "id": 7, "method": "nope"}, 5])
    assert [r.get("id") for r in resp] == ["a", 7, None]
    assert resp[2]["error"]["code"] == -32600
    rpc.call("test_setFaults", {"http_503": 1})
    assert rpc.call("evm_snapshot")  # control call: not consumed by the burst
    with pytest.raises(HTTPStatusError):
        rpc.batch([("eth_blockNumber",), ("evm_mine",)])  # mixed batch: subject to faults
    assert rpc.call("eth_blockNumber") == "0x0"


def test_interval_mining_and_automine_off(server):
    rpc = server.rpc
    rpc.call("evm_setAutomine", False)
    h = send(rpc, tx(rpc, KEY1, to=ADDR2, gas=21000, value=1))
    assert rpc.call("eth_getTransactionReceipt", h) is None
    assert rpc.call("txpool_status") == {"pending": "0x1", "queued": "0x0"}
    rpc.call("evm_setIntervalMining", 50)
    deadline = time.time() + 5
    while rpc.call("eth_getTransactionReceipt", h) is None and time.time() < deadline:
        time.sleep(0.02)
    assert rpc.call("eth_getTransactionReceipt", h)["status"] == "0x1"
    time.sleep(0.3)
    rpc.call("evm_setIntervalMining", 0)
    n = hexint(rpc.call("eth_blockNumber"))
    assert n >= 3
    time.sleep(0.2)
    assert hexint(rpc.call("eth_blockNumber")) == n


def test_queued_transactions_wait_and_dropped_pool(server):
    rpc = server.rpc
    far = send(rpc, tx(rpc, KEY2, to=ADDR1, gas=21000, nonce=3))
    content = rpc.call("txpool_content")
    assert "3" in content["queued"][ADDR2.lower()]
    rpc.call("evm_mine")
    assert rpc.call("eth_getTransactionReceipt", far) is None
    assert rpc.call("test_dropTransaction", far) is True
    assert rpc.call("eth_getTransactionByHash", far) is None
    assert rpc.call("test_dropPending") == "0x0"


def test_eth_getlogs_is_fast_over_many_blocks(server):
    """The log index, not a scan of every block: a query over 1,000 empty blocks costs about what a query over one
    block costs, measured side by side in the same run (no absolute time: a loaded machine slows both alike)."""
    rpc = server.rpc
    c = deploy_emitter(rpc)
    for _ in range(4):
        rpc.call("evm_mine", {"blocks": 250})
    send(rpc, tx(rpc, KEY1, to=c, data=ping_data(50)))
    head = rpc.call("eth_blockNumber")

    def best(flt):
        times = []
        for _ in range(5):
            t = time.monotonic()
            out = rpc.call("eth_getLogs", flt)
            times.append(time.monotonic() - t)
        return min(times), out

    wide, logs = best({"fromBlock": "0x0", "toBlock": "latest", "address": c})
    narrow, same = best({"fromBlock": head, "toBlock": head, "address": c})
    assert len(logs) == 50 and logs == same
    assert wide < 5 * narrow + 0.05, (wide, narrow)
    assert rpc.call("eth_getBlockByHash", logs[0]["blockHash"], False)["number"] == logs[0]["blockNumber"]


def test_reorg_helper(server):
    rpc = server.rpc
    c = deploy_emitter(rpc)
    h1 = send(rpc, tx(rpc, KEY1, to=c, data=ping_data(1)))
    h2 = send(rpc, tx(rpc, KEY1, to=c, data=ping_data(2)))
    head = hexint(rpc.call("eth_blockNumber"))
    old = [rpc.call("eth_getBlockByNumber", hex(n), False)["hash"] for n in (head - 1, head)]
    r = rpc.call("test_reorg", {"depth": 2, "reinject": False})
    assert r["commonAncestor"]["number"] == hex(head - 2) and r["newHead"]["number"] == hex(head + 1)
    assert r["oldHead"]["hash"] == old[1]
    new = [rpc.call("eth_getBlockByNumber", hex(n), False)["hash"] for n in (head - 1, head)]
    assert all(a != b for a, b in zip(old, new))
    assert rpc.call("eth_getTransactionReceipt", h1) is None and rpc.call("eth_getTransactionReceipt", h2) is None
    assert rpc.call("eth_getLogs", {"fromBlock": hex(head - 1), "address": c}) == []
    # with re-injection the orphaned transactions land in the new fork
    send(rpc, tx(rpc, KEY1, to=c, data=ping_data(3)))
    rpc.call("test_reorg", {"depth": 1, "reinject": True})
    assert len(rpc.call("eth_getLogs", {"fromBlock": hex(head + 1), "address": c})) == 3
    with pytest.raises(RPCFailure) as e:
        rpc.call("test_reorg", {"depth": 10_000})
    assert e.value.code == -32602 and "reorg depth must be between 1 and" in e.value.message


def test_legacy_and_access_list_transactions(server):
    rpc = server.rpc
    gp = 2 * hexint(rpc.call("eth_gasPrice"))
    legacy = sign_tx(KEY1, {"nonce": 0, "gasPrice": gp, "gas": 21000, "to": ADDR2, "value": 3, "chainId": 1337})
    h = send(rpc, legacy)
    t = rpc.call("eth_getTransactionByHash", h)
    assert t["type"] == "0x0" and t["gasPrice"] == hex(gp) and t["chainId"] == hex(1337)
    assert hexint(t["v"]) in (1337 * 2 + 35, 1337 * 2 + 36)
    assert rpc.call("eth_getTransactionReceipt", h)["effectiveGasPrice"] == hex(gp)
    wrong = sign_tx(KEY1, {"nonce": 1, "gasPrice": gp, "gas": 21000, "to": ADDR2, "value": 3, "chainId": 5})
    with pytest.raises(RPCFailure) as e:
        send(rpc, wrong)
    assert e.value.message == "invalid chain id for signer: have 5 want 1337"
    al = sign_tx(KEY1, {"type": 1, "nonce": 1, "gasPrice": gp, "gas": 30000, "to": ADDR2, "value": 0,
                        "chainId": 1337, "accessList": [{"address": ADDR2, "storageKeys": ["0x" + "00" * 32]}]})
    h = send(rpc, al)
    t = rpc.call("eth_getTransactionByHash", h)
    assert t["type"] == "0x1" and t["accessList"][0]["address"] == ADDR2.lower()
    assert rpc.call("eth_getTransactionReceipt", h)["status"] == "0x1"


def test_serve_options_and_clean_sigint():
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "localchain.py"), "serve", "--port", "0",
                          "--no-history-contract", "--block-time", "0.1", "--accounts", "12",
                          "--faults", '{"finalized_lag": 2}', "--http-429", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(p.stdout.readline())
        assert ready["history_contract"] is False and len(ready["accounts"]) == 12
        assert ready["faults"]["finalized_lag"] == 2 and ready["faults"]["http_429"] == 1
        rpc = RPC(ready["url"])
        with pytest.raises(HTTPStatusError):
            rpc.call("eth_blockNumber")
        assert rpc.call("eth_getCode", "0x0000F90827F1C53a10cb7A02335B175320002935", "latest") == "0x"
        time.sleep(0.5)
        assert hexint(rpc.call("eth_blockNumber")) >= 2  # interval mining
        rpc.close()
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
