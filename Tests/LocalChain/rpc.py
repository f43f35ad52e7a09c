"""JSON-RPC 2.0 method table over ``chain.Chain``: the eth_ methods a keeper needs, test controls, and the
JSON-level fault knobs (eth_getLogs limits, stalled head, lossy mempool). HTTP-level faults (429/503
bursts, latency, dropped connections, truncated bodies) live in ``localchain.py``; all knobs are held in
one ``Faults`` object so they can be set at start (CLI flags) and at run time (``test_setFaults``).

Encodings follow geth: quantities are hex without leading zeros ("0x0" for zero), data is 0x-prefixed
even-length hex, unknown blocks/transactions/receipts are ``null``.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Optional

import rlp

from chain import Chain, ChainError, RevertError, _fee_caps, _tx_type, contract_address

# ---------------------------------------------------------------------------------------------- errors
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
LIMIT_EXCEEDED = -32005


class RPCError(Exception):
    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


@dataclass
class Faults:
    """Every knob, its default meaning "behave like a healthy node". Documented in README.md."""

    # eth_getLogs limits, answered with real providers' errors
    logs_max_range: Optional[int] = None  # max blocks per query (to - from + 1)
    logs_max_results: Optional[int] = None  # max logs per query
    logs_error_style: str = "infura"  # "infura" | "alchemy" (alchemy suggests a range in the message)
    # HTTP-level, counted per HTTP request; control methods (test_*, evm_*, miner_*) are exempt
    http_429: int = 0  # the next N requests answer HTTP 429
    http_503: int = 0  # the next N requests answer HTTP 503
    retry_after: Optional[int] = None  # seconds, sent as Retry-After with 429/503
    latency_ms: int = 0  # added before every answer
    drop_connections: int = 0  # the next N requests: connection closed without an answer
    truncate_responses: int = 0  # the next N answers: full Content-Length, half the body, then close
    # chain behaviour
    mempool_min_fee: int = 0  # wei; raw transactions with a lower max fee are acknowledged, then dropped
    stall_head: bool = False  # the head seen through RPC stops where it is while mining goes on
    safe_lag: int = 0  # "safe" = latest - safe_lag
    finalized_lag: int = 0  # "finalized" = latest - finalized_lag
    reinject_on_revert: bool = True  # evm_revert puts orphaned transactions back into the pool

    def update(self, changes: dict) -> None:
        names = {f.name: f for f in fields(self)}
        for k, v in changes.items():
            if k not in names:
                raise RPCError(INVALID_PARAMS, f"unknown fault knob: {k}")
            typ = names[k].type
            if v is not None and "bool" in str(typ) and not isinstance(v, bool):
                raise RPCError(INVALID_PARAMS, f"fault knob {k} takes a boolean")
            if v is not None and ("int" in str(typ)) and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise RPCError(INVALID_PARAMS, f"fault knob {k} takes a non-negative integer")
            if k == "logs_error_style" and v not in ("infura", "alchemy"):
                raise RPCError(INVALID_PARAMS, "logs_error_style must be \"infura\" or \"alchemy\"")
            if v is None and "Optional" not in str(typ):
                raise RPCError(INVALID_PARAMS, f"fault knob {k} cannot be null")
            setattr(self, k, v)

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- encoding
def q(n: int) -> str:
    return hex(n)


def d(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def addr(b: Optional[bytes]) -> Optional[str]:
    if b is None or b == b"":
        return None
    return "0x" + bytes(b).hex()


def parse_quantity(v: Any, what: str = "quantity") -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.startswith(("0x", "0X")) and len(v) > 2:
        try:
            return int(v, 16)
        except ValueError:
            pass
    raise RPCError(INVALID_PARAMS, f"invalid {what}: {v!r}")


def parse_data(v: Any, what: str = "data") -> bytes:
    if isinstance(v, str) and v[:2] in ("0x", "0X"):
        h = v[2:]
        if len(h) % 2 == 0:
            try:
                return bytes.fromhex(h)
            except ValueError:
                pass
    raise RPCError(INVALID_PARAMS, f"invalid {what}: {v!r}")


def parse_address(v: Any, what: str = "address") -> bytes:
    b = parse_data(v, what)
    if len(b) != 20:
        raise RPCError(INVALID_PARAMS, f"invalid {what}: {v!r}")
    return b


def parse_hash(v: Any, what: str = "hash") -> bytes:
    b = parse_data(v, what)
    if len(b) != 32:
        raise RPCError(INVALID_PARAMS, f"invalid {what}: {v!r}")
    return b


class Node:
    """The JSON-RPC surface. ``lock`` serialises all chain access (py-evm is not thread-safe)."""

    def __init__(self, chain: Chain, faults: Optional[Faults] = None):
        self.chain = chain
        self.faults = faults or Faults()
        self.chain.reinject_on_revert = self.faults.reinject_on_revert
        self.chain.min_pool_fee = self.faults.mempool_min_fee
        self.lock = threading.RLock()
        self.stalled_at: Optional[int] = None
        self.stats_calls: dict[str, int] = {}
        self.stats_http = {"requests": 0, "http_429": 0, "http_503": 0, "dropped": 0, "truncated": 0}
        self.interval_ms = 0
        self._interval_stop = threading.Event()
        self._interval_thread: Optional[threading.Thread] = None
        self.methods: dict[str, Callable] = {}
        for name in dir(self):
            if name.startswith("m_"):
                self.methods[name[2:]] = getattr(self, name)
        self.methods.update(
            {
                "anvil_mine": self.m_hardhat_mine,
                "miner_stop": lambda: self.m_evm_setAutomine(False),
                "miner_start": lambda *a: self.m_evm_setAutomine(True),
            }
        )
        if self.faults.stall_head:
            self.stalled_at = self.chain.head_number

    # ------------------------------------------------------------------ faults
    def set_faults(self, changes: dict) -> dict:
        if not isinstance(changes, dict):
            raise RPCError(INVALID_PARAMS, "test_setFaults takes one object of knob: value")
        with self.lock:
            self.faults.update(changes)
            self.chain.reinject_on_revert = self.faults.reinject_on_revert
            self.chain.min_pool_fee = self.faults.mempool_min_fee
            if self.faults.stall_head and self.stalled_at is None:
                self.stalled_at = self.chain.head_number
            if not self.faults.stall_head:
                self.stalled_at = None
            return self.faults.as_dict()

    # ------------------------------------------------------------------ dispatch
    def handle(self, req: Any) -> Optional[dict]:
        """One JSON-RPC request object -> response object (None for a notification)."""
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
            return {"jsonrpc": "2.0", "id": req.get("id") if isinstance(req, dict) else None,
                    "error": {"code": INVALID_REQUEST, "message": "invalid request"}}
        rid = req.get("id")
        is_notification = "id" not in req
        method = req["method"]
        params = req.get("params", [])
        if params is None:
            params = []
        self.stats_calls[method] = self.stats_calls.get(method, 0) + 1
        fn = self.methods.get(method)
        try:
            if fn is None:
                raise RPCError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
            if isinstance(params, dict):
                params = [params]
            if not isinstance(params, list):
                raise RPCError(INVALID_PARAMS, "params must be an array")
            with self.lock:
                try:
                    result = fn(*params)
                except TypeError as e:
                    if "positional argument" in str(e) or "required" in str(e):
                        raise RPCError(INVALID_PARAMS, f"wrong number of params for {method}") from e
                    raise
            resp = {"jsonrpc": "2.0", "id": rid, "result": result}
        except RPCError as e:
            err = {"code": e.code, "message": e.message}
            if e.data is not None:
                err["data"] = e.data
            resp = {"jsonrpc": "2.0", "id": rid, "error": err}
        except RevertError as e:
            resp = {"jsonrpc": "2.0", "id": rid, "error": {"code": 3, "message": e.message, "data": d(e.data)}}
        except ChainError as e:
            err = {"code": e.code, "message": e.message}
            if e.data is not None:
                err["data"] = e.data
            resp = {"jsonrpc": "2.0", "id": rid, "error": err}
        except Exception as e:  # noqa: BLE001 - a bug here must not kill the server
            resp = {"jsonrpc": "2.0", "id": rid, "error": {"code": INTERNAL_ERROR, "message": f"internal error: {e!r}"}}
        return None if is_notification else resp

    # ------------------------------------------------------------------ block tags
    def visible_head(self) -> int:
        h = self.chain.head_number
        if self.stalled_at is not None:
            return min(h, self.stalled_at)
        return h

    def resolve_block(self, tag: Any, allow_pending: bool = True) -> Optional[int]:
        """Block tag or number -> canonical number (None if beyond the head). 'pending' -> -1."""
        head = self.visible_head()
        if tag is None or tag == "latest":
            return head
        if tag == "earliest":
            return 0
        if tag == "safe":
            return max(0, head - self.faults.safe_lag)
        if tag == "finalized":
            return max(0, head - self.faults.finalized_lag)
        if tag == "pending":
            return -1 if allow_pending else head
        if isinstance(tag, dict):  # EIP-1898
            if "blockHash" in tag:
                info = self.chain.block_by_hash(parse_hash(tag["blockHash"], "blockHash"))
                if info is None or info.number > head:
                    raise RPCError(-32001, f"block not found: {tag['blockHash']}")
                return info.number
            return self.resolve_block(tag.get("blockNumber"), allow_pending)
        n = parse_quantity(tag, "block number")
        if n > head:
            return None
        return n

    def state_block(self, tag: Any) -> int:
        n = self.resolve_block(tag, allow_pending=False)
        if n is None:
            raise RPCError(-32000, "header not found")
        return n

    # ------------------------------------------------------------------ serialisers
    def ser_tx(self, tx, info, index: Optional[int], sender: bytes) -> dict:
        ty = _tx_type(tx)
        max_fee, tip = _fee_caps(tx)
        out = {
            "hash": d(tx.hash),
            "nonce": q(tx.nonce),
            "blockHash": d(info.hash) if info else None,
            "blockNumber": q(info.number) if info else None,
            "transactionIndex": q(index) if info else None,
            "from": addr(sender),
            "to": addr(tx.to),
            "value": q(tx.value),
            "gas": q(tx.gas),
            "input": d(tx.data),
            "type": q(ty),
            "r": q(tx.r),
            "s": q(tx.s),
        }
        if ty == 0:
            out["gasPrice"] = q(tx.gas_price)
            out["v"] = q(tx.v)
            if tx.v not in (27, 28):
                out["chainId"] = q((tx.v - 35) // 2)
        else:
            out["chainId"] = q(tx.chain_id)
            out["v"] = q(tx.y_parity)
            out["yParity"] = q(tx.y_parity)
            out["accessList"] = [
                {"address": addr(a), "storageKeys": [d(k.to_bytes(32, "big")) for k in keys_]}
                for a, keys_ in tx.access_list
            ]
            if ty == 1:
                out["gasPrice"] = q(tx.gas_price)
            else:
                out["maxFeePerGas"] = q(max_fee)
                out["maxPriorityFeePerGas"] = q(tip)
                base = info.block.header.base_fee_per_gas if info else self.chain.pending_base_fee
                out["gasPrice"] = q(min(max_fee, base + tip)) if info else q(max_fee)
        return out

    def ser_log(self, info, lg, removed: bool = False) -> dict:
        return {
            "address": addr(lg["address"]),
            "topics": [d(t) for t in lg["topics"]],
            "data": d(lg["data"]),
            "blockNumber": q(info.number),
            "blockHash": d(info.hash),
            "blockTimestamp": q(info.block.header.timestamp),
            "transactionHash": d(lg["tx_hash"]),
            "transactionIndex": q(lg["tx_index"]),
            "logIndex": q(lg["log_index"]),
            "removed": removed,
        }

    def ser_block(self, info, full: bool) -> dict:
        b = info.block
        h = b.header
        out = {
            "number": q(h.block_number),
            "hash": d(b.hash),
            "parentHash": d(h.parent_hash),
            "nonce": d(h.nonce),
            "mixHash": d(h.mix_hash),
            "sha3Uncles": d(h.uncles_hash),
            "logsBloom": d(h.bloom.to_bytes(256, "big")),
            "transactionsRoot": d(h.transaction_root),
            "stateRoot": d(h.state_root),
            "receiptsRoot": d(h.receipt_root),
            "miner": addr(h.coinbase),
            "difficulty": q(h.difficulty),
            "totalDifficulty": q(0),
            "extraData": d(h.extra_data),
            "size": q(len(rlp.encode(b))),
            "gasLimit": q(h.gas_limit),
            "gasUsed": q(h.gas_used),
            "timestamp": q(h.timestamp),
            "baseFeePerGas": q(h.base_fee_per_gas),
            "uncles": [],
            "withdrawals": [],
            "withdrawalsRoot": d(h.withdrawals_root),
            "blobGasUsed": q(h.blob_gas_used),
            "excessBlobGas": q(h.excess_blob_gas),
            "parentBeaconBlockRoot": d(h.parent_beacon_block_root),
        }
        if getattr(h, "requests_hash", None) is not None:
            out["requestsHash"] = d(h.requests_hash)
        if full:
            out["transactions"] = [
                self.ser_tx(tx, info, i, info.senders[i]) for i, tx in enumerate(b.transactions)
            ]
        else:
            out["transactions"] = [d(x) for x in info.tx_hashes]
        return out

    def ser_pending_block(self, full: bool) -> dict:
        """A 'pending' block: the next block's header fields, pool transactions not yet included."""
        head = self.chain.head
        hdr = self.chain.evm.header
        return {
            "number": q(head.number + 1),
            "hash": None,
            "parentHash": d(head.hash),
            "nonce": None,
            "miner": None,
            "logsBloom": None,
            "gasLimit": q(hdr.gas_limit),
            "gasUsed": q(0),
            "timestamp": q(max(head.block.header.timestamp + 1, hdr.timestamp)),
            "baseFeePerGas": q(hdr.base_fee_per_gas),
            "transactions": [],
            "uncles": [],
        }

    def ser_receipt(self, info, index: int) -> dict:
        tx = info.block.transactions[index]
        rc = info.receipts[index]
        prev = info.receipts[index - 1].gas_used if index > 0 else 0
        gas_used = rc.gas_used - prev
        max_fee, tip = _fee_caps(tx)
        base = info.block.header.base_fee_per_gas
        eff = tx.gas_price if _tx_type(tx) in (0, 1) else min(max_fee, base + tip)
        sender = info.senders[index]
        created = None
        if not tx.to:
            created = addr(contract_address(sender, tx.nonce))
        logs = [self.ser_log(info, lg) for lg in info.logs if lg["tx_index"] == index]
        return {
            "transactionHash": d(tx.hash),
            "transactionIndex": q(index),
            "blockHash": d(info.hash),
            "blockNumber": q(info.number),
            "from": addr(sender),
            "to": addr(tx.to),
            "cumulativeGasUsed": q(rc.gas_used),
            "gasUsed": q(gas_used),
            "effectiveGasPrice": q(eff),
            "contractAddress": created,
            "logs": logs,
            "logsBloom": d(rc.bloom.to_bytes(256, "big")),
            "status": q(1 if rc.state_root == b"\x01" else 0),
            "type": q(_tx_type(tx)),
        }

    def parse_call(self, obj: Any) -> dict:
        if not isinstance(obj, dict):
            raise RPCError(INVALID_PARAMS, "transaction object expected")
        out: dict = {}
        if obj.get("from"):
            out["from"] = parse_address(obj["from"], "from")
        if obj.get("to"):
            out["to"] = parse_address(obj["to"], "to")
        data = obj.get("input", obj.get("data"))
        if data:
            out["data"] = parse_data(data, "input")
        if obj.get("value") is not None:
            out["value"] = parse_quantity(obj["value"], "value")
        if obj.get("gas") is not None:
            out["gas"] = parse_quantity(obj["gas"], "gas")
        return out

    # ================================================================== eth_ methods
    def m_web3_clientVersion(self):
        return "ExpansionKeeper-LocalChain/1.0/py-evm"

    def m_eth_chainId(self):
        return q(self.chain.chain_id)

    def m_net_version(self):
        return str(self.chain.chain_id)

    def m_eth_syncing(self):
        return False

    def m_eth_accounts(self):
        return [addr(a) for a in self.chain.accounts]

    def m_eth_blockNumber(self):
        return q(self.visible_head())

    def m_eth_getBlockByNumber(self, tag, full=False):
        n = self.resolve_block(tag)
        if n is None:
            return None
        if n == -1:
            return self.ser_pending_block(bool(full))
        return self.ser_block(self.chain.blocks[n], bool(full))

    def m_eth_getBlockByHash(self, h, full=False):
        info = self.chain.block_by_hash(parse_hash(h, "block hash"))
        if info is None or info.number > self.visible_head():
            return None
        return self.ser_block(info, bool(full))

    def m_eth_getBlockTransactionCountByNumber(self, tag):
        n = self.resolve_block(tag)
        if n is None:
            return None
        if n == -1:
            return q(0)
        return q(len(self.chain.blocks[n].tx_hashes))

    def m_eth_getLogs(self, flt):
        if not isinstance(flt, dict):
            raise RPCError(INVALID_PARAMS, "filter object expected")
        addresses = flt.get("address")
        if addresses is None:
            alist = None
        elif isinstance(addresses, list):
            alist = [parse_address(a) for a in addresses] or None
        else:
            alist = [parse_address(addresses)]
        topics = []
        for t in flt.get("topics") or []:
            if t is None:
                topics.append(None)
            elif isinstance(t, list):
                topics.append([parse_hash(x, "topic") for x in t if x is not None] if None not in t else None)
            else:
                topics.append(parse_hash(t, "topic"))
        head = self.visible_head()
        if flt.get("blockHash") is not None:
            if flt.get("fromBlock") is not None or flt.get("toBlock") is not None:
                raise RPCError(INVALID_PARAMS, "invalid params: cannot specify both BlockHash and FromBlock/ToBlock")
            info = self.chain.block_by_hash(parse_hash(flt["blockHash"], "blockHash"))
            if info is None or info.number > head:
                raise RPCError(-32000, "unknown block")
            lo = hi = info.number
        else:
            lo = self.resolve_block(flt.get("fromBlock", "latest"), allow_pending=False)
            hi = self.resolve_block(flt.get("toBlock", "latest"), allow_pending=False)
            if lo is None:
                return []
            if hi is None:
                hi = head
            if lo > hi:
                raise RPCError(INVALID_PARAMS, "invalid block range params")
        f = self.faults
        if f.logs_max_range is not None and hi - lo + 1 > f.logs_max_range:
            if f.logs_error_style == "alchemy":
                raise RPCError(
                    INVALID_PARAMS,
                    f"Log response size exceeded. You can make eth_getLogs requests with up to a "
                    f"{f.logs_max_range} block range. Based on your parameters, this block range should work: "
                    f"[{q(lo)}, {q(lo + f.logs_max_range - 1)}]",
                )
            raise RPCError(
                INVALID_PARAMS,
                f"query block range exceeds limit: requested {hi - lo + 1} blocks, max {f.logs_max_range}",
            )
        out = []
        limit = f.logs_max_results
        for info, lg in self.chain.get_logs(lo, hi, alist, topics):
            if limit is not None and len(out) >= limit:
                # info.number holds the (limit+1)-th log: every block before it fits in the limit
                suggest_to = max(lo, info.number - 1)
                if f.logs_error_style == "alchemy":
                    raise RPCError(
                        INVALID_PARAMS,
                        f"Log response size exceeded. You can make eth_getLogs requests with up to a 2K block "
                        f"range and no limit on the response size, or you can receive unlimited logs in a 10K "
                        f"block range, or query a range that contains no more than {limit} logs. Based on your "
                        f"parameters, this block range should work: [{q(lo)}, {q(suggest_to)}]",
                    )
                raise RPCError(
                    LIMIT_EXCEEDED,
                    f"query returned more than {limit} results",
                    {"from": q(lo), "to": q(suggest_to), "limit": limit},
                )
            out.append(self.ser_log(info, lg))
        return out

    def m_eth_call(self, obj, tag="latest", *_overrides):
        n = self.state_block(tag)
        return d(self.chain.call(self.parse_call(obj), n))

    def m_eth_estimateGas(self, obj, tag="latest", *_overrides):
        n = self.state_block(tag)
        return q(self.chain.estimate_gas(self.parse_call(obj), n))

    def m_eth_getTransactionCount(self, a, tag="latest"):
        a = parse_address(a)
        if tag == "pending":
            return q(self.chain.pending_nonce(a))
        return q(self.chain.get_nonce(a, self.state_block(tag)))

    def m_eth_getBalance(self, a, tag="latest"):
        return q(self.chain.get_balance(parse_address(a), self.state_block(tag)))

    def m_eth_getCode(self, a, tag="latest"):
        return d(self.chain.get_code(parse_address(a), self.state_block(tag)))

    def m_eth_getStorageAt(self, a, slot, tag="latest"):
        v = self.chain.get_storage(parse_address(a), parse_quantity(slot, "slot"), self.state_block(tag))
        return d(v.to_bytes(32, "big"))

    def m_eth_gasPrice(self):
        return q(self.chain.pending_base_fee + 10**9)

    def m_eth_maxPriorityFeePerGas(self):
        return q(10**9)

    def m_eth_blobBaseFee(self):
        return q(1)

    def m_eth_feeHistory(self, count, newest="latest", percentiles=None):
        count = parse_quantity(count, "block count") if not isinstance(count, int) else count
        if count < 1 or count > 1024:
            raise RPCError(INVALID_PARAMS, "block count must be between 1 and 1024")
        newest_n = self.resolve_block(newest, allow_pending=False)
        if newest_n is None:
            raise RPCError(INVALID_PARAMS, "request beyond head block")
        if percentiles is not None:
            if not isinstance(percentiles, list) or any(
                not isinstance(p, (int, float)) or p < 0 or p > 100 for p in percentiles
            ) or percentiles != sorted(percentiles):
                raise RPCError(INVALID_PARAMS, "invalid reward percentiles")
        oldest = max(0, newest_n - count + 1)
        base_fees, ratios, rewards = [], [], []
        for n in range(oldest, newest_n + 1):
            info = self.chain.blocks[n]
            h = info.block.header
            base_fees.append(q(h.base_fee_per_gas))
            ratios.append(h.gas_used / h.gas_limit)
            if percentiles is not None:
                rewards.append([q(x) for x in self._block_rewards(info, percentiles)])
        # the base fee of the block after newest
        if newest_n == self.chain.head_number:
            base_fees.append(q(self.chain.pending_base_fee))
        else:
            base_fees.append(q(self.chain.blocks[newest_n + 1].block.header.base_fee_per_gas))
        out = {"oldestBlock": q(oldest), "baseFeePerGas": base_fees, "gasUsedRatio": ratios}
        if percentiles is not None:
            out["reward"] = rewards
        return out

    def _block_rewards(self, info, percentiles):
        base = info.block.header.base_fee_per_gas
        if not info.block.transactions:
            return [0 for _ in percentiles]
        items = []
        prev = 0
        for tx, rc in zip(info.block.transactions, info.receipts):
            max_fee, tip = _fee_caps(tx)
            items.append((min(tip, max_fee - base), rc.gas_used - prev))
            prev = rc.gas_used
        items.sort()
        total = sum(g for _, g in items)
        out = []
        for p in percentiles:
            threshold = total * p / 100
            acc = 0
            val = items[-1][0]
            for tipv, g in items:
                acc += g
                if acc >= threshold:
                    val = tipv
                    break
            out.append(val)
        return out

    def m_eth_sendRawTransaction(self, raw):
        return d(self.chain.send_raw(parse_data(raw, "raw transaction")))

    def m_eth_getTransactionByHash(self, h):
        hb = parse_hash(h, "transaction hash")
        found = self.chain.find_tx(hb)
        if found is not None:
            info, i = found
            if info.number > self.visible_head():
                return None
            return self.ser_tx(info.block.transactions[i], info, i, info.senders[i])
        ptx = self.chain.pool_by_hash.get(hb)
        if ptx is not None:
            return self.ser_tx(ptx.tx, None, None, ptx.sender)
        return None

    def m_eth_getTransactionReceipt(self, h):
        found = self.chain.find_tx(parse_hash(h, "transaction hash"))
        if found is None:
            return None
        info, i = found
        if info.number > self.visible_head():
            return None
        return self.ser_receipt(info, i)

    def m_eth_getBlockReceipts(self, tag):
        n = self.resolve_block(tag, allow_pending=False)
        if n is None:
            return None
        info = self.chain.blocks[n]
        return [self.ser_receipt(info, i) for i in range(len(info.tx_hashes))]

    # ================================================================== txpool (geth)
    def m_txpool_content(self):
        pending: dict = {}
        queued: dict = {}
        for sender, txs in self.chain.pool.items():
            n = self.chain.get_nonce(sender)
            for nonce in sorted(txs):
                ptx = txs[nonce]
                bucket = pending if nonce == n else queued
                if nonce == n:
                    n += 1
                bucket.setdefault(addr(sender), {})[str(nonce)] = self.ser_tx(ptx.tx, None, None, sender)
        return {"pending": pending, "queued": queued}

    def m_txpool_status(self):
        c = self.m_txpool_content()
        return {
            "pending": q(sum(len(v) for v in c["pending"].values())),
            "queued": q(sum(len(v) for v in c["queued"].values())),
        }

    # ================================================================== test controls
    def m_evm_snapshot(self):
        return q(self.chain.snapshot())

    def m_evm_revert(self, sid):
        ok = self.chain.revert(parse_quantity(sid, "snapshot id"))
        if ok and self.stalled_at is not None:
            self.stalled_at = min(self.stalled_at, self.chain.head_number)
        return ok

    def m_evm_mine(self, arg=None):
        ts = None
        count = 1
        interval = None
        if isinstance(arg, dict):
            if arg.get("timestamp") is not None:
                ts = parse_quantity(arg["timestamp"], "timestamp")
            if arg.get("blocks") is not None:
                count = parse_quantity(arg["blocks"], "blocks")
            if arg.get("interval") is not None:
                interval = parse_quantity(arg["interval"], "interval")
        elif arg is not None:
            ts = parse_quantity(arg, "timestamp")
        if count < 0 or count > 1_000_000:
            raise RPCError(INVALID_PARAMS, "blocks must be between 0 and 1000000")
        self.chain.mine(count, ts, interval)
        return "0x0"

    def m_hardhat_mine(self, count="0x1", interval=None):
        c = parse_quantity(count, "block count")
        iv = parse_quantity(interval, "interval") if interval is not None else None
        self.chain.mine(c, None, iv)
        return True

    def m_evm_increaseTime(self, seconds):
        s = parse_quantity(seconds, "seconds")
        return q(self.chain.increase_time(s))

    def m_evm_setNextBlockTimestamp(self, ts):
        t = parse_quantity(ts, "timestamp")
        if t <= self.chain.head.block.header.timestamp:
            raise RPCError(INVALID_PARAMS, "timestamp must be later than the latest block's")
        self.chain.next_timestamp = t
        return True

    def m_evm_setAutomine(self, on):
        if not isinstance(on, bool):
            raise RPCError(INVALID_PARAMS, "evm_setAutomine takes a boolean")
        self.chain.automine = on
        if on and self.chain.pool:
            self.chain.mine_block()
        return True

    def m_hardhat_getAutomine(self):
        return self.chain.automine

    def m_evm_setIntervalMining(self, ms):
        ms = parse_quantity(ms, "interval")
        self.interval_ms = ms
        self._interval_stop.set()
        if self._interval_thread is not None:
            self._interval_thread.join()
        self._interval_stop = threading.Event()
        self._interval_thread = None
        if ms > 0:
            stop = self._interval_stop

            def loop():
                while not stop.wait(ms / 1000):
                    with self.lock:
                        self.chain.mine_block()

            self._interval_thread = threading.Thread(target=loop, name="interval-miner", daemon=True)
            self._interval_thread.start()
        return True

    def m_test_reorg(self, opts):
        """{"depth": N, "blocks": M (default N + 1), "reinject": bool (default: the knob)}"""
        if not isinstance(opts, dict) or "depth" not in opts:
            raise RPCError(INVALID_PARAMS, "test_reorg takes {\"depth\": N, \"blocks\": M, \"reinject\": bool}")
        depth = parse_quantity(opts["depth"], "depth")
        blocks = parse_quantity(opts["blocks"], "blocks") if opts.get("blocks") is not None else None
        reinject = opts.get("reinject")
        if reinject is not None and not isinstance(reinject, bool):
            raise RPCError(INVALID_PARAMS, "reinject must be a boolean")
        try:
            r = self.chain.reorg(depth, blocks, reinject)
        except ChainError as e:
            raise RPCError(e.code, e.message) from e
        if self.stalled_at is not None:
            self.stalled_at = min(self.stalled_at, r["ancestor"].number)
        return {
            "oldHead": {"number": q(r["old_head"].number), "hash": d(r["old_head"].hash)},
            "commonAncestor": {"number": q(r["ancestor"].number), "hash": d(r["ancestor"].hash)},
            "newHead": {"number": q(r["new_head"].number), "hash": d(r["new_head"].hash)},
        }

    def m_test_setFaults(self, changes):
        return self.set_faults(changes)

    def m_test_getFaults(self):
        return self.faults.as_dict()

    def m_test_stats(self):
        return {"http": dict(self.stats_http), "calls": dict(self.stats_calls)}

    def m_test_resetStats(self):
        self.stats_calls.clear()
        for k in self.stats_http:
            self.stats_http[k] = 0
        return True

    def m_test_dropPending(self):
        """Forget every pool transaction (as if the node restarted with an empty mempool)."""
        return q(self.chain.drop_pool())

    def m_test_dropTransaction(self, h):
        ptx = self.chain.pool_by_hash.get(parse_hash(h, "transaction hash"))
        if ptx is None:
            return False
        self.chain._remove_from_pool(ptx)
        return True

    def m_test_accounts(self):
        return [{"address": addr(k.public_key.to_canonical_address()), "private_key": d(k.to_bytes())}
                for k in self.chain.keys]

    def stop(self):
        self._interval_stop.set()


CONTROL_PREFIXES = ("test_", "evm_", "miner_", "hardhat_", "anvil_", "txpool_")


def is_control(method: Any) -> bool:
    return isinstance(method, str) and method.startswith(CONTROL_PREFIXES)
