"""Real threads against one store: gap-free tx ids, readers during writes, no lost updates,
and group commit. Coordination uses Barriers and Events only (never sleeps).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter

import pytest

from immusql.kv import (
    ConflictError,
    KeyNotFoundError,
    Store,
    StoreClosedError,
    Verifier,
)

WAIT = 60  # seconds: an upper bound for Event/Barrier waits, only reached on a hang

SEG = 64 * 1024


class Threads:
    """Start functions in threads and re-raise the first exception any of them raised."""

    def __init__(self):
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def start(self, fn, *args):
        def run():
            try:
                fn(*args)
            except BaseException as e:  # noqa: BLE001 - re-raised in join()
                with self._lock:
                    self.errors.append(e)
        t = threading.Thread(target=run, daemon=True)
        self.threads.append(t)
        t.start()
        return t

    def join(self):
        for t in self.threads:
            t.join(WAIT * 4)
            assert not t.is_alive(), "a thread did not finish (deadlock?)"
        if self.errors:
            raise self.errors[0]


def test_concurrent_writers_and_readers(store_path):
    writers, per_writer = 16, 100
    total = writers * per_writer
    with Store.open(store_path, segment_size=SEG, synced=False) as s:
        start = threading.Barrier(writers + 4)
        writers_done = threading.Event()
        ids: list[int] = []
        committed: list[tuple[bytes, bytes, int]] = []  # (key, value, tx) acknowledged
        lock = threading.Lock()
        reads = Counter()

        def writer(w: int):
            start.wait(WAIT)
            for i in range(per_writer):
                key, value = b"w%02d-%04d" % (w, i), b"value %d/%d" % (w, i)
                h = s.set([(key, value)])
                assert h.nentries == 1
                with lock:
                    ids.append(h.id)
                    committed.append((key, value, h.id))

        def reader_get():
            start.wait(WAIT)
            n = 0
            while not writers_done.is_set() or n < 20:
                with lock:
                    sample = committed[n * 7 % len(committed)] if committed else None
                if sample is not None:
                    key, value, tx_id = sample
                    e = s.get(key)
                    assert (e.value, e.tx_id) == (value, tx_id)
                    assert s.get(key, at_tx=tx_id).value == value
                    with pytest.raises(KeyNotFoundError):
                        s.get(key, at_tx=tx_id - 1)
                n += 1
            reads["get"] += n

        def reader_scan():
            start.wait(WAIT)
            n = 0
            while not writers_done.is_set() or n < 5:
                state = s.state()
                entries = list(s.scan(at_tx=state.tx_id))
                # a snapshot scan holds exactly the keys of transactions 1..tx_id
                assert len(entries) == state.tx_id
                assert sorted(e.tx_id for e in entries) == list(range(1, state.tx_id + 1))
                keys = [e.key for e in entries]
                assert keys == sorted(keys)
                latest = list(s.scan(prefix=b"w0", desc=True, limit=10))
                assert [e.key for e in latest] == sorted((e.key for e in latest), reverse=True)
                n += 1
            reads["scan"] += n

        def reader_verify():
            start.wait(WAIT)
            v = Verifier(s.db)
            n = 0
            while not writers_done.is_set() or n < 10:
                with lock:
                    sample = committed[n * 13 % len(committed)] if committed else None
                if sample is not None:
                    key, value, tx_id = sample
                    p = v.verify_entry(s.verifiable_get(key, since_tx=v.state.tx_id))
                    assert p.value == b"\x00" + value and p.tx.id == tx_id
                    assert v.state.tx_id <= s.last_committed
                n += 1
            reads["verify"] += n

        def reader_state():
            start.wait(WAIT)
            last = 0
            while not writers_done.is_set():
                st_ = s.state()
                assert st_.tx_id >= last  # never moves back
                if st_.tx_id:
                    assert s.alh(st_.tx_id) == st_.alh
                    assert s.tx_by_id(st_.tx_id).header.alh() == st_.alh
                last = st_.tx_id

        pool = Threads()
        write_threads = [pool.start(writer, w) for w in range(writers)]
        for fn in (reader_get, reader_scan, reader_verify, reader_state):
            pool.start(fn)
        for t in write_threads:
            t.join(WAIT * 4)
        writers_done.set()
        pool.join()

        assert sorted(ids) == list(range(1, total + 1))  # no gap, no duplicate
        assert s.last_committed == total
        assert reads["get"] >= 20 and reads["scan"] >= 5 and reads["verify"] >= 10
        for key, value, tx_id in committed:
            e = s.get(key)
            assert (e.value, e.tx_id, e.revision) == (value, tx_id, 1)
        # the chain is linear: each header names the one before
        headers = [t.header for t in s.tx_scan(1)]
        assert [h.id for h in headers] == list(range(1, total + 1))
        for prev, cur in zip(headers, headers[1:]):
            assert cur.prev_alh == prev.alh() and cur.ts >= prev.ts
        report = s.check()
        assert report.transactions == total and report.entries == total
        state = s.state()
    with Store.open(store_path) as s:
        assert s.state() == state
        assert len(list(s.scan())) == total


def test_concurrent_counter_increments_lose_no_update(store_path):
    threads, increments = 8, 25
    with Store.open(store_path, segment_size=SEG, synced=False) as s:
        s.set([(b"counter", b"0")])
        start = threading.Barrier(threads)
        conflicts = Counter()

        def worker(w: int):
            start.wait(WAIT)
            done = 0
            while done < increments:
                try:
                    with s.transaction() as tx:
                        n = int(tx.get(b"counter").value)
                        tx.set(b"counter", b"%d" % (n + 1))
                        tx.set(b"by-%d" % w, b"%d" % (done + 1))
                    done += 1
                except ConflictError as e:
                    assert e.sqlstate == "40001"
                    conflicts[w] += 1

        pool = Threads()
        for w in range(threads):
            pool.start(worker, w)
        pool.join()
        assert s.get(b"counter").value == b"%d" % (threads * increments)
        for w in range(threads):
            assert s.get(b"by-%d" % w).value == b"%d" % increments
        # every successful increment is one transaction; the history is 0, 1, 2, ... n
        hist = [int(e.value) for e in s.history(b"counter")]
        assert hist == list(range(threads * increments + 1))
        assert s.last_committed == 1 + threads * increments
        s.check()


def test_concurrent_transactions_on_disjoint_keys_all_commit(store_path):
    threads, per = 8, 20
    with Store.open(store_path, segment_size=SEG, synced=False) as s:
        start = threading.Barrier(threads)

        def worker(w: int):
            start.wait(WAIT)
            for i in range(per):
                with s.transaction() as tx:  # would raise ConflictError on a false conflict
                    key = b"t%d" % w
                    try:
                        n = int(tx.get(key).value)
                    except KeyNotFoundError:
                        n = 0
                    tx.set(key, b"%d" % (n + 1))

        pool = Threads()
        for w in range(threads):
            pool.start(worker, w)
        pool.join()
        assert [s.get(b"t%d" % w).value for w in range(threads)] == [b"%d" % per] * threads
        assert s.last_committed == threads * per


def test_conflict_detected_while_the_other_tx_is_still_being_written(store_path):
    """A transaction that is precommitted but not yet durable still wins the conflict."""
    with Store.open(store_path, segment_size=SEG) as s:
        s.set([(b"k", b"0")])
        in_batch, release = threading.Event(), threading.Event()
        original = s._write_batch

        def slow_batch(batch):
            if any(p.header.id == 2 for p in batch):
                in_batch.set()
                assert release.wait(WAIT)
            return original(batch)

        original_wait = s._wait_committed

        def watch_wait(tx_id):
            if tx_id == 3:  # the loser got past the conflict check: let the winner finish
                release.set()
            return original_wait(tx_id)

        s._write_batch = slow_batch
        s._wait_committed = watch_wait
        loser = s.transaction()
        loser.set(b"k", b"loser")
        pool = Threads()
        pool.start(lambda: s.set([(b"k", b"winner")]))
        assert in_batch.wait(WAIT)
        try:
            with pytest.raises(ConflictError):
                loser.commit()
        finally:
            release.set()
            pool.join()
        assert s.get(b"k").value == b"winner"
        assert s.last_committed == 2


def test_group_commit_batches_waiting_writers(store_path):
    """Deterministic: while the first batch's fsync is held, 15 more writers precommit;
    they must all be written by one following batch, not one batch each."""
    writers = 16
    with Store.open(store_path, segment_size=SEG, synced=True) as s:
        batches: list[list[int]] = []
        first_in, all_queued = threading.Event(), threading.Event()
        queued = Counter()
        qlock = threading.Lock()
        original_batch, original_wait = s._write_batch, s._wait_committed

        def counting_batch(batch):
            batches.append([p.header.id for p in batch])
            if len(batches) == 1:
                first_in.set()
                assert all_queued.wait(WAIT)
            return original_batch(batch)

        def counting_wait(tx_id):
            with qlock:  # runs after the tx was precommitted
                queued["n"] += 1
                if queued["n"] == writers:
                    all_queued.set()
            return original_wait(tx_id)

        s._write_batch = counting_batch
        s._wait_committed = counting_wait
        ids = []
        ids_lock = threading.Lock()

        def writer(w):
            h = s.set([(b"g%02d" % w, b"v%d" % w)])
            with ids_lock:
                ids.append(h.id)

        pool = Threads()
        pool.start(writer, 0)
        assert first_in.wait(WAIT)
        for w in range(1, writers):
            pool.start(writer, w)
        pool.join()
        assert sorted(ids) == list(range(1, writers + 1))
        assert batches == [[1], list(range(2, writers + 1))]
        for w in range(writers):
            assert s.get(b"g%02d" % w).value == b"v%d" % w
        s.check()


def test_group_commit_shares_fsyncs_under_load(store_path):
    """Natural load, synced=True: 16 threads; fewer batches (fsync pairs) than transactions,
    every transaction in exactly one batch, in id order."""
    writers, per = 16, 25
    total = writers * per
    with Store.open(store_path, segment_size=SEG, synced=True) as s:
        batches: list[list[int]] = []
        original = s._write_batch

        def counting(batch):
            batches.append([p.header.id for p in batch])
            return original(batch)

        s._write_batch = counting
        start = threading.Barrier(writers)

        def writer(w):
            start.wait(WAIT)
            for i in range(per):
                s.set([(b"n%02d-%03d" % (w, i), b"x")])

        pool = Threads()
        for w in range(writers):
            pool.start(writer, w)
        pool.join()
        flat = [i for b in batches for i in b]
        assert flat == list(range(1, total + 1))  # each tx written once, in order
        assert len(batches) < total, "group commit never put two transactions in one fsync"
        assert max(len(b) for b in batches) > 1
        assert s.last_committed == total
        s.check()


def test_concurrent_delete_of_the_same_key_succeeds_once(store_path):
    """Two deletes of one live key racing: exactly one may succeed, the other must raise
    KeyNotFoundError (the key is already deleted when its turn comes)."""
    with Store.open(store_path, segment_size=SEG) as s:
        s.set([(b"k", b"v")])
        in_batch, release, second_done = threading.Event(), threading.Event(), threading.Event()
        original_batch, original_wait = s._write_batch, s._wait_committed

        def slow_batch(batch):
            if any(p.header.id == 2 for p in batch):
                in_batch.set()
                assert release.wait(WAIT)
            return original_batch(batch)

        def watch_wait(tx_id):
            if threading.current_thread().name == "second-delete":
                second_done.set()  # the second delete passed its precondition
            return original_wait(tx_id)

        s._write_batch = slow_batch
        s._wait_committed = watch_wait
        results = {}

        def first():
            results["first"] = s.delete([b"k"])

        def second_delete():
            try:
                results["second"] = s.delete([b"k"])
            except KeyNotFoundError as e:
                results["second"] = e
            finally:
                second_done.set()

        t1 = threading.Thread(target=first, daemon=True)
        t1.start()
        assert in_batch.wait(WAIT)  # the first delete is precommitted, not yet durable
        t2 = threading.Thread(target=second_delete, name="second-delete", daemon=True)
        t2.start()
        assert second_done.wait(WAIT)
        release.set()
        t1.join(WAIT)
        t2.join(WAIT)
        assert not t1.is_alive() and not t2.is_alive()
        tombstones = [e for e in s.history(b"k") if e.deleted]
        assert isinstance(results["second"], KeyNotFoundError), (
            f"both deletes succeeded: {len(tombstones)} tombstones for one live version")
        assert len(tombstones) == 1


# =========================================================================================
# close() racing in-flight commits
# =========================================================================================

def _dir_snapshot(path) -> dict[str, bytes]:
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            if f == "LOCK" or root.endswith("index"):
                continue  # the lock file and the derived LMDB index are not the logs
            full = os.path.join(root, f)
            with open(full, "rb") as fh:
                out[os.path.relpath(full, path)] = hashlib.sha256(fh.read()).digest()
    return out


def _hold_after_precommit(s):
    """Make the next commit stop right after it is precommitted, until close() begins.

    close() waits for calls already in progress, so the held writer is let go the moment
    close starts; the tests then check what close() leaves behind.
    """
    precommitted, closing = threading.Event(), threading.Event()
    original = s._wait_committed

    def held(tx_id):
        precommitted.set()
        assert closing.wait(WAIT)
        return original(tx_id)

    s._wait_committed = held
    close_gate = s._gate.close

    def announce_then_close():
        closing.set()
        return close_gate()

    s._gate.close = announce_then_close
    return precommitted


def test_commit_in_flight_during_close_writes_nothing_after_close(store_path):
    """A commit precommitted before close() either completes before close returns or fails
    with StoreClosedError; once close() returned (and the directory lock is released) no
    byte of the store may change, and the outcome reported to the writer must be the truth
    after reopening."""
    with Store.open(store_path, segment_size=SEG) as s:
        s.set([(b"a", b"1")])
        precommitted = _hold_after_precommit(s)
        result = {}

        def writer():
            try:
                result["r"] = s.set([(b"b", b"in flight")])
            except BaseException as e:  # noqa: BLE001 - inspected below
                result["r"] = e

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        assert precommitted.wait(WAIT)
        s.close()
        closed = _dir_snapshot(store_path)
        t.join(WAIT)
        assert not t.is_alive()
        outcome = result["r"]
        assert _dir_snapshot(store_path) == closed, "the store's files changed after close()"
        assert not isinstance(outcome, BaseException) or isinstance(outcome, StoreClosedError), \
            f"in-flight commit failed with {type(outcome).__name__}: {outcome}"
    with Store.open(store_path) as s:
        s.check()
        if isinstance(outcome, StoreClosedError):
            with pytest.raises(KeyNotFoundError):
                s.get(b"b")  # reported as not committed: it must not appear later
            assert s.last_committed == 1
        else:
            assert s.get(b"b").value == b"in flight"


def test_commit_in_flight_during_close_cannot_damage_the_next_opener(store_path):
    """After close() the directory is free: a new Store may open it and commit. A writer of
    the old Store that was still in flight must not overwrite that acknowledged commit."""
    s = Store.open(store_path, segment_size=SEG)
    s.set([(b"a", b"1")])
    precommitted = _hold_after_precommit(s)
    result = {}

    def writer():
        try:
            result["r"] = s.set([(b"zombie", b"from the closed store")])
        except BaseException as e:  # noqa: BLE001 - inspected below
            result["r"] = e

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    assert precommitted.wait(WAIT)
    s.close()
    t.join(WAIT)
    assert not t.is_alive()
    with Store.open(store_path) as s2:
        h = s2.set([(b"next", b"acknowledged")])
        assert s2.get(b"next").value == b"acknowledged"
    with Store.open(store_path) as s3:  # must open: nothing acknowledged was damaged
        assert s3.get(b"next").value == b"acknowledged"
        assert s3.get(b"next").tx_id == h.id
        s3.check()


def test_close_while_threads_read_and_write(store_path):
    """Racing close(): calls fail only with StoreClosedError (55000), every acknowledged
    write is there after reopening and the store checks out."""
    with Store.open(store_path, segment_size=SEG, synced=False) as s:
        s.set([(b"k%03d" % i, b"v%d" % i) for i in range(200)])
        s.zadd(b"z", 1, b"k001")
        busy = threading.Event()
        start = threading.Barrier(9)
        acked: list[bytes] = []
        lock = threading.Lock()
        wrong: list[str] = []

        def worker(kind: int):
            start.wait(WAIT)
            n = 0
            while True:
                try:
                    if kind == 0:
                        assert s.get(b"k%03d" % (n % 200)).value == b"v%d" % (n % 200)
                    elif kind == 1:
                        assert len(list(s.scan(prefix=b"k", limit=20))) == 20
                    elif kind == 2:
                        s.verifiable_get(b"k%03d" % (n % 200))
                    elif kind == 3:
                        s.history(b"k007")
                    elif kind == 4:
                        list(s.zscan(b"z"))
                    else:
                        key = b"w%d-%05d" % (kind, n)
                        s.set([(key, b"x")])
                        with lock:
                            acked.append(key)
                            if len(acked) >= 100:
                                busy.set()
                except StoreClosedError:
                    return
                except BaseException as e:  # noqa: BLE001 - collected
                    with lock:
                        wrong.append(f"worker {kind}: {type(e).__name__}: {e}")
                    return
                n += 1

        pool = Threads()
        for kind in range(9):
            pool.start(worker, kind)
        assert busy.wait(WAIT)
        s.close()
        pool.join()
        assert not wrong, wrong
    with Store.open(store_path) as s:
        for key in acked:
            assert s.get(key).value == b"x"
        s.check()
