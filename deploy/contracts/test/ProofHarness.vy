# pragma version 0.4.3
# pragma optimize gas
# pragma evm-version prague
"""
@title ProofHarness
@notice Test double: the receipt_proof module (RLP, Merkle-Patricia proof steps, receipt and log decoding) of
        ProvenExpansionTreasury exposed as external views, so hostile bytes and synthetic receipts (e.g. OP Stack
        deposit receipts, type 0x7e, which py-evm cannot mine) are tested directly. Never deployed to Base.
"""

import receipt_proof

# prove() answers
OK: constant(uint8) = 0
BAD_PROOF: constant(uint8) = 1
BAD_RECEIPT: constant(uint8) = 2
BAD_SHAPE: constant(uint8) = 3


@pure
@external
def key_nibbles(tx_index: uint256) -> (bool, uint256, uint256):
    return receipt_proof.key_nibbles(tx_index)


@pure
@external
def header_fields(header: Bytes[receipt_proof.MAX_HEADER_BYTES]) -> (bool, uint256, bytes32):
    return receipt_proof.header_fields(header)


@pure
@external
def step(node: Bytes[receipt_proof.MAX_NODE_BYTES], expected: bytes32, key: uint256, key_len: uint256, nib: uint256) -> (uint256, uint256, bytes32, uint256, uint256):
    return receipt_proof.step(node, expected, key, key_len, nib)


@pure
@external
def receipt_log(node: Bytes[receipt_proof.MAX_NODE_BYTES], start: uint256, length: uint256, log_position: uint256) -> (uint8, address, bytes32, bytes32, uint256):
    return receipt_proof.receipt_log(node, start, length, log_position)


@pure
@external
def prove(root: bytes32, nodes: DynArray[Bytes[receipt_proof.MAX_NODE_BYTES], receipt_proof.MAX_PROOF_NODES], tx_index: uint256, log_position: uint256) -> (uint8, address, bytes32, bytes32, uint256):
    """
    The treasury's proof walk over a list of nodes (root first, leaf last): (answer, log address, topic 0,
    topic 1, first data word); answer OK, BAD_PROOF, BAD_RECEIPT or BAD_SHAPE.
    """
    ok: bool = False
    key: uint256 = 0
    key_len: uint256 = 0
    ok, key, key_len = receipt_proof.key_nibbles(tx_index)
    if not ok:
        return BAD_PROOF, empty(address), empty(bytes32), empty(bytes32), 0
    expected: bytes32 = root
    nib: uint256 = 0
    for i: uint256 in range(receipt_proof.MAX_PROOF_NODES):
        if i >= len(nodes):
            break
        kind: uint256 = 0
        vs: uint256 = 0
        vl: uint256 = 0
        kind, nib, expected, vs, vl = receipt_proof.step(nodes[i], expected, key, key_len, nib)
        if kind == receipt_proof.INVALID:
            break
        if kind == receipt_proof.LEAF:
            if i + 1 != len(nodes):
                break
            answer: uint8 = 0
            source: address = empty(address)
            t0: bytes32 = empty(bytes32)
            t1: bytes32 = empty(bytes32)
            amount: uint256 = 0
            answer, source, t0, t1, amount = receipt_proof.receipt_log(nodes[i], vs, vl, log_position)
            if answer == receipt_proof.LOG_BAD_RECEIPT:
                return BAD_RECEIPT, empty(address), empty(bytes32), empty(bytes32), 0
            if answer == receipt_proof.LOG_BAD_SHAPE:
                return BAD_SHAPE, source, t0, t1, 0
            return OK, source, t0, t1, amount
    return BAD_PROOF, empty(address), empty(bytes32), empty(bytes32), 0
