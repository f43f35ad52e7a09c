# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title MockLyingToken
@notice Misbehaving ERC-20 for tests: transferFrom answers (true, 0xdeadbeef) — 64 bytes whose first word is
        `true` — and transfer answers exactly `true`; set_move(False) makes both report that without moving
        any token. A checked pull must not take 64 bytes starting with `true` for the encoding of true nor
        count what did not arrive; a checked withdrawal must not count a transfer that moved nothing.
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
move: public(bool)

EXTRA_WORD: constant(uint256) = 3735928559  # 0xdeadbeef


@deploy
def __init__():
    self.move = True


@external
def mint(to: address, amount: uint256):
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_move(move: bool):
    self.move = move


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(receiver: address, amount: uint256) -> bool:
    if self.move:
        self.balanceOf[msg.sender] -= amount
        self.balanceOf[receiver] += amount
        log Transfer(sender=msg.sender, receiver=receiver, value=amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> (bool, uint256):
    if self.move:
        self.allowance[sender][msg.sender] -= amount
        self.balanceOf[sender] -= amount
        self.balanceOf[receiver] += amount
        log Transfer(sender=sender, receiver=receiver, value=amount)
    return True, EXTRA_WORD
