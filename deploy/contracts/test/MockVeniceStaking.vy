# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title MockVeniceStaking
@notice Test double of Venice staking (sVVV) on Base, for tests and the demo only. Same functions as the live
        contract (research/venice-staking.md): stake(recipient, amount), claim(), claimAndStake(),
        pendingRewards(user), initiateUnstake(amount), finalizeUnstake() after cooldownDuration, stakes(user),
        emissionRatePerSecond(), accRewardPerShare(), cooldownDuration(). Rewards accrue per second through a
        MasterChef-style accumulator and are paid by minting VVV (this contract must be a VVV minter).
        Events are the public analogue (Staked, Claimed, UnstakeInitiated, UnstakeFinalized,
        EmissionRateUpdated); every reward payment emits Claimed, including those made by stake,
        initiateUnstake and claimAndStake (whose reward is re-staked, not sent to the wallet).
        sVVV is a non-transferable ERC-20 receipt (transfer/transferFrom revert).
"""

interface VVV:
    def mint(to: address, amount: uint256): nonpayable
    def transferFrom(sender: address, receiver: address, amount: uint256) -> bool: nonpayable
    def transfer(receiver: address, amount: uint256) -> bool: nonpayable

struct Stake:
    rewardDebt: uint256
    cooldownEnd: uint256
    cooldownAmount: uint256

event Staked:
    user: indexed(address)
    amount: uint256

event Claimed:
    user: indexed(address)
    amount: uint256

event UnstakeInitiated:
    user: indexed(address)
    amount: uint256

event UnstakeFinalized:
    user: indexed(address)
    amount: uint256

event EmissionRateUpdated:
    newEmissionRate: uint256

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

PRECISION: constant(uint256) = 10**18

vvv: public(immutable(address))
owner: public(address)
name: public(String[32])
symbol: public(String[8])
decimals: public(constant(uint8)) = 18
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
stakes: public(HashMap[address, Stake])
emissionRatePerSecond: public(uint256)
accRewardPerShare: public(uint256)
lastRewardTime: public(uint256)
cooldownDuration: public(uint256)


@deploy
def __init__(vvv_: address, emission_rate_per_second: uint256):
    vvv = vvv_
    self.owner = msg.sender
    self.name = "Staked VVV (mock)"
    self.symbol = "sVVV"
    self.emissionRatePerSecond = emission_rate_per_second
    self.cooldownDuration = 7 * 86400
    self.lastRewardTime = block.timestamp
    log EmissionRateUpdated(newEmissionRate=emission_rate_per_second)


@view
@internal
def _acc_now() -> uint256:
    acc: uint256 = self.accRewardPerShare
    supply: uint256 = self.totalSupply
    if block.timestamp > self.lastRewardTime and supply != 0:
        acc += (block.timestamp - self.lastRewardTime) * self.emissionRatePerSecond * PRECISION // supply
    return acc


@internal
def _update_pool():
    self.accRewardPerShare = self._acc_now()
    self.lastRewardTime = block.timestamp


@internal
def _harvest(user: address) -> uint256:
    """Pending reward of user (pool already updated); resets the debt to the current balance."""
    acc: uint256 = self.accRewardPerShare
    owed: uint256 = self.balanceOf[user] * acc // PRECISION
    pending: uint256 = owed - self.stakes[user].rewardDebt
    self.stakes[user].rewardDebt = owed
    return pending


@internal
def _pay(user: address, amount: uint256):
    if amount != 0:
        extcall VVV(vvv).mint(user, amount)
        log Claimed(user=user, amount=amount)


@internal
def _set_balance(user: address, new_balance: uint256):
    old: uint256 = self.balanceOf[user]
    self.balanceOf[user] = new_balance
    if new_balance > old:
        self.totalSupply += new_balance - old
        log Transfer(sender=empty(address), receiver=user, value=new_balance - old)
    elif old > new_balance:
        self.totalSupply -= old - new_balance
        log Transfer(sender=user, receiver=empty(address), value=old - new_balance)
    self.stakes[user].rewardDebt = new_balance * self.accRewardPerShare // PRECISION


@view
@external
def pendingRewards(user: address) -> uint256:
    return self.balanceOf[user] * self._acc_now() // PRECISION - self.stakes[user].rewardDebt


@external
def stake(recipient: address, amount: uint256):
    assert amount != 0, "amount is zero"
    assert recipient != empty(address), "recipient is zero"
    self._update_pool()
    self._pay(recipient, self._harvest(recipient))
    assert extcall VVV(vvv).transferFrom(msg.sender, self, amount), "transfer failed"
    self._set_balance(recipient, self.balanceOf[recipient] + amount)
    log Staked(user=recipient, amount=amount)


@external
def claim():
    self._update_pool()
    self._pay(msg.sender, self._harvest(msg.sender))


@external
def claimAndStake():
    self._update_pool()
    reward: uint256 = self._harvest(msg.sender)
    if reward != 0:
        extcall VVV(vvv).mint(self, reward)
        log Claimed(user=msg.sender, amount=reward)
        self._set_balance(msg.sender, self.balanceOf[msg.sender] + reward)
        log Staked(user=msg.sender, amount=reward)


@external
def initiateUnstake(amount: uint256):
    assert amount != 0, "amount is zero"
    assert self.balanceOf[msg.sender] >= amount, "insufficient stake"
    self._update_pool()
    self._pay(msg.sender, self._harvest(msg.sender))
    self._set_balance(msg.sender, self.balanceOf[msg.sender] - amount)
    self.stakes[msg.sender].cooldownAmount += amount
    self.stakes[msg.sender].cooldownEnd = block.timestamp + self.cooldownDuration
    log UnstakeInitiated(user=msg.sender, amount=amount)


@external
def finalizeUnstake():
    s: Stake = self.stakes[msg.sender]
    assert s.cooldownAmount != 0, "nothing to finalize"
    assert block.timestamp >= s.cooldownEnd, "cooldown"
    self.stakes[msg.sender].cooldownAmount = 0
    self.stakes[msg.sender].cooldownEnd = 0
    assert extcall VVV(vvv).transfer(msg.sender, s.cooldownAmount), "transfer failed"
    log UnstakeFinalized(user=msg.sender, amount=s.cooldownAmount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    raise "sVVV is non-transferable"


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    raise "sVVV is non-transferable"


@external
def setEmissionRate(rate: uint256):
    assert msg.sender == self.owner, "not owner"
    self._update_pool()
    self.emissionRatePerSecond = rate
    log EmissionRateUpdated(newEmissionRate=rate)


@external
def setCooldownDuration(seconds: uint256):
    assert msg.sender == self.owner, "not owner"
    self.cooldownDuration = seconds
