"""The RFC 6962 / RFC 9162 Merkle tree: its shape, and checking paths against a root.

Both trees of PROOFS.md use this one shape: the entries tree inside a transaction (section 4,
built whole in memory, see `EntriesTree`) and the persistent hash tree over every Alh
(section 3, kept on disk by `ahtree`). Keeping "which subtrees make up a proof" separate from
"how to get a subtree's hash" (transparency-dev/merkle's `proof.Nodes`) lets the persistent
tree answer from its stored nodes and lets the tests check the shape against a naive
reference without a disk.

The RFC 9162 verification algorithms live here too (as transparency-dev/merkle keeps
`proof/verify.go` next to `proof/proof.go`); `proofs` re-exports them and builds immusql's
own proofs on top. Pure: no I/O. Imports only `errors`, `hashing` and the stdlib.

Indexes here are 0-based leaf positions (RFC numbering). Transaction ids are 1-based; the
callers convert (leaf index = tx id - 1).
"""

from __future__ import annotations

import hashlib
from typing import Callable, Sequence

from .errors import ProofError
from .hashing import EMPTY_HASH, HASH_SIZE, NODE_PREFIX, node_hash

__all__ = ["root", "EntriesTree", "inclusion_ranges", "consistency_ranges",
           "inclusion_path", "consistency_path", "verify_inclusion", "verify_consistency"]

RangeHash = Callable[[int, int], bytes]
"""`range_hash(begin, end)` returns the Merkle Tree Hash of leaves [begin, end)."""

_sha256 = hashlib.sha256


def _next_level(level: list[bytes]) -> list[bytes]:
    """Hash pairs; an odd last node is promoted unchanged (same root as RFC 6962's split)."""
    up = [_sha256(NODE_PREFIX + level[i] + level[i + 1]).digest()
          for i in range(0, len(level) - 1, 2)]
    if len(level) & 1:
        up.append(level[-1])
    return up


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash over items that are already leaf hashes, H(0x00 || data).

    An empty sequence has the root H("") (EMPTY_HASH), as in RFC 6962.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_HASH
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


class EntriesTree:
    """A small tree built whole from its leaf hashes, keeping every level for audit paths.

    Used for the entries of one transaction (at most a few thousand leaves). Its audit paths
    are exactly those of `inclusion_path` over the same leaves.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Sequence[bytes]):
        levels = [list(leaf_hashes)]
        while len(levels[-1]) > 1:
            levels.append(_next_level(levels[-1]))
        self._levels = levels

    @property
    def width(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        return self._levels[-1][0] if self._levels[0] else EMPTY_HASH

    @property
    def levels(self) -> list[list[bytes]]:
        """Every level, leaves first, root last (read-only by convention)."""
        return self._levels

    def inclusion(self, index: int) -> list[bytes]:
        """RFC 9162 audit path of 0-based leaf `index`, leaf to root.

        Requires 0 <= index < width; raises ValueError otherwise.
        """
        _check_index(index, self.width)
        path = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):  # no sibling: the node was promoted, no path term
                path.append(level[sibling])
            index >>= 1
        return path


def _split(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2): RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [begin, end) whose hashes form the audit path of leaf `index`.

    This is RFC 9162 section 2.1.3.1 PATH(index, D[0:size]), ordered leaf to root.
    Requires 0 <= index < size; raises ValueError otherwise.

    Shape guarantee (the persistent tree computes ranges from stored perfect subtrees and
    relies on it): for every returned range, with p the largest power of two <= end - begin,
    `begin` is a multiple of p. So a range is either a perfect aligned subtree
    (end - begin == p) or a right-edge range (end == size) made of the perfect subtree
    [begin, begin + p) and the right-edge range [begin + p, size).
    """
    _check_index(index, size)
    begin, end = 0, size
    out = []
    while end - begin > 1:
        mid = begin + _split(end - begin)
        if index < mid:
            out.append((mid, end))
            end = mid
        else:
            out.append((begin, mid))
            begin = mid
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges of the consistency path from size `old_size` to `new_size`.

    This is RFC 9162 section 2.1.4.1 PROOF(old_size, D[0:new_size]), ordered from the
    smaller tree upward. It is empty when the sizes are equal, and, as RFC 9162 says, it
    does not start with the old root when `old_size` is a power of two (the verifier
    already knows that root). Requires 0 < old_size <= new_size; raises ValueError otherwise.

    The same shape guarantee as `inclusion_ranges` holds: every range's `begin` is a
    multiple of the largest power of two <= its length, so each range is a perfect aligned
    subtree or a right-edge range ending at `new_size`.
    """
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    begin, end = 0, new_size
    out = []
    whole_old_root = True  # SUBPROOF's flag b: still on the path of the old root itself
    while end != old_size:  # old leaves are [0, old_size); old_size lies in (begin, end)
        mid = begin + _split(end - begin)
        if old_size <= mid:
            out.append((mid, end))
            end = mid
        else:
            out.append((begin, mid))
            begin = mid
            whole_old_root = False
    if not whole_old_root:
        out.append((begin, end))
    out.reverse()
    return out


def inclusion_path(index: int, size: int, range_hash: RangeHash) -> list[bytes]:
    """The RFC 9162 audit path of leaf `index` in a tree of `size` leaves, leaf to root.

    `range_hash(begin, end)` must return the MTH of leaves [begin, end); it is only asked
    for ranges of the shape documented in `inclusion_ranges`.
    """
    return [range_hash(b, e) for b, e in inclusion_ranges(index, size)]


def consistency_path(old_size: int, new_size: int, range_hash: RangeHash) -> list[bytes]:
    """The RFC 9162 consistency path from `old_size` to `new_size` leaves.

    `range_hash` is as for `inclusion_path`; ranges have the shape documented in
    `consistency_ranges`.
    """
    return [range_hash(b, e) for b, e in consistency_ranges(old_size, new_size)]


# --- Checking paths (RFC 9162 sections 2.1.3.2 and 2.1.4.2) -------------------------------
# Each check returns None or raises ProofError, with the expected and calculated root.

def _check_args(sizes: tuple, hashes: tuple, path) -> None:
    for v in sizes:
        if type(v) is not int or v < 0:  # bool is an int subclass: rejected too
            raise ProofError(f"tree size or index {v!r} is not a non-negative integer")
    if not isinstance(path, (list, tuple)):
        raise ProofError("a proof path must be a list of hashes")
    for h in (*hashes, *path):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ProofError(f"{h!r:.80} is not a {HASH_SIZE}-byte hash")


def _path_length_error(what: str, n: int) -> ProofError:
    return ProofError(f"{what}: the path has {n} terms, which does not fit the tree shape")


def verify_inclusion(leaf_hash: bytes, index: int, size: int, path: Sequence[bytes],
                     root: bytes) -> None:
    """Check that `leaf_hash` is leaf `index` (0-based) of the tree of `size` leaves and `root`.

    `path` is the audit path, leaf to root; its length must be exactly the one the shape of
    the tree dictates. Requires 0 <= index < size.
    """
    _check_args((index, size), (leaf_hash, root), path)
    what = f"inclusion of leaf {index} in tree size {size}"
    if index >= size:
        raise ProofError(f"{what}: no such leaf")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise _path_length_error(what, len(path))
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _path_length_error(what, len(path))
    if r != root:
        raise ProofError(f"{what}: root mismatch", expected=root, calculated=r)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       path: Sequence[bytes]) -> None:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root).

    Requires 0 < old_size <= new_size; equal sizes need an empty path and equal roots.
    """
    _check_args((old_size, new_size), (old_root, new_root), path)
    what = f"consistency from tree size {old_size} to {new_size}"
    if not 0 < old_size <= new_size:
        raise ProofError(f"{what}: no such proof")
    if old_size == new_size:
        if path:
            raise _path_length_error(what, len(path))
        if old_root != new_root:
            raise ProofError(f"{what}: root mismatch", expected=old_root, calculated=new_root)
        return
    terms = list(path)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        terms.insert(0, old_root)
    if not terms:
        raise _path_length_error(what, 0)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = terms[0]
    for c in terms[1:]:
        if sn == 0:
            raise _path_length_error(what, len(path))
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _path_length_error(what, len(path))
    if fr != old_root:
        raise ProofError(f"{what}: old root mismatch", expected=old_root, calculated=fr)
    if sr != new_root:
        raise ProofError(f"{what}: new root mismatch", expected=new_root, calculated=sr)
