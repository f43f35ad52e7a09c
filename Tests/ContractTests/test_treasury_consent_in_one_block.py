"""Consent takes effect from the block AFTER an opt_in (issue 15): several transactions mined into one block
(automine off, then one block) — a reward paid in the block of a registration, a share change or an
opt-out/opt-in is never taken, at either share; an opt_in with the share already registered changes nothing.
Each test checks the balances, the events and contributed()."""

from treasury_env import FIRST_STAKER, MAX_UINT, contribution

A = FIRST_STAKER


def lower(env, i):
    return "0x" + env.addr(i).hex()


def one_block(env, *calls):
    """Send calls = (contract, fn, args, sender) with automine off, mine them into ONE block, in this order."""
    with env.one_block():
        hashes = [env.submit(c, fn, *args, sender=s) for c, fn, args, s in calls]
    rcs = [env.receipt(h) for h in hashes]
    assert all(rc is not None and rc.status == 1 for rc in rcs)
    assert len({rc.block_number for rc in rcs}) == 1, [rc.block_number for rc in rcs]
    assert [rc.tx_index for rc in rcs] == sorted(rc.tx_index for rc in rcs)  # mined in the order sent
    return rcs


def staked(env, i=A, share=None):
    """A staker with wallet funds, an unlimited allowance, stake accruing rewards; registered if share given."""
    if share is None:
        env.fund(i, 10**24)
        env.approve(i, MAX_UINT)
    else:
        env.register(i, share)
    env.stake(i, 10**21)
    env.chain.increase_time(60)


def nothing_taken(env, i, wallet_before):
    assert env.balance(i) == wallet_before
    assert env.contributed(i) == 0
    assert env.call(env.treasury, "total_contributed") == 0
    assert env.balance(env.treasury.address) == 0


def test_claim_then_opt_in_in_one_block_routes_nothing_from_that_claim(env):
    staked(env)
    claim_rc, opt_rc = one_block(env, (env.staking, "claim", (), A), (env.treasury, "opt_in", (10_000,), A))
    b = claim_rc.block_number
    (claim,) = env.claims_in(claim_rc)
    assert claim[2] == b and claim[1] > 0
    assert opt_rc.events("OptedIn") == [{"staker": lower(env, A), "share_bps": 10_000, "since_block": b + 1}]
    assert env.registration(A) == (10_000, b + 1)
    env.chain.mine(1)
    wallet = env.balance(A)
    rc = env.route([claim])
    assert env.outcomes(rc) == [("skipped", lower(env, A), b, claim[3], "BEFORE_OPT_IN")]
    assert rc.events("Routed") == []
    nothing_taken(env, A, wallet)
    # the next block's rewards are routed in full
    env.chain.increase_time(60)
    later = env.claim(A)
    assert later[2] > b
    wallet = env.balance(A)                      # the reward itself was paid into the wallet
    rc = env.route([later])
    assert rc.events("Routed") == [{"staker": lower(env, A), "claim_block": later[2], "claim_log_index": later[3],
                                    "reward": later[1], "contributed": later[1], "share_bps": 10_000}]
    assert env.balance(A) == wallet - later[1]
    assert env.contributed(A) == later[1] == env.call(env.treasury, "total_contributed")
    assert env.balance(env.treasury.address) == later[1]


def test_opt_in_then_claim_in_one_block_routes_nothing_from_that_claim(env):
    staked(env)
    opt_rc, claim_rc = one_block(env, (env.treasury, "opt_in", (5_000,), A), (env.staking, "claim", (), A))
    b = opt_rc.block_number
    (claim,) = env.claims_in(claim_rc)
    assert opt_rc.events("OptedIn")[0]["since_block"] == b + 1
    env.chain.mine(1)
    wallet = env.balance(A)
    assert env.outcomes(env.route([claim]))[0][4] == "BEFORE_OPT_IN"
    nothing_taken(env, A, wallet)


def test_claim_then_share_raise_in_one_block_takes_nothing_from_that_claim(env):
    staked(env, share=2_500)
    since0 = env.registration(A)[1]
    env.chain.mine(1)
    env.chain.increase_time(60)
    before_change = env.claim(A)                 # paid under 2,500 bps, still waiting to be routed
    assert before_change[2] >= since0
    env.chain.increase_time(60)
    claim_rc, opt_rc = one_block(env, (env.staking, "claim", (), A), (env.treasury, "opt_in", (10_000,), A))
    b = claim_rc.block_number
    (same_block,) = env.claims_in(claim_rc)
    assert opt_rc.events("OptedIn") == [{"staker": lower(env, A), "share_bps": 10_000, "since_block": b + 1}]
    env.chain.mine(1)
    wallet = env.balance(A)
    rc = env.route([before_change, same_block])
    # neither the old share (consent withdrawn by the change) nor the new one (not yet given when paid)
    assert [o[4] for o in env.outcomes(rc)] == ["BEFORE_OPT_IN", "BEFORE_OPT_IN"]
    assert rc.events("Routed") == []
    nothing_taken(env, A, wallet)
    # a later block's claim routes at the new share
    env.chain.increase_time(60)
    later = env.claim(A)
    wallet = env.balance(A)
    rc = env.route([later])
    (ev,) = rc.events("Routed")
    assert (ev["claim_block"], ev["share_bps"], ev["contributed"]) == (later[2], 10_000, later[1])
    assert env.balance(A) == wallet - later[1]
    assert env.contributed(A) == later[1] == env.call(env.treasury, "total_contributed")


def test_share_cut_in_one_block_takes_nothing_from_that_claim(env):
    staked(env, share=10_000)
    env.chain.mine(1)
    claim_rc, _ = one_block(env, (env.staking, "claim", (), A), (env.treasury, "opt_in", (1_000,), A))
    (claim,) = env.claims_in(claim_rc)
    env.chain.mine(1)
    wallet = env.balance(A)
    assert env.outcomes(env.route([claim]))[0][4] == "BEFORE_OPT_IN"
    nothing_taken(env, A, wallet)
    env.chain.increase_time(60)
    later = env.claim(A)
    wallet = env.balance(A)
    assert env.outcomes(env.route([later]))[0][4] == contribution(later[1], 1_000)
    assert env.contributed(A) == contribution(later[1], 1_000) == wallet - env.balance(A)


def test_opt_out_then_opt_in_in_one_block_takes_nothing_paid_in_between(env):
    staked(env, share=5_000)
    env.chain.mine(1)
    env.chain.increase_time(60)
    rcs = one_block(env, (env.treasury, "opt_out", (), A),
                    (env.staking, "claim", (), A),                 # paid while not registered
                    (env.treasury, "opt_in", (5_000,), A))         # same share as before: a new registration
    b = rcs[0].block_number
    (paid_between,) = env.claims_in(rcs[1])
    assert rcs[0].events("OptedOut") == [{"staker": lower(env, A)}]
    assert rcs[2].events("OptedIn") == [{"staker": lower(env, A), "share_bps": 5_000, "since_block": b + 1}]
    assert env.registration(A) == (5_000, b + 1)
    # the keeper also names a payment earlier in that block, before the opt-out (consent restarted: not taken)
    paid_before_out = env.fake_claim(A, 10**18, b, 0)
    env.chain.mine(1)
    wallet = env.balance(A)
    rc = env.route([paid_before_out, paid_between])
    assert paid_between[3] > 0
    assert [o[4] for o in env.outcomes(rc)] == ["BEFORE_OPT_IN", "BEFORE_OPT_IN"]
    nothing_taken(env, A, wallet)
    env.chain.increase_time(60)
    later = env.claim(A)
    wallet = env.balance(A)
    assert env.outcomes(env.route([later]))[0][4] == contribution(later[1], 5_000)
    assert env.contributed(A) == contribution(later[1], 5_000) == wallet - env.balance(A)


def test_same_share_opt_in_is_a_no_op_and_pending_claims_stay_routable(env):
    rc0 = env.register(A, 5_000)
    since = rc0.block_number + 1
    assert env.registration(A) == (5_000, since)
    env.stake(A, 10**21)
    env.chain.increase_time(60)
    waiting = env.claim(A)                       # paid under the registration, not routed yet
    env.chain.increase_time(60)
    claim_rc, again = one_block(env, (env.staking, "claim", (), A), (env.treasury, "opt_in", (5_000,), A))
    (same_block,) = env.claims_in(claim_rc)
    assert again.logs == []                      # no OptedIn: nothing changed
    assert env.registration(A) == (5_000, since)
    env.chain.mine(1)
    wallet = env.balance(A)
    rc = env.route([waiting, same_block])
    want = [contribution(waiting[1], 5_000), contribution(same_block[1], 5_000)]
    assert [o[4] for o in env.outcomes(rc)] == want
    assert [e["share_bps"] for e in rc.events("Routed")] == [5_000, 5_000]
    assert env.balance(A) == wallet - sum(want)
    assert env.contributed(A) == sum(want) == env.call(env.treasury, "total_contributed")
    assert env.balance(env.treasury.address) == sum(want)
