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
          MAX_NODE_BYTES  4608  one trie node, the leaf included: receipts up to 4,596 bytes
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

MAX_NODE_BYTES: constant(uint256) = 4608
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
def _str(w: uint256) -> (bool, uint256, uint256):
    """(ok, header length, payload length) of an RLP string whose first byte is w's top byte; strings of
    64 KiB or more, and lists, are refused."""
    p: uint256 = w >> 248
    if p < 128:
        return True, 0, 1
    if p <= 183:
        return True, 1, unsafe_sub(p, 128)
    if p == 184:
        return True, 2, (w >> 240) & 255
    if p == 185:
        return True, 3, (w >> 232) & 65535
    return False, 0, 0


@pure
@internal
def _list(w: uint256) -> (bool, uint256, uint256):
    """(ok, header length, payload length) of an RLP list whose first byte is w's top byte; lists of 64 KiB
    or more, and strings, are refused."""
    p: uint256 = w >> 248
    if p < 192:
        return False, 0, 0
    if p <= 247:
        return True, 1, unsafe_sub(p, 192)
    if p == 248:
        return True, 2, (w >> 240) & 255
    if p == 249:
        return True, 3, (w >> 232) & 65535
    return False, 0, 0


@pure
@internal
def step(node: Bytes[MAX_NODE_BYTES], expected: bytes32, key: uint256, key_len: uint256, nib: uint256) -> (uint256, uint256, bytes32, uint256, uint256):
    """
    One node of a receipts-trie proof; it must hash to `expected` (the receiptsRoot for the first node, then
    the reference the node above returned).
    key/key_len: the key's nibbles (key_nibbles); nib: how many of them the nodes above consumed.
    Returns (kind, nibbles consumed after this node, next hash, value start, value length):
      DESCEND: branch or extension, continue with the node whose keccak is `next hash`;
      LEAF:    a leaf whose path ends the key exactly; its value (the receipt) is node[start : start + length];
      INVALID: anything else (a node that does not hash to `expected`, malformed RLP, a path that diverges
               from the key, a missing child, an inline child, a key that ends at a branch).
    Once the hash matches, the node is a real trie node; parsing then reads only what the walk needs, but
    still checks every position against the node's length (so arbitrary bytes are safe here too).
    A branch is recognised by its first item (an empty string or a hash reference): the first item of a
    leaf or extension is its hex-prefix path, a string of 1..5 bytes that is neither.
    """
    n: uint256 = len(node)
    if n < 32 or key_len > 8 or nib > key_len or keccak256(node) != expected:
        return INVALID, 0, empty(bytes32), 0, 0
    b: Bytes[MAX_NODE_BYTES + 32] = concat(node, empty(bytes32))
    ok: bool = False
    hl: uint256 = 0
    pl: uint256 = 0
    ok, hl, pl = self._list(convert(extract32(b, 0), uint256))
    if not ok or unsafe_add(hl, pl) != n:
        return INVALID, 0, empty(bytes32), 0, 0
    pos: uint256 = hl
    first: uint256 = convert(extract32(b, pos), uint256) >> 248
    if first == EMPTY_STRING or first == HASH_REF:
        # branch: skip to the child at the key's next nibble; children are empty or hash references
        if nib == key_len:
            return INVALID, 0, empty(bytes32), 0, 0  # the key ends at a branch: never in a receipts trie
        target: uint256 = (key >> (4 * (key_len - 1 - nib))) & 15
        for j: uint256 in range(16):
            if j == target:
                break
            q: uint256 = convert(extract32(b, pos), uint256) >> 248
            if q == EMPTY_STRING:
                pos = unsafe_add(pos, 1)
            elif q == HASH_REF:
                pos = unsafe_add(pos, 33)
            else:
                return INVALID, 0, empty(bytes32), 0, 0  # an inline child
            if pos >= n:
                return INVALID, 0, empty(bytes32), 0, 0
        if convert(extract32(b, pos), uint256) >> 248 != HASH_REF or unsafe_add(pos, 33) > n:
            return INVALID, 0, empty(bytes32), 0, 0  # missing child, or not a hash reference
        return DESCEND, nib + 1, extract32(b, unsafe_add(pos, 1)), 0, 0

    # leaf or extension: [hex-prefix path, value or reference]
    h0: uint256 = 0
    l0: uint256 = 0
    ok, h0, l0 = self._str(convert(extract32(b, pos), uint256))
    if not ok or l0 == 0 or l0 > 5:
        return INVALID, 0, empty(bytes32), 0, 0  # a path of a <= 8-nibble key is 1..5 bytes
    p1: uint256 = unsafe_add(pos, unsafe_add(h0, l0))
    if p1 >= n:
        return INVALID, 0, empty(bytes32), 0, 0
    h1: uint256 = 0
    l1: uint256 = 0
    ok, h1, l1 = self._str(convert(extract32(b, p1), uint256))
    if not ok or unsafe_add(p1, unsafe_add(h1, l1)) != n:
        return INVALID, 0, empty(bytes32), 0, 0  # the value is a string (an inline node would be a list)
    # hex-prefix: the high nibble of the first byte is the flag (0/1 extension, 2/3 leaf; odd: the low nibble
    # is the path's first nibble)
    first = convert(extract32(b, unsafe_add(pos, h0)), uint256) >> 248
    flag: uint256 = first >> 4
    if flag > 3:
        return INVALID, 0, empty(bytes32), 0, 0
    path: uint256 = 0
    path_len: uint256 = 2 * (l0 - 1)
    if l0 > 1:
        path = convert(extract32(b, unsafe_add(pos, unsafe_add(h0, 1))), uint256) >> (256 - 8 * (l0 - 1))
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
        # leaf: the path ends the key; its value is the receipt
        if rest != 0:
            return INVALID, 0, empty(bytes32), 0, 0
        return LEAF, key_len, empty(bytes32), unsafe_add(p1, h1), l1
    # extension: a non-empty path to a hash reference
    if path_len == 0 or h1 != 1 or l1 != 32:
        return INVALID, 0, empty(bytes32), 0, 0
    return DESCEND, nib + path_len, extract32(b, unsafe_add(p1, 1)), 0, 0


@pure
@internal
def receipt_log(node: Bytes[MAX_NODE_BYTES], start: uint256, length: uint256, log_position: uint256) -> (uint8, address, bytes32, bytes32, uint256):
    """
    Decode the receipt at node[start : start + length] (a leaf's value, as step() returned it) and the log at
    log_position among its logs. Receipts: legacy (an RLP list) or typed (one type byte, then the list):
    0x01, 0x02, 0x03, 0x04, and the OP Stack deposit receipt 0x7e, whose list carries depositNonce and
    depositReceiptVersion after the logs (they follow the logs, so they are skipped); other type bytes are
    refused. The list is [status, cumulativeGasUsed, logsBloom, logs, ...]; a log is [address, [topics...], data].
    Returns (answer, log address, topic 0, topic 1, first data word); answer LOG_OK, LOG_BAD_RECEIPT (not a
    receipt, or log_position is past its logs) or LOG_BAD_SHAPE (fewer than 2 topics, less than 32 data
    bytes, or topic 1 with non-zero high 12 bytes) - the address is returned whenever the log was found.
    Every position is checked against the receipt's end, whatever the bytes.
    """
    n: uint256 = len(node)
    if start >= n or length == 0 or length > n - start or log_position >= MAX_LOGS:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    end: uint256 = start + length
    b: Bytes[MAX_NODE_BYTES + 32] = concat(node, empty(bytes32))
    pos: uint256 = start
    first: uint256 = convert(extract32(b, pos), uint256) >> 248
    if first < 128:
        if first == 0 or (first > 4 and first != 126):
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        pos = unsafe_add(pos, 1)
        if pos == end:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ok: bool = False
    hl: uint256 = 0
    pl: uint256 = 0
    ok, hl, pl = self._list(convert(extract32(b, pos), uint256))
    if not ok or unsafe_add(pos, unsafe_add(hl, pl)) != end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    pos = unsafe_add(pos, hl)
    # status, cumulativeGasUsed, logsBloom: strings
    for i: uint256 in range(3):
        if pos >= end:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        ok, hl, pl = self._str(convert(extract32(b, pos), uint256))
        if not ok:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        pos = unsafe_add(pos, unsafe_add(hl, pl))
    # logs: a list
    if pos >= end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ok, hl, pl = self._list(convert(extract32(b, pos), uint256))
    logs_end: uint256 = unsafe_add(pos, unsafe_add(hl, pl))
    if not ok or logs_end > end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    pos = unsafe_add(pos, hl)
    # walk to the log at log_position
    for i: uint256 in range(MAX_LOGS):
        if pos >= logs_end:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0  # past the last log
        ok, hl, pl = self._list(convert(extract32(b, pos), uint256))
        if not ok:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        if i == log_position:
            break
        pos = unsafe_add(pos, unsafe_add(hl, pl))
    log_end: uint256 = unsafe_add(pos, unsafe_add(hl, pl))
    if log_end > logs_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    pos = unsafe_add(pos, hl)
    # address: a 20-byte string
    if pos + 21 > log_end or convert(extract32(b, pos), uint256) >> 248 != 148:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    source: address = convert(convert(convert(extract32(b, unsafe_add(pos, 1)), uint256) >> 96, uint160), address)
    pos = unsafe_add(pos, 21)
    # topics: a list of 32-byte strings (at most 4)
    if pos >= log_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ok, hl, pl = self._list(convert(extract32(b, pos), uint256))
    topics_end: uint256 = unsafe_add(pos, unsafe_add(hl, pl))
    if not ok or topics_end > log_end or pl % 33 != 0 or pl > 132:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ntopics: uint256 = pl // 33
    pos = unsafe_add(pos, hl)
    t0: bytes32 = empty(bytes32)
    t1: bytes32 = empty(bytes32)
    for i: uint256 in range(4):
        if i == ntopics:
            break
        if convert(extract32(b, pos), uint256) >> 248 != HASH_REF:
            return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
        if i == 0:
            t0 = extract32(b, unsafe_add(pos, 1))
        elif i == 1:
            t1 = extract32(b, unsafe_add(pos, 1))
        pos = unsafe_add(pos, 33)
    # data: a string ending the log
    if pos >= log_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    ok, hl, pl = self._str(convert(extract32(b, pos), uint256))
    if not ok or unsafe_add(pos, unsafe_add(hl, pl)) != log_end:
        return LOG_BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
    if ntopics < 2 or pl < 32 or hl == 0 or convert(t1, uint256) >> 160 != 0:
        return LOG_BAD_SHAPE, source, t0, t1, 0
    return LOG_OK, source, t0, t1, convert(extract32(b, unsafe_add(pos, hl)), uint256)
