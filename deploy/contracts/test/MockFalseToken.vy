# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title MockFalseToken
@notice Misbehaving ERC-20 for tests: returns false instead of reverting when a transfer cannot happen, and
        can be told to return false on every transfer (set_fail) even when balance and allowance suffice,
        and to move a given sender's tokens in transferFrom yet return false (set_false_but_move).
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
fail_all: public(bool)
false_but_move: public(HashMap[address, bool])


@external
def mint(to: address, amount: uint256):
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_fail(fail: bool):
    self.fail_all = fail


@external
def set_false_but_move(sender: address, enabled: bool):
    self.false_but_move[sender] = enabled


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(receiver: address, amount: uint256) -> bool:
    if self.fail_all or self.balanceOf[msg.sender] < amount:
        return False
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=msg.sender, receiver=receiver, value=amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    if self.fail_all or self.balanceOf[sender] < amount or self.allowance[sender][msg.sender] < amount:
        return False
    self.allowance[sender][msg.sender] -= amount
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)
    return not self.false_but_move[sender]
