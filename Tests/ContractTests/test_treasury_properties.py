"""Property test: random sequences of opt-ins (same share: a no-op), opt-outs, share changes, reward claims (in a
new block, or in the head block, which may hold an opt-in or share change), routes (with repeats,
reordering, other keepers, allowance changes), withdrawals and real reorgs (the last blocks replaced by a longer
fork: registrations, routes and payments in them vanish, claims naming them become ORPHANED), checked step by
step against a reference model of SPEC §3, and the conservation invariant
    sum(contributed) == total_contributed == treasury balance + total_withdrawn.
"""

import copy
import os

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from treasury_env import FIRST_STAKER, KEEPER, KEEPER2, MAX_UINT, OWNER, contribution

STAKERS = list(range(FIRST_STAKER, FIRST_STAKER + 4))
EXAMPLES = int(os.environ.get("TREASURY_PROPERTY_EXAMPLES", "25"))
# shrinking replays chain sequences many times; mutants.py only needs "does it fail"
PHASES = [p for p in Phase if not (os.environ.get("TREASURY_PROPERTY_NO_SHRINK") and p == Phase.shrink)]

op = st.one_of(
    st.tuples(st.just("opt_in"), st.sampled_from(STAKERS), st.sampled_from([1, 2500, 5000, 9999, 10_000])),
    st.tuples(st.just("opt_out"), st.sampled_from(STAKERS)),
    st.tuples(st.just("claim"), st.sampled_from(STAKERS), st.integers(0, 10**21)),
    st.tuples(st.just("claim"), st.sampled_from(STAKERS), st.integers(0, 10**21)),
    # a payment reported in the head block itself (possibly the block of an opt_in, opt_out or share change)
    st.tuples(st.just("claim_head"), st.sampled_from(STAKERS), st.integers(0, 10**21)),
    st.tuples(st.just("route"), st.lists(st.integers(0, 40), min_size=1, max_size=6), st.booleans()),
    st.tuples(st.just("route"), st.lists(st.integers(0, 40), min_size=1, max_size=6), st.booleans()),
    st.tuples(st.just("allowance"), st.sampled_from(STAKERS), st.sampled_from([0, 10**18, MAX_UINT])),
    st.tuples(st.just("withdraw"), st.integers(1, 10**18)),
    st.tuples(st.just("mine"), st.integers(1, 3)),
    st.tuples(st.just("reorg"), st.integers(1, 4)),
)


class Model:
    """SPEC §3 in plain Python."""

    def state(self):
        return copy.deepcopy((self.reg, self.last, self.contributed, self.allowance, self.withdrawn))

    def restore(self, saved):
        self.reg, self.last, self.contributed, self.allowance, self.withdrawn = copy.deepcopy(saved)

    def __init__(self, env):
        self.env = env
        self.reg = {}            # staker -> (share, since)
        self.last = {}           # staker -> (block, log_index) of last routed claim
        self.contributed = {i: 0 for i in STAKERS}
        self.allowance = {i: MAX_UINT for i in STAKERS}
        self.withdrawn = 0

    def expect(self, claim, staker, now, total):
        _, amount, block, log_index, bhash = claim
        if block >= now:
            return "FUTURE"
        if self.env.chain.blocks[block].hash != bhash:
            return "ORPHANED"
        if staker not in self.reg:
            return "NOT_REGISTERED"
        share, since = self.reg[staker]
        if block < since:
            return "BEFORE_OPT_IN"
        if (block, log_index) <= self.last.get(staker, (0, 0)):
            return "DUPLICATE"
        c = contribution(amount, share)
        if c == 0:
            return "ZERO_CONTRIBUTION"
        if self.allowance[staker] < c:
            return "NO_ALLOWANCE"
        if self.env.balance(staker) < c + total.get(staker, 0):
            return "NO_BALANCE"
        return c


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), phases=PHASES,
          database=None)
@given(ops=st.lists(op, min_size=4, max_size=18))
def test_random_sequences_match_the_model_and_conserve_tokens(module_env, ops):
    env = module_env
    sid = env.chain.snapshot()
    try:
        _run(env, ops)
    finally:
        env.chain.drop_pool()
        assert env.chain.revert(sid)


def _run(env, ops):
    for i in STAKERS:
        env.fund(i, 10**24)
        env.approve(i, MAX_UINT)
    m = Model(env)
    history = {env.chain.head_number: m.state()}  # model state after the last step ending at each height
    base = env.chain.head_number
    claims = []  # every reward paid so far (some from orphaned blocks after a simulated reorg hash flip)
    for step in ops:
        kind = step[0]
        if kind == "opt_in":
            _, i, bps = step
            rc = env.opt_in(i, bps)
            if m.reg.get(i, (0, 0))[0] == bps:
                assert rc.logs == []  # the share already registered: a no-op, pending rewards keep their place
            else:
                m.reg[i] = (bps, rc.block_number + 1)  # consent from the next block on
        elif kind == "opt_out":
            _, i = step
            if i in m.reg:
                env.opt_out(i)
                del m.reg[i]
        elif kind in ("claim", "claim_head"):
            _, i, amount = step
            if kind == "claim":
                env.chain.mine_block()
            n = env.chain.head_number
            # a keeper-reported payment in the latest block; every third one names a wrong (orphaned) hash
            bhash = env.chain.blocks[n].hash if len(claims) % 3 else bytes(32)
            claims.append(("0x" + env.addr(i).hex(), amount, n, len(claims) % 5, bhash))
        elif kind == "route":
            _, picks, other_keeper = step
            if not claims:
                continue
            batch = [claims[p % len(claims)] for p in picks]
            now = env.chain.head_number + 1
            pulled: dict = {}
            expected = []
            for cl in batch:
                staker = next(s for s in STAKERS if "0x" + env.addr(s).hex() == cl[0])
                e = m.expect(cl, staker, now, pulled)
                expected.append(e)
                if isinstance(e, int):
                    pulled[staker] = pulled.get(staker, 0) + e
                    m.last[staker] = (cl[2], cl[3])
                    m.contributed[staker] += e
                    if m.allowance[staker] != MAX_UINT:
                        m.allowance[staker] -= e
            rc = env.route(batch, sender=KEEPER2 if other_keeper else KEEPER)
            assert [o[4] for o in env.outcomes(rc)] == expected
        elif kind == "allowance":
            _, i, amount = step
            env.approve(i, amount)
            m.allowance[i] = amount
        elif kind == "withdraw":
            _, amount = step
            bal = env.balance(env.treasury.address)
            if 0 < amount <= bal:
                env.transact(env.treasury, "withdraw", env.addr(0), amount, sender=OWNER)
                m.withdrawn += amount
        elif kind == "mine":
            env.chain.mine(step[1])
        elif kind == "reorg":
            depth = min(step[1], env.chain.head_number - base)
            if depth:
                r = env.chain.reorg(depth, reinject=False)
                ancestor = r["ancestor"].number
                m.restore(history[max(n for n in history if n <= ancestor)])
                for n in [n for n in history if n > ancestor]:
                    del history[n]
        history[env.chain.head_number] = m.state()
        # the invariants, after every step
        contributed = {i: env.contributed(i) for i in STAKERS}
        assert contributed == m.contributed
        total = env.call(env.treasury, "total_contributed")
        assert sum(contributed.values()) == total
        assert total == env.balance(env.treasury.address) + env.call(env.treasury, "total_withdrawn")
        assert env.call(env.treasury, "total_withdrawn") == m.withdrawn
        for i in STAKERS:
            share, since = m.reg.get(i, (0, 0))
            assert env.registration(i) == (share, since)
    assert KEEPER != KEEPER2
