#!/usr/bin/env python3
"""Verify an immusql proof with nothing but the Python standard library.

Written only from PROOFS.md (hashing, trees, dual proofs, JSON), docs/verify.md (what a
row proof proves) and docs/sql-format.md (row keys, row values, catalog entries), as a
third party would: no immusql import. ECDSA is not in the standard library, so state
signatures are not checked here.

    python verify_standalone.py PROOF.json [--trusted-state STATE.json]

PROOF.json is an entry_proof, or {"proof": ..., "schema_proof": ...} (the two proof
columns of VERIFY ROW, as `immusql verify row --save` writes them), whose row is then
decoded. STATE.json is a state {"db", "tx_id", "alh", ...} the verifier already trusts.
Exit status 0: verified; 1: it does not verify.
"""
import hashlib
import json
import struct
import sys


class Bad(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Bad(msg)


H = lambda b: hashlib.sha256(b).digest()  # noqa: E731 (short names, as in PROOFS.md)
u = lambda fmt, *v: struct.pack(">" + fmt, *v)  # noqa: E731 (big-endian u16/u32/u64)
leaf = lambda x: H(b"\x00" + x)  # noqa: E731
node = lambda left, right: H(b"\x01" + left + right)  # noqa: E731
EMPTY, hx = H(b""), bytes.fromhex


def alh(h):  # PROOFS.md section 2, with the header invariants
    need(h["version"] == 1 and h["id"] >= 1 and h["nentries"] >= 1, "bad header")
    need(h["bl_tx_id"] == h["id"] - 1, "bl_tx_id must be id - 1")
    if h["id"] == 1:
        need(hx(h["bl_root"]) == bytes(32) and hx(h["prev_alh"]) == EMPTY, "bad tx 1 header")
    md = hx(h["md"])
    inner = H(u("QHH", h["ts"], 1, len(md)) + md + u("I", h["nentries"]) + hx(h["eh"])
              + u("Q", h["bl_tx_id"]) + hx(h["bl_root"]))
    return H(u("Q", h["id"]) + hx(h["prev_alh"]) + inner)


def inclusion(leaf_hash, index, size, path, root):  # RFC 9162 2.1.3.2
    need(0 <= index < size, "leaf outside the tree")
    fn, sn, r = index, size - 1, leaf_hash
    for p in map(hx, path):
        need(sn > 0, "inclusion path too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    need(sn == 0 and r == root, "inclusion path does not lead to the root")


def consistency(n1, n2, root1, root2, path):  # RFC 9162 2.1.4.2
    path = [hx(p) for p in path]
    if n1 == n2:
        return need(not path and root1 == root2, "bad consistency proof")
    if n1 & (n1 - 1) == 0:
        path.insert(0, root1)
    need(path, "empty consistency path")
    fn, sn = n1 - 1, n2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        need(sn > 0, "consistency path too long")
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    need(sn == 0 and fr == root1 and sr == root2, "consistency proof does not link")


def dual(d, s, alh_s, t, alh_t):  # PROOFS.md section 6
    src, tgt = d["source"], d["target"]
    need(src["id"] == s and alh(src) == alh_s, "dual proof source is not the trusted tx")
    need(tgt["id"] == t and alh(tgt) == alh_t, "dual proof target is not the proven tx")
    if s == t:
        return need(src == tgt and not d["inclusion"] and not d["consistency"], "bad dual")
    inclusion(leaf(alh_s), s - 1, t - 1, d["inclusion"], hx(tgt["bl_root"]))
    if s > 1:
        consistency(s - 1, t - 1, hx(src["bl_root"]), hx(tgt["bl_root"]), d["consistency"])


def entry_proof(p, trusted):  # PROOFS.md section 7; returns the state it leads to
    e, tx, inc = p["entry"], p["tx"], p["inclusion"]
    key, value, md = hx(e["key"]), hx(e["value"]), hx(e["md"])
    digest = H(u("H", len(md)) + md + u("H", len(key)) + key + H(value))
    need(inc["width"] == tx["nentries"], "inclusion width is not the tx's entry count")
    inclusion(leaf(digest), inc["leaf"], inc["width"], inc["terms"], hx(tx["eh"]))
    a = alh(tx)
    new = (tx["id"], a)
    if trusted is None or trusted["tx_id"] == 0:
        need(p["dual"] is None, "a dual proof without a trusted state")
    else:
        ts, ta = trusted["tx_id"], hx(trusted["alh"])
        need(p["dual"] is not None, "no dual proof from the trusted state")
        if ts <= tx["id"]:
            dual(p["dual"], ts, ta, tx["id"], a)
        else:
            dual(p["dual"], tx["id"], a, ts, ta)
            new = (ts, ta)
        need(p["state"]["db"] == trusted["db"], "the proof is of another database")
    need((p["state"]["tx_id"], hx(p["state"]["alh"])) == new, "state is not the proven one")
    return p["state"]


def unpack(b, i=0):  # the msgpack subset sql-format.md uses -> (value, next position)
    t = b[i]
    i += 1
    if t <= 0x7F or t >= 0xE0:
        return (t if t <= 0x7F else t - 256), i
    if t & 0xF0 in (0x80, 0x90) or t in (0xDC, 0xDD, 0xDE, 0xDF):
        if t & 0xF0 in (0x80, 0x90):
            n, is_map = t & 0x0F, t < 0x90
        else:
            w = 2 if t in (0xDC, 0xDE) else 4
            n, is_map, i = int.from_bytes(b[i:i + w], "big"), t >= 0xDE, i + w
        out = []
        for _ in range(2 * n if is_map else n):
            v, i = unpack(b, i)
            out.append(v)
        return (dict(zip(out[::2], out[1::2])) if is_map else out), i
    if t & 0xE0 == 0xA0 or t in (0xD9, 0xDA, 0xDB, 0xC4, 0xC5, 0xC6):
        if t & 0xE0 == 0xA0:
            n = t & 0x1F
        else:
            w = {0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC4: 1, 0xC5: 2, 0xC6: 4}[t]
            n, i = int.from_bytes(b[i:i + w], "big"), i + w
        raw = b[i:i + n]
        return (raw if t in (0xC4, 0xC5, 0xC6) else raw.decode()), i + n
    if t in (0xC0, 0xC2, 0xC3):
        return {0xC0: None, 0xC2: False, 0xC3: True}[t], i
    fixed = {0xCA: ">f", 0xCB: ">d", 0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
             0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    need(t in fixed, f"msgpack type {t:#x} is not used by immusql")
    n = struct.calcsize(fixed[t])
    return struct.unpack(fixed[t], b[i:i + n])[0], i + n


def one(b):
    v, end = unpack(b)
    return v if end == len(b) else need(False, "trailing bytes after the msgpack value")


def decode_row(row, schema):  # verify.md section 3 steps 3-4; sql-format.md
    skey, sval = hx(schema["entry"]["key"]), hx(schema["entry"]["value"])
    need(skey[:2] == b"\x00C" and len(skey) == 6 and sval[:1] == b"\x00", "not a catalog entry")
    d = one(sval[1:])
    need(d["id"] == int.from_bytes(skey[2:], "big") and d["kind"] == "table", "not a table")
    rkey, rval = hx(row["entry"]["key"]), hx(row["entry"]["value"])
    need(rkey[:6] == b"\x00R" + u("I", d["id"]), "the row is not of this table")
    need(rval[:2] == b"\x00\x01", "not a row value (format 1)")
    values = one(rval[2:])
    print(f"row of {d['schema']}.{d['name']} (table id {d['id']}, key {rkey[6:].hex()})"
          + (", deleted" if row["entry"]["md"] == "00" else ""))
    for cid, name, oid, *_ in d["columns"]:
        print(f"  {name} (type oid {oid}) = {values.get(cid)!r}")


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    with open(argv[0]) as f:
        doc = json.load(f)
    trusted = None
    if len(argv) == 3 and argv[1] == "--trusted-state":
        with open(argv[2]) as f:
            trusted = json.load(f)
    try:
        row = doc.get("proof") if "schema_proof" in doc else doc
        state = entry_proof(row, trusted)
        if "schema_proof" in doc:
            state = entry_proof(doc["schema_proof"], state)
            decode_row(row, doc["schema_proof"])
    except (Bad, KeyError, TypeError, ValueError, IndexError, struct.error) as e:
        print(f"NOT VERIFIED: {e!r}")
        return 1
    print(f"VERIFIED: state db {state['db']} tx {state['tx_id']} alh {state['alh']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
