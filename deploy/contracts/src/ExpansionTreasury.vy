# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title ExpansionTreasury
@notice Opt-in routing of Venice staking rewards to network-capacity expansion (SPEC section 3).
        Stakers approve this contract on the reward token (the allowance is their hard cap) and call
        opt_in(share_bps). A keeper reports each reward payment (a Claim naming the block and log of the
        payment) and route() pulls floor(amount * share_bps / 10000) from the staker. The contract cannot
        check the reported amount: a keeper (and the owner, who enables keepers) can take up to each
        registered staker's allowance — the allowance is the only bound (deploy/contracts/README.md, "Trust
        model").
@dev    Rules enforced here, each proved by Tests/ContractTests:
        - only an enabled keeper routes, nothing routes while paused;
        - each reward payment is routed at most once: per staker we keep the position (block, log index) of
          the last routed claim and accept only later positions, so a keeper must route a staker's claims in
          chain order (an earlier claim after a later one is skipped as DUPLICATE);
        - consent at both ends: registered now, and since_block <= claim block; current share; opt_in sets
          since_block = block.number + 1, so a reward paid earlier in the block of a registration or share
          change (or between an opt_out and an opt_in in one block) is never taken; opt_in with the share
          already registered changes nothing;
        - reorg-proof: the claim's block hash is checked whenever the EVM can still serve it (BLOCKHASH for
          256 blocks, the EIP-2935 history contract for 8191 where it exists); a mismatch is ORPHANED; a claim
          dated in the routing block or later is FUTURE; older claims route on the keeper's word;
        - one claim's failure never reverts the batch: it is skipped with RouteSkipped(reason);
        - the token transfer is checked (revert, `false`, or return data other than empty / exactly `true`
          is a skip), and what is counted is what arrived: this treasury's token balance is read before the
          first pull and after each pull, and contributed(), total_contributed and Routed.contributed record
          the increase (less than asked with a fee-on-transfer token; a pull that delivers nothing is a
          skip), so total_contributed == balance + total_withdrawn for any token that moves nothing when it
          reports failure, as long as nobody sends tokens here directly.
        Storage: one packed slot per staker (share, since_block, last routed position, low 80 bits of the
        staker's contributions) so a route costs one cold read and one write per staker; contributions beyond
        2**80 - 1 spill into a second slot (_spill) so that contributed() is exact for any amount.

        RouteSkipped reason codes (also in deploy/contracts/README.md):
          1 NOT_REGISTERED      staker is not registered now (never opted in, or opted out)
          2 BEFORE_OPT_IN       claim block < since_block (paid before the registration took effect: in an
                                earlier block, or in the block of the opt_in / share change itself)
          3 DUPLICATE           (block, log index) <= the staker's last routed claim: already routed, or
                                older than a claim already routed
          4 FUTURE              claim block >= the routing block: cannot be a real past payment
          5 ORPHANED            the chain serves a different hash for the claim's block (reorged out)
          6 ZERO_CONTRIBUTION   floor(amount * share_bps / 10000) == 0
          7 NO_ALLOWANCE        transfer failed and the staker's allowance to this contract is too small
          8 NO_BALANCE          transfer failed and the staker's balance is too small
          9 TRANSFER_FAILED     transfer failed (reverted / returned false / return data other than empty or
                                exactly true / nothing arrived) otherwise
         10 OVERFLOW            the contribution would overflow total_contributed (tokens near 2**256)
"""

from ethereum.ercs import IERC20

struct Claim:
    staker: address
    amount: uint256
    block_number: uint64
    log_index: uint32
    block_hash: bytes32

event OptedIn:
    staker: indexed(address)
    share_bps: uint16
    since_block: uint64

event OptedOut:
    staker: indexed(address)

event Routed:
    staker: indexed(address)
    claim_block: uint64
    claim_log_index: uint32
    reward: uint256
    contributed: uint256
    share_bps: uint16

event RouteSkipped:
    staker: indexed(address)
    claim_block: uint64
    claim_log_index: uint32
    reason: uint8

event KeeperSet:
    keeper: indexed(address)
    enabled: bool

event Paused:
    account: address

event Unpaused:
    account: address

event Withdrawn:
    to: indexed(address)
    amount: uint256

event OwnershipTransferred:
    previous: indexed(address)
    new: indexed(address)

event OwnershipTransferStarted:
    previous: indexed(address)
    new: indexed(address)

NOT_REGISTERED: constant(uint8) = 1
BEFORE_OPT_IN: constant(uint8) = 2
DUPLICATE: constant(uint8) = 3
FUTURE: constant(uint8) = 4
ORPHANED: constant(uint8) = 5
ZERO_CONTRIBUTION: constant(uint8) = 6
NO_ALLOWANCE: constant(uint8) = 7
NO_BALANCE: constant(uint8) = 8
TRANSFER_FAILED: constant(uint8) = 9
OVERFLOW: constant(uint8) = 10

MAX_BPS: constant(uint256) = 10000
MAX_CLAIMS: constant(uint256) = 256

# EIP-2935 block-hash history (Prague; on Base since Isthmus). Absent on many test chains.
HISTORY_CONTRACT: constant(address) = 0x0000F90827F1C53a10cb7A02335B175320002935
HISTORY_WINDOW: constant(uint256) = 8191
BLOCKHASH_WINDOW: constant(uint256) = 256

# packed per-staker slot: | share_bps 16 | since_block 64 | last position 96 | contributed_low 80 |
LOW_BITS: constant(uint256) = 80
POS_SHIFT: constant(uint256) = 80
SINCE_SHIFT: constant(uint256) = 176
SHARE_SHIFT: constant(uint256) = 240
LOW_MASK: constant(uint256) = (1 << 80) - 1
POS_MASK: constant(uint256) = (1 << 96) - 1
U64_MASK: constant(uint256) = (1 << 64) - 1
U32_MASK: constant(uint256) = (1 << 32) - 1
KEEP_ROUTE_STATE: constant(uint256) = (1 << 176) - 1  # position + contributed_low survive opt_out/opt_in

TRANSFER_FROM: constant(Bytes[4]) = method_id("transferFrom(address,address,uint256)")
TRANSFER: constant(Bytes[4]) = method_id("transfer(address,uint256)")
ALLOWANCE: constant(Bytes[4]) = method_id("allowance(address,address)")
BALANCE_OF: constant(Bytes[4]) = method_id("balanceOf(address)")

reward_token: public(immutable(address))
owner: public(address)
pending_owner: public(address)
paused: public(bool)
total_contributed: public(uint256)
total_withdrawn: public(uint256)

_keepers: HashMap[address, bool]
_acct: HashMap[address, uint256]
_spill: HashMap[address, uint256]


@deploy
def __init__(reward_token_: address, owner_: address):
    assert reward_token_.is_contract, "reward token is not a contract"
    assert owner_ != empty(address), "owner is zero"
    reward_token = reward_token_
    self.owner = owner_
    log OwnershipTransferred(previous=empty(address), new=owner_)


# ----------------------------------------------------------------------------------------- stakers
@external
@nonreentrant
def opt_in(share_bps: uint16):
    """
    @notice Register (or change the share of) msg.sender. Effective for claims paid from the NEXT block on
            (since_block = block.number + 1): nothing paid in this block, before or after this call, is
            taken at either share. Changing the share restarts the registration: claims paid before the
            change are not taken. The share already registered: a no-op (no event, since_block unchanged, so
            rewards waiting to be routed keep their place).
    """
    assert share_bps >= 1 and convert(share_bps, uint256) <= MAX_BPS, "share_bps out of range"
    packed: uint256 = self._acct[msg.sender]
    if packed >> SHARE_SHIFT == convert(share_bps, uint256):
        return
    since: uint64 = convert(block.number + 1, uint64)
    self._acct[msg.sender] = (
        (convert(share_bps, uint256) << SHARE_SHIFT)
        | (convert(since, uint256) << SINCE_SHIFT)
        | (packed & KEEP_ROUTE_STATE)
    )
    log OptedIn(staker=msg.sender, share_bps=share_bps, since_block=since)


@external
@nonreentrant
def opt_out():
    """@notice Stop routing for msg.sender; rewards paid from now on are never taken."""
    packed: uint256 = self._acct[msg.sender]
    assert (packed >> SHARE_SHIFT) != 0, "not registered"
    self._acct[msg.sender] = packed & KEEP_ROUTE_STATE
    log OptedOut(staker=msg.sender)


@view
@external
def registration(staker: address) -> (uint16, uint64):
    """@notice (share_bps, since_block); (0, 0) when not registered."""
    packed: uint256 = self._acct[staker]
    return convert(packed >> SHARE_SHIFT, uint16), convert((packed >> SINCE_SHIFT) & U64_MASK, uint64)


@view
@external
def contributed(staker: address) -> uint256:
    return (self._acct[staker] & LOW_MASK) + self._spill[staker]


@view
@external
def last_routed(staker: address) -> (uint64, uint32):
    """@notice (block, log index) of the staker's last routed claim; (0, 0) if none."""
    pos: uint256 = (self._acct[staker] >> POS_SHIFT) & POS_MASK
    return convert(pos >> 32, uint64), convert(pos & U32_MASK, uint32)


@view
@external
def is_keeper(account: address) -> bool:
    return self._keepers[account]


# ----------------------------------------------------------------------------------------- keeper
@view
@internal
def _history_hash(n: uint256) -> (bool, bytes32):
    """EIP-2935 lookup; (False, 0) when the contract is absent or does not serve n."""
    if not HISTORY_CONTRACT.is_contract:
        return False, empty(bytes32)
    ok: bool = False
    out: Bytes[32] = b""
    ok, out = raw_call(HISTORY_CONTRACT, abi_encode(n), max_outsize=32, is_static_call=True,
                       revert_on_failure=False)
    if not ok or len(out) != 32:
        return False, empty(bytes32)
    return True, convert(out, bytes32)


@view
@internal
def _diagnose(token: address, staker: address, amount: uint256) -> uint8:
    ok: bool = False
    out: Bytes[32] = b""
    ok, out = raw_call(token, abi_encode(staker, self, method_id=ALLOWANCE), max_outsize=32,
                       is_static_call=True, revert_on_failure=False)
    if ok and len(out) == 32 and convert(out, uint256) < amount:
        return NO_ALLOWANCE
    ok, out = raw_call(token, abi_encode(staker, method_id=BALANCE_OF), max_outsize=32,
                       is_static_call=True, revert_on_failure=False)
    if ok and len(out) == 32 and convert(out, uint256) < amount:
        return NO_BALANCE
    return TRANSFER_FAILED


@external
@nonreentrant
def route(claims: DynArray[Claim, MAX_CLAIMS]) -> uint256:
    """
    @notice Route each claim's opted-in share to this treasury. Never reverts for one claim's failure.
    @return total that arrived in this call (what total_contributed grew by)
    """
    assert self._keepers[msg.sender], "not keeper"
    assert not self.paused, "paused"
    token: address = reward_token
    now: uint256 = block.number
    total_before: uint256 = self.total_contributed
    total: uint256 = 0
    bal: uint256 = 0  # this treasury's token balance, read before the first pull and after each pull
    bal_known: bool = False
    for c: Claim in claims:
        reason: uint8 = 0
        bn: uint256 = convert(c.block_number, uint256)
        if bn >= now:
            reason = FUTURE
        elif now - bn <= BLOCKHASH_WINDOW:
            if blockhash(bn) != c.block_hash:
                reason = ORPHANED
        elif now - bn <= HISTORY_WINDOW:
            served: bool = False
            h: bytes32 = empty(bytes32)
            served, h = self._history_hash(bn)
            if served and h != c.block_hash:
                reason = ORPHANED

        if reason == 0:
            packed: uint256 = self._acct[c.staker]
            share: uint256 = packed >> SHARE_SHIFT
            pos: uint256 = (bn << 32) | convert(c.log_index, uint256)
            if share == 0:
                reason = NOT_REGISTERED
            elif bn < (packed >> SINCE_SHIFT) & U64_MASK:
                reason = BEFORE_OPT_IN
            elif pos <= (packed >> POS_SHIFT) & POS_MASK:
                reason = DUPLICATE
            else:
                # floor(amount * share / 10000) without overflow for any uint256 amount
                amount: uint256 = c.amount
                contrib: uint256 = unsafe_add(
                    unsafe_mul(unsafe_div(amount, MAX_BPS), share),
                    unsafe_div(unsafe_mul(amount % MAX_BPS, share), MAX_BPS),
                )
                if contrib == 0:
                    reason = ZERO_CONTRIBUTION
                elif contrib > max_value(uint256) - total_before - total:
                    reason = OVERFLOW
                else:
                    if not bal_known:
                        bal = staticcall IERC20(token).balanceOf(self)
                        bal_known = True
                    ok: bool = False
                    out: Bytes[64] = b""
                    ok, out = raw_call(token, abi_encode(c.staker, self, contrib, method_id=TRANSFER_FROM),
                                       max_outsize=64, revert_on_failure=False)
                    arrived: uint256 = 0
                    if ok:
                        # success is empty return data (the token is a contract) or exactly the 32-byte
                        # encoding of true; 64 bytes capture any longer answer, which is a failure
                        if len(out) != 0:
                            ok = len(out) == 32 and extract32(out, 0, output_type=uint256) == 1
                        # count what arrived, not what was asked. The balance is re-read after every pull
                        # that did not revert, so tokens a pull moved while reporting failure are never
                        # credited to a later claim.
                        after: uint256 = staticcall IERC20(token).balanceOf(self)
                        if after > bal:
                            arrived = unsafe_sub(after, bal)
                        bal = after
                    if ok and arrived != contrib:
                        # a token that delivers less (fee on transfer) or nothing; more only overflows
                        # when supplies near 2**256 meet a token that delivers more than asked
                        if arrived == 0:
                            ok = False
                        elif arrived > max_value(uint256) - total_before - total:
                            ok = False
                            reason = OVERFLOW
                    if ok:
                        # effects after the pull are safe: every entry point that changes a record (route,
                        # opt_in, opt_out, withdraw) holds the same reentrancy lock as this call
                        low: uint256 = packed & LOW_MASK
                        new_low: uint256 = 0
                        if arrived > LOW_MASK - low:
                            # contributed(staker) <= total_contributed, so this cannot overflow (checked above)
                            self._spill[c.staker] += low + arrived
                        else:
                            new_low = low + arrived
                        self._acct[c.staker] = (packed & ~(POS_MASK << POS_SHIFT | LOW_MASK)) | (pos << POS_SHIFT) | new_low
                        total = unsafe_add(total, arrived)
                        log Routed(staker=c.staker, claim_block=c.block_number, claim_log_index=c.log_index,
                                   reward=amount, contributed=arrived, share_bps=convert(share, uint16))
                    elif reason == 0:
                        reason = self._diagnose(token, c.staker, contrib)
        if reason != 0:
            log RouteSkipped(staker=c.staker, claim_block=c.block_number, claim_log_index=c.log_index,
                             reason=reason)
    if total != 0:
        self.total_contributed = total_before + total
    return total


# ----------------------------------------------------------------------------------------- owner
@internal
def _only_owner():
    assert msg.sender == self.owner, "not owner"


@external
def set_keeper(keeper: address, enabled: bool):
    self._only_owner()
    assert keeper != empty(address), "keeper is zero"
    self._keepers[keeper] = enabled
    log KeeperSet(keeper=keeper, enabled=enabled)


@external
def pause():
    self._only_owner()
    assert not self.paused, "already paused"
    self.paused = True
    log Paused(account=msg.sender)


@external
def unpause():
    self._only_owner()
    assert self.paused, "not paused"
    self.paused = False
    log Unpaused(account=msg.sender)


@external
@nonreentrant
def withdraw(to: address, amount: uint256):
    """
    @notice Spend contributions on capacity expansion. Reverts ("transfer failed") unless the transfer reports
            success (empty or exactly `true`) AND this treasury's balance fell by exactly `amount`, so
            total_withdrawn counts what left (a fee-on-transfer token's fee is the recipient's loss).
    """
    self._only_owner()
    assert to != empty(address), "to is zero"
    assert amount != 0, "amount is zero"
    token: address = reward_token
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    ok: bool = False
    out: Bytes[64] = b""
    ok, out = raw_call(token, abi_encode(to, amount, method_id=TRANSFER), max_outsize=64,
                       revert_on_failure=False)
    assert ok and (len(out) == 0 or (len(out) == 32 and extract32(out, 0, output_type=uint256) == 1)), "transfer failed"
    after: uint256 = staticcall IERC20(token).balanceOf(self)
    assert before >= amount and after == unsafe_sub(before, amount), "transfer failed"
    self.total_withdrawn += amount
    log Withdrawn(to=to, amount=amount)


@external
def transfer_ownership(new_owner: address):
    """@notice Step one of two: name the next owner, who must call accept_ownership() (the zero address cancels)."""
    self._only_owner()
    self.pending_owner = new_owner
    log OwnershipTransferStarted(previous=msg.sender, new=new_owner)


@external
def accept_ownership():
    assert msg.sender == self.pending_owner, "not pending owner"
    previous: address = self.owner
    self.owner = msg.sender
    self.pending_owner = empty(address)
    log OwnershipTransferred(previous=previous, new=msg.sender)
