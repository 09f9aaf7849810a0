"""Test helpers for proofs: systematic mutations, a naive RFC 6962 reference, and an
in-memory reference history of transactions.

The reference is computed the slow, obvious way straight from PROOFS.md (recursive RFC 6962
MTH, PATH and PROOF), independent of `immusql.kv.merkle`, so tests compare the real code with
an implementation that shares nothing with it but `hashing` and `header`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import pytest

from immusql.kv.errors import ProofError
from immusql.kv.hashing import (
    EMPTY_HASH,
    ZERO_HASH,
    entry_digest,
    leaf_hash,
    node_hash,
    sha256,
)
from immusql.kv.header import TxHeader
from immusql.kv.proofs import DualProof, EntryInclusion, EntryProof, TxProof
from immusql.kv.state import State

# --- Mutation helpers --------------------------------------------------------------------


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def some_bits(nbits: int, rng: random.Random, k: int = 5) -> list[int]:
    """The first, last and eighth bit and k random ones (all bits would be too slow)."""
    return sorted({0, 7, nbits - 1, *rng.sample(range(nbits), min(k, nbits))})


def path_mutations(path: list[bytes], rng: random.Random):
    """Every systematic corruption of a list of hashes, named like merkle's vectors."""
    for i, term in enumerate(path):
        for bit in some_bits(256, rng):
            yield f"modified-path[{i}]-bit-@{bit}", path[:i] + [flip(term, bit)] + path[i + 1:]
        yield f"dropped-path[{i}]", path[:i] + path[i + 1:]
        yield f"duplicated-path[{i}]", path[:i + 1] + path[i:]
    for i in range(len(path) - 1):
        yield f"swapped-path[{i}]", path[:i] + [path[i + 1], path[i]] + path[i + 2:]
    yield "trailing-garbage", path + [sha256(b"garbage")]
    yield "leading-garbage", [sha256(b"garbage")] + path
    yield "trailing-copy", (path + path[-1:]) if path else [EMPTY_HASH]
    if path:
        yield "empty-path", []
        yield "reversed-path", path[::-1] if len(path) > 1 else [flip(path[0], 3)]


def rejects(fn, *args):
    """fn(*args) must raise ProofError (any other exception fails the test)."""
    with pytest.raises(ProofError):
        fn(*args)


INT_WIDTHS = {"id": 64, "ts": 64, "version": 16, "nentries": 32, "bl_tx_id": 64}


def header_mutations(h):
    """Every single-bit change of every header field, plus md growing and shrinking."""
    for name, width in INT_WIDTHS.items():
        for bit in range(width):
            yield f"{name}-bit-@{bit}", replace(h, **{name: getattr(h, name) ^ (1 << bit)})
    for name in ("md", "eh", "bl_root", "prev_alh"):
        value = getattr(h, name)
        for bit in range(len(value) * 8):
            yield f"{name}-bit-@{bit}", replace(h, **{name: flip(value, bit)})
    yield "md-appended", replace(h, md=h.md + b"\x00")
    if h.md:
        yield "md-truncated", replace(h, md=h.md[:-1])


# --- Naive RFC 6962 reference over a list of leaf hashes ---------------------------------


def ref_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 MTH over items that are already leaf hashes."""
    if not leaves:
        return EMPTY_HASH
    if len(leaves) == 1:
        return leaves[0]
    k = ref_split(len(leaves))
    return node_hash(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path_ranges(m: int, begin: int, end: int) -> list[tuple[int, int]]:
    """RFC 6962 section 2.1.1 PATH(m, D[begin:end]) as leaf ranges, leaf to root."""
    n = end - begin
    if n == 1:
        return []
    k = ref_split(n)
    if m < k:
        return ref_path_ranges(m, begin, begin + k) + [(begin + k, end)]
    return ref_path_ranges(m - k, begin + k, end) + [(begin, begin + k)]


def ref_subproof_ranges(m: int, begin: int, end: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 6962 section 2.1.2 SUBPROOF(m, D[begin:end], b) as leaf ranges."""
    n = end - begin
    if m == n:
        return [] if whole else [(begin, end)]
    k = ref_split(n)
    if m <= k:
        return ref_subproof_ranges(m, begin, begin + k, whole) + [(begin + k, end)]
    return ref_subproof_ranges(m - k, begin + k, end, False) + [(begin, begin + k)]


def ref_inclusion(leaves: list[bytes], index: int) -> list[bytes]:
    return [ref_mth(leaves[b:e]) for b, e in ref_path_ranges(index, 0, len(leaves))]


def ref_consistency(leaves: list[bytes], old_size: int) -> list[bytes]:
    ranges = ref_subproof_ranges(old_size, 0, len(leaves), True)
    return [ref_mth(leaves[b:e]) for b, e in ranges]


# --- A reference chain of transactions ---------------------------------------------------

Entry = tuple[bytes, bytes, bytes]  # key, value, md


@dataclass
class Tx:
    header: TxHeader
    entries: list[Entry]

    @property
    def alh(self) -> bytes:
        return self.header.alh()

    def leaves(self) -> list[bytes]:
        return [leaf_hash(entry_digest(k, sha256(v), md)) for k, v, md in self.entries]


def random_entries(rng: random.Random, max_entries: int) -> list[Entry]:
    n = rng.randint(1, max_entries)
    keys = rng.sample(range(1000), n)
    out = []
    for k in keys:
        md = rng.choice([b"", b"", b"\x00", b"\x01" + rng.randbytes(8)])
        out.append((b"key-%d" % k, rng.randbytes(rng.randint(0, 12)), md))
    return out


class Chain:
    """N transactions whose headers are built exactly as section 2 says."""

    def __init__(self, n: int, seed: int = 0, db: str = "defaultdb", signing_key=None,
                 max_entries: int = 5, prefix: list[Tx] | None = None):
        self.db = db
        self.signing_key = signing_key
        self.txs: list[Tx] = list(prefix or [])
        rng = random.Random(seed)
        while len(self.txs) < n:
            self.append(random_entries(rng, max_entries), ts=1_700_000_000_000_000 +
                        len(self.txs) * 1000 + rng.randint(0, 999),
                        txmd=rng.choice([b"", b"\x05\xa0"]))

    def append(self, entries: list[Entry], ts: int = 0, txmd: bytes = b"",
               nentries: int | None = None) -> Tx:
        """Commit `entries`; `nentries` lets a test forge a header that miscounts them."""
        tx_id = len(self.txs) + 1
        alhs = [leaf_hash(tx.alh) for tx in self.txs]
        leaves = [leaf_hash(entry_digest(k, sha256(v), md)) for k, v, md in entries]
        header = TxHeader(id=tx_id, ts=ts, version=1, md=txmd,
                          nentries=len(entries) if nentries is None else nentries,
                          eh=ref_mth(leaves), bl_tx_id=tx_id - 1,
                          bl_root=ref_mth(alhs) if alhs else ZERO_HASH,
                          prev_alh=self.txs[-1].alh if self.txs else EMPTY_HASH)
        tx = Tx(header, list(entries))
        self.txs.append(tx)
        return tx

    def fork(self, k: int, seed: int) -> "Chain":
        """A different history of the same length: same txs 1..k-1, different from tx k."""
        return Chain(len(self.txs), seed=seed, db=self.db, signing_key=self.signing_key,
                     prefix=self.txs[:k - 1])

    def __len__(self) -> int:
        return len(self.txs)

    def tx(self, tx_id: int) -> Tx:
        return self.txs[tx_id - 1]

    def header(self, tx_id: int) -> TxHeader:
        return self.tx(tx_id).header

    def alh(self, tx_id: int) -> bytes:
        return self.tx(tx_id).alh if tx_id else EMPTY_HASH

    def state(self, tx_id: int) -> State:
        st = State(self.db, tx_id, self.alh(tx_id))
        return st.sign(self.signing_key) if self.signing_key is not None else st

    def dual(self, s: int, t: int) -> DualProof:
        """The honest section 6 proof from tx s to tx t (1 <= s <= t)."""
        if s == t:
            return DualProof(self.header(s), self.header(t), [], [])
        alh_leaves = [leaf_hash(tx.alh) for tx in self.txs[:t - 1]]
        inclusion = ref_inclusion(alh_leaves, s - 1)
        consistency = ref_consistency(alh_leaves, s - 1) if s > 1 else []
        return DualProof(self.header(s), self.header(t), inclusion, consistency)

    def _link(self, tx_id: int, trusted_id: int | None) -> tuple[DualProof | None, State]:
        if not trusted_id:
            return None, self.state(tx_id)
        s, t = min(tx_id, trusted_id), max(tx_id, trusted_id)
        return self.dual(s, t), self.state(t)

    def entry_proof(self, tx_id: int, index: int, trusted_id: int | None) -> EntryProof:
        """The honest proof of entry `index` of tx `tx_id` for a client trusting tx
        `trusted_id` of this chain (None or 0: no trusted state)."""
        tx = self.tx(tx_id)
        key, value, md = tx.entries[index]
        leaves = tx.leaves()
        inclusion = EntryInclusion(index, len(leaves), ref_inclusion(leaves, index))
        dual, state = self._link(tx_id, trusted_id)
        return EntryProof(key, value, md, tx.header, inclusion, dual, state)

    def tx_proof(self, tx_id: int, trusted_id: int | None) -> TxProof:
        tx = self.tx(tx_id)
        dual, state = self._link(tx_id, trusted_id)
        return TxProof(tx.header, list(tx.entries), dual, state)
