"""Every rule of SPEC §3, each with a test that fails if the rule breaks (ExpansionTreasury on py-evm)."""

import pytest

from harness import TxFailed
from treasury_env import (FIRST_STAKER, KEEPER, KEEPER2, MAX_UINT, OWNER, CODE, TreasuryEnv,
                          contribution)

A, B, C, D, E = range(FIRST_STAKER, FIRST_STAKER + 5)


def lower(env, i):
    return "0x" + env.addr(i).hex()


def reverts(env, contract, fn, *args, sender, reason):
    assert env.revert_reason(contract, fn, *args, sender=sender) == f"execution reverted: {reason}"
    with pytest.raises(TxFailed):
        env.transact(contract, fn, *args, sender=sender, gas=1_000_000)


# ------------------------------------------------------------------------------------------ keepers, pause
def test_only_enabled_keepers_route(env):
    env.register(A, 5000)
    claim = env.fake_claim(A, 10**18)
    for who in (OWNER, A, 0):
        reverts(env, env.treasury, "route", [claim], sender=who, reason="not keeper")
    assert env.call(env.treasury, "is_keeper", env.addr(KEEPER)) is True
    rc = env.transact(env.treasury, "set_keeper", env.addr(KEEPER), False, sender=OWNER)
    assert rc.events("KeeperSet") == [{"keeper": lower(env, KEEPER), "enabled": False}]
    assert env.call(env.treasury, "is_keeper", env.addr(KEEPER)) is False
    reverts(env, env.treasury, "route", [claim], sender=KEEPER, reason="not keeper")
    reverts(env, env.treasury, "set_keeper", env.addr(A), True, sender=KEEPER2, reason="not owner")
    assert env.outcomes(env.route([claim], sender=KEEPER2))[0][0] == "routed"


def test_nothing_routes_while_paused(env):
    env.register(A, 5000)
    claim = env.fake_claim(A, 10**18)
    reverts(env, env.treasury, "pause", sender=KEEPER, reason="not owner")
    rc = env.transact(env.treasury, "pause", sender=OWNER)
    assert rc.events("Paused") == [{"account": lower(env, OWNER)}]
    assert env.call(env.treasury, "paused") is True
    reverts(env, env.treasury, "route", [claim], sender=KEEPER, reason="paused")
    reverts(env, env.treasury, "pause", sender=OWNER, reason="already paused")
    # stakers can still leave while paused
    env.register(B, 100)
    env.opt_out(B)
    reverts(env, env.treasury, "unpause", sender=KEEPER, reason="not owner")
    rc = env.transact(env.treasury, "unpause", sender=OWNER)
    assert rc.events("Unpaused") == [{"account": lower(env, OWNER)}]
    assert env.contributed(A) == 0
    assert env.outcomes(env.route([claim]))[0][0] == "routed"
    assert env.contributed(A) == 5 * 10**17


# ------------------------------------------------------------------------------------------ at most once
def test_each_reward_routed_at_most_once(env):
    env.register(A, 10_000)
    env.stake(A, 10**21)
    env.chain.increase_time(50)
    claim = env.claim(A)
    bal0 = env.balance(A)
    rc = env.route([claim, claim])  # same batch
    assert [o[0] for o in env.outcomes(rc)] == ["routed", "skipped"]
    assert env.outcomes(rc)[1][4] == "DUPLICATE"
    for keeper in (KEEPER, KEEPER2):  # next batch, other keeper
        rc = env.route([claim], sender=keeper)
        assert env.outcomes(rc) == [("skipped", lower(env, A), claim[2], claim[3], "DUPLICATE")]
    assert env.balance(A) == bal0 - claim[1]
    assert env.contributed(A) == claim[1] == env.call(env.treasury, "total_contributed")
    assert tuple(env.call(env.treasury, "last_routed", env.addr(A))) == (claim[2], claim[3])


def test_per_staker_order_older_claim_after_newer_is_duplicate(env):
    env.register(A, 10_000)
    n = env.chain.head_number
    env.chain.mine(2)
    early, late = env.fake_claim(A, 100, n, 5), env.fake_claim(A, 200, n + 1, 0)
    same_block_later_log = env.fake_claim(A, 300, n, 6)
    rc = env.route([early, same_block_later_log, late])
    assert [o[0] for o in env.outcomes(rc)] == ["routed"] * 3
    rc = env.route([env.fake_claim(A, 50, n, 4)])
    assert env.outcomes(rc)[0][4] == "DUPLICATE"
    assert env.contributed(A) == 600


# ------------------------------------------------------------------------------------------ consent
def test_claims_before_since_block_are_never_taken(env):
    env.fund(A, 10**24)
    env.approve(A, MAX_UINT)
    env.chain.mine(1)
    before = env.chain.head_number
    rc = env.opt_in(A, 10_000)
    since = rc.block_number + 1  # consent takes effect from the next block
    assert rc.events("OptedIn") == [{"staker": lower(env, A), "share_bps": 10_000, "since_block": since}]
    assert env.registration(A) == (10_000, since)
    env.chain.mine(1)
    bal0 = env.balance(A)
    rc = env.route([env.fake_claim(A, 7, before), env.fake_claim(A, 8, rc.block_number),
                    env.fake_claim(A, 9, since)])
    out = env.outcomes(rc)
    assert out[0][4] == "BEFORE_OPT_IN"
    assert out[1][4] == "BEFORE_OPT_IN"  # a claim in the opt-in block itself is NOT covered
    assert out[2][0] == "routed" and out[2][4] == 9
    assert [e["contributed"] for e in rc.events("Routed")] == [9]
    assert env.contributed(A) == 9 == env.call(env.treasury, "total_contributed")
    assert env.balance(A) == bal0 - 9


def test_claims_after_opt_out_are_never_taken(env):
    env.register(A, 10_000)
    env.chain.mine(1)
    paid_while_registered = env.fake_claim(A, 1000)
    rc = env.opt_out(A)
    assert rc.events("OptedOut") == [{"staker": lower(env, A)}]
    assert env.registration(A) == (0, 0)
    env.chain.mine(1)
    paid_after = env.fake_claim(A, 1000)
    out = env.outcomes(env.route([paid_while_registered, paid_after]))
    assert [o[4] for o in out] == ["NOT_REGISTERED", "NOT_REGISTERED"]
    assert env.contributed(A) == 0
    reverts(env, env.treasury, "opt_out", sender=A, reason="not registered")
    # coming back restarts consent: neither old claim is taken
    rc = env.opt_in(A, 10_000)
    env.chain.mine(1)
    out = env.outcomes(env.route([paid_while_registered, paid_after, env.fake_claim(A, 4, rc.block_number),
                                  env.fake_claim(A, 5, rc.block_number + 1)]))
    assert [o[4] for o in out] == ["BEFORE_OPT_IN", "BEFORE_OPT_IN", "BEFORE_OPT_IN", 5]


def test_unregistered_staker_skipped(env):
    env.fund(A, 10**20)
    env.approve(A, MAX_UINT)
    out = env.outcomes(env.route([env.fake_claim(A, 10**18)]))
    assert out[0][4] == "NOT_REGISTERED" and env.balance(A) == 10**20


def test_share_change_applies_only_to_claims_after_its_block(env):
    env.register(A, 5000)
    env.chain.mine(1)
    old = env.fake_claim(A, 10_000)
    rc = env.opt_in(A, 2000)
    assert rc.events("OptedIn") == [{"staker": lower(env, A), "share_bps": 2000, "since_block": rc.block_number + 1}]
    env.chain.mine(1)
    same_block = env.fake_claim(A, 10_000, rc.block_number)
    new = env.fake_claim(A, 10_000, rc.block_number + 1)
    out = env.outcomes(env.route([old, same_block, new]))
    assert out[0][4] == "BEFORE_OPT_IN"
    assert out[1][4] == "BEFORE_OPT_IN"
    assert out[2][4] == 2000
    rc = env.route([env.fake_claim(A, 10_000, env.chain.head_number, 0)])
    assert rc.events("Routed")[0]["share_bps"] == 2000


@pytest.mark.parametrize("bad", [0, 10_001, 65_535])
def test_opt_in_share_bounds(env, bad):
    reverts(env, env.treasury, "opt_in", bad, sender=A, reason="share_bps out of range")


# ------------------------------------------------------------------------------------------ arithmetic
AMOUNTS = [1, 9_999, 10_000, 10_001, 123_456_789_123_456_789, 2**80 - 1, 2**255 + 12_345, MAX_UINT - 9_999, MAX_UINT]


@pytest.mark.parametrize("bps", [1, 9_999, 10_000])
def test_contribution_is_floor_of_amount_times_share(env, bps):
    env.register(A, bps, funds=MAX_UINT)
    sid = env.chain.snapshot()
    for amount in AMOUNTS:
        assert env.chain.revert(sid)
        want = contribution(amount, bps)
        rc = env.route([env.fake_claim(A, amount)])
        out = env.outcomes(rc)
        if want == 0:
            assert out[0][4] == "ZERO_CONTRIBUTION"
            assert env.contributed(A) == 0
            continue
        ev = rc.events("Routed")[0]
        assert (ev["reward"], ev["contributed"], ev["share_bps"]) == (amount, want, bps), amount
        assert env.contributed(A) == want
        assert env.call(env.treasury, "total_contributed") == want
        assert env.balance(env.treasury.address) == want
        assert env.balance(A) == MAX_UINT - want


def test_contributions_beyond_the_packed_width_stay_exact(env):
    env.register(A, 10_000, funds=MAX_UINT)
    n = env.chain.head_number
    env.chain.mine(4)
    parts = [2**80 - 2, 5, 2**200, 7]
    for k, p in enumerate(parts):
        env.route([env.fake_claim(A, p, n + k)])
    assert env.contributed(A) == sum(parts) == env.call(env.treasury, "total_contributed")
    # a failed pull after a spill restores both halves of the record
    env.approve(A, 0)
    out = env.outcomes(env.route([env.fake_claim(A, 2**81, n + 4)]))
    assert out[0][4] == "NO_ALLOWANCE"
    assert env.contributed(A) == sum(parts)


def test_total_overflow_is_a_skip_not_a_revert(env):
    env.register(A, 10_000, funds=MAX_UINT)
    env.transact(env.token, "transfer", env.addr(B), 20, sender=A)  # the supply is maxed: B gets A's tokens
    env.approve(B, MAX_UINT)
    env.opt_in(B, 10_000)
    env.chain.mine(1)  # consent starts the block after opt_in
    n = env.chain.head_number
    out = env.outcomes(env.route([env.fake_claim(A, MAX_UINT - 20, n, 0), env.fake_claim(B, 21, n, 1),
                                  env.fake_claim(B, 20, n, 2)]))
    assert out[0][0] == "routed" and out[1][4] == "OVERFLOW" and out[2][4] == 20
    assert env.call(env.treasury, "total_contributed") == MAX_UINT


# ------------------------------------------------------------------------------------------ failures skip one
def test_each_failure_skips_one_claim_and_the_batch_goes_through(env):
    env.register(A, 10_000)
    env.register(B, 10_000, allowance=0)                 # no allowance
    env.register(C, 10_000, funds=10)                    # no balance
    env.register(D, 10_000)
    env.register(E, 10_000, allowance=100)               # allowance caps the pull
    env.chain.mine(1)
    n = env.chain.head_number
    claims = [
        env.fake_claim(A, 1000, n, 1),
        env.fake_claim(B, 1000, n, 2),
        env.fake_claim(C, 1000, n, 3),
        env.fake_claim(D, 1000, n, 4, block_hash=b"\x11" * 32),   # not the canonical hash
        env.fake_claim(E, 1000, n, 5),
        env.fake_claim(D, 1000, n, 6),
        env.fake_claim(E, 100, n, 7),
    ]
    bal = {i: env.balance(i) for i in (A, B, C, D, E)}
    rc = env.route(claims)
    assert [o[4] for o in env.outcomes(rc)] == [1000, "NO_ALLOWANCE", "NO_BALANCE", "ORPHANED", "NO_ALLOWANCE",
                                               1000, 100]
    assert env.balance(A) == bal[A] - 1000 and env.balance(B) == bal[B] and env.balance(C) == bal[C]
    assert env.balance(D) == bal[D] - 1000 and env.balance(E) == bal[E] - 100
    assert env.call(env.treasury, "total_contributed") == 2100 == env.balance(env.treasury.address)
    # a skipped claim for lack of allowance is not marked routed: it routes once the staker approves
    env.approve(B, MAX_UINT)
    assert env.outcomes(env.route([claims[1]]))[0][4] == 1000


def test_false_returning_token_is_a_skip(env):
    token, treasury = env.new_treasury("MockFalseToken")
    for i in (A, B):
        env.fund(i, 10**20, token=token)
        env.approve(i, MAX_UINT, token=token, treasury=treasury)
        env.opt_in(i, 10_000, treasury=treasury)
    env.transact(token, "set_fail", True, sender=0)
    n = env.chain.head_number
    rc = env.route([env.fake_claim(A, 5, n), env.fake_claim(B, 7, n)], treasury=treasury)
    assert [o[4] for o in env.outcomes(rc)] == ["TRANSFER_FAILED", "TRANSFER_FAILED"]
    assert env.contributed(A, treasury) == 0 and env.call(treasury, "total_contributed") == 0
    env.transact(token, "set_fail", False, sender=0)
    env.approve(B, 0, token=token, treasury=treasury)  # false on a real shortfall: diagnosed
    rc = env.route([env.fake_claim(A, 5, n), env.fake_claim(B, 7, n)], treasury=treasury)
    assert [o[4] for o in env.outcomes(rc)] == [5, "NO_ALLOWANCE"]
    assert env.balance(treasury.address, token) == 5


def test_no_return_value_token_routes_and_its_reverts_skip(env):
    token, treasury = env.new_treasury("MockNoReturnToken")
    env.fund(A, 10**20, token=token)
    env.fund(B, 3, token=token)
    for i in (A, B):
        env.approve(i, MAX_UINT, token=token, treasury=treasury)
        env.opt_in(i, 5000, treasury=treasury)
    env.chain.mine(1)
    n = env.chain.head_number
    rc = env.route([env.fake_claim(A, 10, n), env.fake_claim(B, 10, n)], treasury=treasury)
    assert [o[4] for o in env.outcomes(rc)] == [5, "NO_BALANCE"]
    assert env.balance(treasury.address, token) == 5 == env.call(treasury, "total_contributed")


def test_reward_token_must_be_a_contract(env):
    with pytest.raises(TxFailed):
        env.deploy("ExpansionTreasury", env.addr(A), env.addr(OWNER))


# ------------------------------------------------------------------------------------------ reorgs and age
def test_claim_from_an_orphaned_block_is_skipped(env):
    env.register(A, 10_000)
    env.stake(A, 10**21)
    env.chain.increase_time(10)
    sid = env.chain.snapshot()
    orphan = env.claim(A)                    # paid in a block that is about to be reorged out
    assert env.chain.revert(sid)
    env.chain.increase_time(5)
    replacement = env.claim(A)               # the replacement fork pays at the same height
    assert replacement[2] == orphan[2] and replacement[4] != orphan[4]
    out = env.outcomes(env.route([orphan, replacement]))
    assert out[0][4] == "ORPHANED"
    assert out[1][0] == "routed" and out[1][4] == replacement[1]


def test_a_route_reincluded_after_a_reorg_cannot_take_a_vanished_reward(env):
    """The keeper's routing transaction is mined, the chain reorgs under both the claim and the route, and the
    node re-includes the same signed route transaction on the new fork: it must skip, not pull."""
    env.register(A, 10_000)
    env.stake(A, 10**21)
    env.chain.increase_time(10)
    sid = env.chain.snapshot()
    bal0 = env.balance(A)
    claim = env.claim(A)
    data = env.treasury.abi.encode_call("route", [claim])
    nonce = env.chain.get_nonce(env.addr(KEEPER))
    from ethtools import sign_tx
    raw = sign_tx(env.key(KEEPER), {"type": 2, "chainId": env.chain.chain_id, "nonce": nonce, "gas": 500_000,
                                   "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "data": data,
                                   "to": env.treasury.hex, "value": 0})
    h = env.chain.send_raw(raw)
    assert env.outcomes(env.receipt(h))[0][0] == "routed"
    assert env.chain.revert(sid)
    env.chain.mine(1)                        # new block at the claim's height: different hash
    env.chain.send_raw(raw)                  # the same signed transaction, re-included
    rc = env.receipt(h)
    assert env.outcomes(rc)[0][4] == "ORPHANED"
    assert env.contributed(A) == 0 and env.balance(A) == bal0  # nothing pulled from the staker's own funds


def test_future_claims_are_skipped(env):
    env.register(A, 10_000)
    head = env.chain.head_number
    out = env.outcomes(env.route([env.fake_claim(A, 5, head + 1, 0, b"\x00" * 32),
                                  env.fake_claim(A, 5, 2**64 - 1, 0, b"\x00" * 32)]))
    assert [o[4] for o in out] == ["FUTURE", "FUTURE"]


def test_claims_beyond_blockhash_are_checked_against_eip2935_history(env):
    env.register(A, 10_000)
    n = env.chain.head_number
    env.chain.mine(300)  # older than BLOCKHASH's 256, inside EIP-2935's 8191
    out = env.outcomes(env.route([env.fake_claim(A, 5, n, 0, b"\x22" * 32), env.fake_claim(A, 5, n, 1)]))
    assert [o[4] for o in out] == ["ORPHANED", 5]


def test_claims_older_than_the_chain_can_verify_route_on_the_keepers_word():
    env = TreasuryEnv(accounts=6, history_contract=False)  # no EIP-2935 (many test chains): no revert
    env.register(A, 10_000)
    n = env.chain.head_number
    env.chain.mine(257)
    recent = env.chain.head_number
    out = env.outcomes(env.route([env.fake_claim(A, 5, n, 0, b"\x33" * 32),       # unverifiable: routes
                                  env.fake_claim(A, 5, recent, 0, b"\x33" * 32),  # verifiable: orphaned
                                  env.fake_claim(A, 6, recent, 1)]))
    assert [o[4] for o in out] == [5, "ORPHANED", 6]


@pytest.mark.skipif(not __import__("os").environ.get("LOCALCHAIN_SOAK"), reason="mines 8,500 blocks; LOCALCHAIN_SOAK=1")
def test_claims_older_than_eip2935_history_route_on_the_keepers_word(env):
    env.register(A, 10_000)
    n = env.chain.head_number
    env.chain.mine(8_300)
    out = env.outcomes(env.route([env.fake_claim(A, 5, n, 0, b"\x44" * 32)]))
    assert out[0][4] == 5


# ------------------------------------------------------------------------------------------ owner
def test_withdraw_only_by_owner_emits_and_moves_exact_amounts(env):
    env.register(A, 10_000)
    env.route([env.fake_claim(A, 1000)])
    to = env.addr(E)
    reverts(env, env.treasury, "withdraw", to, 1, sender=KEEPER, reason="not owner")
    reverts(env, env.treasury, "withdraw", to, 1001, sender=OWNER, reason="transfer failed")
    reverts(env, env.treasury, "withdraw", b"\x00" * 20, 1, sender=OWNER, reason="to is zero")
    before = env.balance(E)
    rc = env.transact(env.treasury, "withdraw", to, 600, sender=OWNER)
    assert rc.events("Withdrawn") == [{"to": lower(env, E), "amount": 600}]
    assert env.balance(E) == before + 600 and env.balance(env.treasury.address) == 400
    assert env.call(env.treasury, "total_withdrawn") == 600
    assert env.call(env.treasury, "total_contributed") == 1000


def test_two_step_ownership(env):
    assert env.call(env.treasury, "owner") == "0x" + env.addr(OWNER).hex()
    reverts(env, env.treasury, "transfer_ownership", env.addr(E), sender=E, reason="not owner")
    rc = env.transact(env.treasury, "transfer_ownership", env.addr(E), sender=OWNER)
    assert rc.events("OwnershipTransferStarted") == [{"previous": lower(env, OWNER), "new": lower(env, E)}]
    assert [n for _, n, _, _ in rc.logs] == ["OwnershipTransferStarted"]
    assert env.call(env.treasury, "owner") == "0x" + env.addr(OWNER).hex()  # nothing changes until accepted
    assert env.call(env.treasury, "pending_owner") == "0x" + env.addr(E).hex()
    reverts(env, env.treasury, "accept_ownership", sender=D, reason="not pending owner")
    rc = env.transact(env.treasury, "accept_ownership", sender=E)
    assert rc.events("OwnershipTransferred") == [{"previous": lower(env, OWNER), "new": lower(env, E)}]
    assert env.call(env.treasury, "owner") == "0x" + env.addr(E).hex()
    reverts(env, env.treasury, "pause", sender=OWNER, reason="not owner")
    env.transact(env.treasury, "pause", sender=E)
    reverts(env, env.treasury, "accept_ownership", sender=E, reason="not pending owner")


def test_route_returns_the_total_pulled(env):
    env.register(A, 2500)
    env.register(B, 10_000)
    n = env.chain.head_number
    claims = [env.fake_claim(A, 1000, n, 0), env.fake_claim(B, 333, n, 1), env.fake_claim(C, 5, n, 2)]
    total = env.call(env.treasury, "route", claims, sender=KEEPER)
    assert total == 250 + 333
    env.route(claims)
    assert env.call(env.treasury, "total_contributed") == 583
