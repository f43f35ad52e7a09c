"""ProvenExpansionTreasury on the in-process chain, next to the ExpansionTreasury of TreasuryEnv (same token,
staking double and accounts), and route_proven calls built with the reference proof builder
(Tests/Support/receipt_proofs.py) from the chain's real blocks and receipts."""

from __future__ import annotations

import os
import sys
from typing import Optional

from eth_utils import keccak

SUPPORT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Support"))
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)

import receipt_proofs as rp  # noqa: E402
from harness import Receipt  # noqa: E402
from treasury_env import DEPLOYER, OWNER, TreasuryEnv  # noqa: E402

CLAIMED_TOPIC = keccak(text="Claimed(address,uint256)")

REASONS = {
    1: "NOT_REGISTERED", 2: "BEFORE_OPT_IN", 3: "DUPLICATE", 4: "FUTURE", 5: "ORPHANED", 6: "ZERO_CONTRIBUTION",
    7: "NO_ALLOWANCE", 8: "NO_BALANCE", 9: "TRANSFER_FAILED", 10: "OVERFLOW", 11: "UNVERIFIABLE",
    12: "BAD_HEADER", 13: "BAD_PROOF", 14: "BAD_RECEIPT", 15: "NOT_REWARD_SOURCE", 16: "NOT_REWARD_EVENT",
}
CODE = {v: k for k, v in REASONS.items()}
ROUTE_GAS = 29_000_000


class Claim:
    """One reward log as the chain recorded it: block, tx index, position in the receipt, staker, amount."""

    def __init__(self, block: int, tx_index: int, log_position: int, staker: bytes, amount: int, log_index: int):
        self.block, self.tx_index, self.log_position = block, tx_index, log_position
        self.staker, self.amount, self.log_index = staker, amount, log_index

    def __repr__(self):
        return f"Claim(block={self.block}, tx={self.tx_index}, pos={self.log_position}, amount={self.amount})"


class ProvenEnv(TreasuryEnv):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.proven = self.deploy_proven()

    def deploy_proven(self, token=None, source: Optional[bytes] = None, topic: bytes = CLAIMED_TOPIC):
        return self.deploy("ProvenExpansionTreasury", (token or self.token).address, self.addr(OWNER),
                           source or self.staking.address, topic, sender=DEPLOYER)

    # ------------------------------------------------------------------ staker actions on the proven treasury
    def register_proven(self, i: int, bps: int, funds: int = 10**24, allowance: int = 2**256 - 1, treasury=None):
        treasury = treasury or self.proven
        self.fund(i, funds)
        self.approve(i, allowance, treasury=treasury)
        rc = self.opt_in(i, bps, treasury=treasury)
        self.chain.mine(1)
        return rc

    # ------------------------------------------------------------------ rewards as the chain recorded them
    def reward_claims(self, rc: Receipt, source: Optional[bytes] = None, topic: bytes = CLAIMED_TOPIC) -> list:
        """Every log of (source, topic) in the receipt's transaction, with its position in the receipt."""
        source = source or self.staking.address
        info = self.chain.blocks[rc.block_number]
        mine = [lg for lg in info.logs if lg["tx_index"] == rc.tx_index]
        out = []
        for pos, lg in enumerate(mine):
            if lg["address"] == source and lg["topics"] and lg["topics"][0] == topic:
                out.append(Claim(rc.block_number, rc.tx_index, pos, lg["topics"][1][12:],
                                 int.from_bytes(lg["data"][:32], "big"), lg["log_index"]))
        return out

    def proven_claim(self, i: int) -> Claim:
        rc = self.transact(self.staking, "claim", sender=i)
        cl = self.reward_claims(rc)
        assert len(cl) == 1, rc.logs
        return cl[0]

    # ------------------------------------------------------------------ proofs
    def header_rlp(self, n: int) -> bytes:
        h = rp.header_rlp_from_pyevm(self.chain.blocks[n].block.header)
        assert keccak(h) == self.chain.blocks[n].hash
        return h

    def receipts_trie(self, n: int) -> rp.ReceiptsTrie:
        info = self.chain.blocks[n]
        t = rp.ReceiptsTrie([rp.receipt_bytes_from_pyevm(r) for r in info.receipts])
        assert t.root == info.block.header.receipt_root
        return t

    def route_args(self, claims: list, pool: Optional[rp.ProofPool] = None) -> tuple:
        pool = pool or rp.ProofPool()
        tries: dict = {}
        for c in claims:
            if c.block not in tries:
                tries[c.block] = self.receipts_trie(c.block)
            pool.add(self.header_rlp(c.block), c.tx_index, c.log_position, tries[c.block].proof(c.tx_index))
        return pool.args()

    def route_proven(self, claims: list, sender: int = 5, treasury=None, args: Optional[tuple] = None, **kw):
        args = args if args is not None else self.route_args(claims)
        return self.transact(treasury or self.proven, "route_proven", *args, sender=sender, gas=ROUTE_GAS, **kw)

    @staticmethod
    def proven_outcomes(rc: Receipt) -> list[tuple]:
        """In order: ('routed', staker, block, tx, pos, contributed) or ('skipped', staker, block, tx, pos, reason)."""
        out = []
        for _, name, args, _ in rc.logs:
            if name == "Routed":
                out.append(("routed", args["staker"].lower(), args["claim_block"], args["claim_tx_index"],
                            args["claim_log_position"], args["contributed"]))
            elif name == "RouteSkipped":
                out.append(("skipped", args["staker"].lower(), args["claim_block"], args["claim_tx_index"],
                            args["claim_log_position"], REASONS[args["reason"]]))
        return out

    @staticmethod
    def results(rc: Receipt) -> list:
        """Per claim: the contribution routed (int) or the skip reason (str)."""
        return [o[5] for o in ProvenEnv.proven_outcomes(rc)]
