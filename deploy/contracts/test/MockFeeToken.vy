# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title MockFeeToken
@notice Misbehaving ERC-20 for tests, fee-on-transfer: every transfer debits the sender the full amount and
        credits the receiver the amount minus a fee (fee_bps, default 1%, rounded down), which is burned.
        The treasury must count what arrived, not what it asked for.
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
fee_bps: public(uint256)


@deploy
def __init__():
    self.fee_bps = 100


@external
def mint(to: address, amount: uint256):
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_fee_bps(fee_bps: uint256):
    assert fee_bps <= 10000
    self.fee_bps = fee_bps


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    fee: uint256 = amount * self.fee_bps // 10000
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount - fee
    self.totalSupply -= fee
    log Transfer(sender=sender, receiver=receiver, value=amount - fee)
    if fee != 0:
        log Transfer(sender=sender, receiver=empty(address), value=fee)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    self.allowance[sender][msg.sender] -= amount
    self._transfer(sender, receiver, amount)
    return True
