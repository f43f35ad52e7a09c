"""What arrived, not what was asked (issue 15): the treasury reads its own token balance around each pull and
counts the increase; a pull must report success as empty return data or exactly the 32-byte `true`.
Non-standard tokens (test doubles) must leave contributed()/total_contributed equal to what arrived."""

import pytest

from harness import TxFailed
from treasury_env import FIRST_STAKER, KEEPER, MAX_UINT, OWNER, contribution

A, B, C = FIRST_STAKER, FIRST_STAKER + 1, FIRST_STAKER + 2


def lower(env, i):
    return "0x" + env.addr(i).hex()


def setup_token(env, name, shares):
    """A treasury over a fresh `name` token; stakers funded, approved (unlimited) and registered (in force)."""
    token, treasury = env.new_treasury(name)
    for i, bps in shares.items():
        env.fund(i, 10**20, token=token)
        env.approve(i, MAX_UINT, token=token, treasury=treasury)
        env.opt_in(i, bps, treasury=treasury)
    env.chain.mine(1)  # consent starts the block after opt_in
    return token, treasury


def totals(env, token, treasury):
    return (env.call(treasury, "total_contributed"), env.balance(treasury.address, token),
            env.call(treasury, "total_withdrawn"))


def test_token_answering_true_plus_extra_bytes_without_moving_is_not_counted(env):
    token, treasury = setup_token(env, "MockLyingToken", {A: 10_000, B: 5_000})
    env.transact(token, "set_move", False, sender=0)
    n = env.chain.head_number
    bal = {i: env.balance(i, token) for i in (A, B)}
    rc = env.route([env.fake_claim(A, 1_000, n, 0), env.fake_claim(B, 700, n, 1)], treasury=treasury)
    assert [o[4] for o in env.outcomes(rc)] == ["TRANSFER_FAILED", "TRANSFER_FAILED"]
    assert rc.events("Routed") == []
    assert env.call(treasury, "route", [env.fake_claim(A, 1_000, n, 0)], sender=KEEPER) == 0
    assert {i: env.balance(i, token) for i in (A, B)} == bal
    assert env.contributed(A, treasury) == env.contributed(B, treasury) == 0
    assert totals(env, token, treasury) == (0, 0, 0)
    assert tuple(env.call(treasury, "last_routed", env.addr(A))) == (0, 0)  # may be routed once the token behaves


def test_token_answering_true_plus_extra_bytes_is_rejected_even_when_it_moved(env):
    """Return data must be empty or exactly `true`; a longer answer is a failure even if tokens moved. Those
    tokens stay in the treasury uncounted (a surplus: balance > total_contributed), never credited to anyone."""
    token, treasury = setup_token(env, "MockLyingToken", {A: 10_000})
    n = env.chain.head_number
    bal = env.balance(A, token)
    rc = env.route([env.fake_claim(A, 1_000, n, 0)], treasury=treasury)
    assert env.outcomes(rc) == [("skipped", lower(env, A), n, 0, "TRANSFER_FAILED")]
    assert env.balance(A, token) == bal - 1_000           # the token did move it
    assert env.contributed(A, treasury) == 0
    assert totals(env, token, treasury) == (0, 1_000, 0)  # uncounted surplus


def test_tokens_moved_by_a_pull_reported_failed_are_not_credited_to_the_next_claim(env):
    token, treasury = setup_token(env, "MockFalseToken", {A: 10_000, B: 10_000})
    env.transact(token, "set_false_but_move", env.addr(A), True, sender=0)
    n = env.chain.head_number
    rc = env.route([env.fake_claim(A, 1_000, n, 0), env.fake_claim(B, 7, n, 1)], treasury=treasury)
    assert [o[4] for o in env.outcomes(rc)] == ["TRANSFER_FAILED", 7]
    assert rc.events("Routed")[0]["contributed"] == 7
    assert env.contributed(A, treasury) == 0 and env.contributed(B, treasury) == 7
    assert totals(env, token, treasury) == (7, 1_007, 0)


def test_fee_on_transfer_token_counts_what_arrived(env):
    token, treasury = setup_token(env, "MockFeeToken", {A: 5_000, B: 10_000})  # 1% fee, burned
    n = env.chain.head_number
    bal = {i: env.balance(i, token) for i in (A, B)}
    rc = env.route([env.fake_claim(A, 10_000, n, 0), env.fake_claim(B, 333, n, 1)], treasury=treasury)
    asked = [contribution(10_000, 5_000), contribution(333, 10_000)]          # 5,000 and 333
    arrived = [a - a * 100 // 10_000 for a in asked]                          # 4,950 and 330
    assert [o[4] for o in env.outcomes(rc)] == arrived
    assert rc.events("Routed") == [
        {"staker": lower(env, A), "claim_block": n, "claim_log_index": 0, "reward": 10_000,
         "contributed": arrived[0], "share_bps": 5_000},
        {"staker": lower(env, B), "claim_block": n, "claim_log_index": 1, "reward": 333,
         "contributed": arrived[1], "share_bps": 10_000},
    ]
    assert env.call(treasury, "route", [env.fake_claim(A, 20_000, n, 2)], sender=KEEPER) == 9_900  # what would arrive
    assert env.balance(A, token) == bal[A] - asked[0] and env.balance(B, token) == bal[B] - asked[1]
    assert env.contributed(A, treasury) == arrived[0] and env.contributed(B, treasury) == arrived[1]
    assert totals(env, token, treasury) == (sum(arrived), sum(arrived), 0)
    # withdraw counts what left the treasury (the fee is the recipient's loss)
    rc = env.transact(treasury, "withdraw", env.addr(C), 1_000, sender=OWNER)
    assert rc.events("Withdrawn") == [{"to": lower(env, C), "amount": 1_000}]
    assert env.balance(C, token) == 990
    total, balance, withdrawn = totals(env, token, treasury)
    assert (total, withdrawn) == (sum(arrived), 1_000) and total == balance + withdrawn


def test_pull_that_delivers_nothing_is_a_skip_and_stays_routable(env):
    token, treasury = setup_token(env, "MockFeeToken", {A: 10_000})
    env.transact(token, "set_fee_bps", 10_000, sender=0)  # reports success, the whole amount is burned
    n = env.chain.head_number
    claim = env.fake_claim(A, 500, n, 0)
    rc = env.route([claim], treasury=treasury)
    assert env.outcomes(rc) == [("skipped", lower(env, A), n, 0, "TRANSFER_FAILED")]
    assert env.contributed(A, treasury) == 0 and totals(env, token, treasury) == (0, 0, 0)
    assert tuple(env.call(treasury, "last_routed", env.addr(A))) == (0, 0)
    env.transact(token, "set_fee_bps", 0, sender=0)
    assert env.outcomes(env.route([claim], treasury=treasury))[0][4] == 500
    assert env.contributed(A, treasury) == 500 and totals(env, token, treasury) == (500, 500, 0)


def test_withdraw_reverts_unless_the_balance_fell_by_the_amount(env):
    token, treasury = env.new_treasury("MockLyingToken")
    env.transact(token, "mint", treasury.address, 1_000, sender=0)  # sent directly (not a contribution)
    env.transact(token, "set_move", False, sender=0)  # transfer answers exactly `true`, moves nothing
    assert env.revert_reason(treasury, "withdraw", env.addr(C), 500, sender=OWNER) == "execution reverted: transfer failed"
    with pytest.raises(TxFailed):
        env.transact(treasury, "withdraw", env.addr(C), 500, sender=OWNER)
    assert env.call(treasury, "total_withdrawn") == 0
    env.transact(token, "set_move", True, sender=0)
    env.transact(treasury, "withdraw", env.addr(C), 500, sender=OWNER)
    assert env.balance(C, token) == 500 and env.call(treasury, "total_withdrawn") == 500
    assert env.balance(treasury.address, token) == 500
