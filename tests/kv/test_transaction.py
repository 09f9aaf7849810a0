"""Read-write transactions: snapshot isolation, own writes, conflicts, lifecycle, limits."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immusql.kv import (
    ConflictError,
    ImmuSQLError,
    InvalidArgumentError,
    KeyNotFoundError,
    LimitExceededError,
    Store,
    Transaction,
)

SEG = 64 * 1024


def keys_of(entries) -> list[bytes]:
    return [e.key for e in entries]


def pairs(entries) -> list[tuple[bytes, bytes]]:
    return [(e.key, e.value) for e in entries]


# =========================================================================================
# snapshot reads
# =========================================================================================

def test_transaction_reads_its_snapshot(store):
    store.set([(b"a", b"a1"), (b"b", b"b1"), (b"c", b"c1")])
    tx = store.transaction()
    assert isinstance(tx, Transaction) and tx.snapshot == 1
    store.set([(b"a", b"a2"), (b"new", b"n")])   # committed after the tx began
    store.delete([b"b"])
    assert tx.get(b"a").value == b"a1"
    assert tx.get(b"b").value == b"b1"               # deleted later: still visible
    with pytest.raises(KeyNotFoundError):
        tx.get(b"new")                              # created later: not visible
    assert pairs(tx.scan()) == [(b"a", b"a1"), (b"b", b"b1"), (b"c", b"c1")]
    assert pairs(tx.scan(desc=True)) == [(b"c", b"c1"), (b"b", b"b1"), (b"a", b"a1")]
    # the store itself sees the new state
    assert store.get(b"a").value == b"a2"
    tx.rollback()


def test_transaction_on_empty_store(store):
    with store.transaction() as tx:
        assert tx.snapshot == 0
        with pytest.raises(KeyNotFoundError):
            tx.get(b"k")
        assert list(tx.scan()) == []
        tx.set(b"k", b"v")
        assert tx.get(b"k").value == b"v"
    assert store.get(b"k").value == b"v"
    assert store.last_committed == 1


def test_get_follows_references_in_the_snapshot(store):
    store.set([(b"t", b"t1")])
    store.set_reference(b"r", b"t")
    tx = store.transaction()
    store.set([(b"t", b"t2")])
    e = tx.get(b"r")
    assert e.value == b"t1" and e.referenced_by.key == b"r"
    tx.rollback()


# =========================================================================================
# own writes
# =========================================================================================

def test_own_writes_visible_in_get_and_scan(store):
    store.set([(b"a", b"a1"), (b"c", b"c1"), (b"e", b"e1"), (b"g", b"g1")])
    with store.transaction() as tx:
        tx.set(b"b", b"B")            # new key between committed ones
        tx.set(b"c", b"C")            # overwrite
        tx.delete(b"e")               # delete shadows the committed value
        tx.set(b"h", b"H")            # after every committed key
        tx.set(b"0", b"zero")         # before every committed key
        assert tx.get(b"b").value == b"B"
        assert tx.get(b"c").value == b"C"
        with pytest.raises(KeyNotFoundError):
            tx.get(b"e")
        assert store.get(b"e").value == b"e1"  # not visible outside before commit
        with pytest.raises(KeyNotFoundError):
            store.get(b"b")
        want = [(b"0", b"zero"), (b"a", b"a1"), (b"b", b"B"), (b"c", b"C"), (b"g", b"g1"),
                (b"h", b"H")]
        assert pairs(tx.scan()) == want
        assert pairs(tx.scan(desc=True)) == want[::-1]
        assert pairs(tx.scan(limit=3)) == want[:3]
        assert pairs(tx.scan(desc=True, limit=2)) == want[::-1][:2]
        assert pairs(tx.scan(start=b"b", end=b"g")) == [(b"b", b"B"), (b"c", b"C")]
        assert pairs(tx.scan(start=b"b", end=b"h", desc=True)) == [
            (b"g", b"g1"), (b"c", b"C"), (b"b", b"B")]
        assert pairs(tx.scan(prefix=b"h")) == [(b"h", b"H")]
        assert pairs(tx.scan(prefix=b"e")) == []
        # own entries are not committed yet
        assert all(e.tx_id == 0 for e in tx.scan() if e.key in (b"b", b"c", b"h", b"0"))
    assert pairs(store.scan()) == want
    assert store.last_committed == 2
    with pytest.raises(KeyNotFoundError):
        store.get(b"e")
    assert [e.deleted for e in store.history(b"e")] == [False, True]


def test_write_then_delete_then_write_in_one_tx(store):
    store.set([(b"k", b"old")])
    with store.transaction() as tx:
        tx.set(b"k", b"mid")
        tx.delete(b"k")
        with pytest.raises(KeyNotFoundError):
            tx.get(b"k")
        with pytest.raises(KeyNotFoundError):
            tx.delete(b"k")  # already deleted in this transaction
        assert list(tx.scan()) == []
        tx.set(b"k", b"new")
        assert tx.get(b"k").value == b"new"
    assert store.get(b"k").value == b"new"
    tx = store.tx_by_id(store.last_committed)
    assert len(tx.entries) == 1  # one entry per key: the last write wins


def test_delete_of_missing_key_in_tx_raises(store):
    with store.transaction() as tx:
        with pytest.raises(KeyNotFoundError):
            tx.delete(b"missing")
        tx.set(b"other", b"v")
    assert store.get(b"other").value == b"v"


def test_commit_returns_header_and_none_without_writes(store):
    store.set([(b"a", b"1")])
    tx = store.transaction()
    tx.set(b"b", b"2")
    tx.set(b"c", b"3")
    h = tx.commit()
    assert h.id == 2 and h.nentries == 2
    assert store.tx_by_id(2).header == h
    ro = store.transaction()
    ro.get(b"a")
    assert ro.commit() is None
    assert store.last_committed == 2


# =========================================================================================
# conflicts
# =========================================================================================

def test_write_write_conflict(store):
    store.set([(b"k", b"0")])
    t1, t2 = store.transaction(), store.transaction()
    t1.set(b"k", b"t1")
    t2.set(b"k", b"t2")
    t1.commit()
    with pytest.raises(ConflictError) as ei:
        t2.commit()
    assert ei.value.sqlstate == "40001"
    assert store.get(b"k").value == b"t1"
    assert store.last_committed == 2  # the loser wrote nothing


def test_blind_write_after_snapshot_conflicts_with_store_set(store):
    store.set([(b"k", b"0")])
    tx = store.transaction()
    tx.set(b"k", b"tx")
    store.set([(b"k", b"outside")])
    with pytest.raises(ConflictError):
        tx.commit()
    assert store.get(b"k").value == b"outside"


def test_read_write_conflict(store):
    store.set([(b"balance", b"100"), (b"log", b"")])
    t1 = store.transaction()
    assert t1.get(b"balance").value == b"100"
    t1.set(b"log", b"saw 100")          # writes a different key than it read
    store.set([(b"balance", b"50")])    # someone changes what t1 read
    with pytest.raises(ConflictError) as ei:
        t1.commit()
    assert ei.value.sqlstate == "40001"
    assert store.get(b"log").value == b""


def test_keys_read_by_scan_count_as_read(store):
    store.set([(b"row1", b"a"), (b"row2", b"b")])
    t1 = store.transaction()
    assert keys_of(t1.scan(prefix=b"row")) == [b"row1", b"row2"]
    t1.set(b"summary", b"2 rows")
    store.set([(b"row2", b"changed")])
    with pytest.raises(ConflictError):
        t1.commit()


def test_reading_a_missing_key_then_it_appears_conflicts(store):
    store.set([(b"x", b"1")])
    t1 = store.transaction()
    with pytest.raises(KeyNotFoundError):
        t1.get(b"unique-name")
    t1.set(b"owner", b"t1")
    store.set([(b"unique-name", b"taken")])
    with pytest.raises(ConflictError):
        t1.commit()


def test_deleted_key_conflicts(store):
    store.set([(b"k", b"v")])
    t1 = store.transaction()
    t1.set(b"k", b"t1")
    store.delete([b"k"])
    with pytest.raises(ConflictError):
        t1.commit()
    with pytest.raises(KeyNotFoundError):
        store.get(b"k")


def test_read_only_transaction_never_conflicts(store):
    store.set([(b"a", b"1"), (b"b", b"2")])
    t1 = store.transaction()
    assert t1.get(b"a").value == b"1"
    assert keys_of(t1.scan()) == [b"a", b"b"]
    store.set([(b"a", b"changed"), (b"b", b"changed")])
    store.delete([b"a"])
    assert t1.get(b"a").value == b"1"  # still its snapshot
    assert t1.commit() is None
    with store.transaction() as t2:
        t2.get(b"b")
        store.set([(b"b", b"again")])
    # nothing raised, nothing written by the transactions
    assert store.last_committed == 4


def test_disjoint_transactions_do_not_conflict(store):
    store.set([(b"a", b"0"), (b"b", b"0")])
    t1, t2 = store.transaction(), store.transaction()
    assert t1.get(b"a").value == b"0"
    assert t2.get(b"b").value == b"0"
    t1.set(b"a", b"1")
    t2.set(b"b", b"2")
    t2.set(b"c", b"2")
    h1 = t1.commit()
    h2 = t2.commit()
    assert (h1.id, h2.id) == (2, 3)
    assert [(k, store.get(k).value) for k in (b"a", b"b", b"c")] == [
        (b"a", b"1"), (b"b", b"2"), (b"c", b"2")]


def test_writes_by_others_before_the_snapshot_do_not_conflict(store):
    store.set([(b"k", b"1")])
    tx = store.transaction()  # snapshot includes the write above
    tx.set(b"k", b"2")
    tx.commit()
    assert store.get(b"k").value == b"2"


def test_first_committer_wins_among_many(store):
    store.set([(b"counter", b"0")])
    txs = [store.transaction() for _ in range(5)]
    for i, tx in enumerate(txs):
        n = int(tx.get(b"counter").value)
        tx.set(b"counter", b"%d" % (n + 1 + i))
    txs[2].commit()
    for i, tx in enumerate(txs):
        if i == 2:
            continue
        with pytest.raises(ConflictError):
            tx.commit()
    assert store.get(b"counter").value == b"3"
    assert store.last_committed == 2


# =========================================================================================
# lifecycle
# =========================================================================================

def test_context_manager_commits_on_success(store):
    with store.transaction() as tx:
        tx.set(b"k", b"v")
    assert store.get(b"k").value == b"v"


def test_context_manager_rolls_back_on_exception(store):
    store.set([(b"k", b"before")])

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with store.transaction() as tx:
            tx.set(b"k", b"during")
            tx.set(b"other", b"x")
            raise Boom()
    assert store.get(b"k").value == b"before"
    with pytest.raises(KeyNotFoundError):
        store.get(b"other")
    assert store.last_committed == 1


def test_context_manager_propagates_conflict(store):
    store.set([(b"k", b"0")])
    with pytest.raises(ConflictError):
        with store.transaction() as tx:
            tx.set(b"k", b"tx")
            store.set([(b"k", b"other")])
    assert store.get(b"k").value == b"other"


def test_explicit_rollback_discards_writes(store):
    tx = store.transaction()
    tx.set(b"k", b"v")
    tx.rollback()
    assert store.last_committed == 0
    with pytest.raises(KeyNotFoundError):
        store.get(b"k")


@pytest.mark.parametrize("finish", ["commit", "rollback", "conflict"])
def test_use_after_finish_is_rejected(store, finish):
    store.set([(b"k", b"v")])
    tx = store.transaction()
    tx.set(b"x", b"1")
    if finish == "commit":
        tx.commit()
    elif finish == "rollback":
        tx.rollback()
    else:
        tx.set(b"k", b"mine")
        store.set([(b"k", b"theirs")])
        with pytest.raises(ConflictError):
            tx.commit()
    committed = store.last_committed
    for call in (lambda: tx.get(b"k"), lambda: tx.set(b"y", b"2"), lambda: tx.delete(b"k"),
                 lambda: list(tx.scan()), lambda: tx.commit()):
        with pytest.raises(InvalidArgumentError):
            call()
    assert store.last_committed == committed
    with pytest.raises(KeyNotFoundError):
        store.get(b"y")


def test_limit_on_keys_written(store_path):
    with Store.open(store_path, segment_size=SEG, max_tx_entries=4, max_value_len=8) as s:
        with s.transaction() as tx:
            for i in range(4):
                tx.set(b"k%d" % i, b"v")
            tx.set(b"k0", b"again")      # rewriting a key does not count twice
            with pytest.raises(LimitExceededError) as ei:
                tx.set(b"k4", b"v")
            assert ei.value.sqlstate == "54000"
        assert s.get(b"k0").value == b"again"
        assert s.tx_by_id(1).header.nentries == 4
        with s.transaction() as tx:
            with pytest.raises(LimitExceededError):
                tx.set(b"big", b"123456789")   # value limit
            with pytest.raises(LimitExceededError):
                tx.set(b"k" * 1025, b"v")      # key limit
            with pytest.raises(InvalidArgumentError):
                tx.set("str", b"v")
            with pytest.raises(InvalidArgumentError):
                tx.set(b"k", "str")
            tx.set(b"ok", b"v")
        assert s.get(b"ok").value == b"v"
        tx = s.transaction()
        for i in range(4):
            tx.delete(b"k%d" % i)
        with pytest.raises(LimitExceededError):
            tx.set(b"fifth", b"v")
        tx.commit()
        assert keys_of(s.scan()) == [b"ok"]


def test_transaction_refused_on_read_only_store(store_path):
    with Store.open(store_path, segment_size=SEG) as s:
        s.set([(b"k", b"v")])
    with Store.open(store_path, read_only=True) as ro:
        with pytest.raises(ImmuSQLError) as ei:
            ro.transaction()
        assert len(ei.value.sqlstate) == 5


# =========================================================================================
# model-based: transaction scan merges snapshot and own writes correctly
# =========================================================================================

tkeys = st.sampled_from([b"a", b"ab", b"abc", b"b", b"b\xff", b"\xff", b"\xff\xff", b"c",
                         b"\x00", b"ca"])
tbounds = st.one_of(st.none(), tkeys)
tops = st.lists(st.tuples(st.sampled_from(["set", "del"]), tkeys, st.binary(max_size=3)),
                max_size=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(before=tops, concurrent=tops, own=tops, prefix=st.sampled_from([b"", b"a", b"b", b"\xff"]),
       start=tbounds, end=tbounds, desc=st.booleans(), limit=st.one_of(st.none(), st.integers(0, 6)))
def test_transaction_view_and_conflicts_match_model(before, concurrent, own, prefix, start, end,
                                                    desc, limit):
    d = tempfile.mkdtemp(prefix="immusql-tx-")
    try:
        with Store.open(d, segment_size=4096, synced=False) as s:

            def apply(ops, model, write_set, write_del) -> set[bytes]:
                """Apply ops to the store and the model; return the keys really written."""
                written = set()
                for op, k, v in ops:
                    if op == "set":
                        write_set(k, v)
                        model[k] = v
                        written.add(k)
                    elif k in model:
                        write_del(k)
                        del model[k]
                        written.add(k)
                    else:
                        with pytest.raises(KeyNotFoundError):
                            write_del(k)
                return written

            snapshot: dict[bytes, bytes] = {}
            apply(before, snapshot, lambda k, v: s.set([(k, v)]), lambda k: s.delete([k]))
            viewer, committer = s.transaction(), s.transaction()
            later = dict(snapshot)
            changed = apply(concurrent, later, lambda k, v: s.set([(k, v)]),
                            lambda k: s.delete([k]))

            # what a transaction sees: its snapshot overlaid with its own writes
            view = dict(snapshot)
            apply(own, view, viewer.set, viewer.delete)
            want = sorted((k, v) for k, v in view.items() if k.startswith(prefix)
                          and (start is None or k >= start) and (end is None or k < end))
            if desc:
                want.reverse()
            if limit is not None:
                want = want[:limit]
            assert pairs(viewer.scan(prefix=prefix, start=start, end=end, desc=desc,
                                     limit=limit)) == want
            for k in {k for _, k, _ in own + before + concurrent}:
                if k in view:
                    assert viewer.get(k).value == view[k]
                else:
                    with pytest.raises(KeyNotFoundError):
                        viewer.get(k)
            viewer.rollback()

            # commit: every key of `own` is read or written, so it conflicts exactly when
            # it has writes and one of those keys was written since the snapshot
            mine = dict(snapshot)
            wrote = apply(own, mine, committer.set, committer.delete)
            touched = {k for _, k, _ in own}
            if wrote and changed & touched:
                with pytest.raises(ConflictError):
                    committer.commit()
                final = later
            else:
                h = committer.commit()
                assert (h is None) == (not wrote)
                final = dict(later)
                for k in wrote:
                    if k in mine:
                        final[k] = mine[k]
                    else:
                        final.pop(k, None)
            assert dict(pairs(s.scan())) == final
    finally:
        shutil.rmtree(d, ignore_errors=True)
