# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title MockNoReturnToken
@notice Misbehaving ERC-20 for tests, USDT-style: transfer/transferFrom return no value at all (revert on
        failure). A checked transfer must accept empty return data from a contract as success.
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


@external
def mint(to: address, amount: uint256):
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def approve(spender: address, amount: uint256):
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)


@external
def transfer(receiver: address, amount: uint256):
    assert self.balanceOf[msg.sender] >= amount, "insufficient balance"
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=msg.sender, receiver=receiver, value=amount)


@external
def transferFrom(sender: address, receiver: address, amount: uint256):
    assert self.allowance[sender][msg.sender] >= amount, "insufficient allowance"
    assert self.balanceOf[sender] >= amount, "insufficient balance"
    self.allowance[sender][msg.sender] -= amount
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)
