"""The test double of Venice staking behaves like the live contract as far as the keeper can tell:
per-second rewards, rewards paid (and `Claimed` emitted) by claim, stake, initiateUnstake and claimAndStake,
a cooldown before finalizeUnstake, non-transferable sVVV."""

import pytest

from harness import TxFailed
from treasury_env import FIRST_STAKER

A, B = FIRST_STAKER, FIRST_STAKER + 1
RATE = 10**18  # TreasuryEnv's emission per second
STAKE = 10**21


def ts(env, rc):
    return env.chain.blocks[rc.block_number].block.header.timestamp


def at(env, t):
    env.chain.next_timestamp = t


def test_rewards_accrue_per_second_and_claim_pays_them(env):
    rc0 = env.stake(A, STAKE)
    assert rc0.events("Staked") == [{"user": "0x" + env.addr(A).hex(), "amount": STAKE}]
    t0 = ts(env, rc0)
    at(env, t0 + 100)
    bal = env.balance(A)
    rc = env.transact(env.staking, "claim", sender=A)
    assert rc.events("Claimed") == [{"user": "0x" + env.addr(A).hex(), "amount": 100 * RATE}]
    assert env.balance(A) == bal + 100 * RATE  # minted VVV to the wallet
    # nothing pending right after: a second claim in the next second pays one second only
    at(env, t0 + 101)
    rc = env.transact(env.staking, "claim", sender=A)
    assert rc.events("Claimed")[0]["amount"] == RATE


def test_rewards_split_by_stake_and_stake_pays_pending(env):
    t0 = ts(env, env.stake(A, STAKE))
    at(env, t0 + 10)
    env.transact(env.vvv, "mint", env.addr(B), 3 * STAKE, sender=0)
    env.transact(env.vvv, "approve", env.staking.address, 3 * STAKE, sender=B)
    at(env, t0 + 12)
    rc = env.transact(env.staking, "stake", env.addr(B), 3 * STAKE, sender=B)  # B: nothing pending yet
    assert rc.events("Claimed") == []
    t1 = ts(env, rc)
    at(env, t1 + 40)
    rc = env.transact(env.staking, "claim", sender=B)
    assert rc.events("Claimed")[0]["amount"] == 40 * RATE * 3 // 4
    at(env, t1 + 41)
    env.transact(env.vvv, "mint", env.addr(A), STAKE, sender=0)
    env.transact(env.vvv, "approve", env.staking.address, STAKE, sender=A)
    at(env, t1 + 44)
    rc = env.transact(env.staking, "stake", env.addr(A), STAKE, sender=A)  # stake pays A's pending
    assert rc.events("Claimed")[0]["amount"] == (t1 - t0) * RATE + 44 * RATE // 4
    assert rc.events("Staked")[0]["amount"] == STAKE


def test_pending_rewards_view_matches_the_next_payment(env):
    t0 = ts(env, env.stake(A, STAKE))
    at(env, t0 + 37)  # eth_call at the head runs in the next block's context, with its timestamp
    pending = env.call(env.staking, "pendingRewards", env.addr(A))
    assert pending == 37 * RATE
    rc = env.transact(env.staking, "claim", sender=A)
    assert rc.events("Claimed")[0]["amount"] == pending


def test_unstake_pays_rewards_waits_for_cooldown_and_returns_vvv(env):
    t0 = ts(env, env.stake(A, STAKE))
    at(env, t0 + 20)
    rc = env.transact(env.staking, "initiateUnstake", STAKE // 2, sender=A)
    assert rc.events("Claimed")[0]["amount"] == 20 * RATE
    assert rc.events("UnstakeInitiated") == [{"user": "0x" + env.addr(A).hex(), "amount": STAKE // 2}]
    reward_debt, cooldown_end, cooldown_amount = env.call(env.staking, "stakes", env.addr(A))
    assert cooldown_amount == STAKE // 2 and cooldown_end == ts(env, rc) + 7 * 86400
    with pytest.raises(TxFailed):
        env.transact(env.staking, "finalizeUnstake", sender=A)
    at(env, cooldown_end)
    bal = env.balance(A)
    rc = env.transact(env.staking, "finalizeUnstake", sender=A)
    assert rc.events("UnstakeFinalized") == [{"user": "0x" + env.addr(A).hex(), "amount": STAKE // 2}]
    assert env.balance(A) == bal + STAKE // 2
    assert env.call(env.staking, "balanceOf", env.addr(A)) == STAKE // 2


def test_claim_and_stake_compounds_and_emits_claimed(env):
    t0 = ts(env, env.stake(A, STAKE))
    at(env, t0 + 10)
    bal = env.balance(A)
    rc = env.transact(env.staking, "claimAndStake", sender=A)
    assert rc.events("Claimed")[0]["amount"] == 10 * RATE == rc.events("Staked")[0]["amount"]
    assert env.balance(A) == bal  # compounded, not paid to the wallet
    assert env.call(env.staking, "balanceOf", env.addr(A)) == STAKE + 10 * RATE


def test_svvv_is_not_transferable(env):
    env.stake(A, STAKE)
    assert env.revert_reason(env.staking, "transfer", env.addr(B), 1, sender=A) == \
        "execution reverted: sVVV is non-transferable"
