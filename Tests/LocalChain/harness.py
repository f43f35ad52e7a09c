"""In-process driver for the contracts on ``chain.Chain`` (no HTTP): deploy the compiled artifacts, send
signed EIP-1559 transactions through the real transaction pool, read receipts and decoded events.
Shared by the contract tests, the scenario tool and the gas benchmark.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Optional

from eth_account import Account
from eth_utils import to_checksum_address

from chain import Chain, contract_address
from ethtools import ContractABI, load_artifact, sign_tx


@dataclass
class Contract:
    name: str
    address: bytes
    abi: ContractABI

    @property
    def hex(self) -> str:
        return to_checksum_address(self.address)


@dataclass
class Receipt:
    hash: bytes
    status: int
    gas_used: int
    block_number: int
    block_hash: bytes
    tx_index: int
    logs: list = field(default_factory=list)  # (address, event name, args dict, log_index)
    contract_address: Optional[bytes] = None

    def events(self, name: str) -> list[dict]:
        return [args for _, n, args, _ in self.logs if n == name]


class TxFailed(Exception):
    def __init__(self, receipt: Receipt):
        super().__init__(f"transaction reverted (gas used {receipt.gas_used})")
        self.receipt = receipt


class Harness:
    def __init__(self, chain: Optional[Chain] = None, **chain_kwargs):
        self.chain = chain or Chain(**chain_kwargs)
        self.contracts: dict[bytes, Contract] = {}
        self.pending: list[bytes] = []

    # accounts: index i -> private key i + 1 (index 0 is the deployer)
    def key(self, i: int) -> bytes:
        return self.chain.keys[i].to_bytes()

    def addr(self, i: int) -> bytes:
        return self.chain.keys[i].public_key.to_canonical_address()

    # ------------------------------------------------------------------------------ sending
    def send(self, sender: int, to: Optional[bytes], data: bytes, gas: int = 1_000_000, value: int = 0,
             nonce: Optional[int] = None, tip: int = 10**9, max_fee: Optional[int] = None) -> bytes:
        key = self.key(sender)
        if nonce is None:
            nonce = self.chain.pending_nonce(self.addr(sender))
        if max_fee is None:
            max_fee = 2 * self.chain.pending_base_fee + tip
        tx = {"type": 2, "chainId": self.chain.chain_id, "nonce": nonce, "gas": gas, "maxFeePerGas": max_fee,
              "maxPriorityFeePerGas": tip, "value": value, "data": data}
        if to is not None:
            tx["to"] = to_checksum_address(to)
        h = self.chain.send_raw(sign_tx(key, tx))
        self.pending.append(h)
        return h

    def receipt(self, h: bytes) -> Optional[Receipt]:
        found = self.chain.find_tx(h)
        if found is None:
            return None
        info, i = found
        rc = info.receipts[i]
        prev = info.receipts[i - 1].gas_used if i else 0
        tx = info.block.transactions[i]
        logs = []
        for lg in info.logs:
            if lg["tx_index"] != i:
                continue
            c = self.contracts.get(lg["address"])
            name, args = None, {}
            if c is not None:
                try:
                    name, args = c.abi.decode_log(lg["topics"], lg["data"])
                except KeyError:
                    pass
            logs.append((lg["address"], name, args, lg["log_index"]))
        created = contract_address(info.senders[i], tx.nonce) if not tx.to else None
        return Receipt(h, 1 if rc.state_root == b"\x01" else 0, rc.gas_used - prev, info.number, info.hash, i,
                       logs, created)

    @contextlib.contextmanager
    def one_block(self):
        """Send several transactions into one block: automine off inside, one block mined at the end."""
        was = self.chain.automine
        self.chain.automine = False
        try:
            yield
        finally:
            self.chain.automine = was
        # blocks are filled by declared gas limits (as geth does): mine until the pool has drained
        while self.chain.pool:
            before = len(self.chain.pool_by_hash)
            self.chain.mine_block()
            if len(self.chain.pool_by_hash) == before:
                break

    # ------------------------------------------------------------------------------ contracts
    def deploy(self, name: str, *args, sender: int = 0) -> Contract:
        art = load_artifact(name)
        abi = ContractABI(art["abi"])
        code = bytes.fromhex(art["bytecode"][2:]) + abi.encode_constructor(*args)
        h = self.send(sender, None, code, gas=10_000_000)
        rc = self.receipt(h)
        if rc is None:
            self.chain.mine_block()
            rc = self.receipt(h)
        if rc.status != 1:
            raise TxFailed(rc)
        c = Contract(name, rc.contract_address, abi)
        self.contracts[c.address] = c
        return c

    def at(self, name: str, address: bytes) -> Contract:
        c = Contract(name, address, ContractABI(load_artifact(name)["abi"]))
        self.contracts[address] = c
        return c

    def transact(self, c: Contract, fn: str, *args, sender: int = 0, gas: int = 1_000_000,
                 expect_success: bool = True, **kw) -> Receipt:
        h = self.send(sender, c.address, c.abi.encode_call(fn, *args), gas=gas, **kw)
        rc = self.receipt(h)
        if rc is None:
            return None  # pooled (automine off)
        if expect_success and rc.status != 1:
            raise TxFailed(rc)
        return rc

    def submit(self, c: Contract, fn: str, *args, sender: int = 0, gas: int = 1_000_000, **kw) -> bytes:
        """Send without waiting (for one_block)."""
        return self.send(sender, c.address, c.abi.encode_call(fn, *args), gas=gas, **kw)

    def call(self, c: Contract, fn: str, *args, sender: Optional[int] = None, block: Optional[int] = None) -> Any:
        fields_ = {"to": c.address, "data": c.abi.encode_call(fn, *args)}
        if sender is not None:
            fields_["from"] = self.addr(sender)
        return c.abi.decode_result(fn, self.chain.call(fields_, block))

    def revert_reason(self, c: Contract, fn: str, *args, sender: int = 0) -> Optional[str]:
        """Simulate; the revert reason if it reverts, else None."""
        from chain import RevertError

        try:
            self.chain.call({"from": self.addr(sender), "to": c.address, "data": c.abi.encode_call(fn, *args)})
        except RevertError as e:
            return e.message
        return None


def key_address(key: bytes) -> str:
    return Account.from_key(key).address
