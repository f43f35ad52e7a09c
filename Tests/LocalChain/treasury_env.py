"""The deployed mechanism on an in-process chain: MockVVV, MockVeniceStaking and ExpansionTreasury, with the
roles the tests, scenario tool and gas benchmark use. Account indexes (private key = index + 1):
0 deployer (VVV owner/minter), 1 treasury owner, 2 and 3 keepers, 4.. stakers.
"""

from __future__ import annotations

from typing import Optional

from chain import Chain
from harness import Harness, Receipt

DEPLOYER, OWNER, KEEPER, KEEPER2 = 0, 1, 2, 3
FIRST_STAKER = 4
MAX_UINT = 2**256 - 1
BPS = 10_000

REASONS = {
    1: "NOT_REGISTERED",
    2: "BEFORE_OPT_IN",
    3: "DUPLICATE",
    4: "FUTURE",
    5: "ORPHANED",
    6: "ZERO_CONTRIBUTION",
    7: "NO_ALLOWANCE",
    8: "NO_BALANCE",
    9: "TRANSFER_FAILED",
    10: "OVERFLOW",
}
CODE = {v: k for k, v in REASONS.items()}


def contribution(amount: int, bps: int) -> int:
    return amount * bps // BPS


class TreasuryEnv(Harness):
    def __init__(self, accounts: int = 24, history_contract: bool = True, emission_per_second: int = 10**18,
                 token: str = "MockVVV", chain: Optional[Chain] = None):
        super().__init__(chain=chain, accounts=accounts, history_contract=history_contract)
        self.chain.reinject_on_revert = False
        self.vvv = self.deploy("MockVVV", sender=DEPLOYER)
        self.staking = self.deploy("MockVeniceStaking", self.vvv.address, emission_per_second, sender=DEPLOYER)
        self.transact(self.vvv, "set_minter", self.staking.address, True, sender=DEPLOYER)
        self.token = self.vvv if token == "MockVVV" else self.deploy(token, sender=DEPLOYER)
        self.treasury = self.deploy("ExpansionTreasury", self.token.address, self.addr(OWNER), sender=DEPLOYER)
        self.transact(self.treasury, "set_keeper", self.addr(KEEPER), True, sender=OWNER)
        self.transact(self.treasury, "set_keeper", self.addr(KEEPER2), True, sender=OWNER)

    def new_treasury(self, token_name: str):
        """Another treasury over a misbehaving token (deployed fresh); returns (token, treasury)."""
        token = self.deploy(token_name, sender=DEPLOYER)
        treasury = self.deploy("ExpansionTreasury", token.address, self.addr(OWNER), sender=DEPLOYER)
        self.transact(treasury, "set_keeper", self.addr(KEEPER), True, sender=OWNER)
        return token, treasury

    # ------------------------------------------------------------------ staker actions
    def fund(self, i: int, amount: int, token=None):
        self.transact(token or self.token, "mint", self.addr(i), amount, sender=DEPLOYER)

    def approve(self, i: int, amount: int, token=None, treasury=None):
        self.transact(token or self.token, "approve", (treasury or self.treasury).address, amount, sender=i)

    def opt_in(self, i: int, bps: int, treasury=None) -> Receipt:
        return self.transact(treasury or self.treasury, "opt_in", bps, sender=i)

    def opt_out(self, i: int, treasury=None) -> Receipt:
        return self.transact(treasury or self.treasury, "opt_out", sender=i)

    def register(self, i: int, bps: int, funds: int = 10**24, allowance: int = MAX_UINT):
        """Fund, approve and opt in, then mine one block: consent starts the block after opt_in
        (since_block = opt-in block + 1), so on return the head block is covered. Returns the opt_in receipt."""
        self.fund(i, funds)
        self.approve(i, allowance)
        rc = self.opt_in(i, bps)
        self.chain.mine(1)
        return rc

    def stake(self, i: int, amount: int) -> Receipt:
        self.transact(self.vvv, "mint", self.addr(i), amount, sender=DEPLOYER)
        self.transact(self.vvv, "approve", self.staking.address, amount, sender=i)
        return self.transact(self.staking, "stake", self.addr(i), amount, sender=i)

    def claims_in(self, rc: Receipt) -> list[tuple]:
        """Claim structs for every Claimed event of a receipt (the keeper's view of a reward payment)."""
        out = []
        for address, name, args, log_index in rc.logs:
            if address == self.staking.address and name == "Claimed":
                out.append((args["user"], args["amount"], rc.block_number, log_index, rc.block_hash))
        return out

    def claim(self, i: int) -> tuple:
        rc = self.transact(self.staking, "claim", sender=i)
        cl = self.claims_in(rc)
        assert len(cl) == 1, rc.logs
        return cl[0]

    def fake_claim(self, i: int, amount: int, block_number: Optional[int] = None, log_index: int = 0,
                   block_hash: Optional[bytes] = None) -> tuple:
        """A claim the keeper reports; by default naming the latest block (and its real hash)."""
        if block_number is None:
            block_number = self.chain.head_number
        if block_hash is None:
            block_hash = self.chain.blocks[block_number].hash
        addr = self.addr(i) if isinstance(i, int) else i
        return ("0x" + addr.hex(), amount, block_number, log_index, block_hash)

    # ------------------------------------------------------------------ keeper actions
    def route(self, claims: list, sender: int = KEEPER, treasury=None, **kw) -> Receipt:
        return self.transact(treasury or self.treasury, "route", claims, sender=sender, gas=29_000_000, **kw)

    @staticmethod
    def outcomes(rc: Receipt) -> list[tuple]:
        """In order: ('routed', staker, claim_block, log_index, contributed) or ('skipped', ..., reason name)."""
        out = []
        for _, name, args, _ in rc.logs:
            if name == "Routed":
                out.append(("routed", args["staker"].lower(), args["claim_block"], args["claim_log_index"],
                            args["contributed"]))
            elif name == "RouteSkipped":
                out.append(("skipped", args["staker"].lower(), args["claim_block"], args["claim_log_index"],
                            REASONS[args["reason"]]))
        return out

    # ------------------------------------------------------------------ views
    def balance(self, who, token=None) -> int:
        a = self.addr(who) if isinstance(who, int) else who
        return self.call(token or self.token, "balanceOf", a)

    def contributed(self, i: int, treasury=None) -> int:
        return self.call(treasury or self.treasury, "contributed", self.addr(i))

    def registration(self, i: int, treasury=None) -> tuple:
        return tuple(self.call(treasury or self.treasury, "registration", self.addr(i)))
