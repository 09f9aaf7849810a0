"""The append-only RFC 6962 hash tree over every transaction's alh (PROOFS.md section 3).

Storage: every *perfect* subtree root, 32 bytes each, in post-order, in one Appendable
(`aht/NNNNNNNN.aht`). Leaf i (0-based) adds its leaf hash and then one node per perfect
subtree it completes, so a tree of n leaves holds 2n - popcount(n) hashes and any perfect
node (level l, index k) sits at a computable slot. Ragged right-edge nodes are never
stored: they are folded from the perfect ones they cover (at most log2(n) of them).

The tree is derived data: it can always be rebuilt from the alh column of the tx index.
"""

from __future__ import annotations

import threading

from . import merkle
from .appendable import Appendable
from .errors import CorruptionError
from .hashing import EMPTY_HASH, HASH_SIZE, leaf_hash, node_hash


def nodes_for(leaves: int) -> int:
    """Stored hashes of a tree with `leaves` leaves."""
    return 2 * leaves - leaves.bit_count()


def node_slot(level: int, index: int) -> int:
    """Post-order slot of the perfect node covering leaves [index << level, (index+1) << level)."""
    return (index << (level + 1)) - index.bit_count() + (1 << (level + 1)) - 2


class HashTree:
    def __init__(self, storage: Appendable):
        self._storage = storage
        self._lock = threading.Lock()
        count, rest = divmod(storage.size(), HASH_SIZE)
        leaves = _leaves_within(count)
        if rest or nodes_for(leaves) != count:  # torn append: cut back to whole leaves
            storage.truncate(nodes_for(leaves) * HASH_SIZE)
        self._size = leaves
        self._frontier = self._load_frontier(leaves)  # [(level, hash)], left to right

    @property
    def size(self) -> int:
        return self._size

    def _node(self, level: int, index: int) -> bytes:
        return self._storage.read(node_slot(level, index) * HASH_SIZE, HASH_SIZE)

    def _load_frontier(self, leaves: int) -> list[tuple[int, bytes]]:
        frontier, start = [], 0
        for level in range(leaves.bit_length() - 1, -1, -1):
            if leaves >> level & 1:
                frontier.append((level, self._node(level, start >> level)))
                start += 1 << level
        return frontier

    def append(self, alh: bytes) -> None:
        """Add the next leaf (caller serialises appends)."""
        h = leaf_hash(alh)
        out = [h]
        level = 0
        frontier = self._frontier
        while frontier and frontier[-1][0] == level:
            h = node_hash(frontier.pop()[1], h)
            level += 1
            out.append(h)
        frontier.append((level, h))
        self._storage.append(b"".join(out))
        self._size += 1

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all)."""
        if size is None or size == self._size:
            return self._frontier_root()
        if size == 0:
            return EMPTY_HASH
        return self.range_hash(0, size)

    def _frontier_root(self) -> bytes:
        if not self._frontier:
            return EMPTY_HASH
        h = self._frontier[-1][1]
        for _, left in reversed(self._frontier[:-1]):
            h = node_hash(left, h)
        return h

    def range_hash(self, begin: int, end: int) -> bytes:
        """MTH of leaves [begin, end): a perfect subtree, or a right-edge range of one."""
        if not 0 <= begin < end <= self._size:
            raise ValueError(f"range [{begin}, {end}) outside a tree of {self._size}")
        chunks = []
        while begin < end:
            level = (begin & -begin).bit_length() - 1 if begin else 63
            while (1 << level) > end - begin:
                level -= 1
            chunks.append(self._node(level, begin >> level))
            begin += 1 << level
        h = chunks[-1]
        for left in reversed(chunks[:-1]):
            h = node_hash(left, h)
        return h

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_path(index, size, self.range_hash)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return merkle.consistency_path(old_size, new_size, self.range_hash)

    def leaf(self, index: int) -> bytes:
        """The stored leaf hash H(0x00 || alh) of 0-based leaf `index`."""
        return self._node(0, index)

    def truncate(self, leaves: int) -> None:
        """Forget leaves past `leaves` (the log was cut back after a crash)."""
        if leaves < self._size:
            self._storage.truncate(nodes_for(leaves) * HASH_SIZE)
            self._size = leaves
            self._frontier = self._load_frontier(leaves)

    def check_leaf(self, index: int, alh: bytes) -> None:
        if self.leaf(index) != leaf_hash(alh):
            raise CorruptionError("hash tree leaf does not match the transaction's alh",
                                  where=f"aht leaf {index}", tx_id=index + 1)


def _leaves_within(count: int) -> int:
    """Largest n with nodes_for(n) <= count (nodes_for is monotonic)."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if nodes_for(mid) <= count:
            lo = mid
        else:
            hi = mid - 1
    return lo
