#!/usr/bin/env python3
"""Differential oracle for the Swift ABI codec, built on eth-abi 6.0.0 (an independent implementation).

  abi_oracle.py generate SEED COUNT
      Prints COUNT JSON lines {"types", "args", "encoded", "canonical"}: random ABI types (every elementary
      type, fixed and dynamic arrays, nested tuples) and random values, encoded by eth-abi. `args` follows the
      `expansion-keeper abi encode` JSON rules (integers randomly as numbers, decimal or 0x strings);
      `canonical` is the exact canonical JSON text the Swift decoder must print (compact, same escaping).
  abi_oracle.py check
      Reads JSON lines {"types", "encoded", "canonical"} produced by the Swift codec on stdin, decodes each
      with eth-abi (strict mode), checks the canonical JSON matches and that eth-abi re-encodes the same bytes.
      Prints "ok N" or one "FAIL …" line per mismatch.
Seeded and repeatable: the same SEED gives the same cases.
"""
import json, random, sys
from eth_abi import encode, decode
from eth_utils import to_checksum_address


def rand_type(rng, depth=0):
    r = rng.random()
    if depth >= 3 or r < 0.55:
        k = rng.randrange(7)
        if k == 0:
            return "uint%d" % (8 * rng.randint(1, 32))
        if k == 1:
            return "int%d" % (8 * rng.randint(1, 32))
        if k == 2:
            return "address"
        if k == 3:
            return "bool"
        if k == 4:
            return "bytes%d" % rng.randint(1, 32)
        if k == 5:
            return "bytes"
        return "string"
    if r < 0.7:
        return rand_type(rng, depth + 1) + "[%d]" % rng.randint(1, 3)
    if r < 0.85:
        return rand_type(rng, depth + 1) + "[]"
    return "(" + ",".join(rand_type(rng, depth + 1) for _ in range(rng.randint(1, 4))) + ")"


def split_top(s):
    """Splits 'a,(b,c)[],d' at top-level commas."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return out


def rand_int(rng, lo, hi):
    c = rng.random()
    if c < 0.15:
        return lo
    if c < 0.3:
        return hi
    if c < 0.4:
        return 0
    if c < 0.6:
        return rng.randint(max(lo, -1000), min(hi, 1000))
    return rng.randint(lo, hi)


def rand_text(rng):
    alphabet = "abcXYZ 09\"\\\n\t\u00e9\u4e2d\U0001f600/\u0001"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


def rand_value(rng, t):
    """Returns (python value for eth-abi, JSON arg, canonical JSON value)."""
    if t.endswith("]"):
        base, dim = t[: t.rindex("[")], t[t.rindex("[") + 1 : -1]
        n = int(dim) if dim else rng.randint(0, 3)
        items = [rand_value(rng, base) for _ in range(n)]
        return [i[0] for i in items], [i[1] for i in items], [i[2] for i in items]
    if t.startswith("("):
        items = [rand_value(rng, c) for c in split_top(t[1:-1])]
        return tuple(i[0] for i in items), [i[1] for i in items], [i[2] for i in items]
    if t.startswith("uint"):
        v = rand_int(rng, 0, 2 ** int(t[4:]) - 1)
        return v, int_arg(rng, v), str(v)
    if t.startswith("int"):
        bits = int(t[3:])
        v = rand_int(rng, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return v, int_arg(rng, v), str(v)
    if t == "address":
        b = bytes(rng.getrandbits(8) for _ in range(20))
        a = to_checksum_address(b)
        arg = a if rng.random() < 0.5 else "0x" + b.hex()
        return a, arg, a
    if t == "bool":
        v = rng.random() < 0.5
        return v, v, v
    if t.startswith("bytes") and t != "bytes":
        b = bytes(rng.getrandbits(8) for _ in range(int(t[5:])))
        return b, "0x" + b.hex(), "0x" + b.hex()
    if t == "bytes":
        b = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 31, 32, 33, rng.randint(0, 70)])))
        return b, "0x" + b.hex(), "0x" + b.hex()
    if t == "string":
        s = rand_text(rng)
        return s, s, s
    raise ValueError(t)


def int_arg(rng, v):
    c = rng.random()
    if c < 0.4:
        return v
    if c < 0.7 or v < 0:
        return str(v)
    return hex(v)


def canonical(t, v):
    if t.endswith("]"):
        base = t[: t.rindex("[")]
        return [canonical(base, x) for x in v]
    if t.startswith("("):
        return [canonical(c, x) for c, x in zip(split_top(t[1:-1]), v)]
    if t.startswith("uint") or t.startswith("int"):
        return str(v)
    if t == "address":
        return to_checksum_address(v)
    if t == "bool":
        return v
    if t.startswith("bytes"):
        return "0x" + bytes(v).hex()
    return v


def generate(seed, count):
    rng = random.Random(seed)
    for _ in range(count):
        types = [rand_type(rng) for _ in range(rng.randint(0, 4))]
        vals = [rand_value(rng, t) for t in types]
        enc = encode(types, [v[0] for v in vals])
        print(json.dumps({"types": types, "args": json.dumps([v[1] for v in vals], ensure_ascii=False),
                          "encoded": "0x" + enc.hex(),
                          "canonical": json.dumps([v[2] for v in vals], ensure_ascii=False, separators=(",", ":"))},
                         ensure_ascii=False))


def check():
    n = fails = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        n += 1
        types, data = case["types"], bytes.fromhex(case["encoded"][2:])
        try:
            values = decode(types, data, strict=True)
            got = [canonical(t, v) for t, v in zip(types, values)]
            if got != json.loads(case["canonical"]):
                fails += 1
                print("FAIL decode", json.dumps(types), json.dumps(got, ensure_ascii=False)[:300])
            elif encode(types, list(values)) != data:
                fails += 1
                print("FAIL re-encode", json.dumps(types))
        except Exception as e:  # noqa: BLE001 - any eth-abi failure is a mismatch to report
            fails += 1
            print("FAIL exception", json.dumps(types), type(e).__name__, str(e)[:200])
    if fails == 0:
        print("ok", n)


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "check":
        check()
    else:
        sys.exit("usage: abi_oracle.py generate SEED COUNT | check")
