"""The receipt_proof module (RLP, Merkle-Patricia proof steps, receipt and log decoding) of
ProvenExpansionTreasury on hostile and synthetic input, through ProofHarness (deploy/contracts/test/): never an
out-of-bounds read or a revert, never a valid answer from invalid bytes, and every receipt kind decoded -
including OP Stack deposit receipts (0x7e), which py-evm cannot mine. Proofs come from the `trie` package
(Tests/Support/receipt_proofs.py), an implementation independent of the contract's.

The property-based run (hypothesis) is bounded for CI (PROOF_FUZZ_EXAMPLES, default 500 per property, four
properties); PROOF_FUZZ_EXAMPLES=2500 runs >= 10,000 cases (issue 19's bar) in a few minutes."""

from __future__ import annotations

import os
import random

import pytest
import rlp
from eth.vm.message import Message
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import Harness
from proven_env import rp

OK, BAD_PROOF, BAD_RECEIPT, BAD_SHAPE = 0, 1, 2, 3
LOG_OK, LOG_BAD_RECEIPT, LOG_BAD_SHAPE = 0, 1, 2
INVALID, DESCEND, LEAF = 0, 1, 2
MAX_NODE = 4608
SOURCE = bytes.fromhex("11" * 20)
TOPIC0 = keccak(text="Claimed(address,uint256)")
STAKER = bytes.fromhex("22" * 20)
FUZZ = int(os.environ.get("PROOF_FUZZ_EXAMPLES", "500"))


class Fast:
    """ProofHarness views run directly on the EVM state (no transaction envelope): ~10x faster than eth_call,
    same code. Any EVM error (a revert, out-of-bounds, out of gas) fails the test."""

    def __init__(self):
        self.env = Harness(accounts=2)
        self.h = self.env.deploy("ProofHarness")
        state = self.env.chain.evm.get_vm().state
        self.state = state
        self.code = state.get_code(self.h.address)
        self.ctx = state.get_transaction_context_class()(gas_price=0, origin=b"\0" * 20)

    def __call__(self, fn, *args):
        msg = Message(gas=30_000_000, to=self.h.address, sender=b"\0" * 20, value=0,
                      data=self.h.abi.encode_call(fn, *args), code=self.code)
        comp = self.state.computation_class.apply_message(self.state, msg, self.ctx)
        assert not comp.is_error, f"{fn} failed: {comp.error!r}"
        return self.h.abi.decode_result(fn, bytes(comp.output))


@pytest.fixture(scope="module")
def h():
    return Fast()


def reward_log(amount: int, staker: bytes = STAKER, source: bytes = SOURCE, topic0: bytes = TOPIC0) -> list:
    return rp.encode_log(source, [topic0, b"\0" * 12 + staker], amount.to_bytes(32, "big"))


def receipt(logs: list, ty: int = 2, **kw) -> bytes:
    return rp.encode_receipt(ty, b"\x01", 21_000, b"\0" * 256, logs, **kw)


def filler_log(k: int, data_len: int = 40) -> list:
    return rp.encode_log(bytes([k % 256]) * 20, [keccak(bytes([k]))], bytes([k % 256]) * data_len)


def expect_proof(h, t: rp.ReceiptsTrie, index: int, position: int):
    return h("prove", t.root, t.proof(index), index, position)


# ------------------------------------------------------------------------------------------ receipts
@pytest.mark.parametrize("ty", [0, 1, 2, 3, 4, 0x7E])
def test_every_receipt_kind_decodes(h, ty):
    logs = [filler_log(1), reward_log(123), filler_log(2)]
    variants = [{}]
    if ty == 0x7E:  # deposit receipts: pre-Canyon (no extra fields), Regolith (nonce), Canyon (nonce + version)
        variants = [{}, {"deposit_nonce": 7}, {"deposit_nonce": 2**63, "deposit_receipt_version": 1}]
    for kw in variants:
        r = receipt(logs, ty, **kw)
        assert (r[0] == ty) if ty else (r[0] >= 0xC0)
        t = rp.ReceiptsTrie([receipt([filler_log(9)]), r, receipt([], 0)])
        assert rp.verify_proof(t.root, 1, t.proof(1)) == r
        ans = expect_proof(h, t, 1, 1)
        assert tuple(ans) == (OK, "0x" + SOURCE.hex(), TOPIC0, b"\0" * 12 + STAKER, 123), kw
        assert expect_proof(h, t, 1, 0)[0] == BAD_SHAPE      # one topic: not shaped like the reward event
        assert expect_proof(h, t, 1, 3)[0] == BAD_RECEIPT    # past the last log
        assert expect_proof(h, t, 1, 2**32 - 1)[0] == BAD_RECEIPT


@pytest.mark.parametrize("ty", [5, 0x7D, 0x7F, 0])
def test_unknown_receipt_types_and_non_receipts_are_refused(h, ty):
    body = receipt([reward_log(5)], 0)
    value = body if ty == 0 else bytes([ty]) + body
    if ty == 0:
        value = rlp.encode([b"\x01", [reward_log(5)]])  # a list, but not a receipt's fields
    t = rp.ReceiptsTrie([value])
    assert expect_proof(h, t, 0, 0)[0] == BAD_RECEIPT


def test_log_shapes(h):
    logs = [
        rp.encode_log(SOURCE, [TOPIC0, b"\0" * 12 + STAKER], b"\x01" * 31),          # data < 32 bytes
        rp.encode_log(SOURCE, [TOPIC0, b"\x01" * 32], (5).to_bytes(32, "big")),      # topic 1 not an address
        rp.encode_log(SOURCE, [TOPIC0, b"\0" * 12 + STAKER, b"\x33" * 32, b"\x44" * 32],
                      (77).to_bytes(32, "big") + b"\x55" * 64),                      # 4 topics, 96 data bytes
        rp.encode_log(SOURCE, [], b""),                                              # no topics
    ]
    t = rp.ReceiptsTrie([receipt(logs)])
    assert [expect_proof(h, t, 0, i)[0] for i in range(4)] == [BAD_SHAPE, BAD_SHAPE, OK, BAD_SHAPE]
    assert expect_proof(h, t, 0, 2)[4] == 77


def test_four_kilobyte_receipts_with_many_logs(h):
    """A claim inside a multicall: a receipt of >= 4 KB with dozens of logs; every position decodes."""
    logs = [filler_log(k, 44) for k in range(40)]
    logs[17] = reward_log(10**18)
    logs[39] = reward_log(42, staker=b"\x77" * 20)
    r = receipt(logs)
    assert 4096 <= len(r) <= MAX_NODE - 12
    t = rp.ReceiptsTrie([receipt([]) for _ in range(20)] + [r])
    assert len(t.proof(20)[-1]) > 4096
    for pos in range(40):
        ans = expect_proof(h, t, 20, pos)
        if pos == 17:
            assert tuple(ans) == (OK, "0x" + SOURCE.hex(), TOPIC0, b"\0" * 12 + STAKER, 10**18)
        elif pos == 39:
            assert ans[0] == OK and ans[3] == b"\0" * 12 + b"\x77" * 20 and ans[4] == 42
        else:
            assert ans[0] == BAD_SHAPE and ans[1] == "0x" + (bytes([pos]) * 20).hex()
    assert expect_proof(h, t, 20, 40)[0] == BAD_RECEIPT
    # the largest receipt that fits a node
    big = receipt([rp.encode_log(SOURCE, [TOPIC0, b"\0" * 12 + STAKER], (9).to_bytes(32, "big") + b"\x01" * 4200)])
    t = rp.ReceiptsTrie([big])
    assert len(t.proof(0)[-1]) <= MAX_NODE
    assert expect_proof(h, t, 0, 0)[4] == 9


def test_deep_tries(h):
    """Keys chosen so the path to rlp(0x123456) branches at each of its 8 nibbles: 8 branch nodes and a leaf,
    the deepest proof a tx index < 2**24 can have."""
    target = 0x123456
    tk = rlp.encode(target).hex()  # 83123456
    keys = {target}
    for i in range(len(tk)):
        found = None
        for d in "0123456789abcdef":
            if d == tk[i]:
                continue
            for length in (2, 4, 6, 8):
                for fill in "f1":
                    cand = (tk[:i] + d + fill * 8)[:length]
                    if len(cand) < i + 1:
                        continue
                    try:
                        n = rlp.decode(bytes.fromhex(cand), sedes=rlp.sedes.big_endian_int)
                    except Exception:  # noqa: BLE001 - not a canonical rlp integer
                        continue
                    if 0 < n < 2**24 and rlp.encode(n).hex() == cand:
                        found = n
                        break
                if found is not None:
                    break
            if found is not None:
                break
        assert found is not None, i
        keys.add(found)
    t = rp.ReceiptsTrie([])
    with t.trie.squash_changes() as tr:
        for k in sorted(keys):
            tr[rp.trie_key(k)] = receipt([reward_log(k + 1)])
    proof = t.proof(target)
    assert len(proof) == 9, [len(n) for n in proof]
    assert tuple(h("prove", t.root, proof, target, 0))[0::4] == (OK, target + 1)
    # one level missing, or a node repeated: invalid
    assert h("prove", t.root, proof[:4] + proof[5:], target, 0)[0] == BAD_PROOF
    assert h("prove", t.root, proof[:8], target, 0)[0] == BAD_PROOF


@pytest.mark.parametrize("n", [1, 2, 17, 130, 300])
def test_proofs_of_real_shaped_tries_match_the_reference(h, n):
    rnd = random.Random(n)
    receipts = [receipt([reward_log(i)] + [filler_log(k) for k in range(rnd.randrange(3))], rnd.choice([0, 2]))
                for i in range(n)]
    t = rp.ReceiptsTrie(receipts)
    for i in sorted({0, n - 1, n // 2, rnd.randrange(n)}):
        ans = expect_proof(h, t, i, 0)
        assert ans[0] == OK and ans[4] == i
        for j in {(i + 1) % n, min(n, 2**7), 2**24 - 1}:
            if j != i:
                assert h("prove", t.root, t.proof(i), j, 0)[0] == BAD_PROOF


# ------------------------------------------------------------------------------------------ hostile bytes
HUGE_PREFIXES = [b"\xb8", b"\xb9\xff\xff", b"\xba\xff\xff\xff", b"\xbf" + b"\xff" * 8, b"\xf8", b"\xf9\xff\xff",
                 b"\xfa\xff\xff\xff", b"\xff" + b"\xff" * 8, b"\xf9\x00\x01", b"\xb8\x01"]


def test_headers_hostile(h):
    env = h.env
    env.chain.mine(1)
    header = rp.header_rlp_from_pyevm(env.chain.head.block.header)
    ok, number, root = h("header_fields", header)
    assert ok and number == env.chain.head_number and root == env.chain.head.block.header.receipt_root
    for cut in range(len(header)):
        assert h("header_fields", header[:cut])[0] is False, cut
    assert h("header_fields", header + b"\x00")[0] is False
    for pre in HUGE_PREFIXES:
        for tail in (b"", header, b"\x00" * 64, b"\xff" * 1000):
            assert h("header_fields", (pre + tail)[:1024])[0] is False
    # a list of 9 items that are not a header's (lists where strings belong, a 9-byte number, a short root)
    bad = [rlp.encode([b"\x01" * 32] * 5 + [[b"\x01"]] + [b""] * 3),
           rlp.encode([b"\x01" * 32] * 8 + [b"\x01" * 9]),
           rlp.encode([b"\x01" * 32] * 5 + [b"\x01" * 31] + [b""] * 3),
           rlp.encode([b"\x01" * 32] * 8)]
    for b in bad:
        assert h("header_fields", b)[0] is False


def test_nodes_hostile(h):
    t = rp.ReceiptsTrie([receipt([reward_log(i)]) for i in range(40)])
    proof = t.proof(33)
    key = h("key_nibbles", 33)
    for node in proof:
        for cut in list(range(0, len(node), 9)) + [len(node) - 1]:
            assert h("step", node[:cut], keccak(node[:cut]), key[1], key[2], 0)[0] == INVALID
    for pre in HUGE_PREFIXES:
        for tail in (b"\x00" * 40, b"\xa0" * 600, b"\x80" * 40):
            node = pre + tail
            for nib in (0, 1, 2):
                assert h("step", node, keccak(node), key[1], key[2], nib)[0] == INVALID
    # a branch whose child is inline (a list) or a 31-byte string; a 2-item node whose value is a list
    branch = [b""] * 17
    branch[2] = [b"\x20", b"\x01"]
    inline = rlp.encode(branch)
    assert h("step", inline, keccak(inline), 0x21, 2, 0)[0] == INVALID
    branch[2] = b"\x01" * 31
    short = rlp.encode(branch)
    assert h("step", short, keccak(short), 0x21, 2, 0)[0] == INVALID
    leaf = rlp.encode([b"\x20", [b"\x01" * 40]])
    assert h("step", leaf, keccak(leaf), 0x80, 2, 2)[0] == INVALID
    # a genuine node, but the wrong hash
    assert h("step", proof[0], b"\x01" * 32, key[1], key[2], 0)[0] == INVALID
    # a key that ends at a branch, a nibble count beyond the key, key lengths beyond 8
    assert h("step", proof[0], keccak(proof[0]), key[1], key[2], key[2])[0] == INVALID
    assert h("step", proof[0], keccak(proof[0]), key[1], key[2], key[2] + 1)[0] == INVALID
    assert h("step", proof[0], keccak(proof[0]), 2**200, 50, 0)[0] == INVALID
    # receipt_log with a range outside the node
    leaf = proof[-1]
    for start, length in ((len(leaf), 1), (0, len(leaf) + 1), (2**255, 2**255), (len(leaf) - 1, 2**256 - 1), (5, 0)):
        assert h("receipt_log", leaf, start, length, 0)[0] == LOG_BAD_RECEIPT


def test_key_nibbles(h):
    for i in (0, 1, 127, 128, 255, 256, 65535, 65536, 2**24 - 1):
        k = rlp.encode(i)
        assert tuple(h("key_nibbles", i)) == (True, int.from_bytes(k, "big"), 2 * len(k))
    assert h("key_nibbles", 2**24)[0] is False and h("key_nibbles", 2**256 - 1)[0] is False


# ------------------------------------------------------------------------------------------ property-based
TRIE_CACHE: dict = {}


def small_trie(seed: int) -> rp.ReceiptsTrie:
    if seed not in TRIE_CACHE:
        rnd = random.Random(seed)
        n = rnd.choice([1, 2, 5, 20, 70])
        rs = [receipt([reward_log(rnd.randrange(1, 2**64))] + [filler_log(k, rnd.randrange(0, 90))
                                                                for k in range(rnd.randrange(4))],
                      rnd.choice([0, 1, 2, 3, 4, 0x7E])) for _ in range(n)]
        TRIE_CACHE[seed] = rp.ReceiptsTrie(rs)
    return TRIE_CACHE[seed]


PROPS = settings(max_examples=FUZZ, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


@PROPS
@given(seed=st.integers(0, 7), idx=st.integers(0, 10**6), data=st.data())
def test_property_mutated_proofs_never_prove(h, seed, idx, data):
    t = small_trie(seed)
    n = len(t.receipts)
    i = idx % n
    proof = t.proof(i)
    k = data.draw(st.integers(0, len(proof) - 1))
    node = bytearray(proof[k])
    how = data.draw(st.sampled_from(["flip", "truncate", "extend", "splice"]))
    if how == "flip":
        p = data.draw(st.integers(0, len(node) - 1))
        node[p] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        del node[data.draw(st.integers(0, len(node) - 1)):]
    elif how == "extend":
        node += data.draw(st.binary(min_size=1, max_size=64))
    else:
        p = data.draw(st.integers(0, len(node)))
        node[p:p] = data.draw(st.binary(min_size=1, max_size=8))
    bad = proof[:k] + [bytes(node)[:MAX_NODE]] + proof[k + 1:]
    assert h("prove", t.root, bad, i, 0)[0] == BAD_PROOF


@PROPS
@given(nodes=st.lists(st.binary(min_size=0, max_size=700), min_size=0, max_size=9), root=st.binary(min_size=32,
       max_size=32), idx=st.integers(0, 2**32 - 1), pos=st.integers(0, 2**32 - 1), hash_first=st.booleans())
def test_property_random_bytes_never_prove(h, nodes, root, idx, pos, hash_first):
    if hash_first and nodes:
        root = keccak(nodes[0])  # the first node passes the hash check: the parser sees hostile bytes
    assert h("prove", root, nodes, idx, pos)[0] != OK


@PROPS
@given(seed=st.integers(0, 7), idx=st.integers(0, 10**6), other=st.integers(0, 2**24 + 5), pos=st.integers(0, 6))
def test_property_proofs_answer_only_for_their_own_key_and_log(h, seed, idx, other, pos):
    t = small_trie(seed)
    i = idx % len(t.receipts)
    ans = h("prove", t.root, t.proof(i), other, pos)
    if other != i:
        assert ans[0] == BAD_PROOF
    else:
        logs = rlp.decode(t.receipts[i][1:] if t.receipts[i][0] < 0x80 else t.receipts[i])[3]
        if pos >= len(logs):
            assert ans[0] == BAD_RECEIPT
        elif pos == 0:
            assert ans[0] == OK and ans[4] == int.from_bytes(logs[0][2][:32], "big")
        else:
            assert ans[0] == BAD_SHAPE


@PROPS
@given(body=st.binary(min_size=1, max_size=MAX_NODE - 40), start=st.integers(0, 2**16), length=st.integers(0, 2**16),
       pos=st.integers(0, 600))
def test_property_receipt_log_on_random_bytes_never_fails(h, body, start, length, pos):
    ans = h("receipt_log", body, start, length, pos)
    assert ans[0] in (LOG_OK, LOG_BAD_RECEIPT, LOG_BAD_SHAPE)
    if start >= len(body) or length == 0 or start + length > len(body):
        assert ans[0] == LOG_BAD_RECEIPT
