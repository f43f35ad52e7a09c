# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title MockVVV
@notice Test double of the VVV token (ERC-20, 18 decimals) for tests and the demo only. The owner grants the
        minter role (MockVeniceStaking mints emissions, as the real staking contract owns VVV's minting).
        Like OpenZeppelin's ERC20 an allowance of max_value(uint256) is never decreased.
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event MinterSet:
    minter: indexed(address)
    enabled: bool

name: public(String[32])
symbol: public(String[8])
decimals: public(constant(uint8)) = 18
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
owner: public(address)
is_minter: public(HashMap[address, bool])


@deploy
def __init__():
    self.name = "Venice Token (mock)"
    self.symbol = "VVV"
    self.owner = msg.sender
    self.is_minter[msg.sender] = True
    log MinterSet(minter=msg.sender, enabled=True)


@external
def set_minter(minter: address, enabled: bool):
    assert msg.sender == self.owner, "not owner"
    self.is_minter[minter] = enabled
    log MinterSet(minter=minter, enabled=enabled)


@external
def mint(to: address, amount: uint256):
    assert self.is_minter[msg.sender], "not minter"
    assert to != empty(address), "mint to zero"
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "transfer to zero"
    bal: uint256 = self.balanceOf[sender]
    assert bal >= amount, "insufficient balance"
    self.balanceOf[sender] = unsafe_sub(bal, amount)
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "insufficient allowance"
        self.allowance[sender][msg.sender] = unsafe_sub(allowed, amount)
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True
