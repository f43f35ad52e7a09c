# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title receipt_proof
@notice RLP, Merkle-Patricia and receipt decoding for ProvenExpansionTreasury (a Vyper module: its functions
        are internal and compiled into the contract that imports it; deploy/contracts/test/ProofHarness.vy
        exposes them for tests).
@dev    Safe on hostile input: every function takes a bounded buffer, checks every length against the real
        length of that buffer before using it, reads through a copy padded with 32 zero bytes (so a 32-byte
        word read at any position <= len is in bounds), runs bounded loops only, never reverts on malformed
        bytes (it answers "invalid" instead), and never overflows (every length it adds is < 2**24).

        Bounds (documented in deploy/contracts/README.md, "ProvenExpansionTreasury"):
          MAX_NODE_BYTES  8192  one trie node, the leaf included: receipts up to 8,180 bytes
          MAX_HEADER_BYTES 1024 one RLP block header (every Ethereum / OP Stack fork's header is < 700)
          MAX_PROOF_NODES 9     nodes per proof: the deepest receipts trie a tx index < 2**24 can produce
                                (an 8-nibble key: 8 branch levels and a leaf)
          MAX_TX_INDEX    2**24 transaction indexes at or above are rejected (rlp key <= 4 bytes)
          MAX_LOGS        512   logs walked in one receipt (a log is >= 24 bytes, so > any receipt that fits)

        Trie rule: in a receipts trie every node is >= 32 bytes (a leaf holds a receipt, which holds a 256-byte
        bloom), so every reference is a 32-byte hash; a proof whose node embeds a child inline is invalid here.
        No key of a receipts trie is a prefix of another (rlp(i) for i < 2**24), so a branch's value slot is
        never part of a valid proof.
"""

MAX_NODE_BYTES: constant(uint256) = 8192
MAX_HEADER_BYTES: constant(uint256) = 1024
MAX_PROOF_NODES: constant(uint256) = 9
MAX_TX_INDEX: constant(uint256) = 16777216  # 2**24
MAX_LOGS: constant(uint256) = 512
MAX_RLP_ITEMS: constant(uint256) = 17

# step() kinds
INVALID: constant(uint256) = 0
DESCEND: constant(uint256) = 1
LEAF: constant(uint256) = 2

# receipt_log() answers
LOG_OK: constant(uint8) = 0
LOG_BAD_RECEIPT: constant(uint8) = 1   # not a decodable receipt, or the position is past its logs
LOG_BAD_SHAPE: constant(uint8) = 2     # a log, but not shaped like Event(address indexed, uint256 ...): < 2 topics,
                                       # < 32 data bytes, or topic 1 is not an address

HASH_REF: constant(uint256) = 160      # 0xa0: a 32-byte string
EMPTY_STRING: constant(uint256) = 128  # 0x80


@pure
@internal
def _hdr(w: uint256) -> (bool, bool, uint256, uint256):
    """
    Decode the RLP item header starting at the first byte of the word w (the next 32 bytes of the input).
    Returns (ok, is_list, header length, payload length). A single byte < 0x80 is its own payload (header
    length 0, payload length 1). Lengths of length > 3 bytes are refused (nothing here is >= 2**24 bytes);
    so are non-canonical long forms (a long length < 56 or with a leading zero byte).
    """
    p: uint256 = w >> 248
    if p < 128:
        return True, False, 0, 1
    if p <= 183:
        return True, False, 1, p - 128
    if p <= 191:
        ll: uint256 = p - 183
        if ll > 3:
            return False, False, 0, 0
        n: uint256 = (w >> (248 - 8 * ll)) & ((1 << (8 * ll)) - 1)
        if n < 56 or n >> (8 * (ll - 1)) == 0:
            return False, False, 0, 0
        return True, False, 1 + ll, n
    if p <= 247:
        return True, True, 1, p - 192
    ll2: uint256 = p - 247
    if ll2 > 3:
        return False, True, 0, 0
    n2: uint256 = (w >> (248 - 8 * ll2)) & ((1 << (8 * ll2)) - 1)
    if n2 < 56 or n2 >> (8 * (ll2 - 1)) == 0:
        return False, True, 0, 0
    return True, True, 1 + ll2, n2


@pure
@internal
def key_nibbles(tx_index: uint256) -> (bool, uint256, uint256):
    """
    The receipts-trie key of a transaction index, rlp(tx_index), as (ok, nibbles packed big-endian, count).
    ok is False for tx_index >= 2**24.
    """
    if tx_index >= MAX_TX_INDEX:
        return False, 0, 0
    if tx_index == 0:
        return True, 128, 2  # rlp(0) = 0x80
    if tx_index < 128:
        return True, tx_index, 2
    if tx_index < 256:
        return True, (129 << 8) | tx_index, 4
    if tx_index < 65536:
        return True, (130 << 16) | tx_index, 6
    return True, (131 << 24) | tx_index, 8


@pure
@internal
def header_fields(header: Bytes[MAX_HEADER_BYTES]) -> (bool, uint256, bytes32):
    """
    (ok, number, receiptsRoot) of an RLP block header: a list whose item 5 is a 32-byte string and item 8
    an integer of at most 8 bytes. Only the structure up to item 8 is read; the caller binds the whole
    header to the chain by its hash, which works for every fork's field set.
    """
    n: uint256 = len(header)
    if n < 32:
        return False, 0, empty(bytes32)
    b: Bytes[MAX_HEADER_BYTES + 32] = concat(header, empty(bytes32))
    ok: bool = False
    is_list: bool = False
    hl: uint256 = 0
    pl: uint256 = 0
    ok, is_list, hl, pl = self._hdr(convert(extract32(b, 0), uint256))
    if not ok or not is_list or hl + pl != n:
        return False, 0, empty(bytes32)
    pos: uint256 = hl
    root: bytes32 = empty(bytes32)
    number: uint256 = 0
    for i: uint256 in range(9):
        if pos >= n:
            return False, 0, empty(bytes32)
        w: uint256 = convert(extract32(b, pos), uint256)
        ok, is_list, hl, pl = self._hdr(w)
        if not ok or is_list or pos + hl + pl > n:
            return False, 0, empty(bytes32)
        if i == 5:
            if w >> 248 != HASH_REF:
                return False, 0, empty(bytes32)
            root = extract32(b, pos + 1)
        elif i == 8:
            if pl > 8:
                return False, 0, empty(bytes32)
            if hl == 0:
                number = w >> 248
            elif pl != 0:
                number = (w >> (248 - 8 * pl)) & ((1 << (8 * pl)) - 1)
        pos += hl + pl
    return True, number, root


@pure
@internal
def walk(node: Bytes[MAX_NODE_BYTES], expected: bytes32, key: uint256, key_len: uint256, nib: uint256) -> (uint256, uint256, bytes32, uint256, uint256):
    """step() of a node that must hash to `expected` (the reference from the node above, or the root)."""
    if keccak256(node) != expected:
        return INVALID, 0, empty(bytes32), 0, 0
    return self.step(node, key, key_len, nib)


@pure
@internal
def step(node: Bytes[MAX_NODE_BYTES], key: uint256, key_len: uint256, nib: uint256) -> (uint256, uint256, bytes32, uint256, uint256):
    """
    One node of a receipts-trie proof, already checked to hash to the expected reference by the caller.
    key/key_len: the key's nibbles (key_nibbles); nib: how many of them the nodes above consumed.
    Returns (kind, nibbles consumed after this node, next hash, value start, value length):
      DESCEND: branch or extension, continue with the node whose keccak is `next hash`;
      LEAF:    a leaf whose path ends the key exactly; its value (the receipt) is node[start : start + length];
      INVALID: anything else (malformed RLP, a path that diverges from the key, a missing child, an inline
               child, a key that ends at a branch).
    """
    n: uint256 = len(node)
    if n < 32 or key_len > 8 or nib > key_len:
        return INVALID, 0, empty(bytes32), 0, 0
    b: Bytes[MAX_NODE_BYTES + 32] = concat(node, empty(bytes32))
    ok: bool = False
    is_list: bool = False
    hl: uint256 = 0
    pl: uint256 = 0
    ok, is_list, hl, pl = self._hdr(convert(extract32(b, 0), uint256))
    if not ok or not is_list or hl + pl != n:
        return INVALID, 0, empty(bytes32), 0, 0
    target: uint256 = 17  # the branch child we want (none if the key is exhausted)
    if nib < key_len:
        target = (key >> (4 * (key_len - 1 - nib))) & 15
    pos: uint256 = hl
    count: uint256 = 0
    p0: uint256 = 0  # item 0: start, header length, payload length
    h0: uint256 = 0
    l0: uint256 = 0
    p1: uint256 = 0  # item 1
    h1: uint256 = 0
    l1: uint256 = 0
    l1_list: bool = False
    child_w: uint256 = 0   # the word at the target child
    child_pos: uint256 = 0
    child_len: uint256 = 0 # its total length (33 for a hash reference)
    for i: uint256 in range(MAX_RLP_ITEMS + 1):
        if pos == n:
            break
        if i == MAX_RLP_ITEMS:
            return INVALID, 0, empty(bytes32), 0, 0  # more than 17 items
        w: uint256 = convert(extract32(b, pos), uint256)
        p: uint256 = w >> 248
        il: uint256 = 0
        if p == EMPTY_STRING:
            hl = 1
            pl = 0
            is_list = False
        elif p == HASH_REF:
            hl = 1
            pl = 32
            is_list = False
        else:
            ok, is_list, hl, pl = self._hdr(w)
            if not ok:
                return INVALID, 0, empty(bytes32), 0, 0
        il = hl + pl
        if pos + il > n:
            return INVALID, 0, empty(bytes32), 0, 0
        if i == 0:
            p0 = pos
            h0 = hl
            l0 = pl
            if is_list:
                return INVALID, 0, empty(bytes32), 0, 0  # a path or a child reference: never a list here
        elif i == 1:
            p1 = pos
            h1 = hl
            l1 = pl
            l1_list = is_list
        if i == target:
            child_w = w
            child_pos = pos
            child_len = il
        pos += il
        count = i + 1

    if count == 17:
        if target == 17:
            return INVALID, 0, empty(bytes32), 0, 0  # key ends at a branch: never in a receipts trie
        if child_len != 33 or child_w >> 248 != HASH_REF:
            return INVALID, 0, empty(bytes32), 0, 0  # missing child, or not a hash reference
        return DESCEND, nib + 1, extract32(b, child_pos + 1), 0, 0
    if count != 2 or l0 == 0 or l0 > 5:
        return INVALID, 0, empty(bytes32), 0, 0  # a path of a <= 8-nibble key is 1..5 bytes
    # hex-prefix path: the high nibble of its first byte is the flag (0/1 extension, 2/3 leaf; odd adds the
    # low nibble as the path's first nibble)
    first: uint256 = convert(extract32(b, p0 + h0), uint256) >> 248
    flag: uint256 = first >> 4
    if flag > 3:
        return INVALID, 0, empty(bytes32), 0, 0
    path: uint256 = 0
    path_len: uint256 = 2 * (l0 - 1)
    if l0 > 1:
        path = convert(extract32(b, p0 + h0 + 1), uint256) >> (256 - 8 * (l0 - 1))
    if flag & 1 == 1:
        path = path | ((first & 15) << (4 * path_len))
        path_len += 1
    elif first & 15 != 0:
        return INVALID, 0, empty(bytes32), 0, 0  # even paths pad with a zero nibble
    if nib + path_len > key_len:
        return INVALID, 0, empty(bytes32), 0, 0
    # the key's next path_len nibbles must equal the path
    rest: uint256 = key_len - nib - path_len
    if (key >> (4 * rest)) & ((1 << (4 * path_len)) - 1) != path:
        return INVALID, 0, empty(bytes32), 0, 0
    if flag >= 2:
        # leaf: the path ends the key, the value is a string (the receipt)
        if rest != 0 or l1_list:
            return INVALID, 0, empty(bytes32), 0, 0
        if h1 == 0:
            return LEAF, key_len, empty(bytes32), p1, 1
        return LEAF, key_len, empty(bytes32), p1 + h1, l1
    # extension: a non-empty path to a hash reference
    if path_len == 0 or l1_list or h1 != 1 or l1 != 32:
        return INVALID, 0, empty(bytes32), 0, 0
    return DESCEND, nib + path_len, extract32(b, p1 + 1), 0, 0


@pure
@internal
def receipt_log(node: Bytes[MAX_NODE_BYTES], start: uint256, length: uint256, log_position: uint256) -> (uint8, address, bytes32, bytes32, uint256):
    """
    Decode the receipt at node[start : start + length] (a leaf's value, as step() returned it) and the log at
    log_position among its logs. Receipts: legacy (an RLP list) or typed (one type byte, then the list):
    0x01, 0x02, 0x03, 0x04, and the OP Stack deposit receipt 0x7e, whose list may carry two more fields after
    the logs (depositNonce, depositReceiptVersion). The list is [status, cumulativeGasUsed, logsBloom, logs]
    (+ those two for 0x7e); a log is [address, [topics...], data].
    Returns (answer, log address, topic 0, topic 1, first data word); answer LOG_OK, LOG_BAD_RECEIPT (not a
    receipt, or log_position is past its logs) or LOG_BAD_SHAPE (fewer than 2 topics, less than 32 data
    bytes, or topic 1 with non-zero high 12 bytes) - the address is returned whenever the log was found.
    """
    n: uint256 = len(node)
    if start >= n or length == 0 or length > n - start or log_position >= MAX_LOGS:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    end: uint256 = start + length
    b: Bytes[MAX_NODE_BYTES + 32] = concat(node, empty(bytes32))
    pos: uint256 = start
    first: uint256 = convert(extract32(b, pos), uint256) >> 248
    deposit: bool = False
    if first < 128:
        if first == 126:
            deposit = True
        elif first == 0 or first > 4:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        pos += 1
        if pos == end:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ok: bool = False
    is_list: bool = False
    hl: uint256 = 0
    pl: uint256 = 0
    ok, is_list, hl, pl = self._hdr(convert(extract32(b, pos), uint256))
    if not ok or not is_list or pos + hl + pl != end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    pos += hl
    logs_start: uint256 = 0
    logs_end: uint256 = 0
    for i: uint256 in range(7):
        if pos == end:
            if i < 4:
                return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
            break
        if i == 6 or (i == 4 and not deposit):
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0  # too many fields
        ok, is_list, hl, pl = self._hdr(convert(extract32(b, pos), uint256))
        if not ok or pos + hl + pl > end or is_list != (i == 3):
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        if i == 3:
            logs_start = pos + hl
            logs_end = pos + hl + pl
        pos += hl + pl
    # walk to the log at log_position
    pos = logs_start
    for i: uint256 in range(MAX_LOGS):
        if pos == logs_end:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0  # past the last log
        ok, is_list, hl, pl = self._hdr(convert(extract32(b, pos), uint256))
        if not ok or not is_list or pos + hl + pl > logs_end:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        if i == log_position:
            break
        pos += hl + pl
    log_end: uint256 = pos + hl + pl
    pos += hl
    # address: a 20-byte string
    if pos >= log_end or convert(extract32(b, pos), uint256) >> 248 != 148 or pos + 21 > log_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    source: address = convert(convert(convert(extract32(b, pos + 1), uint256) >> 96, uint160), address)
    pos += 21
    # topics: a list of 32-byte strings
    if pos >= log_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ok, is_list, hl, pl = self._hdr(convert(extract32(b, pos), uint256))
    if not ok or not is_list or pos + hl + pl > log_end or pl % 33 != 0:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    topics_end: uint256 = pos + hl + pl
    t0: bytes32 = empty(bytes32)
    t1: bytes32 = empty(bytes32)
    ntopics: uint256 = pl // 33
    pos += hl
    for i: uint256 in range(4):
        if pos == topics_end:
            break
        if convert(extract32(b, pos), uint256) >> 248 != HASH_REF:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        if i == 0:
            t0 = extract32(b, pos + 1)
        elif i == 1:
            t1 = extract32(b, pos + 1)
        pos += 33
    if pos != topics_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0  # more than 4 topics
    # data: a string
    if pos >= log_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ok, is_list, hl, pl = self._hdr(convert(extract32(b, pos), uint256))
    if not ok or is_list or pos + hl + pl != log_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    if ntopics < 2 or pl < 32 or hl == 0 or convert(t1, uint256) >> 160 != 0:
        return LOG_BAD_SHAPE, source, t0, t1, 0
    return LOG_OK, source, t0, t1, convert(extract32(b, pos + hl), uint256)
