"""Stored per-transaction entries trees, so a verified read never re-hashes a transaction.

Each transaction's entries tree (PROOFS.md section 4) is computed once at commit and
appended whole to the `htree/` log: every level, leaves first, 32 bytes a node; the last
node is `eh`. A level of m nodes is followed by one of ceil(m / 2) (an odd last node is
promoted), so the layout follows from the entry count alone. Derived data: it is rebuilt
from the transaction log, and every path read from it is checked against the header
before it is served.
"""

from __future__ import annotations

from .hashing import HASH_SIZE


def level_sizes(width: int) -> list[int]:
    sizes = [width]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def tree_size(width: int) -> int:
    """Bytes the stored tree of a `width`-entry transaction takes."""
    return sum(level_sizes(width)) * HASH_SIZE


def serialize(levels: list[list[bytes]]) -> bytes:
    return b"".join(b"".join(level) for level in levels)


def path_from(raw: bytes, width: int, index: int) -> list[bytes]:
    """Audit path of leaf `index` from a stored tree (`raw` is the whole tree)."""
    path, base = [], 0
    for size in level_sizes(width)[:-1]:
        sibling = index ^ 1
        if sibling < size:
            at = (base + sibling) * HASH_SIZE
            path.append(raw[at:at + HASH_SIZE])
        base += size
        index >>= 1
    return path


def root_from(raw: bytes) -> bytes:
    return raw[-HASH_SIZE:]
