# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title ProvenExpansionTreasury
@notice Opt-in routing of Venice staking rewards to network-capacity expansion, without trusting anyone's word
        about a reward (issue 19). Same staker surface and rules as ExpansionTreasury (opt_in, opt_out,
        registration, contributed, since-block consent, floor(amount * share_bps / 10000), one claim's failure
        never reverts the batch, what is counted is what arrived), but routing is permissionless and routes only
        rewards PROVEN against the block's receipts: route_proven() takes RLP block headers, a pool of
        Merkle-Patricia trie nodes and, per claim, the proof of the receipt (key = rlp(transaction index)) and the
        position of the reward log in that receipt. A claim is routed only if the header hashes to the block hash
        the chain serves (BLOCKHASH, or the EIP-2935 history contract), the proof leads from that header's
        receiptsRoot to the receipt, and the log was emitted by reward_source with topic 0 = reward_topic; the
        staker is topic 1 and the reward the first data word. No key - keeper, owner or anyone - can make it take
        more than the staker's share of rewards actually paid (deploy/contracts/README.md, "Trust model").
@dev    Claim identity: (block number, transaction index, log position in the receipt). At most once: per
        staker the position of the last routed claim (block << 40 | tx index << 16 | log position) is stored
        and only later positions route, so route a staker's claims in chain order (as with ExpansionTreasury).

        RouteSkipped reason codes (also in deploy/contracts/README.md):
          1 NOT_REGISTERED      staker is not registered now (never opted in, or opted out)
          2 BEFORE_OPT_IN       claim block < since_block
          3 DUPLICATE           position <= the staker's last routed claim: already routed, or older
          4 FUTURE              the header's block number >= the routing block
          5 ORPHANED            the chain serves a different hash for the header's block number (a forged
                                header, a header of another block, or a reorged-out block)
          6 ZERO_CONTRIBUTION   floor(amount * share_bps / 10000) == 0
          7 NO_ALLOWANCE        transfer failed and the staker's allowance to this contract is too small
          8 NO_BALANCE          transfer failed and the staker's balance is too small
          9 TRANSFER_FAILED     transfer failed otherwise (or nothing arrived)
         10 OVERFLOW            the contribution would overflow total_contributed
         11 UNVERIFIABLE        the block is older than the chain can verify (beyond BLOCKHASH's 256 blocks and
                                the history contract does not serve it: absent, or beyond its 8191): the staker
                                keeps that reward
         12 BAD_HEADER          the header is not a decodable RLP header, or the claim names no header
         13 BAD_PROOF           the proof does not lead from receiptsRoot to a receipt under rlp(tx index)
                                (a node that does not hash to its reference, a wrong tx index, a bad offset, ...)
         14 BAD_RECEIPT         the proven value is not a receipt, or the log position is past its logs
         15 NOT_REWARD_SOURCE   the log was not emitted by reward_source
         16 NOT_REWARD_EVENT    topic 0 is not reward_topic, or the log is not shaped like the reward event
                                (< 2 topics, < 32 data bytes, topic 1 not an address)
        In RouteSkipped the staker is the zero address for reasons 4, 5 and 11-16 (nothing proven names one)
        and claim_block is the header's (unverified) number, 0 if there is none.
"""

import receipt_proof
from ethereum.ercs import IERC20

struct ProvenClaim:
    header: uint8        # index into route_proven's headers
    tx_index: uint32     # the receipt's trie key is rlp(tx_index)
    log_position: uint32 # the reward log's position among the receipt's logs
    proof: uint256       # the proof's nodes, root first, as byte offsets in `nodes`: node i starts at
                         # (proof >> (24 * i)) & 0xFFFFFF; the number of nodes is proof >> 248 (1..9).
                         # Packed in one word: a list would make Vyper reserve 10 words of memory per claim.

event OptedIn:
    staker: indexed(address)
    share_bps: uint16
    since_block: uint64

event OptedOut:
    staker: indexed(address)

event Routed:
    staker: indexed(address)
    claim_block: uint64
    claim_tx_index: uint32
    claim_log_position: uint32
    reward: uint256
    contributed: uint256
    share_bps: uint16

event RouteSkipped:
    staker: indexed(address)
    claim_block: uint64
    claim_tx_index: uint32
    claim_log_position: uint32
    reason: uint8

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
UNVERIFIABLE: constant(uint8) = 11
BAD_HEADER: constant(uint8) = 12
BAD_PROOF: constant(uint8) = 13
BAD_RECEIPT: constant(uint8) = 14
NOT_REWARD_SOURCE: constant(uint8) = 15
NOT_REWARD_EVENT: constant(uint8) = 16

MAX_BPS: constant(uint256) = 10000
# Bounds of one route_proven call (see README): more reverts in ABI decoding. Vyper reserves memory for the
# maximum of every argument, so these trade the largest batch against the fixed cost of a small one.
MAX_CLAIMS: constant(uint256) = 100
MAX_HEADERS: constant(uint256) = 16
MAX_POOL_BYTES: constant(uint256) = 131072
SMALL_WINDOW: constant(uint256) = 1024  # branch and extension nodes are <= 532 bytes

# EIP-2935 block-hash history (Prague; on Base since Isthmus). Absent on many test chains.
HISTORY_CONTRACT: constant(address) = 0x0000F90827F1C53a10cb7A02335B175320002935
HISTORY_WINDOW: constant(uint256) = 8191
BLOCKHASH_WINDOW: constant(uint256) = 256
IDENTITY: constant(address) = 0x0000000000000000000000000000000000000004

# packed per-staker slot: | share_bps 16 | since_block 64 | last position 96 | contributed_low 80 |
# last position = block 56 | tx index 24 | log position 16
LOW_BITS: constant(uint256) = 80
POS_SHIFT: constant(uint256) = 80
SINCE_SHIFT: constant(uint256) = 176
SHARE_SHIFT: constant(uint256) = 240
LOW_MASK: constant(uint256) = (1 << 80) - 1
POS_MASK: constant(uint256) = (1 << 96) - 1
U64_MASK: constant(uint256) = (1 << 64) - 1
KEEP_ROUTE_STATE: constant(uint256) = (1 << 176) - 1  # position + contributed_low survive opt_out/opt_in

TRANSFER_FROM: constant(Bytes[4]) = method_id("transferFrom(address,address,uint256)")
TRANSFER: constant(Bytes[4]) = method_id("transfer(address,uint256)")
ALLOWANCE: constant(Bytes[4]) = method_id("allowance(address,address)")
BALANCE_OF: constant(Bytes[4]) = method_id("balanceOf(address)")

reward_token: public(immutable(address))
reward_source: public(immutable(address))
reward_topic: public(immutable(bytes32))
owner: public(address)
pending_owner: public(address)
paused: public(bool)
total_contributed: public(uint256)
total_withdrawn: public(uint256)

_acct: HashMap[address, uint256]
_spill: HashMap[address, uint256]


@deploy
def __init__(reward_token_: address, owner_: address, reward_source_: address, reward_topic_: bytes32):
    assert reward_token_.is_contract, "reward token is not a contract"
    assert owner_ != empty(address), "owner is zero"
    assert reward_source_ != empty(address), "reward source is zero"
    assert reward_topic_ != empty(bytes32), "reward topic is zero"
    reward_token = reward_token_
    reward_source = reward_source_
    reward_topic = reward_topic_
    self.owner = owner_
    log OwnershipTransferred(previous=empty(address), new=owner_)


# ----------------------------------------------------------------------------------------- stakers
@external
@nonreentrant
def opt_in(share_bps: uint16):
    """
    @notice Register (or change the share of) msg.sender. Effective for claims paid from the NEXT block on
            (since_block = block.number + 1). Changing the share restarts the registration; the share already
            registered is a no-op (no event, since_block unchanged).
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
def last_routed(staker: address) -> (uint64, uint32, uint32):
    """@notice (block, tx index, log position) of the staker's last routed claim; (0, 0, 0) if none."""
    pos: uint256 = (self._acct[staker] >> POS_SHIFT) & POS_MASK
    return convert(pos >> 40, uint64), convert((pos >> 16) & 16777215, uint32), convert(pos & 65535, uint32)


# ----------------------------------------------------------------------------------------- routing
@view
@internal
def _history_hash(n: uint256) -> (bool, bytes32):
    """EIP-2935 lookup; (False, 0) when the contract is absent, reverts or does not answer 32 bytes."""
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


@view
@internal
def _header_status(header: Bytes[receipt_proof.MAX_HEADER_BYTES], now: uint256) -> (uint8, uint256, bytes32):
    """(0 or a skip reason, block number, receiptsRoot) of one header: decodable, past, and hashing to the
    block hash the chain serves for its number."""
    ok: bool = False
    number: uint256 = 0
    root: bytes32 = empty(bytes32)
    ok, number, root = receipt_proof.header_fields(header)
    if not ok:
        return BAD_HEADER, 0, empty(bytes32)
    if number >= now:
        return FUTURE, number, empty(bytes32)
    served: bool = False
    trusted: bytes32 = empty(bytes32)
    if now - number <= BLOCKHASH_WINDOW:
        trusted = blockhash(number)
        served = True
    elif now - number <= HISTORY_WINDOW:
        served, trusted = self._history_hash(number)
    if not served or trusted == empty(bytes32):
        return UNVERIFIABLE, number, empty(bytes32)
    if keccak256(header) != trusted:
        return ORPHANED, number, empty(bytes32)
    return 0, number, root


@external
@nonreentrant
def route_proven(
    headers: DynArray[Bytes[receipt_proof.MAX_HEADER_BYTES], MAX_HEADERS],
    nodes: Bytes[MAX_POOL_BYTES],
    claims: DynArray[ProvenClaim, MAX_CLAIMS],
) -> uint256:
    """
    @notice Route the opted-in share of each PROVEN reward to this treasury. Anyone may call. A claim that
            cannot be proven, or fails a rule, is skipped with RouteSkipped(reason); nothing reverts the batch
            except a paused treasury or arguments beyond the ABI bounds.
    @param headers RLP block headers the claims cite (each verified once against the chain's block hash)
    @param nodes   the trie nodes of all proofs, concatenated (a node shared by several proofs appears once)
    @param claims  per claim: header index, tx index, log position, its proof's node offsets in `nodes` (packed)
    @return total that arrived in this call (what total_contributed grew by)
    """
    assert not self.paused, "paused"
    token: address = reward_token
    source_ok: address = reward_source
    topic_ok: bytes32 = reward_topic
    now: uint256 = block.number

    # 1. headers: verified once each
    h_reason: uint8[MAX_HEADERS] = empty(uint8[MAX_HEADERS])
    h_num: uint256[MAX_HEADERS] = empty(uint256[MAX_HEADERS])
    h_root: bytes32[MAX_HEADERS] = empty(bytes32[MAX_HEADERS])
    for i: uint256 in range(MAX_HEADERS):
        if i >= len(headers):
            break
        h_reason[i], h_num[i], h_root[i] = self._header_status(headers[i], now)

    # 2. a pool shorter than the largest node is copied once into a node-sized buffer (identity precompile)
    plen: uint256 = len(nodes)
    small: Bytes[receipt_proof.MAX_NODE_BYTES] = b""
    if plen < receipt_proof.MAX_NODE_BYTES and plen != 0:
        small = raw_call(IDENTITY, nodes, max_outsize=receipt_proof.MAX_NODE_BYTES, is_static_call=True)

    total_before: uint256 = self.total_contributed
    total: uint256 = 0
    bal: uint256 = 0  # this treasury's token balance, read before the first pull and after each pull
    bal_known: bool = False
    for c: ProvenClaim in claims:
        reason: uint8 = 0
        staker: address = empty(address)
        amount: uint256 = 0
        bn: uint256 = 0
        hi: uint256 = convert(c.header, uint256)
        if hi >= len(headers):
            reason = BAD_HEADER
        else:
            reason = h_reason[hi]
            bn = h_num[hi]

        # 3. the proof: root -> ... -> leaf, each node hashing to the reference above it
        if reason == 0:
            reason = BAD_PROOF
            ok: bool = False
            key: uint256 = 0
            key_len: uint256 = 0
            ok, key, key_len = receipt_proof.key_nibbles(convert(c.tx_index, uint256))
            expected: bytes32 = h_root[hi]
            nib: uint256 = 0
            count: uint256 = c.proof >> 248
            for i: uint256 in range(receipt_proof.MAX_PROOF_NODES):
                if not ok or i >= count:
                    break
                # the node at its offset: an RLP list of 32..MAX_NODE_BYTES bytes inside the pool
                off: uint256 = (c.proof >> (24 * i)) & 16777215
                if off >= plen or plen - off < 32:
                    break
                w: uint256 = convert(extract32(nodes, off), uint256)
                p: uint256 = w >> 248
                size: uint256 = 0
                if p < 192:
                    break
                elif p <= 247:
                    size = p - 191
                elif p <= 249:
                    ll: uint256 = p - 247
                    size = 1 + ll + ((w >> (248 - 8 * ll)) & ((1 << (8 * ll)) - 1))
                else:
                    break
                if size < 32 or size > receipt_proof.MAX_NODE_BYTES or size > plen - off:
                    break
                node: Bytes[receipt_proof.MAX_NODE_BYTES] = b""
                if plen < receipt_proof.MAX_NODE_BYTES:
                    node = slice(small, off, size)
                elif size <= SMALL_WINDOW:
                    s1: uint256 = min(off, plen - SMALL_WINDOW)
                    win1: Bytes[SMALL_WINDOW] = slice(nodes, s1, SMALL_WINDOW)
                    node = slice(win1, off - s1, size)
                else:
                    s2: uint256 = min(off, plen - receipt_proof.MAX_NODE_BYTES)
                    win2: Bytes[receipt_proof.MAX_NODE_BYTES] = slice(nodes, s2, receipt_proof.MAX_NODE_BYTES)
                    node = slice(win2, off - s2, size)
                kind: uint256 = 0
                vs: uint256 = 0
                vl: uint256 = 0
                kind, nib, expected, vs, vl = receipt_proof.step(node, expected, key, key_len, nib)
                if kind == receipt_proof.INVALID:
                    break
                if kind == receipt_proof.LEAF:
                    if i + 1 != count:
                        break  # nodes after the leaf
                    answer: uint8 = 0
                    src: address = empty(address)
                    t0: bytes32 = empty(bytes32)
                    t1: bytes32 = empty(bytes32)
                    answer, src, t0, t1, amount = receipt_proof.receipt_log(node, vs, vl, convert(c.log_position, uint256))
                    if answer == receipt_proof.LOG_BAD_RECEIPT:
                        reason = BAD_RECEIPT
                    elif src != source_ok:
                        reason = NOT_REWARD_SOURCE
                    elif answer != receipt_proof.LOG_OK or t0 != topic_ok:
                        reason = NOT_REWARD_EVENT
                    else:
                        reason = 0
                        staker = convert(convert(convert(t1, uint256), uint160), address)
                    break

        # 4. the staker's rules, as in ExpansionTreasury
        if reason == 0:
            packed: uint256 = self._acct[staker]
            share: uint256 = packed >> SHARE_SHIFT
            pos: uint256 = (bn << 40) | (convert(c.tx_index, uint256) << 16) | convert(c.log_position, uint256)
            if share == 0:
                reason = NOT_REGISTERED
            elif bn < (packed >> SINCE_SHIFT) & U64_MASK:
                reason = BEFORE_OPT_IN
            elif pos <= (packed >> POS_SHIFT) & POS_MASK:
                reason = DUPLICATE
            else:
                # floor(amount * share / 10000) without overflow for any uint256 amount
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
                    ok2: bool = False
                    out: Bytes[64] = b""
                    ok2, out = raw_call(token, abi_encode(staker, self, contrib, method_id=TRANSFER_FROM),
                                        max_outsize=64, revert_on_failure=False)
                    arrived: uint256 = 0
                    if ok2:
                        # success is empty return data (the token is a contract) or exactly the 32-byte
                        # encoding of true; count what arrived (balance re-read after every pull)
                        if len(out) != 0:
                            ok2 = len(out) == 32 and extract32(out, 0, output_type=uint256) == 1
                        after: uint256 = staticcall IERC20(token).balanceOf(self)
                        if after > bal:
                            arrived = unsafe_sub(after, bal)
                        bal = after
                    if ok2 and arrived != contrib:
                        if arrived == 0:
                            ok2 = False
                        elif arrived > max_value(uint256) - total_before - total:
                            ok2 = False
                            reason = OVERFLOW
                    if ok2:
                        low: uint256 = packed & LOW_MASK
                        new_low: uint256 = 0
                        if arrived > LOW_MASK - low:
                            self._spill[staker] += low + arrived
                        else:
                            new_low = low + arrived
                        self._acct[staker] = (packed & ~(POS_MASK << POS_SHIFT | LOW_MASK)) | (pos << POS_SHIFT) | new_low
                        total = unsafe_add(total, arrived)
                        log Routed(staker=staker, claim_block=convert(bn, uint64), claim_tx_index=c.tx_index,
                                   claim_log_position=c.log_position, reward=amount, contributed=arrived,
                                   share_bps=convert(share, uint16))
                    elif reason == 0:
                        reason = self._diagnose(token, staker, contrib)
        if reason != 0:
            log RouteSkipped(staker=staker, claim_block=convert(bn, uint64), claim_tx_index=c.tx_index,
                             claim_log_position=c.log_position, reason=reason)
    if total != 0:
        self.total_contributed = total_before + total
    return total


# ----------------------------------------------------------------------------------------- owner
@internal
def _only_owner():
    assert msg.sender == self.owner, "not owner"


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
