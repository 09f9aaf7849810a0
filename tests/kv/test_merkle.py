"""immusql.kv.merkle against the naive recursive RFC 6962 reference.

Shapes and roots must equal the reference's; RFC 9162 path checks must accept every honest
path and raise ProofError for every mutation of one.
"""

from __future__ import annotations

import functools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immusql.kv import merkle, proofs
from immusql.kv.hashing import EMPTY_HASH, leaf_hash, node_hash, sha256
from immusql.kv.merkle import verify_consistency, verify_inclusion

try:
    from .chain import (
        flip,
        path_mutations,
        ref_mth,
        ref_path_ranges,
        ref_subproof_ranges,
        rejects,
    )
except ImportError:  # tests/kv is not a package: pytest put this directory on sys.path
    from chain import (
        flip,
        path_mutations,
        ref_mth,
        ref_path_ranges,
        ref_subproof_ranges,
        rejects,
    )

EXHAUSTIVE = 70
BIG = 4096
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(BIG)]


@functools.lru_cache(maxsize=None)
def range_hash(begin: int, end: int) -> bytes:
    """MTH of LEAVES[begin:end], computed with the naive reference."""
    assert 0 <= begin < end <= BIG
    if end - begin == 1:
        return LEAVES[begin]
    k = 1
    while k * 2 < end - begin:
        k *= 2
    return node_hash(range_hash(begin, begin + k), range_hash(begin + k, end))


def test_reference_is_rfc6962_on_small_trees():
    """Pin the reference itself to hand-written trees, so both cannot drift together."""
    a, b, c, d, e = LEAVES[:5]
    assert ref_mth([]) == EMPTY_HASH
    assert ref_mth([a]) == a
    assert ref_mth([a, b, c]) == node_hash(node_hash(a, b), c)
    assert ref_mth([a, b, c, d, e]) == node_hash(node_hash(node_hash(a, b), node_hash(c, d)), e)
    assert ref_path_ranges(2, 0, 5) == [(3, 4), (0, 2), (4, 5)]
    assert ref_subproof_ranges(3, 0, 7, True) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    assert ref_subproof_ranges(4, 0, 7, True) == [(4, 7)]  # old root omitted (power of two)


def test_root_empty_and_single():
    assert merkle.root([]) == EMPTY_HASH
    assert merkle.root([LEAVES[7]]) == LEAVES[7]
    assert merkle.EntriesTree([]).root == EMPTY_HASH
    assert merkle.EntriesTree([]).width == 0


def test_root_matches_reference_exhaustively():
    for size in range(0, EXHAUSTIVE + 1):
        want = ref_mth(LEAVES[:size])
        assert merkle.root(LEAVES[:size]) == want, size
        tree = merkle.EntriesTree(LEAVES[:size])
        assert tree.root == want and tree.width == size


def test_root_accepts_any_sequence_and_keeps_input():
    leaves = LEAVES[:9]
    assert merkle.root(tuple(leaves)) == ref_mth(leaves)
    assert merkle.EntriesTree(tuple(leaves)).inclusion(8) == [range_hash(0, 8)]
    assert leaves == LEAVES[:9]


def test_inclusion_matches_reference_exhaustively():
    for size in range(1, EXHAUSTIVE + 1):
        tree = merkle.EntriesTree(LEAVES[:size])
        for index in range(size):
            ranges = merkle.inclusion_ranges(index, size)
            assert ranges == ref_path_ranges(index, 0, size), (index, size)
            path = merkle.inclusion_path(index, size, range_hash)
            assert path == [range_hash(b, e) for b, e in ranges]
            assert tree.inclusion(index) == path, (index, size)


def test_consistency_matches_reference_exhaustively():
    for new in range(1, EXHAUSTIVE + 1):
        for old in range(1, new + 1):
            ranges = merkle.consistency_ranges(old, new)
            assert ranges == ref_subproof_ranges(old, 0, new, True), (old, new)
            assert merkle.consistency_path(old, new, range_hash) == [
                range_hash(b, e) for b, e in ranges]
    assert merkle.consistency_ranges(5, 5) == []
    assert merkle.consistency_ranges(8, 8) == []


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_big_trees_match_reference(data):
    size = data.draw(st.integers(1, BIG), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    assert merkle.inclusion_ranges(index, size) == ref_path_ranges(index, 0, size)
    assert merkle.consistency_ranges(old, size) == ref_subproof_ranges(old, 0, size, True)
    assert merkle.root(LEAVES[:size]) == range_hash(0, size)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1100), st.data())
def test_entries_tree_matches_range_functions(width, data):
    tree = merkle.EntriesTree(LEAVES[:width])
    assert tree.root == range_hash(0, width) == merkle.root(LEAVES[:width])
    for index in data.draw(st.lists(st.integers(0, width - 1), min_size=1, max_size=8)):
        assert tree.inclusion(index) == merkle.inclusion_path(index, width, range_hash)


def _largest_pow2_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def _check_shape(ranges: list[tuple[int, int]], size: int) -> None:
    for begin, end in ranges:
        assert 0 <= begin < end <= size
        length = end - begin
        p = _largest_pow2_at_most(length)
        assert begin % p == 0, (begin, end, size)
        if length != p:  # not a perfect subtree: it must reach the right edge
            assert end == size, (begin, end, size)


def test_range_shape_guarantee():
    for size in range(1, 300):
        for index in range(size):
            _check_shape(merkle.inclusion_ranges(index, size), size)
        for old in range(1, size + 1):
            _check_shape(merkle.consistency_ranges(old, size), size)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 1 << 40), st.data())
def test_range_shape_guarantee_huge(size, data):
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    inc = merkle.inclusion_ranges(index, size)
    _check_shape(inc, size)
    # the audit path's ranges and the leaf tile the whole tree exactly
    covered = sorted(inc + [(index, index + 1)])
    assert covered[0][0] == 0 and covered[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))
    _check_shape(merkle.consistency_ranges(old, size), size)


def test_preconditions():
    for index, size in ((0, 0), (3, 3), (-1, 4), (5, 2)):
        with pytest.raises(ValueError):
            merkle.inclusion_ranges(index, size)
        with pytest.raises(ValueError):
            merkle.inclusion_path(index, size, range_hash)
    for old, new in ((0, 0), (0, 5), (6, 5), (-1, 3)):
        with pytest.raises(ValueError):
            merkle.consistency_ranges(old, new)
        with pytest.raises(ValueError):
            merkle.consistency_path(old, new, range_hash)
    tree = merkle.EntriesTree(LEAVES[:3])
    for index in (-1, 3):
        with pytest.raises(ValueError):
            tree.inclusion(index)


# --- RFC 9162 path checks ------------------------------------------------------------------

N = EXHAUSTIVE
SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 31, 32, 33, 63, 64, 65, 70)
mth = range_hash


def inc_path(index, size):
    return [mth(b, e) for b, e in ref_path_ranges(index, 0, size)]


def cons_path(old, new):
    return [mth(b, e) for b, e in ref_subproof_ranges(old, 0, new, True)]


def test_proofs_reexports_the_checks():
    assert proofs.verify_inclusion is verify_inclusion
    assert proofs.verify_consistency is verify_consistency


def test_inclusion_accepts_every_honest_path():
    for size in range(1, N + 1):
        for index in range(size):
            verify_inclusion(LEAVES[index], index, size, inc_path(index, size), mth(0, size))


def test_consistency_accepts_every_honest_path():
    for new in range(1, N + 1):
        for old in range(1, new + 1):
            verify_consistency(old, new, mth(0, old), mth(0, new), cons_path(old, new))


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_rejects_mutations(size):
    rng = random.Random(size)
    root = mth(0, size)
    for index in sorted({0, size // 2, size - 1, rng.randrange(size)}):
        path = inc_path(index, size)
        leaf = LEAVES[index]
        for name, bad in path_mutations(path, rng):
            assert bad != path, name
            rejects(verify_inclusion, leaf, index, size, bad, root)
        for other in range(size):  # any other position, same tree
            if other != index:
                rejects(verify_inclusion, leaf, other, size, path, root)
        for bad_size in {size - 1, size + 1, 2 * size, size + 7} - {size, 0}:
            bad_root = mth(0, bad_size) if bad_size <= N else sha256(b"%d" % bad_size)
            rejects(verify_inclusion, leaf, index, bad_size, path, bad_root)
        rejects(verify_inclusion, leaf, size, size, path, root)  # index == size
        rejects(verify_inclusion, leaf, index + size, size, path, root)
        rejects(verify_inclusion, flip(leaf, 9), index, size, path, root)
        rejects(verify_inclusion, sha256(index.to_bytes(4, "big")), index, size, path, root)
        if size > 1:  # in a one-leaf tree the leaf hash is the root
            rejects(verify_inclusion, root, index, size, path, leaf)  # swapped leaf and root
        rejects(verify_inclusion, leaf, index, size, path, flip(root, 255))
        rejects(verify_inclusion, leaf, -1, size, path, root)
        rejects(verify_inclusion, leaf, True, size, path, root)  # bool is not an index
        rejects(verify_inclusion, leaf, index, size, [p.hex() for p in path] or [""], root)
        rejects(verify_inclusion, leaf, index, size, [p[:31] for p in path] or [b""], root)
        rejects(verify_inclusion, leaf[:31], index, size, path, root)
    rejects(verify_inclusion, LEAVES[0], 0, 0, [], EMPTY_HASH)  # nothing is in an empty tree


@pytest.mark.parametrize("new", SIZES)
def test_consistency_rejects_mutations(new):
    rng = random.Random(new)
    new_root = mth(0, new)
    for old in sorted({1, new // 2 or 1, new - 1 or 1, new, rng.randint(1, new)}):
        old_root = mth(0, old)
        path = cons_path(old, new)
        for name, bad in path_mutations(path, rng):
            rejects(verify_consistency, old, new, old_root, new_root, bad)
        if old != new:
            rejects(verify_consistency, old, new, new_root, old_root, path)  # swapped roots
            rejects(verify_consistency, old, new, old_root, old_root, path)
            rejects(verify_consistency, old, new, new_root, new_root, path)
            rejects(verify_consistency, new, old, new_root, old_root, path)  # swapped sizes
        else:
            rejects(verify_consistency, old, new, old_root, flip(new_root, 1), path)
        rejects(verify_consistency, old, new, flip(old_root, 200), new_root, path)
        rejects(verify_consistency, old, new, old_root, flip(new_root, 100), path)
        for bad_old in {old - 1, old + 1} - {0, old}:
            if bad_old <= new:
                rejects(verify_consistency, bad_old, new, mth(0, bad_old), new_root, path)
        for bad_new in {new - 1, new + 1} - {new}:
            if old <= bad_new <= N:
                rejects(verify_consistency, old, bad_new, old_root, mth(0, bad_new), path)
        rejects(verify_consistency, 0, new, EMPTY_HASH, new_root, path)
        rejects(verify_consistency, old, new, old_root[:31], new_root, path)


def ancestors(index: int, size: int) -> list[tuple[int, int]]:
    """Every node of the tree of `size` leaves that contains leaf `index`."""
    begin, end, out = 0, size, []
    while end - begin > 1:
        out.append((begin, end))
        k = 1
        while k * 2 < end - begin:
            k *= 2
        begin, end = (begin, begin + k) if index < begin + k else (begin + k, end)
    return out + [(begin, end)]


@pytest.mark.parametrize("size", SIZES)
def test_truncated_path_cannot_prove_a_subtree_as_the_root(size):
    """A prefix of an honest path computes some inner node; it must not pass as the root
    of the claimed size (this is what the RFC's final `sn == 0` check is for)."""
    for index in sorted({0, size // 3, size - 1}):
        path = inc_path(index, size)
        for cut in range(len(path)):
            for b, e in ancestors(index, size):
                rejects(verify_inclusion, LEAVES[index], index, size, path[:cut], mth(b, e))
    for old in sorted({1, 2, size // 2 or 1, size - 1 or 1}):
        if old >= size:
            continue
        path = cons_path(old, size)
        for cut in range(len(path)):
            for b, e in ancestors(old - 1, size):
                rejects(verify_consistency, old, size, mth(0, old), mth(b, e), path[:cut])


@pytest.mark.parametrize("size", SIZES)
def test_extended_path_cannot_prove_a_bigger_root(size):
    """A term past the root acts as a left sibling of the root; the roots that it would
    build must still be rejected (the RFC's in-loop `sn == 0` check)."""
    extra = sha256(b"extra")
    for index in sorted({0, size // 2, size - 1}):
        rejects(verify_inclusion, LEAVES[index], index, size, inc_path(index, size) + [extra],
                node_hash(extra, mth(0, size)))
    for old in sorted({1, 3, size // 2 or 1, size - 1 or 1} - {size}):
        if old < size:
            rejects(verify_consistency, old, size, node_hash(extra, mth(0, old)),
                    node_hash(extra, mth(0, size)), cons_path(old, size) + [extra])


def test_consistency_empty_path_only_for_equal_sizes():
    for new in range(2, 20):
        for old in range(1, new):
            rejects(verify_consistency, old, new, mth(0, old), mth(0, new), [])
        verify_consistency(new, new, mth(0, new), mth(0, new), [])
